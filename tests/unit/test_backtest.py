"""Backtester numbers against a case computed by hand, data loading, and the CLI's JSON."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from bot.backtest.data import FundingSeries, PoolBars, PriceSeries, load_pool, load_prices
from bot.backtest.metrics import JSON_KEYS, summarize
from bot.backtest.runner import BacktestConfig, run_window, window_bounds
from bot.commands.backtest import register
from bot.demo import data_dir
from bot.domain.market import Instrument
from bot.errors import InputError
from strategies.registry import build

H = 3_600_000
ETH_1H = data_dir() / "market/binance_perp_1h/ETHUSDT_1h.csv"
INST = Instrument("sim", "ETH/USDT:USDT", "ETH", amount_step=D("0.001"))
CFG = BacktestConfig(range_pct=0, window_ms=2 * H, position_usd=1000.0, instrument=INST)


def three_bars() -> PriceSeries:
    return PriceSeries(
        "hand", np.array([0, H, 2 * H], dtype=np.int64), np.array([100.0, 121.0, 100.0])
    )


def test_three_bar_v2_case_by_hand() -> None:
    """v2, 1000 USD at P=100: L = 50, x = L/sqrt(P) = 5 ETH, then 50/11 = 4.5454.. at 121.

    bar 0: sell 5 ETH (fee 5 bp * 500 = 0.25); hedge PnL -5 * 21 = -105
    bar 1: buy 0.454 (4.5454.. rounded toward zero to 0.001; fee 0.0005 * 0.454 * 121);
           hedge -4.546 earns +4.546 * 21 = 95.466; LP back at 1000, so hedged = -9.534
    LVR: 0.5 |G| dP^2 with G = -L / (2 P^1.5): 0.5 * 0.025 * 441 + 0.5 * 50/2662 * 441
    """
    s = three_bars()
    r = run_window(build("fixed_interval", ["interval=1h"]), s, 0, 2, CFG)
    assert r.trades == 2
    assert r.lp_pnl == pytest.approx(0.0, abs=1e-12)
    assert r.hedge_pnl * 1000 == pytest.approx(-105 + 95.466)
    assert r.hedged_pnl * 1000 == pytest.approx(-9.534)
    assert r.cost * 1000 == pytest.approx(0.25 + 0.0005 * 0.454 * 121)
    assert r.lvr * 1000 == pytest.approx(0.5 * 0.025 * 441 + 0.5 * 50 / 2662 * 441)
    assert r.funding == 0.0 and r.lp_fees == 0.0


def test_funding_and_pool_fees_by_hand() -> None:
    s = three_bars()
    funding = FundingSeries(np.array([int(1.5 * H)], dtype=np.int64), np.array([0.0001]))
    # one pool minute inside the window, in range, with as much active liquidity as ours
    pool = PoolBars(
        np.array([int(1.2 * H)], dtype=np.int64),
        np.array([110.0]),
        np.array([1e6]),
        np.array([50 * 1e12]),
        0.0005,
        frozenset(),
    )
    r = run_window(build("fixed_interval", ["interval=1h"]), s, 0, 2, CFG, funding, pool)
    # short 4.546 ETH receives 0.0001 of its notional at the next close (100)
    assert r.funding * 1000 == pytest.approx(4.546 * 100 * 0.0001)
    assert r.lp_fees * 1000 == pytest.approx(0.0005 * 1e6 * 0.5)


def test_hourly_hedged_lp_loses_about_its_lvr() -> None:
    """Delta-hedged every bar, an LP's PnL is its gamma loss: about -sum 0.5 |G| dP^2."""
    s = load_prices(ETH_1H)
    cfg = BacktestConfig(range_pct=10)
    bounds = window_bounds(s.ts_ms[: 24 * 7 * 4 + 1], cfg.window_ms)
    assert len(bounds) == 4 and bounds[0] == (0, 168) and bounds[1][0] == 168
    hedge = build("fixed_interval", ["interval=1h"])
    results = [run_window(hedge, s, a, b, cfg) for a, b in bounds]
    summary = summarize(results)
    assert summary.windows == 4 and summary.trades_per_window > 100
    for r in results:
        assert r.hedged_pnl == pytest.approx(-r.lvr, rel=0.3)
    assert summary.cost > 0 and summary.funding is None and summary.lp_fees is None


def test_load_prices_accepts_epoch_and_iso(tmp_path: Path) -> None:
    f = tmp_path / "p.csv"
    f.write_text("timestamp,price\n1700000003600,101\n1700000000,100\n")
    s = load_prices(f)
    assert s.ts_ms.tolist() == [1700000000000, 1700000003600] and s.close.tolist() == [100, 101]
    g = tmp_path / "q.csv"
    g.write_text("Date,Close\n2024-01-01 00:00:00+00:00,1\n2024-01-01T01:00:00Z,2\n")
    assert load_prices(g).ts_ms[1] - load_prices(g).ts_ms[0] == H


@pytest.fixture(scope="module")
def three_weeks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lines = ETH_1H.read_text().splitlines()[: 1 + 24 * 21 + 1]
    out = tmp_path_factory.mktemp("bt") / "eth.csv"
    out.write_text("\n".join(lines) + "\n")
    return out


def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from flattening `backtest`
        pass

    return app


