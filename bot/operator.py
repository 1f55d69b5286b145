"""Operator commands through the ledger: `lphedge halt [--flatten]` and `lphedge resume`.

A running bot reads the latest HALT/RESUME event written by an operator each tick, so the
kill switch works across processes and machines that share the ledger, and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import events as ev
from bot.ports import LedgerReader

OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class OperatorState:
    halted: str | None = None
    flatten: bool = False


def operator_state(ledger: LedgerReader) -> OperatorState:
    """The state set by the last operator HALT or RESUME (guard halts do not persist)."""
    state = OperatorState()
    for event in ledger.events([ev.HALT, ev.RESUME]):
        if event.payload.get("source") != OPERATOR:
            continue
        if event.kind == ev.RESUME:
            state = OperatorState()
        else:
            state = OperatorState(
                halted=str(event.payload.get("reason") or "operator halt"),
                flatten=bool(event.payload.get("flatten")),
            )
    return state
