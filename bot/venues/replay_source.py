"""Offline paper mode for `lphedge run`: the `[venue.replay]` config turned into market data.

Recorded closes (the Binance files in shared/data, or any CSV with a time and a close
column) are served on a timeline that starts at `venue.replay.start` and runs `speed` data
seconds per wall second; quotes are stamped with the wall clock, so the bot's guards, the
ledger and the paper venue see a market that is live now, on a recorded path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.backtest.data import CLOSE_COLUMNS, FUNDING_COLUMNS, read_series
from bot.clock import ReplayTimeline
from bot.config import ReplaySettings
from bot.domain.market import BINANCE_BTCUSDT, BINANCE_ETHUSDT, Instrument
from bot.errors import ConfigError, InputError
from bot.ports import Clock
from bot.venues.replay_market import PricePoint, ReplayMarketData, parse_ts
from bot.venues.replay_options import ReplayOptions

# The perps whose filters and fees the offline market knows (Binance USDⓈ-M, VIP0).
OFFLINE_INSTRUMENTS: Mapping[str, Instrument] = {
    i.symbol: i for i in (BINANCE_ETHUSDT, BINANCE_BTCUSDT)
}


def load_series(
    path: Path, field: str, value_columns: Sequence[str], what: str
) -> list[PricePoint]:
    """(time, exact value) rows of a CSV, sorted; errors name the config field."""
    if not path.is_file():
        raise ConfigError(f"{field}: {path} does not exist")
    try:
        rows = read_series(path, value_columns, what)
        points = [PricePoint(ts, Decimal(text)) for ts, text in rows]
    except InputError as err:
        raise ConfigError(f"{field}: {err}") from None
    except InvalidOperation:
        raise ConfigError(f"{field}: {path} has a {what} that is not a number") from None
    if len(points) < 2:
        raise ConfigError(f"{field}: {path} needs at least 2 rows")
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
        series[symbol] = load_series(replay.prices[symbol], field, CLOSE_COLUMNS, "close")
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
        points = load_series(path, f"venue.replay.funding.{symbol}", FUNDING_COLUMNS, "rate")
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
