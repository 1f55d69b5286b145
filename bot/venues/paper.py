"""PaperVenue: the same Venue port as a real exchange, filled against a market-data book.

Market orders walk the book of `market` (a live venue's public book or a replayed one):
levels are consumed from the best price outward; if the book runs out the order fills
partially and the remainder is canceled (status `canceled`, `filled` < `amount`). The taker
fee of the instrument is charged on the notional. Funding settles at every 8 h funding time
(00/08/16 UTC) from the quote's rate and mark: payment = -position_base * mark * rate.

Every change is appended to the ledger with the account state after it, in one event:
"paper_state" (start, and each order with its ack) and "funding" (each payment), marked
`source: "paper"`, `venue` and `state`; each fill is also a "fill" event. A new PaperVenue on
the same ledger continues where the last one stopped. Linear (USD-margined) perps only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any, Protocol

from bot.domain.market import Instrument
from bot.domain.orders import (
    Fill,
    FundingPayment,
    HedgePosition,
    LedgerEvent,
    OrderAck,
    OrderIntent,
    OrderStatus,
    Side,
)
from bot.errors import ConfigError, Rejected
from bot.ports import Clock, MarketData
from bot.venues.paper_book import PaperPosition, walk_book
from bot.venues.paper_state import (
    PaperAccount,
    ack_from_json,
    ack_to_json,
    fill_to_json,
    funding_from_json,
    funding_to_json,
)
from bot.venues.replay_market import FUNDING_PERIOD_MS

KINDS = ("paper_state", "funding")
SOURCE = "paper"
BOOK_DEPTH = 100


class PaperLedger(Protocol):
    def append(
        self, kind: str, payload: Mapping[str, Any], *, ts_ms: int, run_id: str | None = None
    ) -> int: ...

    def events(
        self,
        kinds: Sequence[str] | None = None,
        *,
        since_seq: int = 0,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[LedgerEvent]: ...


class PaperVenue:
    """A simulated account. State is restored from `ledger` on construction."""

    def __init__(
        self,
        name: str,
        market: MarketData,
        ledger: PaperLedger | None,
        clock: Clock,
        starting_balance_usd: Decimal = Decimal(10000),
        *,
        leverage: Decimal = Decimal(10),
        run_id: str | None = None,
    ) -> None:
        self.name = name
        self._market = market
        self._ledger = ledger
        self._clock = clock
        self._leverage = leverage
        self._run_id = run_id
        self._orders: dict[str, OrderAck] = {}
        self._funding: list[FundingPayment] = []
        self._instruments: dict[str, Instrument] = {}
        self._account = PaperAccount(starting_balance_usd, clock.now_ms())
        if not self._restore():
            self._record("paper_state", {})

    @classmethod
    async def restore(
        cls, name: str, market: MarketData, ledger: PaperLedger, clock: Clock, **kw: Any
    ) -> PaperVenue:
        """The paper venue `name` as the ledger last saw it (a fresh one if it never ran)."""
        return cls(name, market, ledger, clock, **kw)

    @property
    def balance_usd(self) -> Decimal:
        return self._account.balance

    def _restore(self) -> bool:
        if self._ledger is None:
            return False
        events = [
            e
            for e in self._ledger.events(KINDS)
            if e.payload.get("venue") == self.name and e.payload.get("source") == SOURCE
        ]
        for event in events:
            payload: Mapping[str, Any] = event.payload
            if "order" in payload:
                ack = ack_from_json(payload["order"])
                self._orders[ack.client_id] = ack
            if event.kind == "funding":
                self._funding.append(funding_from_json(payload))
        if events:
            last: Mapping[str, Any] = events[-1].payload
            self._account = PaperAccount.from_json(last["state"])
        return bool(events)

    def _record(self, kind: str, extra: Mapping[str, Any]) -> None:
        """Append `extra` with the account state after the change (one atomic event)."""
        if self._ledger is not None:
            payload = {
                **extra,
                "venue": self.name,
                "source": SOURCE,
                "state": self._account.to_json(),
            }
            self._ledger.append(kind, payload, ts_ms=self._clock.now_ms(), run_id=self._run_id)

    def _record_fills(self, fills: Sequence[Fill]) -> None:
        """Each fill also as a "fill" event for the ledger's fills table ((venue, trade_id)
        is unique there, so a second writer of the same fill is refused, never counted)."""
        if self._ledger is not None:
            for f in fills:
                payload = {**fill_to_json(f), "venue": self.name}
                self._ledger.append("fill", payload, ts_ms=f.ts_ms, run_id=self._run_id)

    async def _instrument(self, symbol: str) -> Instrument:
        if symbol not in self._instruments:
            inst = (await self._market.instruments([symbol]))[symbol]
            if inst.inverse:
                raise ConfigError(
                    f"paper venue {self.name}: {symbol} is inverse; the paper "
                    "venue models linear (USD-margined) perps only"
                )
            # The market data names its own venue; orders for it are placed here.
            self._instruments[symbol] = replace(inst, venue=self.name)
        return self._instruments[symbol]

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        return {s: await self._instrument(s) for s in symbols}

    async def _marks(self, symbols: Sequence[str]) -> Mapping[str, Decimal]:
        if not symbols:
            return {}
        snap = await self._market.snapshot(list(symbols))
        return {s: q.mark for s, q in snap.quotes.items()}

    async def positions(self) -> list[HedgePosition]:
        await self._settle_funding()
        held = {s: p for s, p in self._account.positions.items() if p.contracts != 0}
        marks = await self._marks(list(held))
        out = []
        for symbol, pos in held.items():
            inst = await self._instrument(symbol)
            out.append(
                HedgePosition(
                    venue=self.name,
                    symbol=symbol,
                    asset=inst.asset,
                    contracts=pos.contracts,
                    size_base=pos.contracts * inst.contract_size,
                    entry_price=pos.entry,
                    unrealized_pnl=(marks[symbol] - pos.entry) * pos.contracts * inst.contract_size,
                )
            )
        return out

    async def _check(self, intent: OrderIntent, inst: Instrument, signed: Decimal) -> None:
        label = f"paper {self.name}: order {intent.client_id}"
        if intent.client_id in self._orders:
            raise Rejected(f"{label}: client order id already used")
        if intent.order_type != "market":
            raise Rejected(f"{label}: only market orders are simulated")
        pos = self._account.positions.get(intent.symbol, PaperPosition())
        reduces = pos.reduces(signed)
        if intent.reduce_only and not reduces:
            raise Rejected(f"{label}: reduce-only order would open or increase a position")
        mark = (await self._marks([intent.symbol]))[intent.symbol]
        if intent.amount <= 0 or intent.amount < inst.min_amount:
            raise Rejected(f"{label}: amount {intent.amount} below minimum {inst.min_amount}")
        notional = intent.amount * inst.contract_size * mark
        if not reduces and notional < inst.min_cost:
            raise Rejected(f"{label}: notional {notional:.2f} below minimum {inst.min_cost}")
        if not reduces and await self._margin_needed(intent.symbol, signed, mark) > (
            await self._equity()
        ):
            raise Rejected(f"{label}: insufficient margin for {notional:.2f} notional")

    async def _margin_needed(self, symbol: str, signed: Decimal, mark: Decimal) -> Decimal:
        total = Decimal(0)
        for s, p in self._account.positions.items():
            inst = await self._instrument(s)
            contracts = p.contracts + (signed if s == symbol else 0)
            price = mark if s == symbol else p.entry
            total += abs(contracts) * inst.contract_size * price / self._leverage
        if symbol not in self._account.positions:
            inst = await self._instrument(symbol)
            total += abs(signed) * inst.contract_size * mark / self._leverage
        return total

    async def _equity(self) -> Decimal:
        held = {s: p for s, p in self._account.positions.items() if p.contracts != 0}
        marks = await self._marks(list(held))
        upnl = Decimal(0)
        for s, p in held.items():
            upnl += (marks[s] - p.entry) * p.contracts * (await self._instrument(s)).contract_size
        return self._account.balance + upnl

    async def submit(self, intent: OrderIntent) -> OrderAck:
        await self._settle_funding()
        inst = await self._instrument(intent.symbol)
        signed = intent.amount if intent.side is Side.BUY else -intent.amount
        await self._check(intent, inst, signed)
        book = await self._market.order_book(intent.symbol, BOOK_DEPTH)
        walk = walk_book(book, intent.side, intent.amount)
        now = self._clock.now_ms()
        order_id = f"paper-{self._account.next_order_id}"
        self._account.next_order_id += 1
        fills = []
        for i, (price, qty) in enumerate(walk.takes):
            fee = qty * inst.contract_size * price * inst.taker_fee
            fills.append(
                Fill(
                    intent.client_id,
                    order_id,
                    f"{order_id}-{i}",
                    intent.symbol,
                    intent.side,
                    qty,
                    price,
                    fee,
                    inst.settle,
                    now,
                )
            )
            self._trade(intent.symbol, qty if intent.side is Side.BUY else -qty, price, fee, inst)
        filled = walk.filled
        ack = OrderAck(
            client_id=intent.client_id,
            venue_order_id=order_id,
            symbol=intent.symbol,
            side=intent.side,
            status=OrderStatus.FILLED if filled == intent.amount else OrderStatus.CANCELED,
            amount=intent.amount,
            filled=filled,
            average_price=walk.average_price,
            fee=sum((f.fee for f in fills), Decimal(0)),
            fee_currency=inst.settle,
            fills=tuple(fills),
            ts_ms=now,
            info={}
            if filled == intent.amount
            else {"canceled": "book exhausted; remainder canceled"},
        )
        self._orders[intent.client_id] = ack
        self._record("paper_state", {"order": ack_to_json(ack)})
        self._record_fills(fills)
        return ack

    def _trade(
        self, symbol: str, signed: Decimal, price: Decimal, fee: Decimal, inst: Instrument
    ) -> None:
        pos = self._account.positions.get(symbol, PaperPosition())
        new_pos, pnl = pos.apply(signed, price, inst.contract_size)
        self._account.positions[symbol] = new_pos
        self._account.balance += pnl - fee

    async def order_by_client_id(self, symbol: str, client_id: str) -> OrderAck | None:
        ack = self._orders.get(client_id)
        return ack if ack is not None and ack.symbol == symbol else None

    async def open_orders(self, symbol: str | None = None) -> list[OrderAck]:
        return [
            a for a in self._orders.values() if not a.status.final and symbol in (None, a.symbol)
        ]

    async def cancel(self, symbol: str, client_id: str) -> None:
        """Market orders finish at once, so there is never anything left to cancel."""

    async def funding_payments(self, since_ms: int) -> list[FundingPayment]:
        await self._settle_funding()
        return [p for p in self._funding if p.ts_ms >= since_ms]

    async def _settle_funding(self) -> None:
        """Pay or receive funding for every funding time passed since the last settlement."""
        now = self._clock.now_ms()
        t = (self._account.funded_until_ms // FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS
        while t <= now:
            await self._pay_funding(t)
            t += FUNDING_PERIOD_MS
        if self._account.funded_until_ms < now:
            self._account.funded_until_ms = now

    async def _pay_funding(self, ts_ms: int) -> None:
        held = [s for s, p in self._account.positions.items() if p.contracts != 0]
        if not held:
            return
        snap = await self._market.snapshot(held)
        for symbol in held:
            quote, inst = snap.quotes[symbol], await self._instrument(symbol)
            rate = quote.funding_rate or Decimal(0)
            base = self._account.positions[symbol].contracts * inst.contract_size
            payment = FundingPayment(
                self.name,
                symbol,
                -base * quote.mark * rate,
                inst.settle,
                rate,
                ts_ms,
                f"{self.name}-{symbol}-{ts_ms}",
            )
            self._account.balance += payment.amount
            self._account.funded_until_ms = ts_ms
            self._funding.append(payment)
            self._record("funding", funding_to_json(payment))

    async def close(self) -> None:
        """Nothing to release: the ledger belongs to the caller."""
