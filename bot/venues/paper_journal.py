"""The paper account's journal in the ledger: every change appended with the state after it,
and the state read back on start, so a new PaperVenue continues where the last one stopped.

Events are marked `source: "paper"` and `venue`: "paper_state" (start, each order with its
ack), "funding" (each payment), "option_settlement" (each option settled at expiry); each
fill is also a "fill" event for the ledger's fills table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.domain import events as ev
from bot.domain.orders import Fill, FundingPayment, OrderAck
from bot.ports import Clock, LedgerReader, LedgerWriter
from bot.venues.paper_state import (
    PaperAccount,
    ack_from_json,
    fill_to_json,
    funding_from_json,
)

KINDS = ("paper_state", "funding", ev.OPTION_SETTLEMENT)
SOURCE = "paper"


class PaperLedger(LedgerWriter, LedgerReader, Protocol):
    """What the paper venue keeps its state in: the bot's ledger."""


@dataclass
class Restored:
    """What the journal held for one paper venue (account None: it never ran)."""

    account: PaperAccount | None = None
    orders: dict[str, OrderAck] = field(default_factory=dict)
    funding: list[FundingPayment] = field(default_factory=list)


@dataclass
class PaperJournal:
    """Writes and reads one paper venue's events (no-op without a ledger)."""

    name: str
    ledger: PaperLedger | None
    clock: Clock
    run_id: str | None = None

    def load(self) -> Restored:
        out = Restored()
        if self.ledger is None:
            return out
        events = [
            e
            for e in self.ledger.events(KINDS)
            if e.payload.get("venue") == self.name and e.payload.get("source") == SOURCE
        ]
        for event in events:
            payload: Mapping[str, Any] = event.payload
            if "order" in payload:
                ack = ack_from_json(payload["order"])
                out.orders[ack.client_id] = ack
            if event.kind == "funding":
                out.funding.append(funding_from_json(payload))
        if events:
            last: Mapping[str, Any] = events[-1].payload
            out.account = PaperAccount.from_json(last["state"])
        return out

    def record(self, kind: str, extra: Mapping[str, Any], account: PaperAccount) -> None:
        """Append `extra` with the account state after the change (one atomic event)."""
        if self.ledger is not None:
            payload = {**extra, "venue": self.name, "source": SOURCE, "state": account.to_json()}
            self.ledger.append(kind, payload, ts_ms=self.clock.now_ms(), run_id=self.run_id)

    def record_fills(self, fills: Sequence[Fill]) -> None:
        """Each fill also as a "fill" event for the ledger's fills table ((venue, trade_id)
        is unique there, so a second writer of the same fill is refused, never counted)."""
        if self.ledger is not None:
            for f in fills:
                payload = {**fill_to_json(f), "venue": self.name}
                self.ledger.append("fill", payload, ts_ms=f.ts_ms, run_id=self.run_id)
