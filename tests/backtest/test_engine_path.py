"""The engine-path backtest: the bot's Engine on history agrees with the vectorised screen,
the replay chain port reads as a real position does, and the run lands in a real ledger."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from bot import exposure
from bot.backtest.compare import Inputs
from bot.backtest.data import PriceSeries, load_prices
from bot.backtest.engine_path import run_engine
from bot.backtest.lp import amount_base, value
from bot.backtest.memory_ledger import MemoryLedger
from bot.backtest.metrics import summarize
from bot.backtest.replay_chain import BASE_TOKENS, ReplayPositionSource, open_replay_lp
from bot.backtest.runner import BacktestConfig, run
from bot.clock import FixedClock
from bot.commands.backtest import register
from bot.demo import data_dir
from bot.domain.market import AssetMap
from bot.ledger.store import Ledger
from strategies.registry import build

ETH_1H = data_dir() / "market/binance_perp_1h/ETHUSDT_1h.csv"
YEAR = 365 * 24

# The stated tolerance: variance reduction within 0.1 point, cost within 1 %.
VR_POINTS = 0.1
COST_REL = 0.01


def _last(hours: int) -> PriceSeries:
    s = load_prices(ETH_1H)
    return PriceSeries(s.name, s.ts_ms[-hours - 1 :], s.close[-hours - 1 :])


@pytest.mark.slow
@pytest.mark.parametrize(("name", "range_pct"), [("vol_band", 10.0), ("delta_band", 5.0)])
def test_engine_path_agrees_with_the_vectorised_runner_on_a_year(
    name: str, range_pct: float
) -> None:
    year = _last(YEAR)
    cfg = BacktestConfig(range_pct=range_pct)
    engine_results, stats = run_engine(name, (), cfg, Inputs([year]))
    screen = summarize(run(build(name), [year], cfg))
    path = summarize(engine_results)
    assert stats.ticks == YEAR - YEAR % 168 and stats.halts == 0 and stats.failures == 0
    assert path.windows == screen.windows == 52
    assert abs(path.variance_reduction - screen.variance_reduction) * 100 < VR_POINTS
    assert path.cost == pytest.approx(screen.cost, rel=COST_REL)
    assert path.trades_per_window == pytest.approx(screen.trades_per_window, rel=0.02)


def test_replay_chain_port_reads_like_the_lp_model() -> None:
    """Exposure computed from the replayed position (exact integer amounts, ticks) matches
    the float LP model on the tick-rounded range: value, delta and the in-range flag."""
    s = _last(48)
    clock = FixedClock(int(s.ts_ms[0]))
    lp = open_replay_lp(float(s.close[0]), 100_000.0, 10.0, BASE_TOKENS["ETH"])
    prices = [Decimal(repr(float(p))) for p in s.close]
    source = ReplayPositionSource([int(t) for t in s.ts_ms], prices, clock, lp)
    for k in (0, 24, 48):
        clock.ms = int(s.ts_ms[k])
        book = exposure.book(asyncio.run(source.read()), AssetMap())
        eth = book.assets["ETH"]
        p = np.array([s.close[k]])
        assert float(eth.value_usd) == pytest.approx(float(value(lp.model, p)[0]), rel=1e-9)
        assert float(eth.delta) == pytest.approx(float(amount_base(lp.model, p)[0]), rel=1e-6)
    assert float(value(lp.model, np.array([s.close[0]]))[0]) == pytest.approx(100_000.0)


def test_memory_ledger_answers_like_a_filter() -> None:
    led = MemoryLedger()
    for k in range(30):
        led.append(("a", "b", "c")[k % 3], {"k": Decimal(k)}, ts_ms=1000 * k)
    got = led.events(["c", "a"], since_seq=4, since_ms=9000, until_ms=25000)
    assert [e.payload["k"] for e in got] == [
        str(k) for k in (9, 11, 12, 14, 15, 17, 18, 20, 21, 23, 24)
    ]
    last = led.last("b")
    assert last is not None and last.seq == 29 and led.last("z") is None


def test_engine_backtest_writes_every_window_to_one_sqlite_ledger(tmp_path: Path) -> None:
    """With a SQLite ledger the run is a paper run on history: it verifies, each window is
    its own run, and the fills it holds are the trades the figures count."""
    book = Ledger.open(str(tmp_path / "bt.db"))
    try:
        results, stats = run_engine(
            "vol_band", (), BacktestConfig(range_pct=10), Inputs([_last(336)]), book
        )
        assert len(results) == 2 and stats.orders == sum(r.trades for r in results)
        assert book.verify().ok
        assert len(book.events(["run_started"])) == 2
        assert len(book.events(["order_intent"])) == stats.orders
        assert len(book.events(["tick"])) == 336
    finally:
        book.close()


def test_cli_engine_json(tmp_path: Path) -> None:
    lines = ETH_1H.read_text().splitlines()
    prices = tmp_path / "eth.csv"
    prices.write_text("\n".join([lines[0], *lines[-(24 * 7 * 2 + 1) :]]) + "\n")
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    args = ["backtest", "--prices", str(prices), "--range-pct", "10", "--strategy", "vol_band"]
    run_ = CliRunner().invoke(app, [*args, "--engine", "--json"])
    assert run_.exit_code == 0, run_.output
    data = json.loads(run_.stdout)
    assert data["windows"] == 2 and data["variance_reduction"] > 0.5
    assert "engine: 336 ticks" in run_.stderr and "0 guard halts" in run_.stderr


@pytest.mark.slow
def test_option_legs_through_the_engine_agree_with_the_vectorised_runner() -> None:
    """options_overlay buys its strips through the engine's option desk on the same offline
    option market the vectorised runner prices in: the figures agree, options included."""
    from bot.backtest.options_market import OptionPricing
    from bot.options.dvol import load_dvol

    dvol = load_dvol(data_dir() / "market/deribit_dvol_daily/eth_dvol.csv")["ETH"]
    cfg = BacktestConfig(range_pct=10.0, options=OptionPricing(dvol))
    weeks = _last(4 * 168)
    engine_results, stats = run_engine("options_overlay", (), cfg, Inputs([weeks]))
    screen = summarize(run(build("options_overlay"), [weeks], cfg), options=True)
    path = summarize(engine_results, options=True)
    assert stats.halts == 0 and stats.failures == 0 and path.windows == screen.windows == 4
    assert screen.option_premium is not None and screen.option_premium > 0
    assert path.option_premium == pytest.approx(screen.option_premium, rel=COST_REL)
    assert path.option_pnl == pytest.approx(screen.option_pnl, rel=COST_REL)
    assert abs(path.variance_reduction - screen.variance_reduction) * 100 < 0.5
    assert path.cost == pytest.approx(screen.cost, rel=0.02)
