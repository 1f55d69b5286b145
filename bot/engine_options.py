"""The engine's option desk: the chain (cached, refreshed at most hourly), the options worth
quoting each tick, their instruments and quotes merged into the market snapshot, the premium
paid today, and the book's greeks.

Part of the engine (it knows the MarketData and Venue ports); the choices themselves are the
pure functions of `bot.hedge.option_book` and `bot.hedge.planner.plan_options`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Protocol, TypeVar

from bot.domain import events as ev
from bot.domain.lp import ExposureBook
from bot.domain.market import USD, Instrument, MarketSnapshot
from bot.domain.orders import HedgePosition, HedgeTarget, Side
from bot.hedge import option_book, planner
from bot.options.chain import is_option_symbol, parse_symbol
from bot.ports import LedgerReader, MarketData, Venue

T = TypeVar("T")
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


class Timed(Protocol):
    """The engine's `_timed`: await with the venue timeout, naming what timed out."""

    def __call__(self, what: str, aw: Awaitable[T], /) -> Awaitable[T]: ...


@dataclass(frozen=True, slots=True)
class OptionsPolicy:
    """How the engine trades options (from `[options]`): quote expiries up to
    `max_expiry_days`, strikes within the LP range +- one `strike_step` (USD); limit prices
    `max_slippage` (fraction) beyond the touch; chain refreshed every `chain_refresh_ms`."""

    max_expiry_days: float = 21.0
    strike_step: Decimal = Decimal(25)
    max_slippage: Decimal = Decimal("0.05")
    chain_refresh_ms: int = HOUR_MS


def split_positions(
    hedges: Sequence[HedgePosition],
) -> tuple[dict[str, Decimal], list[HedgePosition]]:
    """Perp sizes summed by asset, and the option positions (keyed later by symbol)."""
    perps: dict[str, Decimal] = {}
    options: list[HedgePosition] = []
    for h in hedges:
        if is_option_symbol(h.symbol):
            options.append(h)
        else:
            perps[h.asset] = perps.get(h.asset, Decimal(0)) + h.size_base
    return perps, options


@dataclass
class OptionDesk:
    """Per-engine option state: chain cache and venue instruments by symbol."""

    market: MarketData
    venue: Venue
    policy: OptionsPolicy
    chains: dict[str, tuple[int, Mapping[str, Instrument]]] = field(default_factory=dict)
    instruments: dict[str, Instrument] = field(default_factory=dict)

    async def _chain(self, asset: str, now_ms: int, timed: Timed) -> Mapping[str, Instrument]:
        cached = self.chains.get(asset)
        if cached is None or now_ms - cached[0] >= self.policy.chain_refresh_ms:
            cached = (now_ms, await timed(f"option chain {asset}", self.market.option_chain(asset)))
            self.chains[asset] = cached
        return cached[1]

    async def snapshot(
        self,
        now_ms: int,
        book: ExposureBook,
        market: MarketSnapshot,
        held: Sequence[HedgePosition],
        timed: Timed,
    ) -> MarketSnapshot:
        """`market` plus quotes and instruments of the options worth quoting now."""
        assets = sorted({a for a in book.assets if a != USD} | {h.asset for h in held})
        chain: dict[str, Instrument] = {}
        for asset in assets:
            chain.update(await self._chain(asset, now_ms, timed))
        symbols = option_book.quoted_options(
            chain,
            book,
            market.prices,
            now_ms,
            int(self.policy.max_expiry_days * DAY_MS),
            self.policy.strike_step,
            [h.symbol for h in held],
        )
        missing = [s for s in symbols if s not in self.instruments]
        if missing:
            found = await timed("option instruments", self.venue.instruments(missing))
            self.instruments.update(found)
        if not symbols:
            return market
        quoted = await timed("option quotes", self.market.snapshot(symbols))
        return replace(
            market,
            ts_ms=min(market.ts_ms, quoted.ts_ms),
            quotes={**market.quotes, **quoted.quotes},
            instruments={**market.instruments, **{s: self.instruments[s] for s in symbols}},
            volatility={**quoted.volatility, **market.volatility},
        )

    def plan(
        self,
        targets: Sequence[HedgeTarget],
        held: Mapping[str, Decimal],
        market: MarketSnapshot,
        plan_id: str,
        first_leg: int,
    ) -> planner.Plan:
        return planner.plan_options(
            targets,
            held,
            self.instruments,
            market.quotes,
            market.prices,
            plan_id,
            max_slippage=self.policy.max_slippage,
            first_leg=first_leg,
        )

    def deltas(
        self, symbols: Iterable[str], market: MarketSnapshot, now_ms: int
    ) -> dict[str, float]:
        return option_book.option_deltas(
            symbols, self.instruments, market.quotes, market.prices, market.volatility, now_ms
        )

    def greeks(
        self,
        book: ExposureBook,
        perps: Mapping[str, Decimal],
        held: Sequence[HedgePosition],
        market: MarketSnapshot,
        now_ms: int,
    ) -> ev.BookGreeks:
        rows = option_book.book_greeks(
            book,
            perps,
            held,
            self.instruments,
            market.quotes,
            market.prices,
            market.volatility,
            now_ms,
        )
        return ev.BookGreeks(book.block_number, rows)

    def premium_today_usd(
        self, ledger: LedgerReader, now_ms: int, prices: Mapping[str, Decimal]
    ) -> Decimal:
        """Premium paid for options since 00:00 UTC (buys), USD; coin premiums at the price
        now (close enough for a daily budget)."""
        spent = Decimal(0)
        for e in ledger.events([ev.FILL], since_ms=now_ms - now_ms % DAY_MS):
            symbol = str(e.payload.get("symbol", ""))
            if e.payload.get("side") != Side.BUY.value or not is_option_symbol(symbol):
                continue
            base, _, settle, *_ = parse_symbol(symbol)
            paid = Decimal(str(e.payload["amount"])) * Decimal(str(e.payload["price"]))
            spent += paid * prices.get(base, Decimal(0)) if settle == base else paid
        return spent
