"""Venue state vs ledger, on start and while running: record every difference, with both sides.

On start (`reconcile`): first the ledger's open intents are completed by client id
(`OrderExecutor.resume_pending`), then the venue's account events are synced
(`AccountSync`), so fills the venue made while we were down (ours, by hand, forced) are
recorded as fills, not as position differences. Then the venue's open orders and positions
are compared with what the ledger implies, and each difference becomes a RECONCILE_DIFF
event (payload: `ReconcileDiff`; `venue_id` is the venue's name, `ReconcileDiff.venue` is
the venue's value) and is adopted.

While running (`DriftWatch`, every N ticks, after the account sync): a position the
venue's executions do not explain (it moved with no trade on record) is drift. Seen on
`confirmations` checks in a row (a trades endpoint a little behind is not drift), it is
recorded, adopted into the ledger (the venue is the truth) and, by policy, either trading
goes on from it or the bot halts for the operator.

The ledger is append-only, so "adopting" the venue's position is itself an event: the
ledger position of a symbol is the value of its last `position` diff plus the signed fills
recorded after it (`ledger_positions`). A second reconcile with no trading in between
therefore finds nothing. Quantities are venue contracts, signed (long > 0).

Options are compared whatever `symbols` says (the strategy picks them, config does not
list them): every option the venue or the ledger holds, an OPTION_SETTLEMENT taking a
settled option out of the ledger's position.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from bot.domain.events import (
    FILL,
    OPTION_SETTLEMENT,
    ORDER_UPDATE,
    RECONCILE_DIFF,
    ReconcileDiff,
    to_payload,
)
from bot.domain.orders import OrderAck, OrderStatus, Side
from bot.execution.account_sync import AccountSync
from bot.execution.orders import ExecutionLedger, ExecutionPolicy, LedgerOrders, OrderExecutor
from bot.options.chain import is_option_symbol
from bot.ports import Clock, LedgerReader, Venue

POSITION = "position"
UNKNOWN_OPEN_ORDER = "unknown_open_order"
ORDER_STATUS = "order_status"
ORDER_NOT_OPEN = "order_not_open"


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What reconcile found and did. `positions`: the venue's (adopted) contracts per symbol."""

    venue: str
    diffs: tuple[ReconcileDiff, ...]
    positions: Mapping[str, Decimal]
    resumed: tuple[OrderAck, ...]

    @property
    def clean(self) -> bool:
        """True when the ledger already agreed with the venue."""
        return not self.diffs


def ledger_positions(ledger: LedgerReader, venue: str) -> dict[str, Decimal]:
    """Signed contracts per symbol on `venue` implied by the ledger (adoptions + fills -
    settled options)."""
    out: dict[str, Decimal] = {}
    for event in ledger.events([FILL, RECONCILE_DIFF, OPTION_SETTLEMENT]):
        p = event.payload
        symbol = str(p.get("symbol"))
        if event.kind == FILL and p.get("venue") == venue:
            amount = Decimal(str(p["amount"]))
            change = amount if p.get("side") == Side.BUY.value else -amount
            out[symbol] = out.get(symbol, Decimal(0)) + change
        elif event.kind == OPTION_SETTLEMENT and p.get("venue") == venue:
            out[symbol] = out.get(symbol, Decimal(0)) - Decimal(str(p["contracts"]))
        elif p.get("venue_id") == venue and p.get("what") == POSITION:
            out[symbol] = Decimal(str(p["venue"]))
    return out


async def reconcile(
    venue: Venue,
    ledger: ExecutionLedger,
    clock: Clock,
    run_id: str | None,
    symbols: Sequence[str],
    *,
    policy: ExecutionPolicy | None = None,
    sync: AccountSync | None = None,
) -> ReconcileReport:
    """Complete open intents, sync account events, then record and adopt every
    venue/ledger difference."""
    resumed = await OrderExecutor(venue, ledger, clock, run_id, policy).resume_pending()
    if sync is not None:
        await sync.poll(symbols)
    diffs = await _order_diffs(venue, ledger, clock, run_id, symbols)
    venue_pos = await _venue_positions(venue, symbols)
    diffs += _position_diffs(venue_pos, ledger_positions(ledger, venue.name), symbols)
    diffs = [replace(d, venue_id=venue.name) for d in diffs]
    for diff in diffs:
        ledger.append(RECONCILE_DIFF, to_payload(diff), ts_ms=clock.now_ms(), run_id=run_id)
    return ReconcileReport(venue.name, tuple(diffs), venue_pos, tuple(resumed))


async def _venue_positions(venue: Venue, symbols: Sequence[str]) -> dict[str, Decimal]:
    out = {s: Decimal(0) for s in symbols}
    for pos in await venue.positions():
        if not symbols or pos.symbol in symbols or is_option_symbol(pos.symbol):
            out[pos.symbol] = out.get(pos.symbol, Decimal(0)) + pos.contracts
    return out


