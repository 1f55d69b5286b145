"""Offline paper mode for `lphedge run`: the `[venue.replay]` config turned into market data.

Recorded closes (the Binance files in shared/data, or any CSV with a time and a close
column) are served on a timeline that starts at `venue.replay.start` and runs `speed` data
seconds per wall second; quotes are stamped with the wall clock, so the bot's guards, the
ledger and the paper venue see a market that is live now, on a recorded path.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.clock import ReplayTimeline
from bot.config import ReplaySettings
from bot.domain.market import BINANCE_BTCUSDT, BINANCE_ETHUSDT, Instrument
from bot.errors import ConfigError
from bot.ports import Clock
from bot.venues.replay_market import PricePoint, ReplayMarketData, parse_ts
from bot.venues.replay_options import ReplayOptions

# The perps whose filters and fees the offline market knows (Binance USDⓈ-M, VIP0).
OFFLINE_INSTRUMENTS: Mapping[str, Instrument] = {
    i.symbol: i for i in (BINANCE_ETHUSDT, BINANCE_BTCUSDT)
}
_TIME_COLUMNS = ("timestamp", "date", "time", "open_time")
_PRICE_COLUMNS = ("close", "price", "mark")


def _column(header: list[str], names: tuple[str, ...], path: Path, field: str) -> str:
    lower = {h.strip().lower(): h for h in header}
    for name in names:
        if name in lower:
            return lower[name]
    raise ConfigError(f"{field}: {path} has no {' / '.join(names)} column (has {header})")


def load_series(path: Path, field: str, value_names: tuple[str, ...]) -> list[PricePoint]:
    """(time, value) rows of a CSV, sorted; the error names the config field and the row."""
    if not path.is_file():
        raise ConfigError(f"{field}: {path} does not exist")
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        header = list(reader.fieldnames or [])
        ts_col = _column(header, _TIME_COLUMNS, path, field)
        value_col = _column(header, value_names, path, field)
        points = []
        for n, row in enumerate(reader, start=2):
            try:
                points.append(PricePoint(parse_ts(row[ts_col]), Decimal(row[value_col])))
            except (ValueError, InvalidOperation, TypeError):
                raise ConfigError(f"{field}: {path} line {n} is not a time and a number") from None
    if len(points) < 2:
        raise ConfigError(f"{field}: {path} needs at least 2 rows")
    points.sort(key=lambda p: p.ts_ms)
    return points


def replay_market(
    replay: ReplaySettings,
    symbols: Mapping[str, str],
    wall: Clock,
    options: ReplayOptions | None = None,
) -> ReplayMarketData:
    """The market of `[venue.replay]` for the perps in `venue.symbols`."""
    series: dict[str, list[PricePoint]] = {}
    instruments: dict[str, Instrument] = {}
    for asset, symbol in symbols.items():
        field = f"venue.replay.prices.{symbol}"
        if symbol not in replay.prices:
            raise ConfigError(
                f"{field}: paper_market = replay needs a price CSV for venue.symbols.{asset}"
            )
        known = OFFLINE_INSTRUMENTS.get(symbol)
        if known is None:
            raise ConfigError(
                f"venue.symbols.{asset}: {symbol!r} has no offline instrument spec; "
                f"the replay knows {sorted(OFFLINE_INSTRUMENTS)}"
            )
        series[symbol] = load_series(replay.prices[symbol], field, _PRICE_COLUMNS)
        instruments[symbol] = known
    unknown = sorted(set(replay.prices) - set(series))
    if unknown:
        raise ConfigError(f"venue.replay.prices: {unknown} are not perps of venue.symbols")
    first = min(points[0].ts_ms for points in series.values())
    start = first
    if replay.start is not None:
        try:
            start = parse_ts(replay.start)
        except ValueError:
            raise ConfigError(
                f"venue.replay.start: {replay.start!r} is not an ISO time (2024-03-01T00:00:00Z)"
            ) from None
        last = max(points[-1].ts_ms for points in series.values())
        if not first <= start <= last:
            raise ConfigError(f"venue.replay.start: {replay.start} is outside the price data")
    funding = {}
    for symbol, path in replay.funding.items():
        if symbol not in series:
            raise ConfigError(f"venue.replay.funding.{symbol}: not a perp of venue.symbols")
        points = load_series(path, f"venue.replay.funding.{symbol}", ("funding_rate", "rate"))
        funding[symbol] = [(p.ts_ms, p.price) for p in points]
    timeline = ReplayTimeline(wall, start, replay.speed)
    return ReplayMarketData(
        series,
        instruments,
        wall,
        options=options,
        series_clock=timeline,
        funding=funding,
    )
