"""MarketData over a venue's public ccxt endpoints: marks, index, funding, books and options.

No keys needed. `urls_override` points it at the test emulator like CcxtVenue. Markets are
reloaded every `markets_ttl_ms` (venues list new option expiries daily); the option chain is
parsed once per load.

Option quotes cost one request per underlying per snapshot, not one per option: the engine
quotes 100-300 options a tick, which per symbol ccxt's rate limiter stretches to seconds
(Deribit 50 ms, Bybit 100 ms a public call) and which risks the venue's limits. Venues with
ccxt `fetchAllGreeks` (Bybit, OKX, Binance) answer every option of a base in one call;
Deribit's book summary by currency (`fetchOptionChain`) carries everything but the greeks,
which ccxt_options prices with Black-76 at Deribit's own mark IV. A lone option of its
underlying, or a venue with neither call, is quoted per symbol (the venue's greeks, and no
whole-chain download for one quote). An option missing from a bulk reply is an
InstrumentUnavailable naming it, not a silent per-symbol retry: that would bring the
request storm back unnoticed (a wrong bulk filter, e.g. Bybit's default baseCoin BTC, would
hide every option), and an option the venue no longer lists fails per symbol too.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, NamedTuple

import ccxt.async_support as ccxt_async

from bot.domain.market import (
    BookLevel,
    Instrument,
    InstrumentKind,
    MarketSnapshot,
    OrderBook,
    Quote,
)
from bot.errors import ConfigError, InstrumentUnavailable
from bot.ports import Clock
from bot.venues.ccxt_options import (
    any_instrument,
    greeks_from_option_chain,
    greeks_from_ticker,
    is_option,
    option_instrument,
    option_quote,
)
from bot.venues.ccxt_parse import dec
from bot.venues.errors_map import ccxt_errors
from bot.venues.profiles import known_profile

HOUR_MS = 3_600_000
_HAS = {"fetch_all_greeks": "fetchAllGreeks", "fetch_option_chain": "fetchOptionChain"}


class BulkCall(NamedTuple):
    """One ccxt call quoting many options: `group` is its argument (Deribit's currency) or
    what it is filtered by (Bybit's baseCoin), `params` the venue params that say so."""

    method: str  # "fetch_all_greeks" | "fetch_option_chain"
    group: str
    params: tuple[tuple[str, str], ...] = ()


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
        markets_ttl_ms: int = HOUR_MS,
        symbols: Mapping[str, str] | None = None,
    ) -> None:
        """`symbols`: asset -> perp as `venue.symbols` has them, so an unlisted one is an
        error naming its config key."""
        if not hasattr(ccxt_async, exchange_id):
            raise ConfigError(f"market data exchange {exchange_id!r} is not a ccxt exchange id")
        self.name = exchange_id
        self._clock = clock
        self._profile = known_profile(exchange_id)
        extra = dict(self._profile.ccxt_options) if self._profile else {}
        self._ex: Any = getattr(ccxt_async, exchange_id)(
            {
                "enableRateLimit": enable_rate_limit,
                "timeout": timeout_ms,
                "options": {"defaultType": "swap", "fetchCurrencies": False, **extra},
            }
        )
        if sandbox:
            self._ex.set_sandbox_mode(True)
        if urls_override is not None:
            self._ex.urls["api"] = dict(urls_override)
        self._ttl_ms = markets_ttl_ms
        self._config_symbols = dict(symbols or {})
        self._loaded_ms: int | None = None
        self._chains: dict[str, tuple[Instrument, ...]] = {}

    @property
    def _iv_scale(self) -> Decimal | None:
        return self._profile.option_iv_per_fraction if self._profile else None

    async def _markets(self) -> Mapping[str, Any]:
        now = self._clock.now_ms()
        reload = self._loaded_ms is not None and now - self._loaded_ms >= self._ttl_ms
        with ccxt_errors(f"{self.name}: load markets"):
            markets: Mapping[str, Any] = await self._ex.load_markets(reload)
        if reload or self._loaded_ms is None:
            self._loaded_ms = now
            self._chains = {}
        return markets

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        markets = await self._markets()
        missing = [s for s in symbols if s not in markets]
        if missing:
            raise ConfigError(self._not_listed(missing, markets))
        mode = self._ex.precisionMode
        usd = self._profile.usd_amount_inverse if self._profile else False
        return {s: any_instrument(self.name, markets[s], mode, usd) for s in symbols}

    def _not_listed(self, missing: Sequence[str], markets: Mapping[str, Any]) -> str:
        """Name the `venue.symbols` key of the first unlisted symbol, and what is listed."""
        symbol = missing[0]
        asset = next((a for a, s in self._config_symbols.items() if s == symbol), None)
        if asset is None:
            return f"{self.name}: no markets {list(missing)}; use ccxt unified symbols"
        perps = sorted(m for m, v in markets.items() if v.get("base") == asset and v.get("swap"))
        close = difflib.get_close_matches(symbol, list(markets), 3)
        hint = f"; its {asset} perps: {', '.join(perps[:3])}" if perps else ""
        hint = hint or (f"; did you mean {', '.join(close)}?" if close else "")
        return f"venue.symbols.{asset}: {self.name} lists no market {symbol!r}{hint}"

    async def option_chain(self, asset: str) -> Mapping[str, Instrument]:
        """Listed options on `asset` that expire after now, by (expiry, strike, type)."""
        markets = await self._markets()
        chain = self._chains.get(asset)
        if chain is None:
            mode = self._ex.precisionMode
            chain = tuple(
                sorted(
                    (
                        option_instrument(self.name, m, mode)
                        for m in markets.values()
                        if is_option(m) and m.get("base") == asset and m.get("active") is not False
                    ),
                    key=lambda i: (i.expiry_ms or 0, i.strike or 0, i.option_type or ""),
                )
            )
            self._chains[asset] = chain
        now = self._clock.now_ms()
        return {i.symbol: i for i in chain if (i.expiry_ms or 0) > now}

    async def _quote(self, symbol: str) -> Quote:
        """Mark, index and funding: one call where the funding rate carries the mark (Binance,
        Bybit, Hyperliquid, Deribit), the mark price call beside it where not (OKX)."""
        with ccxt_errors(f"{self.name}: fetch funding rate {symbol}"):
            fr = await self._ex.fetch_funding_rate(symbol)
            mark = dec(fr.get("markPrice"))
            index = dec(fr.get("indexPrice"))
            if not mark:
                t = (
                    await self._ex.fetch_mark_price(symbol)
                    if self._ex.has.get("fetchMarkPrice")
                    else await self._ex.fetch_ticker(symbol)
                )
                info = t.get("info") or {}
                mark = dec(t.get("markPrice") or info.get("markPx") or t.get("last"))
                index = index or dec(t.get("indexPrice"))
        return Quote(
            symbol=symbol,
            ts_ms=int(fr.get("timestamp") or self._clock.now_ms()),
            mark=mark or Decimal(0),
            index=index,
            funding_rate=dec(fr.get("fundingRate")),
            next_funding_ms=fr.get("fundingTimestamp") or fr.get("nextFundingTimestamp"),
        )

    async def _option_quote(self, inst: Instrument) -> Quote:
        """Mark, bid/ask, IV, underlying and greeks in one venue call (Deribit public/ticker,
        Bybit v5 tickers category=option), converted to our units in ccxt_options."""
        with ccxt_errors(f"{self.name}: fetch option quote {inst.symbol}"):
            if self._ex.has.get("fetchGreeks"):
                raw = await self._ex.fetch_greeks(inst.symbol)
            else:
                raw = greeks_from_ticker(await self._ex.fetch_ticker(inst.symbol))
        return option_quote(self.name, raw, inst, self._clock.now_ms(), self._iv_scale)

    def _bulk_call(self, inst: Instrument) -> BulkCall | None:
        """The one request that quotes `inst` along with every other option of its group
        (the venue profile's rule; without a profile, ccxt's fetchAllGreeks for all), or
        None when the venue has none we can read."""
        market: Mapping[str, Any] = self._ex.markets.get(inst.symbol) or {}
        if self._profile is not None and self._profile.option_bulk is not None:
            found = self._profile.option_bulk(market, inst.asset, inst.settle)
            if found is None or not self._ex.has.get(_HAS[found[0]]):
                return None
            return BulkCall(*found)
        if self._ex.has.get("fetchAllGreeks"):
            return BulkCall("fetch_all_greeks", "all")  # Binance /eapi/v1/mark: every option
        return None

    async def _bulk_quotes(self, call: BulkCall, group: Sequence[Instrument]) -> list[Quote]:
        symbols = [i.symbol for i in group]
        what = f"{self.name}: {call.method} {call.group} ({len(symbols)} options)"
        with ccxt_errors(what):
            if call.method == "fetch_option_chain":
                chain = await self._ex.fetch_option_chain(call.group, dict(call.params))
                rows = {s: greeks_from_option_chain(o) for s, o in chain.items()}
            else:
                rows = await self._ex.fetch_all_greeks(symbols, dict(call.params))
        missing = [s for s in symbols if s not in rows]
        if missing:
            raise InstrumentUnavailable(
                f"{what}: no quote for {missing} in the reply (instrument unknown or expired:"
                " reload the markets/option chain)"
            )
        now = self._clock.now_ms()
        return [option_quote(self.name, rows[i.symbol], i, now, self._iv_scale) for i in group]

    async def _option_quotes(self, options: Sequence[Instrument]) -> dict[str, Quote]:
        """Every option's quote: one bulk request per group (underlying or settlement
        currency), per symbol for a group of one or a venue without a bulk call."""
        groups: dict[BulkCall, list[Instrument]] = {}
        single: list[Instrument] = []
        for inst in options:
            call = self._bulk_call(inst)
            if call is None:
                single.append(inst)
            else:
                groups.setdefault(call, []).append(inst)
        jobs = [self._bulk_quotes(call, group) for call, group in groups.items() if len(group) > 1]
        single += [group[0] for group in groups.values() if len(group) == 1]

        async def one(inst: Instrument) -> list[Quote]:
            return [await self._option_quote(inst)]

        batches = await asyncio.gather(*jobs, *(one(i) for i in single))
        return {q.symbol: q for batch in batches for q in batch}

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        """Quotes for perps and options alike; `prices` per asset come from the perps' marks,
        or for an asset quoted only through options, from their index/underlying price."""
        instruments = await self.instruments(symbols)
        options = [i for i in instruments.values() if i.kind is InstrumentKind.OPTION]
        quotes = {s: await self._quote(s) for s in symbols if s not in {o.symbol for o in options}}
        prices = {instruments[s].asset: q.mark for s, q in quotes.items()}
        option_quotes = await self._option_quotes(options)
        for q in (option_quotes[o.symbol] for o in options):
            quotes[q.symbol] = q
            usd = q.index or q.underlying
            if usd is not None:
                prices.setdefault(instruments[q.symbol].asset, usd)
        ordered = {s: quotes[s] for s in symbols}
        return MarketSnapshot(self._clock.now_ms(), prices, ordered, instruments)

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
