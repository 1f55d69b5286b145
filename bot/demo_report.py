"""The demo's last step: verify the ledger, then print and write the report from it alone."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from bot.commands.report import print_report
from bot.ledger.store import Ledger
from bot.report import build


def finish(db: Path, out: Path, console: Console) -> Path:
    """Returns the path of the HTML report."""
    with Ledger.open(f"sqlite:///{db}", create=False) as ledger:
        result = ledger.verify()
        state = "ok" if result.ok else f"BROKEN at {result.broken_seq}: {result.reason}"
        console.print(f"ledger verify: {state}, {result.events_checked} events")
        report = build(ledger)
    print_report(report, console)
    html = out / "report.html"
    report.write_html(html)
    console.print(f"HTML report: {html} (open it in a browser)")
    return html
