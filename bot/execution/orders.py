"""The order lifecycle: intent before send, recovery by client id, every state in the ledger.

The rule that never yields two live orders for one intent:

1. An intent has ONE client id for its whole life (no new attempt ids); its ORDER_INTENT
   is in the ledger (unique per client id) before the first send.
2. A send that fails with `VenueUnavailable` (timeout, 5xx, 429) leaves the order *in
   doubt*: it may exist. We look it up by client id (bounded, jittered retries: the lookup
   is idempotent). Found -> record it.
3. "Not found" is believed only once `in_doubt_s` has passed since the last moment a send
   may have been signed (when `submit` returned). Binance refuses a request whose signed
   timestamp is older than recvWindow (10 s in ccxt), so after that a delayed request can
   no longer create the order. Earlier, we wait and look again.
4. Only then we resend, with the SAME client id: should the bound of rule 3 ever fail, the
   venue refuses a duplicate client id of an open order (Binance -4116); a rejected resend
   is answered with one more lookup before it is recorded as rejected.
5. Sends of a previous (crashed) process count as signed when this executor was created:
   the ledger's writer lock guarantees that process is gone.

Ledger invariant: every FILL an ack implies is written BEFORE its final ORDER_UPDATE, so a
final status in the ledger means its fills are there too; a crash in between leaves the
order non-final, and `resume_pending` completes it. Fills are deduplicated by trade id;
for acks without trade details (ccxt order acks) one fill per cumulative-filled step is
derived, with trade id `<venue order id>:<cumulative filled>`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from bot.domain.events import (
    ERROR,
    FILL,
    ORDER_INTENT,
    ORDER_UPDATE,
    ErrorEvent,
    from_payload,
    to_payload,
)
from bot.domain.orders import Fill, LedgerEvent, OrderAck, OrderIntent, OrderStatus, Side
from bot.errors import InputError, Rejected, VenueUnavailable
from bot.ports import Clock, LedgerReader, LedgerWriter, Venue

ZERO = Decimal(0)


class ExecutionLedger(LedgerWriter, LedgerReader, Protocol):
    """The ledger as the executor needs it: append and read back."""


@dataclass(frozen=True, slots=True)
class ExecutionPolicy:
    """Bounds of the recovery loop. Times in seconds.

    `in_doubt_s`: how long after a send the venue may still accept it (Binance recvWindow
    10 s + 1 s server-ahead tolerance + clock skew). `max_sends`: sends per intent per
    call before it is left pending for `resume_pending`.
    """

    in_doubt_s: float = 15.0
    lookup_attempts: int = 5
    lookup_wait_s: float = 0.2
    lookup_max_wait_s: float = 2.0
    max_sends: int = 3
    settle_polls: int = 3


@dataclass
class OrderState:
    """What the ledger holds of one client id: the intent, last ack and recorded fills."""

    intent: OrderIntent
    last: OrderAck | None = None
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    fee: Decimal = ZERO

    @property
    def final(self) -> bool:
        return self.last is not None and self.last.status.final


@dataclass
class LedgerOrders:
    """The ledger's view of orders, read incrementally (seq > last seen)."""

    ledger: LedgerReader
    seq: int = 0
    orders: dict[str, OrderState] = field(default_factory=dict)
    trades: set[tuple[str, str]] = field(default_factory=set)

    def refresh(self) -> None:
        for event in self.ledger.events([ORDER_INTENT, ORDER_UPDATE, FILL], since_seq=self.seq):
            self.apply(event)

    def apply(self, event: LedgerEvent) -> None:
        if event.seq <= self.seq:
            return
        self.seq = event.seq
        cid = str(event.payload.get("client_id", ""))
        if event.kind == ORDER_INTENT:
            self.orders[cid] = OrderState(from_payload(OrderIntent, event.payload))
            return
        state = self.orders.get(cid)
        if event.kind == ORDER_UPDATE and state is not None:
            state.last = from_payload(OrderAck, event.payload)
        elif event.kind == FILL:
            fill = from_payload(Fill, event.payload)
            self.trades.add((str(event.payload.get("venue", "")), fill.trade_id))
            if state is not None:
                state.filled += fill.amount
                state.notional += fill.amount * fill.price
                state.fee += fill.fee

    def pending(self, venue: str) -> list[OrderIntent]:
        """Intents on `venue` without a final status, oldest first."""
        return [s.intent for s in self.orders.values() if s.intent.venue == venue and not s.final]


