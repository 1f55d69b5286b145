"""`lphedge ledger verify|tail`: check the hash chain and read the newest events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from bot.errors import LphedgeError
from bot.ledger.store import Ledger, payload_json

DbOption = Annotated[
    str,
    typer.Option("--db", help="Ledger: SQLite file path, sqlite:///path or postgresql://..."),
]


def _open(db: str) -> Ledger:
    try:
        return Ledger.open(db, create=False)
    except LphedgeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


def verify(db: DbOption) -> None:
    """Recompute every hash and typed row; exit 0 if intact, 1 at the first broken seq."""
    with _open(db) as ledger:
        result = ledger.verify()
    if result.ok:
        typer.echo(f"ok: {result.events_checked} events (tip {result.tip_hash})")
        return
    typer.echo(f"broken at seq {result.broken_seq}: {result.reason}")
    raise typer.Exit(1)


def tail(
    db: DbOption,
    n: Annotated[int, typer.Option("-n", "--lines", help="How many events to show.")] = 20,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only this kind (repeatable).")
    ] = None,
) -> None:
    """Print the newest events, oldest first: seq, UTC time, kind, run, payload."""
    with _open(db) as ledger:
        events = ledger.tail(n, kind or None)
    for event in events:
        when = datetime.fromtimestamp(event.ts_ms / 1000, UTC).isoformat(timespec="milliseconds")
        run = event.run_id or "-"
        typer.echo(f"{event.seq}\t{when}\t{event.kind}\t{run}\t{payload_json(event)}")


def register(app: typer.Typer) -> None:
    """Add the `ledger` sub-app to the lphedge command."""
    sub = typer.Typer(name="ledger", help="Audit ledger: verify the chain, show events.")
    sub.command("verify")(verify)
    sub.command("tail")(tail)
    app.add_typer(sub, name="ledger")
