"""Operator halts read from the ledger: only operator events count, read incrementally."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain import events as ev
from bot.domain.orders import LedgerEvent
from bot.operator import OperatorState, OperatorWatch, operator_state


class Events:
    def __init__(self) -> None:
        self.rows: list[LedgerEvent] = []
        self.reads: list[int] = []

    def add(self, kind: str, payload: dict[str, object]) -> None:
        self.rows.append(LedgerEvent(len(self.rows) + 1, 0, None, kind, payload))

    def events(
        self,
        kinds: Sequence[str] | None = None,
        *,
        since_seq: int = 0,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[LedgerEvent]:
        self.reads.append(since_seq)
        return [e for e in self.rows if e.seq > since_seq and (kinds is None or e.kind in kinds)]

    def last(self, kind: str) -> LedgerEvent | None:
        return next((e for e in reversed(self.rows) if e.kind == kind), None)


def test_guard_halts_do_not_stick_and_resume_lifts_an_operator_halt() -> None:
    log = Events()
    log.add(ev.HALT, ev.to_payload(ev.Halt("stale chain data", "guard")))
    assert operator_state(log) == OperatorState()
    log.add(ev.HALT, ev.to_payload(ev.Halt("manual", "operator", flatten=True)))
    assert operator_state(log) == OperatorState("manual", True)
    log.add(ev.RESUME, {"reason": "resume", "source": "operator"})
    assert operator_state(log) == OperatorState()


def test_watch_reads_only_new_events_each_tick() -> None:
    log, watch = Events(), OperatorWatch()
    log.add(ev.HALT, ev.to_payload(ev.Halt("manual", "operator")))
    assert watch.current(log).halted == "manual"
    log.add(ev.HALT, ev.to_payload(ev.Halt("stale", "guard")))
    assert watch.current(log).halted == "manual"
    assert watch.current(log).halted == "manual"
    assert log.reads == [0, 1, 2]


def test_drift_and_liquidation_halts_stick_until_the_operator_resumes() -> None:
    log = Events()
    log.add(ev.HALT, ev.to_payload(ev.Halt("unexplained position drift: ...", "reconcile")))
    assert operator_state(log).halted == "unexplained position drift: ..."
    log.add(ev.HALT, ev.to_payload(ev.Halt("venue unavailable", "guard")))  # does not lift it
    assert operator_state(log).halted == "unexplained position drift: ..."
    log.add(ev.RESUME, {"reason": "checked", "source": "reconcile"})  # only the operator can
    assert operator_state(log).halted is not None
    log.add(ev.RESUME, {"reason": "resume", "source": "operator"})
    assert operator_state(log) == OperatorState()
    log.add(ev.HALT, ev.to_payload(ev.Halt("liquidation of 0.4 ETH", "liquidation")))
    assert operator_state(log).halted == "liquidation of 0.4 ETH"