def _ack(intent: OrderIntent, status: OrderStatus, ts_ms: int, reason: str = "") -> OrderAck:
    return OrderAck(
        client_id=intent.client_id,
        venue_order_id="",
        symbol=intent.symbol,
        side=intent.side,
        status=status,
        amount=intent.amount,
        filled=ZERO,
        average_price=None,
        ts_ms=ts_ms,
        info={"reason": reason} if reason else {},
    )


def derived_fill(intent: OrderIntent, state: OrderState, ack: OrderAck, now_ms: int) -> Fill:
    """The fill between what the ledger holds and the ack's cumulative `filled`.

    Price: the increment's average, from the ack's average over the whole order; without
    one (a venue that does not say), the intent's decision price.
    """
    delta = ack.filled - state.filled
    if ack.average_price is not None:
        price = (ack.average_price * ack.filled - state.notional) / delta
    else:
        price = intent.decision_price
    return Fill(
        client_id=intent.client_id,
        venue_order_id=ack.venue_order_id,
        trade_id=f"{ack.venue_order_id or intent.client_id}:{ack.filled}",
        symbol=intent.symbol,
        side=intent.side,
        amount=delta,
        price=price,
        fee=max(ack.fee - state.fee, ZERO),
        fee_currency=ack.fee_currency,
        ts_ms=ack.ts_ms or now_ms,
    )


