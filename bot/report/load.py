"""Ledger events -> typed `ReportData`: the only place the report reads payloads.

Everything before `until_ms` (exclusive, as `LedgerReader.events`) is loaded, not only
the window: the hedge book (average prices) and the LP positions at the window's start
come from replaying the history before it. Times are the ledger's `ts_ms` (ms since the
epoch, from the writer's clock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from bot.domain import events as ev
from bot.domain.account import AccountState
from bot.domain.events import BookGreeks, Decision, Halt, OptionSettlement, Tick
from bot.domain.orders import Fill, FundingPayment, LedgerEvent, OrderAck, OrderIntent
from bot.errors import InputError
from bot.ports import LedgerReader

T = TypeVar("T")

KINDS: tuple[str, ...] = (
    ev.TICK,
    ev.DECISION,
    ev.ORDER_INTENT,
    ev.ORDER_UPDATE,
    ev.FILL,
    ev.FUNDING,
    ev.HALT,
    ev.OPTION_SETTLEMENT,
    ev.BOOK_GREEKS,
    ev.ACCOUNT_STATE,
)


@dataclass(frozen=True, slots=True)
class At(Generic[T]):
    """A payload with its place in the ledger: sequence number and time (ms)."""

    seq: int
    ts_ms: int
    value: T


@dataclass(frozen=True, slots=True)
class FarmReward:
    """One staked position's pending reward at one tick (human units of the token)."""

    chain: str
    position_id: str
    token: str
    symbol: str
    amount: Decimal


def _farm_rewards(event: LedgerEvent) -> tuple[FarmReward, ...]:
    """The staked positions' rewards in a TICK payload (none for an older ledger)."""
    out: list[FarmReward] = []
    try:
        rows: Any = event.payload.get("positions") or ()
        for row in rows:
            for r in row.get("rewards") or ():
                chain, pid = str(row.get("chain", "main")), str(row["position_id"])
                amount = Decimal(str(r["amount"]))
                out.append(FarmReward(chain, pid, str(r["token"]), str(r["symbol"]), amount))
    except (TypeError, ValueError, ArithmeticError, KeyError, AttributeError) as err:
        raise InputError(
            f"ledger event seq {event.seq} (tick): a staked position's rewards do not parse: "
            f"{err!r}; check the ledger with `lphedge ledger verify`"
        ) from err
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ReportData:
    """Typed events in ledger order, before `until_ms`; the window is [since_ms, until_ms)."""

    ticks: tuple[At[Tick], ...]
    decisions: tuple[At[Decision], ...]
    intents: tuple[At[OrderIntent], ...]
    updates: tuple[At[OrderAck], ...]
    fills: tuple[At[Fill], ...]
    funding: tuple[At[FundingPayment], ...]
    halts: tuple[At[Halt], ...]
    since_ms: int | None = None
    until_ms: int | None = None
    settlements: tuple[At[OptionSettlement], ...] = ()
    greeks: tuple[At[BookGreeks], ...] = ()
    accounts: tuple[At[AccountState], ...] = ()
    """The venue account as recorded at start-up: the hedge margin of the report's capital."""
    rewards: tuple[At[tuple[FarmReward, ...]], ...] = ()
    """Staked positions' pending farm rewards per TICK that has any (`report.farm`)."""

    def in_window(self, ts_ms: int) -> bool:
        if self.since_ms is not None and ts_ms < self.since_ms:
            return False
        return self.until_ms is None or ts_ms < self.until_ms


def _decode(cls: type[T], event: LedgerEvent) -> At[T]:
    try:
        value = ev.from_payload(cls, event.payload)
    except (TypeError, ValueError, ArithmeticError, KeyError) as err:
        raise InputError(
            f"ledger event seq {event.seq} ({event.kind}): payload does not fit "
            f"{cls.__name__}: {err}; check the ledger with `lphedge ledger verify`"
        ) from err
    return At(event.seq, event.ts_ms, value)


def _fill_key(item: At[Fill]) -> tuple[str, ...]:
    """Fills may be recorded twice (after a restart); a venue trade id names one execution."""
    f = item.value
    if f.trade_id:
        return (f.symbol, f.venue_order_id, f.trade_id)
    return ("seq", str(item.seq))


def _unique_fills(fills: list[At[Fill]]) -> tuple[At[Fill], ...]:
    seen: set[tuple[str, ...]] = set()
    out: list[At[Fill]] = []
    for item in fills:
        key = _fill_key(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return tuple(out)


def from_events(
    events: list[LedgerEvent], *, since_ms: int | None = None, until_ms: int | None = None
) -> ReportData:
    """Sort events of the kinds the report uses into typed tuples (ledger order kept)."""
    types: Mapping[str, type] = ev.PAYLOAD_TYPES
    buckets: dict[str, list[At[object]]] = {k: [] for k in KINDS}
    rewards: list[At[tuple[FarmReward, ...]]] = []
    for event in sorted(events, key=lambda e: e.seq):
        if event.kind in buckets and (until_ms is None or event.ts_ms < until_ms):
            buckets[event.kind].append(_decode(types[event.kind], event))
            farmed = _farm_rewards(event) if event.kind == ev.TICK else ()
            if farmed:
                rewards.append(At(event.seq, event.ts_ms, farmed))

    def typed(kind: str, _cls: type[T]) -> list[At[T]]:
        return buckets[kind]  # type: ignore[return-value]

    return ReportData(
        ticks=tuple(typed(ev.TICK, Tick)),
        decisions=tuple(typed(ev.DECISION, Decision)),
        intents=tuple(typed(ev.ORDER_INTENT, OrderIntent)),
        updates=tuple(typed(ev.ORDER_UPDATE, OrderAck)),
        fills=_unique_fills(typed(ev.FILL, Fill)),
        funding=tuple(typed(ev.FUNDING, FundingPayment)),
        halts=tuple(typed(ev.HALT, Halt)),
        since_ms=since_ms,
        until_ms=until_ms,
        settlements=tuple(typed(ev.OPTION_SETTLEMENT, OptionSettlement)),
        greeks=tuple(typed(ev.BOOK_GREEKS, BookGreeks)),
        accounts=tuple(typed(ev.ACCOUNT_STATE, AccountState)),
        rewards=tuple(rewards),
    )


def load(
    reader: LedgerReader, *, since_ms: int | None = None, until_ms: int | None = None
) -> ReportData:
    """Read the report's events from a ledger (history before `since_ms` included)."""
    if since_ms is not None and until_ms is not None and since_ms > until_ms:
        raise InputError(f"--since ({since_ms} ms) is after --until ({until_ms} ms); swap them")
    events = reader.events(list(KINDS), until_ms=until_ms)
    return from_events(events, since_ms=since_ms, until_ms=until_ms)
