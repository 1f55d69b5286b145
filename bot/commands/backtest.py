"""`lphedge backtest`: replay recorded prices through strategies and the planner.

Three ways to run: the vectorised screen (default: fast, strategy + planner + simulated
fills), `--engine` (the bot's own Engine on history: replay clock, replay market, paper
venue, risk guards, ledger) and `--walk-forward TRAIN:TEST` (tune on one span, score on the
next, on the vectorised screen: `bot.backtest.walk_forward`)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from bot.backtest.compare import Inputs, WindowPlan, compare, plan_windows, sweep
from bot.backtest.data import load_funding, load_pool, load_prices
from bot.backtest.metrics import Summary
from bot.backtest.options_market import OptionPricing
from bot.backtest.runner import BacktestConfig
from bot.backtest.walk_forward import GRIDS, WalkForward, modal, parse_split, walk_forward
from bot.commands.common import err_console, guarded
from bot.errors import InputError
from bot.options.dvol import load_dvol
from strategies.base import parse_duration
from strategies.registry import strategy_class

if TYPE_CHECKING:
    from bot.backtest.engine_path import EngineStats

T = TypeVar("T")


def _pct(x: float | None, digits: int = 3) -> str:
    """A fraction as a percentage; "-" when there is none (or it is not a number)."""
    return "-" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f} %"


def _num(x: float) -> str:
    return f"{x:.1f}" if math.isfinite(x) else "-"


def render(results: dict[str, Summary], console: Console) -> None:
    """One column per strategy; money rows as % of the position value at window open."""
    table = Table(title="backtest (per window, % of position value)")
    table.add_column("metric")
    for name in results:
        table.add_column(name, justify="right")
    rows: list[tuple[str, list[str]]] = [
        ("windows", [str(s.windows) for s in results.values()]),
        ("unhedged PnL std", [_pct(s.unhedged_std) for s in results.values()]),
        ("hedged PnL std (ex fees)", [_pct(s.hedged_std) for s in results.values()]),
        ("variance reduction", [_pct(s.variance_reduction, 1) for s in results.values()]),
        ("trading cost", [_pct(s.cost, 4) for s in results.values()]),
        ("funding (received +)", [_pct(s.funding, 4) for s in results.values()]),
        ("trades per window", [_num(s.trades_per_window) for s in results.values()]),
        ("LP fees", [_pct(s.lp_fees) for s in results.values()]),
        ("LVR estimate", [_pct(s.lvr) for s in results.values()]),
    ]
    if any(s.option_premium is not None for s in results.values()):
        rows += [
            ("option premium (mid)", [_pct(s.option_premium) for s in results.values()]),
            ("option PnL (mid, in hedged)", [_pct(s.option_pnl) for s in results.values()]),
        ]
    for label, cells in rows:
        table.add_row(label, *cells)
    console.print(table)


def render_walk_forward(wf: WalkForward, console: Console) -> None:
    """One table per strategy: each cost budget's in-sample and out-of-sample figures."""
    hourly, daily = wf.baselines["fixed_interval 1h"], wf.baselines["fixed_interval 24h"]
    console.print(
        f"walk-forward {wf.split.text}: {wf.folds} folds, {wf.test_windows} test windows; "
        f"on them hourly rebalancing removes {_pct(hourly.variance_reduction, 1)} of the "
        f"variance at {_pct(hourly.cost, 4)}, daily {_pct(daily.variance_reduction, 1)} at "
        f"{_pct(daily.cost, 4)} per window",
        highlight=False,
    )
    for name in dict.fromkeys(p.strategy for p in wf.points):
        mine = [x for x in wf.points if x.strategy == name]
        keys = "/".join(k.split("=")[0] for k in mine[0].latest)
        table = Table(title=f"{name}: in-sample vs out-of-sample (per window, % of position)")
        for col in ("budget x daily cost", "IS var red", "IS cost", "OOS var red", "OOS cost"):
            table.add_column(col, justify="right")
        table.add_column(f"latest pick {keys}")
        table.add_column("most picked (folds)")
        for p in mine:
            mode, n = modal(p.picks)
            table.add_row(
                f"{p.budget:g}",
                _pct(p.in_sample.variance_reduction, 1),
                _pct(p.in_sample.cost, 4),
                _pct(p.out_of_sample.variance_reduction, 1),
                _pct(p.out_of_sample.cost, 4),
                _values(p.latest),
                f"{_values(mode)} ({n}/{len(p.picks)})",
            )
        console.print(table)


