"""MarketData over a venue's public ccxt endpoints: marks, index, funding and books.

No keys needed. `urls_override` points it at the test emulator like CcxtVenue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async

from bot.domain.market import BookLevel, Instrument, MarketSnapshot, OrderBook, Quote
from bot.errors import ConfigError
from bot.ports import Clock
from bot.venues.ccxt_parse import dec, instrument
from bot.venues.errors_map import ccxt_errors


class CcxtMarketData:
    """Public market data of one ccxt exchange (swap markets by default)."""

    def __init__(
        self,
        exchange_id: str,
        *,
        clock: Clock,
        sandbox: bool = False,
        urls_override: Mapping[str, Any] | None = None,
        timeout_ms: int = 10_000,
        enable_rate_limit: bool = True,
    ) -> None:
        if not hasattr(ccxt_async, exchange_id):
            raise ConfigError(f"market data exchange {exchange_id!r} is not a ccxt exchange id")
        self.name = exchange_id
        self._clock = clock
        self._ex: Any = getattr(ccxt_async, exchange_id)(
            {
                "enableRateLimit": enable_rate_limit,
                "timeout": timeout_ms,
                "options": {"defaultType": "swap", "fetchCurrencies": False},
            }
        )
        if sandbox:
            self._ex.set_sandbox_mode(True)
        if urls_override is not None:
            self._ex.urls["api"] = dict(urls_override)

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        with ccxt_errors(f"{self.name}: load markets"):
            markets = await self._ex.load_markets()
        missing = [s for s in symbols if s not in markets]
        if missing:
            raise ConfigError(f"{self.name}: no markets {missing}; use ccxt unified symbols")
        return {s: instrument(self.name, markets[s], self._ex.precisionMode) for s in symbols}

    async def _quote(self, symbol: str) -> Quote:
        with ccxt_errors(f"{self.name}: fetch funding rate {symbol}"):
            fr = await self._ex.fetch_funding_rate(symbol)
        mark = dec(fr.get("markPrice")) or Decimal(0)
        return Quote(
            symbol=symbol,
            ts_ms=int(fr.get("timestamp") or self._clock.now_ms()),
            mark=mark,
            index=dec(fr.get("indexPrice")),
            funding_rate=dec(fr.get("fundingRate")),
            next_funding_ms=fr.get("fundingTimestamp") or fr.get("nextFundingTimestamp"),
        )

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        instruments = await self.instruments(symbols)
        quotes = {s: await self._quote(s) for s in symbols}
        prices = {instruments[s].asset: q.mark for s, q in quotes.items()}
        return MarketSnapshot(self._clock.now_ms(), prices, quotes, instruments)

    async def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        with ccxt_errors(f"{self.name}: fetch order book {symbol}"):
            book = await self._ex.fetch_order_book(symbol, depth)

        def levels(rows: Sequence[Sequence[Any]]) -> tuple[BookLevel, ...]:
            return tuple(BookLevel(Decimal(str(r[0])), Decimal(str(r[1]))) for r in rows)

        return OrderBook(
            symbol,
            int(book.get("timestamp") or self._clock.now_ms()),
            levels(book["bids"]),
            levels(book["asks"]),
        )

    async def close(self) -> None:
        await self._ex.close()
