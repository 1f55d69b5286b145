"""The engine's account desk: the venue account kept true in the ledger, paper and live alike.

- On start: the account's set-up is checked (and, with `setup="set"`, applied): position mode
  (hedge mode refused unless configured), leverage and margin mode per symbol; what the venue
  reports is recorded (ACCOUNT_STATE). A refusal is NeedsOperator: the bot does not start.
- Before every tick's plan: intents left pending (a timeout after the venue accepted, an
  outage) are looked up again without waiting, and while one is unresolved its symbol is not
  traded; forced closes are read (one call): a liquidation or ADL is alerted and, by
  policy, halts before the bot re-hedges into a margin call.
- After the tick's orders (so recording never delays them): every `events_every_ticks`
  ticks, and after any order, the account events are synced into the ledger (fills with
  fees and trade ids, funding, option settlements; `AccountSync`); a trade not placed by
  this bot is alerted. Then, every `positions_every_ticks` ticks, positions vs ledger
  (`DriftWatch`); a drift halt holds from the next tick.

Halts written here are sticky (source "reconcile" / "liquidation"): they hold until the
operator resumes, like `lphedge halt`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from bot.domain import events as ev
from bot.domain.account import AccountState, PositionMode
from bot.domain.orders import OrderAck, OrderIntent, OrderStatus
from bot.errors import LphedgeError, NeedsOperator
from bot.execution.account_sync import AccountSync, SyncReport
from bot.execution.reconcile import DriftWatch
from bot.ports import Clock, LedgerReader, LedgerWriter, Venue

log = logging.getLogger("lphedge.account")
RECONCILE = "reconcile"
LIQUIDATION_HALT = "liquidation"


class Ledger(LedgerWriter, LedgerReader, Protocol):
    """The desk writes account events and halts and reads them back."""


class PendingResolver(Protocol):
    """The executor's part the desk uses: intents without a final status, looked up again."""

    def pending(self) -> list[OrderIntent]: ...

    async def resume_pending(self, *, wait: bool = True) -> list[OrderAck]: ...


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """From `[venue]` and `[reconcile]`. `leverage`: symbol -> leverage."""

    position_mode: PositionMode = "one_way"
    margin_mode: str | None = None
    leverage: Mapping[str, Decimal] = field(default_factory=dict)
    setup: str = "set"  # set | verify
    events_every_ticks: int = 1
    positions_every_ticks: int = 10
    on_liquidation: str = "halt"  # halt | continue


@dataclass(frozen=True, slots=True)
class DeskReport:
    """What the desk saw before a tick: alerts, symbols not to trade (and why), a halt."""

    alerts: tuple[str, ...] = ()
    blocked: Mapping[str, str] = field(default_factory=dict)
    halt: str | None = None