def _values(params: tuple[str, ...]) -> str:
    return "/".join(k.split("=", 1)[-1] for k in params)


def _check_flags(
    range_pct: float,
    fee_bps: float,
    option_skew: float,
    option_spread: float,
    strike_step: float,
) -> None:
    """Bounds of the numeric flags, each error naming its flag (NaN fails every bound)."""
    bounds = (
        ("--range-pct", range_pct, 0.0 <= range_pct < 100.0, "0 (v2 full range) to below 100"),
        ("--fee-bps", fee_bps, 0.0 <= fee_bps <= 1000.0, "0 to 1000"),
        ("--option-skew", option_skew, 0.0 <= option_skew <= 10.0, "0 to 10"),
        ("--option-half-spread", option_spread, 0.0 <= option_spread < 1.0, "0 to below 1"),
        ("--strike-step", strike_step, 0.0 < strike_step <= 1e6, "above 0 (USD)"),
    )
    for flag, value, ok, allowed in bounds:
        if not ok:
            raise InputError(f"{flag} {value:g}: must be {allowed}")


def _window_seconds(window: str) -> float:
    try:
        seconds = parse_duration(window)
    except ValueError:
        seconds = None
    if not isinstance(seconds, float) or not 0 < seconds <= 10 * 365 * 86400:
        raise InputError(f"--window {window!r}: give a duration such as 7d, 24h or 90m")
    return seconds


def _read(flag: str, load: Callable[[Path], T], path: Path) -> T:
    """Read one input file; any problem with it is one error naming its flag."""
    if not path.exists():
        raise InputError(f"{flag} {path}: not found")
    try:
        return load(path)
    except InputError as err:
        text = str(err)
        raise InputError(
            f"{flag} {text}" if text.startswith(str(path)) else f"{flag} {path}: {text}"
        ) from None
    except (OSError, ValueError, KeyError, IndexError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else repr(err)
        raise InputError(f"{flag} {path}: cannot read it ({reason})") from None


def windows_note(plan: WindowPlan, window: str, window_ms: int) -> str | None:
    """One line when inputs leave windows out; raises InputError when none is left."""
    if plan.total == 0:
        days = plan.longest_ms / 86_400_000
        reason = (
            f"longer than the --prices data ({days:.1f} days)"
            if window_ms > plan.longest_ms
            else "shorter than one bar of --prices"
        )
        raise InputError(f"--window {window}: {reason}, so no window can run")
    why = [f"{n} outside {flag} ({plan.spans[flag]})" for flag, n in plan.missed.items() if n > 0]
    if plan.kept == 0:
        alone = [flag for flag, n in plan.missed.items() if n == plan.total]
        together = [flag for flag, n in plan.missed.items() if n > 0]
        what = (
            f"{alone[0]}: covers none"
            if len(alone) == 1
            else f"{' and '.join(alone or together)}: together cover none"
        )
        raise InputError(
            f"{what} of the {plan.total} {window} windows of --prices ({'; '.join(why)}); "
            "give data that overlaps, or a shorter --window"
        )
    if plan.kept == plan.total:
        return None
    return f"ran {plan.kept} of {plan.total} {window} windows: " + "; ".join(why)


def backtest(
    prices: Annotated[Path, typer.Option("--prices", help="CSV: time + close columns")],
    range_pct: Annotated[
        float, typer.Option("--range-pct", help="LP range +- %, 0 = v2 full range (0 to <100)")
    ],
    strategy: Annotated[list[str], typer.Option("--strategy", help="name; repeatable")],
    funding: Annotated[Path | None, typer.Option("--funding", help="funding CSV")] = None,
    pool_data: Annotated[
        Path | None, typer.Option("--pool-data", help="dir of Uniswap minute bars")
    ] = None,
    window: Annotated[str, typer.Option("--window", help="e.g. 7d, 24h")] = "7d",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="k=v or name.k=v; repeatable")
    ] = None,
    fee_bps: Annotated[
        float, typer.Option("--fee-bps", help="cost per trade, bps (0 to 1000)")
    ] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="frontier PNG")] = None,
    dvol: Annotated[
        Path | None, typer.Option("--dvol", help="Deribit DVOL CSV: prices options")
    ] = None,
    option_skew: Annotated[
        float, typer.Option("--option-skew", help="vol per unit |ln K/F| (0 to 10)")
    ] = 0.3,
    option_spread: Annotated[
        float, typer.Option("--option-half-spread", help="fraction of the option mid (0 to <1)")
    ] = 0.03,
    strike_step: Annotated[float, typer.Option("--strike-step", help="USD, above 0")] = 50.0,
    walk: Annotated[
        str | None,
        typer.Option(
            "--walk-forward", help="TRAIN:TEST, e.g. 52w:13w: tune, then score out of sample"
        ),
    ] = None,
    engine: Annotated[
        bool, typer.Option("--engine", help="run through the bot's Engine (paper run on history)")
    ] = False,
    ledger: Annotated[
        Path | None, typer.Option("--ledger", help="with --engine: SQLite ledger file to keep")
    ] = None,
) -> None:
    """Hedge a fresh LP position per window with each strategy; compare risk and cost."""
    if walk is not None or engine or ledger is not None:
        guarded(
            lambda: _check_special(
                walk, engine, ledger, strategy, param or [], pool_data, dvol, plot
            )
        )
        prepared = guarded(
            lambda: _prepare(
                prices,
                range_pct,
                funding,
                pool_data,
                window,
                fee_bps,
                (dvol, option_skew, option_spread, strike_step),
            )
        )
        _special_run(walk, ledger, strategy, param or [], as_json, prepared)
        return
    results, note = guarded(
        lambda: _compare(
            prices,
            range_pct,
            strategy,
            funding,
            pool_data,
            window,
            param or [],
            fee_bps,
            plot,
            dvol,
            option_skew,
            option_spread,
            strike_step,
        )
    )
    if note is not None:
        err_console.print(note, highlight=False, soft_wrap=True)
    _output(results, as_json)


