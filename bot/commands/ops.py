"""`lphedge status`, `halt` and `resume`: watch and steer a running bot through its ledger."""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bot import control, wiring
from bot.clock import SystemClock
from bot.commands.common import ConfigOption, guarded, print_json, settings_from
from bot.commands.status_view import print_status, status_data
from bot.config import Settings
from bot.domain import events as ev

DbOption = typer.Option(None, "--db", help="Ledger URL (default: the config's ledger.url).")


CreateOption = typer.Option(
    False, "--create", help="Create the ledger if there is none (before a bot's first run)."
)


def _open(config: Path | None, db: str | None, create: bool = False) -> Any:
    """The ledger a bot writes; one that does not exist is an error unless `create`, so a
    mistyped path never gets a halt no bot will read."""
    return _open_with(config, db, create)[0]


def _open_with(config: Path | None, db: str | None, create: bool = False) -> tuple[Any, Settings]:
    settings = settings_from(config, {"ledger": {"url": db}})
    return guarded(lambda: wiring.ledger(settings, create=create)), settings


def _operator_event(
    config: Path | None, db: str | None, create: bool, kind: str, payload: dict[str, Any]
) -> tuple[int, str]:
    """Append an operator's event (witnessed when checkpoints are kept): its seq and what
    was said about the witness."""
    ledger, settings = _open_with(config, db, create)
    try:
        now = SystemClock().now_ms()
        return guarded(lambda: control.record(ledger, settings.ledger, kind, payload, now))
    finally:
        ledger.close()


def _cli_caller() -> control.Caller:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        user = str(os.getuid())
    return control.Caller("cli", user)


def status(
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Last tick age, halts (the tick's and the operator's), exposure per asset, hedges,
    options, net delta and open orders."""
    ledger = _open(config, db)
    try:
        data = status_data(ledger, SystemClock().now_ms())
    finally:
        ledger.close()
    if as_json:
        print_json(data)
        return
    print_status(data, Console())


def halt(
    reason: str = typer.Option("manual halt", "--reason"),
    flatten: bool = typer.Option(False, "--flatten", help="Also close every hedge."),
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
    create: bool = CreateOption,
) -> None:
    """Halt a running bot (it places no new hedge orders) until `lphedge resume`."""
    payload = control.halt_payload(reason, flatten, _cli_caller())
    seq, witness = _operator_event(config, db, create, ev.HALT, payload)
    typer.echo(f"halt recorded (event {seq}){'; flattening hedges' if flatten else ''}{witness}")


def resume(
    config: Path | None = ConfigOption, db: str | None = DbOption, create: bool = CreateOption
) -> None:
    """Lift an operator halt."""
    payload = control.resume_payload("resume", _cli_caller())
    seq, witness = _operator_event(config, db, create, ev.RESUME, payload)
    typer.echo(f"resume recorded (event {seq}){witness}")


def register(app: typer.Typer) -> None:
    app.command()(status)
    app.command()(halt)
    app.command()(resume)
