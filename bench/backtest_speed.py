"""How long a year of hourly bars takes per strategy (the issue's bar: under 2 s)."""

from __future__ import annotations

import time
from pathlib import Path

from bot.backtest.data import PriceSeries, load_prices
from bot.backtest.runner import BacktestConfig, run
from strategies.registry import BUILTINS, build

DATA = Path(__file__).resolve().parents[1] / "../shared/data/market/binance_perp_1h/ETHUSDT_1h.csv"
YEAR_BARS = 365 * 24


def last_year(path: Path = DATA) -> PriceSeries:
    s = load_prices(path)
    return PriceSeries(s.name, s.ts_ms[-YEAR_BARS - 1 :], s.close[-YEAR_BARS - 1 :])


def main() -> None:
    series = last_year()
    cfg = BacktestConfig(range_pct=10)
    print(f"backtest speed: {len(series.close) - 1} hourly bars, weekly windows, v3 +-10 %")
    for name in BUILTINS:
        start = time.perf_counter()
        windows = run(build(name), [series], cfg)
        took = time.perf_counter() - start
        print(f"  {name:16s} {took:6.2f} s  ({len(windows)} windows)")


if __name__ == "__main__":
    main()