def _compare(
    prices: Path,
    range_pct: float,
    strategy: list[str],
    funding: Path | None,
    pool_data: Path | None,
    window: str,
    param: list[str],
    fee_bps: float,
    plot: Path | None,
    dvol: Path | None,
    option_skew: float,
    option_spread: float,
    strike_step: float,
) -> tuple[dict[str, Summary], str | None]:
    """Validate every flag before reading anything, then run; returns the summaries and the
    note on windows left out."""
    _check_flags(range_pct, fee_bps, option_skew, option_spread, strike_step)
    window_s = _window_seconds(window)
    for name in dict.fromkeys(strategy):
        strategy_class(name, "--strategy")
    pricing = _pricing(dvol, option_skew, option_spread, strike_step)
    cfg = BacktestConfig(
        range_pct=range_pct, window_ms=int(window_s * 1000), fee_bps=fee_bps, options=pricing
    )
    inputs = Inputs(
        series=[_read("--prices", load_prices, prices)],
        funding=_read("--funding", load_funding, funding) if funding else None,
        pool=_read("--pool-data", load_pool, pool_data) if pool_data else None,
    )
    if plot is not None and not plot.parent.is_dir():
        raise InputError(f"--plot {plot}: folder {plot.parent} does not exist")
    note = windows_note(plan_windows(inputs, cfg), window, cfg.window_ms)
    results = compare(strategy, param, cfg, inputs)
    if plot is not None:
        from bot.backtest.plot import frontier_plot

        points = [p for name in dict.fromkeys(strategy) for p in sweep(name, cfg, inputs)]
        try:
            frontier_plot(points, results, plot, f"{prices.name}, range +-{range_pct} %")
        except OSError as err:
            raise InputError(f"--plot {plot}: {err.strerror or err}") from None
    return results, note


def _pricing(
    dvol: Path | None, skew: float, half_spread: float, strike_step: float
) -> OptionPricing | None:
    """The option market --dvol and the option flags make, or None without --dvol."""
    if dvol is None:
        return None
    by_asset = _read("--dvol", load_dvol, dvol)
    if "ETH" not in by_asset:
        raise InputError(f"--dvol {dvol}: no ETH rows (it has {sorted(by_asset)})")
    return OptionPricing(
        by_asset["ETH"], skew=skew, half_spread=half_spread, strike_step=strike_step
    )


def _check_special(
    walk: str | None,
    engine: bool,
    ledger: Path | None,
    strategy: list[str],
    param: list[str],
    pool_data: Path | None,
    dvol: Path | None,
    plot: Path | None,
) -> None:
    """Flag combinations --walk-forward and --engine refuse, each error naming its flag."""
    if walk is not None and engine:
        raise InputError("--engine: --walk-forward tunes on the vectorised screen; drop one")
    if ledger is not None and not engine:
        raise InputError("--ledger: only with --engine (the engine path writes a ledger)")
    if plot is not None:
        raise InputError("--plot: not with --walk-forward or --engine")
    if dvol is not None and walk is not None:
        raise InputError("--dvol: not with --walk-forward")
    if engine and pool_data is not None:
        raise InputError("--pool-data: pool fees are not replayed through --engine")
    if walk is not None:
        parse_split(walk)
        if param:
            raise InputError("--param: --walk-forward chooses each strategy's params itself")
        for name in strategy:
            if name not in GRIDS:
                raise InputError(
                    f"--strategy {name!r}: no walk-forward grid; walk-forward tunes "
                    f"{', '.join(GRIDS)}"
                )
    _check_strategies(strategy, engine, dvol)


