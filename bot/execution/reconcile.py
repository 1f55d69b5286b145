"""Venue state vs ledger, on start and after errors: record every difference, adopt the venue.

Order of work: first the ledger's open intents are completed by client id
(`OrderExecutor.resume_pending`), so fills the venue made while we were down are recorded
as fills, not as position differences. Then the venue's open orders and positions are
compared with what the ledger implies, and each difference becomes a RECONCILE_DIFF event
(payload: `ReconcileDiff`; `venue_id` is the venue's name, `ReconcileDiff.venue` is the
venue's value).

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
from dataclasses import dataclass, replace
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
) -> ReconcileReport:
    """Complete open intents, then record and adopt every venue/ledger difference."""
    resumed = await OrderExecutor(venue, ledger, clock, run_id, policy).resume_pending()
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
