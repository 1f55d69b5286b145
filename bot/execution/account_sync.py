"""Account events into the ledger: what the venue says happened, each written exactly once.

The engine polls its venue (paper or live, the same code) for executions, funding payments,
option settlements and forced closes, and appends the new ones: FILL (with `venue`; our
client id where the venue gives only its order id, "" for a trade not placed through this
ledger), FUNDING, OPTION_SETTLEMENT and LIQUIDATION. Each stream keeps a cursor, the newest
venue time (ms) it has recorded, read back from the ledger on start; every poll asks from
`cursor - overlap` (venues publish some rows late) and skips what the ledger already holds
by its key: (venue, trade id), (venue, payment id), (venue, option symbol), (venue,
liquidation id). So a restart, a crash mid-write or two overlapping polls never write one
twice, and nothing the venue reported after the cursor is lost.

Before the first poll of a venue with nothing recorded, the cursor is `start_ms`, the
first run's start: earlier activity is the position reconcile adopts, not ours to replay.

An execution without our client id on a symbol with an order still in doubt is not written
yet: it may be that order's, which the executor records as its own once it finds the order.
Until then fills are read from before the oldest such order (the cursor never skips them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from bot.domain import events as ev
from bot.domain.account import Liquidation
from bot.domain.events import OptionSettlement
from bot.domain.orders import Fill, FundingPayment
from bot.execution.orders import ExecutionLedger, LedgerOrders
from bot.ports import Clock, Venue

T = TypeVar("T")
LIQUIDATION = ev.LIQUIDATION
STREAMS = (ev.FILL, ev.FUNDING, ev.OPTION_SETTLEMENT, LIQUIDATION)


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What one poll wrote. `external`: executions not placed through this ledger (a trade
    by hand on the venue, a liquidation or ADL), already among `fills`."""

    fills: tuple[Fill, ...] = ()
    funding: tuple[FundingPayment, ...] = ()
    settlements: tuple[OptionSettlement, ...] = ()
    liquidations: tuple[Liquidation, ...] = ()
    external: tuple[Fill, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.fills or self.funding or self.settlements or self.liquidations)


@dataclass
class _Stream:
    """One stream's cursor (newest venue time recorded, ms; None: nothing yet) and the keys
    of what the ledger holds of it."""

    cursor_ms: int | None = None
    keys: set[str] = field(default_factory=set)


def _key(kind: str, p: Mapping[str, object]) -> str:
    if kind == ev.FILL:
        return str(p.get("trade_id"))
    if kind == ev.FUNDING:
        return str(p.get("payment_id"))
    if kind == ev.OPTION_SETTLEMENT:
        return str(p.get("symbol"))
    return str(p.get("liquidation_id"))


def _ts(kind: str, p: Mapping[str, object]) -> int:
    """The venue time of a recorded event (an option settles at its expiry)."""
    return int(str(p.get("expiry_ms" if kind == ev.OPTION_SETTLEMENT else "ts_ms") or 0))


class AccountSync:
    """Polls one venue's account events and appends each new one once (see module)."""

    def __init__(
        self,
        venue: Venue,
        ledger: ExecutionLedger,
        clock: Clock,
        run_id: str | None,
        *,
        start_ms: int,
        overlap_ms: int = 600_000,
    ) -> None:
        self._venue = venue
        self._ledger = ledger
        self._clock = clock
        self._run_id = run_id
        self._start_ms = start_ms
        self._overlap_ms = overlap_ms
        self._streams = {kind: _Stream() for kind in STREAMS}
        self._seq = 0
        self._orders = LedgerOrders(ledger)

    def _load(self) -> None:
        """Cursors and known keys from the ledger's events of this venue (incrementally)."""
        for event in self._ledger.events(list(STREAMS), since_seq=self._seq):
            self._seq = event.seq
            if event.payload.get("venue") == self._venue.name:
                self._note(event.kind, event.payload)

    def _note(self, kind: str, payload: Mapping[str, object]) -> None:
        stream = self._streams[kind]
        stream.keys.add(_key(kind, payload))
        ts = _ts(kind, payload)
        stream.cursor_ms = ts if stream.cursor_ms is None else max(stream.cursor_ms, ts)

    def since(self, kind: str) -> int:
        """Where the next poll of `kind` starts (venue ms; as of the last `_load`)."""
        cursor = self._streams[kind].cursor_ms
        return self._start_ms if cursor is None else max(cursor - self._overlap_ms, 0)

    async def poll_liquidations(self, symbols: Sequence[str]) -> tuple[Liquidation, ...]:
        """The forced closes alone (one light call): what must be known before trading."""
        self._load()
        forced = await self._venue.liquidations(self.since(LIQUIDATION), symbols)
        return tuple(self._write(LIQUIDATION, forced))

    async def poll(self, symbols: Sequence[str], *, liquidations: bool = True) -> SyncReport:
        """Read every stream since its cursor, then write what is new. A venue error
        (VenueUnavailable, ...) raises before anything of this poll is written.
        `liquidations=False` leaves forced closes to `poll_liquidations` (the running
        engine reads them before each plan, so once a tick is enough)."""
        v = self._venue
        self._load()
        self._orders.refresh()
        doubt = self._orders.pending(v.name)
        since_fills = self.since(ev.FILL)
        if doubt:  # their executions may be older than the cursor's overlap: read them again
            earliest = min(self._orders.orders[i.client_id].since_ms for i in doubt)
            since_fills = min(since_fills, max(earliest - self._overlap_ms, 0))
        fills = await v.fills(symbols, since_fills)
        funding = await v.funding_payments(self.since(ev.FUNDING), symbols)
        settled = await v.settlements(self.since(ev.OPTION_SETTLEMENT), symbols)
        forced = await v.liquidations(self.since(LIQUIDATION), symbols) if liquidations else []
        ours = set(self._orders.orders)
        by_order = self._orders.by_venue_order_id()
        held = {i.symbol for i in doubt}
        named = [
            f if f.client_id else replace(f, client_id=by_order.get(f.venue_order_id, ""))
            for f in sorted(fills, key=lambda f: f.ts_ms)
        ]
        # An execution we cannot name yet may be that of an order in doubt: it waits until the
        # executor resolves the order and records it as its own (read again from `since`).
        named = [f for f in named if f.client_id or f.symbol not in held]
        new_fills = self._write(ev.FILL, named)
        return SyncReport(
            fills=tuple(new_fills),
            funding=tuple(self._write(ev.FUNDING, funding)),
            settlements=tuple(self._write(ev.OPTION_SETTLEMENT, settled)),
            liquidations=tuple(self._write(LIQUIDATION, forced)),
            external=tuple(f for f in new_fills if f.client_id not in ours),
        )

    def _write(self, kind: str, items: Sequence[T]) -> list[T]:
        """Append the items the ledger does not hold yet (by key), in the given order."""
        if not items:
            return []
        self._load()
        self._orders.refresh()
        stream, out = self._streams[kind], []
        for item in items:
            payload = {**ev.to_payload(item), "venue": self._venue.name}
            key = _key(kind, payload)
            if key in stream.keys or (kind == ev.FILL and self._executor_wrote(key)):
                continue
            self._ledger.append(kind, payload, ts_ms=self._clock.now_ms(), run_id=self._run_id)
            self._note(kind, payload)
            out.append(item)
        return out

    def _executor_wrote(self, trade_id: str) -> bool:
        return (self._venue.name, trade_id) in self._orders.trades