def _check_strategies(strategy: list[str], engine: bool, dvol: Path | None) -> None:
    for name in dict.fromkeys(strategy):
        cls = strategy_class(name, "--strategy")
        if engine and dvol is None and getattr(cls, "uses_options", False):
            raise InputError(
                f"--strategy {name!r} trades options: give --dvol (Deribit DVOL CSV) so "
                "--engine can price them"
            )


def _prepare(
    prices: Path,
    range_pct: float,
    funding: Path | None,
    pool_data: Path | None,
    window: str,
    fee_bps: float,
    options: tuple[Path | None, float, float, float],
) -> tuple[BacktestConfig, Inputs, str | None]:
    """--walk-forward or --engine inputs; `options` = (--dvol, skew, half spread, strike
    step)."""
    _check_flags(range_pct, fee_bps, *options[1:])
    window_s = _window_seconds(window)
    cfg = BacktestConfig(
        range_pct=range_pct,
        window_ms=int(window_s * 1000),
        fee_bps=fee_bps,
        options=_pricing(*options),
    )
    inputs = Inputs(
        series=[_read("--prices", load_prices, prices)],
        funding=_read("--funding", load_funding, funding) if funding else None,
        pool=_read("--pool-data", load_pool, pool_data) if pool_data else None,
    )
    return cfg, inputs, windows_note(plan_windows(inputs, cfg), window, cfg.window_ms)


def _special_run(
    walk: str | None,
    ledger: Path | None,
    strategy: list[str],
    param: list[str],
    as_json: bool,
    prepared: tuple[BacktestConfig, Inputs, str | None],
) -> None:
    """--walk-forward or --engine, flags already checked."""
    cfg, inputs, note = prepared
    if note is not None:
        err_console.print(note, highlight=False, soft_wrap=True)
    if walk is not None:
        split = parse_split(walk)
        wf = guarded(lambda: walk_forward(strategy, cfg, inputs, split))
        if as_json:
            typer.echo(json.dumps(wf.to_json(), indent=2))
        else:
            render_walk_forward(wf, Console())
        return
    results, stats = guarded(lambda: _engine_runs(strategy, param, cfg, inputs, ledger))
    err_console.print(
        f"engine: {stats.ticks} ticks, {stats.orders} orders, {stats.halts} guard halts, "
        f"{stats.failures} failed ticks in {stats.seconds:.1f} s"
        + (f"; first: {stats.first_problem}" if stats.first_problem else ""),
        highlight=False,
        soft_wrap=True,
    )
    _output(results, as_json)


def _output(results: dict[str, Summary], as_json: bool) -> None:
    if as_json:
        if len(results) == 1:
            payload: object = next(iter(results.values())).to_json()
        else:
            payload = {name: s.to_json() for name, s in results.items()}
        typer.echo(json.dumps(payload, indent=2))
    else:
        render(results, Console())


def _engine_runs(
    names: list[str], params: list[str], cfg: BacktestConfig, inputs: Inputs, ledger: Path | None
) -> tuple[dict[str, Summary], EngineStats]:
    """Each strategy through the engine; one SQLite ledger for all of them with --ledger."""
    from bot.backtest.engine_path import EngineStats, run_engine
    from bot.backtest.metrics import summarize
    from strategies.base import split_prefixed

    routed = split_prefixed(params, {n: strategy_class(n, "--strategy").Params for n in names})
    book = None
    if ledger is not None:
        from bot.ledger.store import Ledger

        book = Ledger.open(str(ledger))
    out: dict[str, Summary] = {}
    stats = EngineStats()
    try:
        for name in dict.fromkeys(names):
            results, st = run_engine(name, routed[name], cfg, inputs, book)
            options = bool(getattr(strategy_class(name, "--strategy"), "uses_options", False))
            out[name] = summarize(results, inputs.funding is not None, options=options)
            stats = stats.add(st)
    finally:
        if book is not None:
            book.close()
    return out, stats


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)
