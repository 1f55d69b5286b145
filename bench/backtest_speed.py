"""How long a year of hourly bars takes per strategy: the vectorised screen (the issue's bar:
under 2 s) for every strategy, and the bot's own Engine (a paper run on history) for one."""

from __future__ import annotations

import time
from pathlib import Path

from bot.backtest.compare import Inputs
from bot.backtest.data import PriceSeries, load_prices
from bot.backtest.engine_path import run_engine
from bot.backtest.runner import BacktestConfig, run
from strategies.registry import BUILTINS, build

DATA = Path(__file__).resolve().parents[1] / "../shared/data/market/binance_perp_1h/ETHUSDT_1h.csv"
YEAR_BARS = 365 * 24
ENGINE_STRATEGY = "vol_band"


def last_year(path: Path = DATA) -> PriceSeries:
    s = load_prices(path)
    return PriceSeries(s.name, s.ts_ms[-YEAR_BARS - 1 :], s.close[-YEAR_BARS - 1 :])


def engine_year_seconds(series: PriceSeries, name: str = ENGINE_STRATEGY) -> tuple[float, int]:
    """Seconds for a year through the Engine (in-memory ledger) and the ticks it ran."""
    start = time.perf_counter()
    _, stats = run_engine(name, (), BacktestConfig(range_pct=10), Inputs([series]))
    return time.perf_counter() - start, stats.ticks


def main() -> None:
    series = last_year()
    cfg = BacktestConfig(range_pct=10)
    print(f"backtest speed: {len(series.close) - 1} hourly bars, weekly windows, v3 +-10 %")
    print("vectorised screen:")
    for name in BUILTINS:
        if getattr(BUILTINS[name], "uses_options", False):
            continue  # priced from DVOL: bench.options_report times it
        start = time.perf_counter()
        windows = run(build(name), [series], cfg)
        took = time.perf_counter() - start
        print(f"  {name:16s} {took:6.2f} s  ({len(windows)} windows)")
    took, ticks = engine_year_seconds(series)
    print(
        f"engine path (Engine + paper venue + in-memory ledger):\n"
        f"  {ENGINE_STRATEGY:16s} {took:6.2f} s  ({ticks} ticks, {1000 * took / ticks:.2f} ms each)"
    )


if __name__ == "__main__":
    main()