class OrderExecutor:
    """Sends order intents to one venue so that each becomes at most one live order."""

    def __init__(
        self,
        venue: Venue,
        ledger: ExecutionLedger,
        clock: Clock,
        run_id: str | None,
        policy: ExecutionPolicy | None = None,
    ) -> None:
        self._venue = venue
        self._ledger = ledger
        self._clock = clock
        self._run_id = run_id
        self._policy = policy or ExecutionPolicy()
        self._born_ms = clock.now_ms()
        self._signed_by_ms: dict[str, int] = {}
        self._orders = LedgerOrders(ledger)

    async def execute(self, intents: Sequence[OrderIntent]) -> list[OrderAck]:
        """One ack per intent, in order. Intents final in the ledger are not sent again.

        An ack with status PENDING means the venue could not be reached: the intent stays
        open in the ledger for `resume_pending`. Rejections come back as REJECTED acks
        with the venue's reason in `info["reason"]`.
        """
        self._orders.refresh()
        return [await self._execute_one(intent) for intent in intents]

    async def resume_pending(self) -> list[OrderAck]:
        """Complete the ledger's non-final intents on this venue (run at start).

        Found by client id -> its status and fills are recorded. Not on the venue once
        the in-doubt window has passed -> marked EXPIRED (never sent): after a crash its
        plan is stale, and the engine re-plans from positions instead of resending it.
        """
        self._orders.refresh()
        return [await self._resume_one(i) for i in self._orders.pending(self._venue.name)]

    async def _execute_one(self, intent: OrderIntent) -> OrderAck:
        if intent.venue != self._venue.name:
            raise InputError(
                f"order {intent.client_id}: intent is for venue {intent.venue!r} but this "
                f"executor sends to {self._venue.name!r}; plan with this venue's instruments"
            )
        state = self._orders.orders.get(intent.client_id)
        if state is not None:
            _check_same(state.intent, intent)
            if state.final:
                assert state.last is not None
                return state.last
        else:
            self._append(ORDER_INTENT, to_payload(intent))
        try:
            ack = await self._place(intent, in_doubt=state is not None)
        except VenueUnavailable as exc:
            self._error("execution.place", intent, exc)
            return _ack(intent, OrderStatus.PENDING, self._clock.now_ms(), str(exc))
        return await self._settle(intent, ack)

    async def _resume_one(self, intent: OrderIntent) -> OrderAck:
        try:
            found = await self._find(intent)
        except VenueUnavailable as exc:
            self._error("execution.resume", intent, exc)
            return _ack(intent, OrderStatus.PENDING, self._clock.now_ms(), str(exc))
        if found is None:
            reason = "not on the venue after the in-doubt window: never sent; re-plan"
            ack = _ack(intent, OrderStatus.EXPIRED, self._clock.now_ms(), reason)
            self._append(ORDER_UPDATE, to_payload(ack))
            return ack
        return await self._settle(intent, found)

    async def _place(self, intent: OrderIntent, *, in_doubt: bool) -> OrderAck:
        """Send (or find) the order; raises VenueUnavailable if it stays in doubt."""
        for _ in range(self._policy.max_sends):
            if in_doubt:
                found = await self._find(intent)
                if found is not None:
                    return found
            try:
                return await self._send(intent)
            except VenueUnavailable as exc:
                self._error("execution.submit", intent, exc)
            except Rejected as exc:
                return await self._rejected(intent, exc, resend=in_doubt)
            in_doubt = True
        raise VenueUnavailable(
            f"order {intent.client_id}: still in doubt after {self._policy.max_sends} sends; "
            "left pending (resume_pending looks it up)"
        )

    async def _send(self, intent: OrderIntent) -> OrderAck:
        try:
            return await self._venue.submit(intent)
        finally:
            self._signed_by_ms[intent.client_id] = self._clock.now_ms()

    async def _rejected(self, intent: OrderIntent, exc: Rejected, *, resend: bool) -> OrderAck:
        """A resend may be refused as a duplicate of an order we could not see: look once."""
        if resend:
            found = await self._lookup(intent)
            if found is not None:
                return found
        ack = _ack(intent, OrderStatus.REJECTED, self._clock.now_ms(), str(exc))
        self._append(ORDER_UPDATE, to_payload(ack))
        return ack

    async def _find(self, intent: OrderIntent) -> OrderAck | None:
        """Look the order up; believe "not found" only after the in-doubt window."""
        found = await self._lookup(intent)
        if found is not None:
            return found
        signed_by = self._signed_by_ms.get(intent.client_id, self._born_ms)
        wait_ms = signed_by + int(self._policy.in_doubt_s * 1000) - self._clock.now_ms()
        if wait_ms <= 0:
            return None
        await self._clock.sleep(wait_ms / 1000)
        return await self._lookup(intent)

    async def _lookup(self, intent: OrderIntent) -> OrderAck | None:
        p = self._policy
        retrying = AsyncRetrying(
            stop=stop_after_attempt(p.lookup_attempts),
            wait=wait_random_exponential(multiplier=p.lookup_wait_s, max=p.lookup_max_wait_s),
            retry=retry_if_exception_type(VenueUnavailable),
            sleep=self._clock.sleep,
            reraise=True,
        )
        found: OrderAck | None = await retrying(
            self._venue.order_by_client_id, intent.symbol, intent.client_id
        )
        return found

    async def _settle(self, intent: OrderIntent, ack: OrderAck) -> OrderAck:
        """Record `ack`; poll a market order a few times until the venue calls it final."""
        self._record(intent, ack)
        for _ in range(self._policy.settle_polls):
            if ack.status.final or intent.order_type != "market":
                break
            await self._clock.sleep(self._policy.lookup_wait_s)
            try:
                found = await self._lookup(intent)
            except VenueUnavailable:
                break
            if found is None:
                break
            ack = found
            self._record(intent, ack)
        return ack

    def _record(self, intent: OrderIntent, ack: OrderAck) -> None:
        """New fills first, then the status if it changed (see the module's invariant)."""
        self._orders.refresh()
        state = self._orders.orders[intent.client_id]
        for fill in self._new_fills(intent, state, ack):
            self._append(FILL, {**to_payload(fill), "venue": self._venue.name})
        last = state.last
        if last is None or (last.status, last.filled) != (ack.status, ack.filled):
            self._append(ORDER_UPDATE, to_payload(dataclasses.replace(ack, fills=())))

    def _new_fills(self, intent: OrderIntent, state: OrderState, ack: OrderAck) -> list[Fill]:
        if ack.fills:
            name = self._venue.name
            return [f for f in ack.fills if (name, f.trade_id) not in self._orders.trades]
        if ack.filled <= state.filled:
            return []
        return [derived_fill(intent, state, ack, self._clock.now_ms())]

    def _error(self, where: str, intent: OrderIntent, exc: Exception) -> None:
        message = f"order {intent.client_id} ({intent.symbol}): {exc}"
        self._append(ERROR, to_payload(ErrorEvent(where, message)))

    def _append(self, kind: str, payload: dict[str, object]) -> None:
        self._ledger.append(kind, payload, ts_ms=self._clock.now_ms(), run_id=self._run_id)
        self._orders.refresh()


def _check_same(recorded: OrderIntent, intent: OrderIntent) -> None:
    """A client id names one order: refuse a different order under a recorded id."""
    key = ("symbol", "side", "amount", "reduce_only", "order_type")
    if any(getattr(recorded, k) != getattr(intent, k) for k in key):
        raise InputError(
            f"order {intent.client_id}: the ledger holds a different intent under this client "
            "id; derive client ids from a fresh plan id"
        )


def signed(side: Side, amount: Decimal) -> Decimal:
    """Signed contracts: buys add, sells subtract."""
    return amount if side is Side.BUY else -amount