def test_cli_json_one_strategy_has_exactly_the_keys(three_weeks: Path) -> None:
    res = CliRunner().invoke(
        cli(),
        [
            "backtest",
            "--prices",
            str(three_weeks),
            "--range-pct",
            "10",
            "--window",
            "7d",
            "--strategy",
            "vol_band",
            "--param",
            "risk_aversion=5",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert tuple(data) == JSON_KEYS and data["windows"] == 3


def test_cli_json_several_strategies_keyed_by_name(three_weeks: Path, tmp_path: Path) -> None:
    png = tmp_path / "frontier.png"
    res = CliRunner().invoke(
        cli(),
        [
            "backtest",
            "--prices",
            str(three_weeks),
            "--range-pct",
            "0",
            "--strategy",
            "fixed_interval",
            "--strategy",
            "fixed_threshold",
            "--param",
            "fixed_interval.interval=24h",
            "--param",
            "fixed_threshold.threshold=5%",
            "--fee-bps",
            "2",
            "--json",
            "--plot",
            str(png),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data) == {"fixed_interval", "fixed_threshold"}
    assert all(tuple(v) == JSON_KEYS for v in data.values())
    assert png.stat().st_size > 10_000


def test_cli_bad_param_names_the_key(three_weeks: Path) -> None:
    res = CliRunner().invoke(
        cli(),
        [
            "backtest",
            "--prices",
            str(three_weeks),
            "--range-pct",
            "10",
            "--strategy",
            "fixed_interval",
            "--param",
            "intervall=1h",
        ],
    )
    assert res.exit_code == 2 and "intervall" in res.output


def test_cli_table(three_weeks: Path) -> None:
    res = CliRunner().invoke(
        cli(),
        ["backtest", "--prices", str(three_weeks), "--range-pct", "10", "--strategy", "delta_band"],
    )
    assert res.exit_code == 0, res.output
    assert "variance reduction" in res.output and "delta_band" in res.output


def _bt(prices: Path, *extra: str) -> tuple[int, str, str]:
    args = ["backtest", "--prices", str(prices), "--strategy", "delta_band", *extra]
    res = CliRunner().invoke(cli(), args)
    return res.exit_code, res.stdout, res.stderr


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (["--range-pct=-10"], "error: --range-pct -10: must be 0 (v2 full range) to below 100"),
        (["--range-pct", "10", "--fee-bps=-5"], "error: --fee-bps -5: must be 0 to 1000"),
        (["--range-pct", "nan"], "error: --range-pct nan: must be"),
        (["--range-pct", "10", "--window", "30d"], "error: --window 30d: longer than the --prices"),
        (["--range-pct", "10", "--window", "5m"], "error: --window 5m: shorter than one bar"),
        (["--range-pct", "10", "--window", "soon"], "error: --window 'soon': give a duration"),
        (["--range-pct", "10", "--strategy", "nope"], "error: --strategy 'nope': unknown"),
        (["--range-pct", "10", "--funding", "no.csv"], "error: --funding no.csv: not found"),
    ],
)
def test_bad_flags_are_one_line_naming_the_flag(
    three_weeks: Path, flags: list[str], line: str
) -> None:
    code, out, err = _bt(three_weeks, *flags)
    assert code == 2 and out == "" and err.startswith(line), err
    assert len(err.splitlines()) == 1


def _funding_csv(path: Path, first_day: int, days: int) -> Path:
    rows = [
        f"2020-01-{first_day + d:02d} {h:02d}:00:00,0.0001" for d in range(days) for h in (0, 8, 16)
    ]
    path.write_text("date,funding_rate\n" + "\n".join(rows) + "\n")
    return path


def test_windows_left_out_are_counted_and_named(three_weeks: Path, tmp_path: Path) -> None:
    funding = _funding_csv(tmp_path / "f.csv", 8, 14)  # covers the 2nd and 3rd week only
    code, out, err = _bt(three_weeks, "--range-pct", "10", "--funding", str(funding), "--json")
    assert code == 0 and json.loads(out)["windows"] == 2
    assert err == "ran 2 of 3 7d windows: 1 outside --funding (2020-01-08 to 2020-01-22)\n"


def test_no_window_left_is_exit_2_naming_the_flag_never_nan(
    three_weeks: Path, tmp_path: Path
) -> None:
    funding = _funding_csv(tmp_path / "f.csv", 25, 3)  # after the prices end
    code, out, err = _bt(three_weeks, "--range-pct", "10", "--funding", str(funding))
    assert code == 2 and out == "" and "nan" not in err
    assert err.startswith("error: --funding: covers none of the 3 7d windows of --prices")


def test_one_window_has_no_variance_reduction_rather_than_nan() -> None:
    s = three_bars()
    r = run_window(build("fixed_interval", ["interval=1h"]), s, 0, 2, CFG)
    summary = summarize([r])
    assert summary.to_json()["variance_reduction"] is None
    assert "nan" not in json.dumps(summary.to_json())


def test_pool_data_without_a_column_names_it(tmp_path: Path) -> None:
    (tmp_path / "2022-07-19.csv").write_text("timestamp,closeTick\n1658188800,200000\n")
    with pytest.raises(InputError, match=r"no inAmount0, inAmount1, currentLiquidity column"):
        load_pool(tmp_path)
