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
6. With a `fence` (the writer lease's check, `bot.ledger.lease`), every send and every new
   intent is preceded by it: a bot that lost its lease sends nothing (the check raises
   NeedsOperator). Its epoch is written with each ORDER_INTENT as `lease_epoch`.

Ledger invariant: every FILL of an order is written BEFORE its final ORDER_UPDATE, so a
final status in the ledger means its fills are there too; a crash in between leaves the
order non-final, and `resume_pending` completes it. Fills are the venue's own executions
with their fees and trade ids: carried by the ack (paper) or read from the venue's trades
endpoint for the order (a ccxt order ack carries no fee, and Binance's market ack no trades).
While that endpoint has not caught up with the order's `filled`, the order stays non-final
in the ledger and the next `resume_pending` (the engine calls it every tick) completes it.
Fills are deduplicated by (venue, trade id), also against the account-event sync, which
writes the same executions when it sees them first.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
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
from bot.errors import InputError, LphedgeError, Rejected, VenueUnavailable
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
    fills_lookback_ms: int = 600_000  # how far before an order its executions are looked for


@dataclass
class OrderState:
    """What the ledger holds of one client id: the intent, last ack and recorded fills."""

    intent: OrderIntent
    last: OrderAck | None = None
    filled: Decimal = ZERO
    since_ms: int = 0  # when the intent was recorded (ledger time)

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
    # contracts filled per (venue, venue order id) by executions recorded without our client
    # id (the account sync saw them before the order's answer or lookup named the order)
    unnamed: dict[tuple[str, str], Decimal] = field(default_factory=dict)

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
            self.orders[cid].since_ms = event.ts_ms
            return
        state = self.orders.get(cid)
        if event.kind == ORDER_UPDATE and state is not None:
            state.last = from_payload(OrderAck, event.payload)
        elif event.kind == FILL:
            fill = from_payload(Fill, event.payload)
            venue = str(event.payload.get("venue", ""))
            self.trades.add((venue, fill.trade_id))
            if not cid:
                key = (venue, fill.venue_order_id)
                self.unnamed[key] = self.unnamed.get(key, ZERO) + fill.amount
            if state is not None:
                state.filled += fill.amount

    def pending(self, venue: str) -> list[OrderIntent]:
        """Intents on `venue` without a final status, oldest first."""
        return [s.intent for s in self.orders.values() if s.intent.venue == venue and not s.final]

    def filled(self, cid: str, venue_order_id: str) -> Decimal:
        """What the ledger holds filled of one order: its own fills and those recorded
        under its venue order id without a client id."""
        state = self.orders[cid]
        return state.filled + self.unnamed.get((state.intent.venue, venue_order_id), ZERO)

    def by_venue_order_id(self) -> dict[str, str]:
        """Venue order id -> our client id, for executions that carry only the former."""
        return {
            s.last.venue_order_id: cid
            for cid, s in self.orders.items()
            if s.last is not None and s.last.venue_order_id
        }


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


class OrderExecutor:
    """Sends order intents to one venue so that each becomes at most one live order."""

    def __init__(
        self,
        venue: Venue,
        ledger: ExecutionLedger,
        clock: Clock,
        run_id: str | None,
        policy: ExecutionPolicy | None = None,
        fence: Callable[[], int | None] | None = None,
    ) -> None:
        self._venue = venue
        self._fence = fence
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

    async def resume_pending(self, *, wait: bool = True) -> list[OrderAck]:
        """Complete the ledger's non-final intents on this venue (at start, and while
        running after a timeout or an outage).

        Found by client id -> its status and fills are recorded. Not on the venue once
        the in-doubt window has passed -> marked EXPIRED (never sent): its plan is stale,
        and the engine re-plans from positions instead of resending it. With `wait=False`
        (the running engine) an intent still inside its window is left pending, not waited
        for; its ack comes back PENDING.
        """
        self._orders.refresh()
        return [
            await self._resume_one(i, wait=wait) for i in self._orders.pending(self._venue.name)
        ]

    def pending(self) -> list[OrderIntent]:
        """This venue's intents the ledger holds without a final status."""
        self._orders.refresh()
        return self._orders.pending(self._venue.name)

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
            payload = to_payload(intent)
            epoch = None if self._fence is None else self._fence()
            if epoch is not None:
                payload["lease_epoch"] = epoch
            self._append(ORDER_INTENT, payload)
        try:
            ack = await self._place(intent, in_doubt=state is not None)
        except VenueUnavailable as exc:
            self._error("execution.place", intent, exc)
            return _ack(intent, OrderStatus.PENDING, self._clock.now_ms(), str(exc))
        return await self._settle(intent, ack)

    async def _resume_one(self, intent: OrderIntent, *, wait: bool) -> OrderAck:
        try:
            found = await self._find(intent, wait=wait)
        except VenueUnavailable as exc:
            self._error("execution.resume", intent, exc)
            return _ack(intent, OrderStatus.PENDING, self._clock.now_ms(), str(exc))
        if found is None and not wait and self._in_doubt_ms(intent) > 0:
            return _ack(intent, OrderStatus.PENDING, self._clock.now_ms(), "in doubt")
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
        if self._fence is not None:
            self._fence()  # NeedsOperator: not the writer any more, so never sent
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

    def _in_doubt_ms(self, intent: OrderIntent) -> int:
        """How long a send of `intent` may still reach the venue (ms; <= 0: no longer)."""
        signed_by = self._signed_by_ms.get(intent.client_id, self._born_ms)
        return signed_by + int(self._policy.in_doubt_s * 1000) - self._clock.now_ms()

    async def _find(self, intent: OrderIntent, *, wait: bool = True) -> OrderAck | None:
        """Look the order up; believe "not found" only after the in-doubt window (waiting
        it out unless `wait` is False)."""
        found = await self._lookup(intent)
        if found is not None:
            return found
        wait_ms = self._in_doubt_ms(intent)
        if wait_ms <= 0 or not wait:
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
        """Record `ack`; poll a market order a few times until the venue calls it final and
        its executions are on the trades endpoint."""
        complete = await self._record(intent, ack)
        for _ in range(self._policy.settle_polls):
            if (ack.status.final and complete) or intent.order_type != "market":
                break
            await self._clock.sleep(self._policy.lookup_wait_s)
            try:
                found = await self._lookup(intent)
                if found is None:
                    break
                ack = found
                complete = await self._record(intent, ack)
            except VenueUnavailable:
                break
        return ack

    async def _record(self, intent: OrderIntent, ack: OrderAck) -> bool:
        """New fills first, then the status if it changed (see the module's invariant).
        Returns False while the venue's executions do not yet add up to `ack.filled`: the
        status is then held back (a non-final order), to be completed later."""
        self._orders.refresh()
        try:
            fills = list(ack.fills) if ack.fills else await self._venue_fills(intent, ack)
        except LphedgeError as exc:  # the order stands; its fills come on the next look
            self._error("execution.fills", intent, exc)
            return False
        name = self._venue.name
        for fill in fills:
            if (name, fill.trade_id) not in self._orders.trades:
                self._append(
                    FILL, {**to_payload(fill), "client_id": intent.client_id, "venue": name}
                )
        if self._orders.filled(intent.client_id, ack.venue_order_id) < ack.filled:
            return False
        last = self._orders.orders[intent.client_id].last
        if last is None or (last.status, last.filled) != (ack.status, ack.filled):
            self._append(ORDER_UPDATE, to_payload(dataclasses.replace(ack, fills=())))
        return True

    async def _venue_fills(self, intent: OrderIntent, ack: OrderAck) -> list[Fill]:
        """The order's executions from the venue's trades endpoint (fee, fee currency, trade
        id), when the ack says more filled than the ledger holds."""
        have = self._orders.filled(intent.client_id, ack.venue_order_id)
        if ack.filled <= have or not ack.venue_order_id:
            return []
        since = (ack.ts_ms or self._clock.now_ms()) - self._policy.fills_lookback_ms
        found = await self._venue.fills([intent.symbol], max(since, 0))
        return [f for f in found if f.venue_order_id == ack.venue_order_id]

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
