"""Operator commands through the ledger: `lphedge halt [--flatten]` and `lphedge resume`.

A running bot reads the latest HALT/RESUME event written by an operator each tick, so the
kill switch works across processes and machines that share the ledger, and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import events as ev
from bot.domain.orders import LedgerEvent
from bot.ports import LedgerReader

OPERATOR = "operator"
# Halts that hold until the operator resumes: the operator's own, and those the bot writes
# when the venue or the chain needs a human (unexplained position drift, a liquidation, the
# chain unreachable for longer than `chain.max_outage_s`).
CHAIN_OUTAGE = "chain"
STICKY = frozenset({OPERATOR, "reconcile", "liquidation", CHAIN_OUTAGE})


@dataclass(frozen=True, slots=True)
class OperatorState:
    halted: str | None = None
    flatten: bool = False


def _apply(state: OperatorState, event: LedgerEvent) -> OperatorState:
    source = event.payload.get("source")
    if event.kind == ev.RESUME:
        return OperatorState() if source == OPERATOR else state
    if source not in STICKY:
        return state
    return OperatorState(
        halted=str(event.payload.get("reason") or "operator halt"),
        flatten=bool(event.payload.get("flatten")),
    )


def operator_state(ledger: LedgerReader) -> OperatorState:
    """The state set by the last operator HALT or RESUME (guard halts do not persist)."""
    return OperatorWatch().current(ledger)


@dataclass
class OperatorWatch:
    """Follows operator commands incrementally: each tick reads only the events since the
    last one it saw, so the cost does not grow with the ledger (guards append HALTs too)."""

    state: OperatorState = field(default_factory=OperatorState)
    seen_seq: int = 0

    def current(self, ledger: LedgerReader) -> OperatorState:
        for event in ledger.events([ev.HALT, ev.RESUME], since_seq=self.seen_seq):
            self.state = _apply(self.state, event)
            self.seen_seq = event.seq
        return self.state
