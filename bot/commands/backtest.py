"""`lphedge backtest`: replay recorded prices through strategies and the planner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bot.backtest.compare import Inputs, compare, sweep
from bot.backtest.data import load_funding, load_pool, load_prices
from bot.backtest.metrics import Summary
from bot.backtest.options_market import OptionPricing
from bot.backtest.runner import BacktestConfig
from bot.errors import InputError, LphedgeError
from bot.options.dvol import load_dvol
from strategies.base import parse_duration


def _pct(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f} %"


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
        ("trades per window", [f"{s.trades_per_window:.1f}" for s in results.values()]),
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


def backtest(
    prices: Annotated[Path, typer.Option("--prices", help="CSV: time + close columns")],
    range_pct: Annotated[float, typer.Option("--range-pct", help="0 = v2 full range")],
    strategy: Annotated[list[str], typer.Option("--strategy", help="name; repeatable")],
    funding: Annotated[Path | None, typer.Option("--funding", help="funding CSV")] = None,
    pool_data: Annotated[
        Path | None, typer.Option("--pool-data", help="dir of Uniswap minute bars")
    ] = None,
    window: Annotated[str, typer.Option("--window", help="e.g. 7d, 24h")] = "7d",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="k=v or name.k=v; repeatable")
    ] = None,
    fee_bps: Annotated[float, typer.Option("--fee-bps", help="cost per trade")] = 5.0,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="frontier PNG")] = None,
    dvol: Annotated[
        Path | None, typer.Option("--dvol", help="Deribit DVOL CSV: prices options")
    ] = None,
    option_skew: Annotated[
        float, typer.Option("--option-skew", help="vol per unit |ln K/F|")
    ] = 0.3,
    option_spread: Annotated[
        float, typer.Option("--option-half-spread", help="fraction of the option mid")
    ] = 0.03,
    strike_step: Annotated[float, typer.Option("--strike-step", help="USD")] = 50.0,
) -> None:
    """Hedge a fresh LP position per window with each strategy; compare risk and cost."""
    try:
        window_s = parse_duration(window)
        if not isinstance(window_s, float) or window_s <= 0:
            raise typer.BadParameter(f"--window {window!r}: use e.g. 7d or 24h")
        pricing = None
        if dvol is not None:
            by_asset = load_dvol(dvol)
            if "ETH" not in by_asset:
                raise InputError(f"--dvol {dvol}: no ETH rows (it has {sorted(by_asset)})")
            pricing = OptionPricing(
                by_asset["ETH"],
                skew=option_skew,
                half_spread=option_spread,
                strike_step=strike_step,
            )
        cfg = BacktestConfig(
            range_pct=range_pct,
            window_ms=int(window_s * 1000),
            fee_bps=fee_bps,
            options=pricing,
        )
        inputs = Inputs(
            series=[load_prices(prices)],
            funding=load_funding(funding) if funding else None,
            pool=load_pool(pool_data) if pool_data else None,
        )
        results = compare(strategy, param or [], cfg, inputs)
        if plot is not None:
            from bot.backtest.plot import frontier_plot

            points = [p for name in dict.fromkeys(strategy) for p in sweep(name, cfg, inputs)]
            frontier_plot(points, results, plot, f"{prices.name}, range +-{range_pct} %")
    except (LphedgeError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        if len(results) == 1:
            payload: object = next(iter(results.values())).to_json()
        else:
            payload = {name: s.to_json() for name, s in results.items()}
        typer.echo(json.dumps(payload, indent=2))
    else:
        render(results, Console())


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)
