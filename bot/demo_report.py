"""The demo's last step: verify the ledger and print/write the report from it alone."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from bot.ledger.store import Ledger


def finish(db: Path, out: Path, console: Console) -> None:
    with Ledger.open(f"sqlite:///{db}", create=False) as ledger:
        result = ledger.verify()
        console.print(
            f"ledger verify: {'ok' if result.ok else 'BROKEN'}, {result.events_checked} events"
        )