def _position_diffs(
    venue_pos: Mapping[str, Decimal], ledger_pos: Mapping[str, Decimal], symbols: Sequence[str]
) -> list[ReconcileDiff]:
    diffs = []
    mine = {s for s in ledger_pos if not symbols or s in symbols or is_option_symbol(s)}
    for symbol in sorted(set(venue_pos) | mine):
        have, want = ledger_pos.get(symbol, Decimal(0)), venue_pos.get(symbol, Decimal(0))
        if have != want:
            action = f"adopted the venue's position (ledger changed by {want - have})"
            diffs.append(ReconcileDiff(POSITION, symbol, str(have), str(want), action))
    return diffs


async def _order_diffs(
    venue: Venue,
    ledger: ExecutionLedger,
    clock: Clock,
    run_id: str | None,
    symbols: Sequence[str],
) -> list[ReconcileDiff]:
    orders = LedgerOrders(ledger)
    orders.refresh()
    on_venue: dict[str, OrderAck] = {}
    targets: list[str | None] = [*symbols] or [None]
    for symbol in targets:
        for ack in await venue.open_orders(symbol):
            on_venue[ack.client_id or f"venue:{ack.venue_order_id}"] = ack
    diffs = []
    for cid, ack in on_venue.items():
        state = orders.orders.get(cid)
        if state is None:
            what = f"{ack.side.value} {ack.amount} {ack.status.value} ({cid})"
            action = "left open: not placed through this ledger; cancel or adopt it by hand"
            diffs.append(ReconcileDiff(UNKNOWN_OPEN_ORDER, ack.symbol, "none", what, action))
        elif state.last is None or state.last.status != ack.status:
            had = state.last.status.value if state.last else OrderStatus.PENDING.value
            payload = to_payload(ack)
            payload["fills"] = []
            ledger.append(ORDER_UPDATE, payload, ts_ms=clock.now_ms(), run_id=run_id)
            action = "recorded the venue's status"
            diffs.append(ReconcileDiff(ORDER_STATUS, ack.symbol, had, ack.status.value, action))
    for cid in _ledger_open(orders, venue.name, symbols):
        if cid not in on_venue:
            action = "not open on the venue; the next resume_pending looks it up"
            diffs.append(
                ReconcileDiff(
                    ORDER_NOT_OPEN, orders.orders[cid].intent.symbol, "open", "not open", action
                )
            )
    return diffs


def _ledger_open(orders: LedgerOrders, venue: str, symbols: Sequence[str]) -> list[str]:
    open_states = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
    return [
        cid
        for cid, s in orders.orders.items()
        if s.intent.venue == venue
        and s.last is not None
        and s.last.status in open_states
        and (not symbols or s.intent.symbol in symbols)
    ]


DRIFT = "drift"


@dataclass(frozen=True, slots=True)
class DriftCheck:
    """One running check: the confirmed drifts (recorded and adopted), and the halt reason
    when the policy halts on them."""

    diffs: tuple[ReconcileDiff, ...] = ()
    halt: str | None = None


@dataclass
class DriftWatch:
    """Compares the venue's positions with the ledger's while the bot runs (see module).

    `on_drift`: "adopt" (trade on from the venue's position) or "halt" (adopt it, then halt
    until the operator resumes)."""

    venue: Venue
    ledger: ExecutionLedger
    clock: Clock
    run_id: str | None
    symbols: Sequence[str]
    on_drift: str = "halt"
    confirmations: int = 2
    _seen: dict[str, int] = field(default_factory=dict)

    async def check(self) -> DriftCheck:
        venue_pos = await _venue_positions(self.venue, self.symbols)
        ledger_pos = ledger_positions(self.ledger, self.venue.name)
        found = _position_diffs(venue_pos, ledger_pos, self.symbols)
        self._seen = {d.symbol: self._seen.get(d.symbol, 0) + 1 for d in found}
        confirmed = [d for d in found if self._seen[d.symbol] >= self.confirmations]
        if not confirmed:
            return DriftCheck()
        halting = self.on_drift == "halt"
        diffs = []
        for d in confirmed:
            self._seen.pop(d.symbol, None)
            then = " and halted for the operator" if halting else ""
            moved = Decimal(d.venue) - Decimal(d.ledger)
            action = f"moved by {moved} with no execution on record; adopted the venue's{then}"
            diff = ReconcileDiff(DRIFT, d.symbol, d.ledger, d.venue, action, self.venue.name)
            self._append(diff)  # the evidence, both sides
            self._append(replace(diff, what=POSITION))  # the adoption (ledger_positions)
            diffs.append(diff)
        halt = None
        if halting:
            halt = "unexplained position drift: " + "; ".join(
                f"{d.symbol} ledger {d.ledger} venue {d.venue}" for d in diffs
            )
        return DriftCheck(tuple(diffs), halt)

    def _append(self, diff: ReconcileDiff) -> None:
        self.ledger.append(
            RECONCILE_DIFF, to_payload(diff), ts_ms=self.clock.now_ms(), run_id=self.run_id
        )