class AccountDesk:
    """See the module docstring. One per engine; never re-entrant (the engine's lock)."""

    def __init__(
        self,
        venue: Venue,
        ledger: Ledger,
        clock: Clock,
        run_id: str | None,
        executor: PendingResolver,
        sync: AccountSync,
        drift: DriftWatch,
        policy: AccountPolicy,
    ) -> None:
        self.venue = venue
        self.ledger = ledger
        self.clock = clock
        self.run_id = run_id
        self.executor = executor
        self.sync = sync
        self.drift = drift
        self.policy = policy
        self._ticks = 0

    def _append(self, kind: str, payload: object) -> None:
        self.ledger.append(
            kind, ev.to_payload(payload), ts_ms=self.clock.now_ms(), run_id=self.run_id
        )

    async def start(self, symbols: Sequence[str]) -> AccountState:
        """Check (and set) the account's set-up; record it. NeedsOperator refuses a start."""
        p, name = self.policy, self.venue.name
        state = await self.venue.account_state(symbols)
        if state.position_mode != p.position_mode:
            raise NeedsOperator(
                f"venue {name}: the account is in {state.position_mode.replace('_', '-')} "
                f"position mode but venue.position_mode is {p.position_mode!r}; switch the "
                f"account on the venue, or set venue.position_mode = {state.position_mode!r}"
            )
        wanted = {s: (p.leverage.get(s), p.margin_mode) for s in symbols}
        if p.setup == "set" and any(lev or mm for lev, mm in wanted.values()):
            for symbol, (lev, mm) in wanted.items():
                await self.venue.configure(symbol, lev, mm)
            state = await self.venue.account_state(symbols)
        wrong = _mismatches(state, wanted)
        if wrong:
            fix = "set venue.account_setup = 'set'" if p.setup == "verify" else "check the venue"
            raise NeedsOperator(f"venue {name}: account set-up differs: {'; '.join(wrong)}; {fix}")
        self._append(ev.ACCOUNT_STATE, state)
        return state

    async def before_tick(self, symbols: Sequence[str]) -> DeskReport:
        """Resolve pending intents (so their executions are recorded as theirs) and read
        forced closes."""
        self._ticks += 1
        alerts: list[str] = []
        blocked = await self._resolve(alerts)
        try:
            forced = await self.sync.poll_liquidations(symbols)
        except LphedgeError as err:
            self._append(ev.ERROR, ev.ErrorEvent("account.liquidations", str(err)))
            alerts.append(f"liquidations not read: {err}")
            forced = ()
        halt = self._react(SyncReport(liquidations=forced), alerts)
        return DeskReport(tuple(alerts), blocked, halt)

    async def after_tick(self, symbols: Sequence[str], acks: Sequence[OrderAck]) -> DeskReport:
        """Record the account events (after any order, else every N ticks), then compare
        positions every N ticks."""
        alerts: list[str] = []
        if acks or (self._ticks - 1) % self.policy.events_every_ticks == 0:
            await self._sync(symbols, alerts)
        drift = await self.check_positions()
        return DeskReport((*alerts, *drift.alerts), halt=drift.halt)

    async def _sync(self, symbols: Sequence[str], alerts: list[str]) -> None:
        try:
            report = await self.sync.poll(symbols, liquidations=False)
        except LphedgeError as err:
            self._append(ev.ERROR, ev.ErrorEvent("account.sync", str(err)))
            alerts.append(f"account events not read: {err}")
            return
        self._react(report, alerts)

    def _react(self, report: SyncReport, alerts: list[str]) -> str | None:
        for f in report.external:
            alerts.append(
                f"trade not placed by this bot on {self.venue.name}: {f.side.value} {f.amount} "
                f"{f.symbol} @ {f.price} (trade {f.trade_id}); recorded, hedging goes on from it"
            )
        if not report.liquidations:
            return None
        what = "; ".join(
            f"{x.kind} of {x.contracts} {x.symbol} @ {x.price}" for x in report.liquidations
        )
        alerts.append(f"{self.venue.name}: {what}")
        if self.policy.on_liquidation != "halt":
            return None
        reason = f"{what} on {self.venue.name}: margin needs the operator (lphedge resume)"
        self._append(ev.HALT, ev.Halt(reason, LIQUIDATION_HALT))
        return reason

    async def _resolve(self, alerts: list[str]) -> dict[str, str]:
        """Look pending intents up again; the symbols of those still unresolved."""
        if not self.executor.pending():
            return {}
        acks = await self.executor.resume_pending(wait=False)
        blocked: dict[str, str] = {}
        for ack in acks:
            if ack.status is OrderStatus.PENDING:
                blocked[ack.symbol] = (
                    f"order {ack.client_id} on {ack.symbol} in doubt ({ack.info.get('reason', '')}"
                    "); not trading it until the venue says what became of it"
                )
            else:
                alerts.append(
                    f"order {ack.client_id} resolved: {ack.status.value} {ack.filled}/{ack.amount}"
                    f" {ack.symbol}"
                )
        return blocked

    async def check_positions(self) -> DeskReport:
        """Every `positions_every_ticks` ticks: drift, recorded and handled by policy."""
        if self._ticks % self.policy.positions_every_ticks != 0:
            return DeskReport()
        try:
            found = await self.drift.check()
        except LphedgeError as err:
            self._append(ev.ERROR, ev.ErrorEvent("account.positions", str(err)))
            return DeskReport((f"positions not compared: {err}",))
        if not found.diffs:
            return DeskReport()
        alerts = tuple(
            f"position drift on {d.symbol}: ledger {d.ledger}, venue {d.venue}; {d.action}"
            for d in found.diffs
        )
        if found.halt:
            self._append(ev.HALT, ev.Halt(found.halt, RECONCILE))
            log.warning("halted: %s", found.halt)
        return DeskReport(alerts, halt=found.halt)


def _mismatches(
    state: AccountState, wanted: Mapping[str, tuple[Decimal | None, str | None]]
) -> list[str]:
    """Symbols whose reported leverage or margin mode is not what config asks."""
    out = []
    for s in state.symbols:
        lev, mm = wanted.get(s.symbol, (None, None))
        if lev is not None and s.leverage is not None and s.leverage != lev:
            out.append(f"{s.symbol} leverage {s.leverage} (venue.leverage wants {lev})")
        if mm is not None and s.margin_mode is not None and s.margin_mode != mm:
            out.append(f"{s.symbol} margin mode {s.margin_mode} (venue.margin_mode wants {mm})")
    return out
