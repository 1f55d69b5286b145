"""`lphedge ledger verify|tail|checkpoint`: check the chain (and its signed checkpoints),
read the newest events, sign a checkpoint by hand."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from bot.commands.common import ConfigOption, fail, guarded, settings_from
from bot.commands.ledger_audit import (
    CheckpointOption,
    checkpoint_key,
    examine,
    report,
    sign_through,
)
from bot.domain.orders import LedgerEvent
from bot.errors import InputError, LphedgeError
from bot.ledger import checkpoint_file
from bot.ledger.store import Ledger, payload_json
from bot.report.readable import tidy

DbOption = Annotated[
    str,
    typer.Option("--db", help="Ledger: SQLite file path, sqlite:///path or postgresql://..."),
]


def _open(db: str) -> Ledger:
    try:
        return Ledger.open(db, create=False)
    except LphedgeError as exc:
        fail(exc)  # one line; 2 for a missing ledger, 3 for a database that does not answer


def verify(
    db: DbOption, checkpoint: CheckpointOption = None, config: Path | None = ConfigOption
) -> None:
    """Recompute every hash and typed row, check the append-only triggers and, with
    --checkpoint, every signed checkpoint (truncation, forged or re-hashed tip, edited
    file). Exit 0 intact, 1 tampered (first line names it), 2 bad input."""
    key = checkpoint_key(config, checkpoint) if checkpoint is not None else b""
    lines = guarded(lambda: checkpoint_file.read_lines(checkpoint)) if checkpoint else None
    with _open(db) as ledger:
        findings = examine(ledger, lines, key)
    report(findings)


def checkpoint(
    db: DbOption,
    through: Annotated[
        int | None,
        typer.Option("--through", min=1, help="Sign up to this seq (the last one you reviewed)."),
    ] = None,
    checkpoint: CheckpointOption = None,
    config: Path | None = ConfigOption,
) -> None:
    """Sign a checkpoint by hand (the operator vouches for events up to --through): after
    enabling checkpoints on an existing ledger, or when the bot refused to sign events it
    did not write. Refused (exit 1) if the chain, triggers or checkpoints show tampering."""
    settings = settings_from(config, {"ledger": {"checkpoint_file": checkpoint}})
    path = checkpoint or settings.ledger.checkpoint_file
    if path is None:
        fail(InputError("--checkpoint: no checkpoint file given and ledger.checkpoint_file unset"))
    key = checkpoint_key(config, path)
    with _open(db) as ledger:
        guarded(lambda: sign_through(ledger, path, key, through))


def tail(
    db: DbOption,
    n: Annotated[
        int, typer.Option("-n", "--lines", min=1, max=1_000_000, help="How many events to show.")
    ] = 20,
    kind: Annotated[
        list[str] | None, typer.Option("--kind", help="Only this kind (repeatable).")
    ] = None,
) -> None:
    """Print the newest events, oldest first: seq, UTC time, kind, run, payload.

    Piped, each line is exact and tab-separated; on a terminal each event is one line cut
    to its width (long decimals shortened, no run id when narrow)."""
    with _open(db) as ledger:
        events = ledger.tail(n, kind or None)
    console = Console()
    if console.is_terminal:
        for text in tail_lines(events, console.width):
            console.print(text, markup=False, highlight=False, soft_wrap=True)
        return
    for event in events:
        when = datetime.fromtimestamp(event.ts_ms / 1000, UTC).isoformat(timespec="milliseconds")
        run = event.run_id or "-"
        typer.echo(f"{event.seq}\t{when}\t{event.kind}\t{run}\t{payload_json(event)}")


def tail_lines(events: Sequence[LedgerEvent], width: int) -> list[str]:
    """One line per event, at most `width` wide: seq, time, kind, (run), payload."""
    if not events:
        return []
    seq_w = max(len(str(e.seq)) for e in events)
    kind_w = max(len(e.kind) for e in events)
    out = []
    for e in events:
        when = datetime.fromtimestamp(e.ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        head = f"{e.seq:>{seq_w}}  {when}  {e.kind:<{kind_w}}"
        if width >= 120:
            head += f"  {(e.run_id or '-')[:8]:<8}"
        text = f"{head}  {tidy(payload_json(e))}"
        out.append(text if len(text) <= width else text[: width - 1] + "…")
    return out


def register(app: typer.Typer) -> None:
    """Add the `ledger` sub-app to the lphedge command."""
    sub = typer.Typer(name="ledger", help="Audit ledger: verify the chain, show events.")
    sub.command("verify")(verify)
    sub.command("tail")(tail)
    sub.command("checkpoint")(checkpoint)
    app.add_typer(sub, name="ledger")
