"""Offline market data: a real recorded price path with a simulated order book around it.

`ReplayMarketData` serves, at the clock's time, the last recorded close at or before it
(e.g. Binance ETHUSDT 1 m closes) as mark and index, a constant or recorded funding rate,
and a synthetic book: `levels` price levels each side, the first `half_spread_bps` from the
mark, then `level_step_bps` apart, each holding `level_amount` contracts. The prices are
real; the book is a model (no real depth, no impact beyond what the levels imply).

With `options` (`ReplayOptions`), option symbols of that market are served too: listed by
`option_chain`, quoted by `snapshot` (Black-76 at the real DVOL on the replayed close of
the asset's perp) and booked by `order_book`; `volatility` then carries the DVOL per asset.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from pathlib import Path

from bot.domain.market import BookLevel, Instrument, MarketSnapshot, OrderBook, Quote
from bot.errors import InputError, VenueUnavailable
from bot.ports import Clock
from bot.venues.replay_options import ReplayOptions

FUNDING_PERIOD_MS = 8 * 3600 * 1000
_BPS = Decimal(10000)


def next_funding_ms(now_ms: int, period_ms: int = FUNDING_PERIOD_MS) -> int:
    """The next funding time after `now_ms` (00:00, 08:00, 16:00 UTC on 8 h venues)."""
    return (now_ms // period_ms + 1) * period_ms


@dataclass(frozen=True, slots=True)
class PricePoint:
    ts_ms: int
    price: Decimal


def parse_ts(text: str) -> int:
    if text.isdigit():
        return int(text)
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def load_closes(
    path: Path, ts_column: str = "timestamp", close_column: str = "close"
) -> list[PricePoint]:
    """Read a `timestamp,...,close` CSV (UTC) into price points sorted by time."""
    with path.open(newline="") as fh:
        rows = [
            PricePoint(parse_ts(r[ts_column]), Decimal(r[close_column])) for r in csv.DictReader(fh)
        ]
    rows.sort(key=lambda p: p.ts_ms)
    if not rows:
        raise InputError(f"{path}: no price rows")
    return rows


class ReplayMarketData:
    """MarketData over recorded prices, driven by `clock` (one series per venue symbol)."""

    def __init__(
        self,
        series: Mapping[str, Sequence[PricePoint]],
        instruments: Mapping[str, Instrument],
        clock: Clock,
        *,
        funding_rate: Decimal = Decimal("0.0001"),
        half_spread_bps: Decimal = Decimal(1),
        level_step_bps: Decimal = Decimal(1),
        levels: int = 20,
        level_amount: Decimal = Decimal(5),
        options: ReplayOptions | None = None,
        series_clock: Clock | None = None,
        funding: Mapping[str, Sequence[tuple[int, Decimal]]] | None = None,
    ) -> None:
        self._series = {s: list(points) for s, points in series.items()}
        self._times = {s: [p.ts_ms for p in points] for s, points in self._series.items()}
        self._instruments = dict(instruments)
        self._clock = clock
        # prices are looked up on the series clock (a live-paced replay runs on a timeline
        # of its own); quotes are stamped on `clock`. The end of the data is an outage then.
        self._series_clock = series_clock or clock
        self._ends = series_clock is not None
        self._funding = {s: sorted(rows) for s, rows in (funding or {}).items()}
        self.funding_rate = funding_rate
        self.half_spread_bps = half_spread_bps
        self.level_step_bps = level_step_bps
        self.levels = levels
        self.level_amount = level_amount
        self.options = options
        self._perp_of: dict[str, str] = {}
        for symbol, inst in self._instruments.items():
            self._perp_of.setdefault(inst.asset, symbol)

    def mark(self, symbol: str) -> Decimal:
        """The last recorded price at or before the clock (the first one before the series)."""
        if symbol not in self._series:
            raise InputError(f"replay market data has no series for {symbol!r}")
        times = self._times[symbol]
        at = self._series_clock.now_ms()
        if self._ends and len(times) > 1 and at > times[-1] + (times[-1] - times[-2]):
            end = datetime.fromtimestamp(times[-1] / 1000, UTC).isoformat()
            raise VenueUnavailable(
                f"replay prices for {symbol} end at {end}: set venue.replay.start earlier "
                "or venue.replay.speed lower"
            )
        i = bisect.bisect_right(times, at) - 1
        return self._series[symbol][max(i, 0)].price

    def _funding_now(self, symbol: str) -> Decimal:
        """The recorded funding rate in force on the series clock (the constant without)."""
        rows = self._funding.get(symbol)
        if not rows:
            return self.funding_rate
        i = bisect.bisect_right(rows, (self._series_clock.now_ms(), Decimal("Infinity")))
        return rows[max(i - 1, 0)][1]

    def _is_option(self, symbol: str) -> bool:
        return self.options is not None and self.options.owns(symbol)

    def underlying(self, asset: str) -> Decimal:
        """The asset's USD price: the replayed close of its perp."""
        symbol = self._perp_of.get(asset)
        if symbol is None:
            raise InputError(f"replay market data has no perp series to price {asset} options")
        return self.mark(symbol)

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        missing = [s for s in symbols if s not in self._instruments and not self._is_option(s)]
        if missing:
            raise InputError(f"replay market data has no instrument for {missing}")
        out = {}
        for s in symbols:
            if s in self._instruments:
                out[s] = self._instruments[s]
            elif self.options is not None:
                out[s] = self.options.instrument(s)
        return out

    async def option_chain(self, asset: str) -> Mapping[str, Instrument]:
        """Listed, unexpired options on `asset` now (empty without `options`)."""
        if self.options is None or asset not in self._perp_of:
            return {}
        return self.options.chain(asset, self._clock.now_ms(), self.underlying(asset))

    def quote(self, symbol: str) -> Quote:
        now = self._clock.now_ms()
        mark = self.mark(symbol)
        book = self._book(symbol, mark, 1)
        return Quote(
            symbol=symbol,
            ts_ms=now,
            mark=mark,
            index=mark,
            bid=book.bids[0].price,
            ask=book.asks[0].price,
            funding_rate=self._funding_now(symbol),
            next_funding_ms=next_funding_ms(now),
        )

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        now = self._clock.now_ms()
        instruments = await self.instruments(symbols)
        options = [s for s in symbols if s not in self._instruments]
        quotes = {s: self.quote(s) for s in symbols if s in self._instruments}
        prices = {instruments[s].asset: q.mark for s, q in quotes.items()}
        vols: dict[str, float] = {}
        if self.options is not None:
            for asset in {i.asset for i in instruments.values()}:
                if asset in self._perp_of:
                    prices[asset] = self.underlying(asset)
                    vol = self.options.volatility(asset, self._series_clock.now_ms())
                    if vol is not None:
                        vols[asset] = vol
            quotes.update(self.options.quotes(options, now, self.underlying))
        return MarketSnapshot(now, prices, quotes, instruments, vols)

    async def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        if self.options is not None and self._is_option(symbol):
            quote = self.options.quotes([symbol], self._clock.now_ms(), self.underlying)[symbol]
            return self.options.book(quote, depth)
        return self._book(symbol, self.mark(symbol), min(depth, self.levels))

    def _book(self, symbol: str, mark: Decimal, depth: int) -> OrderBook:
        tick = (
            self._instruments[symbol].price_step if symbol in self._instruments else Decimal("0.01")
        )
        bids, asks = [], []
        for i in range(depth):
            offset = (self.half_spread_bps + i * self.level_step_bps) / _BPS
            bid = (mark * (1 - offset)).quantize(tick, rounding=ROUND_DOWN)
            ask = (mark * (1 + offset)).quantize(tick, rounding=ROUND_UP)
            bids.append(BookLevel(bid, self.level_amount))
            asks.append(BookLevel(ask, self.level_amount))
        return OrderBook(symbol, self._clock.now_ms(), tuple(bids), tuple(asks))
