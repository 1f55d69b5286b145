"""`lphedge status`, `halt` and `resume`: watch and steer a running bot through its ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bot import wiring
from bot.clock import SystemClock
from bot.commands.common import ConfigOption, guarded, print_json, settings_from
from bot.commands.status_view import print_status, status_data
from bot.domain import events as ev
from bot.operator import OPERATOR

DbOption = typer.Option(None, "--db", help="Ledger URL (default: the config's ledger.url).")


CreateOption = typer.Option(
    False, "--create", help="Create the ledger if there is none (before a bot's first run)."
)


def _open(config: Path | None, db: str | None, create: bool = False) -> Any:
    """The ledger a bot writes; one that does not exist is an error unless `create`, so a
    mistyped path never gets a halt no bot will read."""
    settings = settings_from(config, {"ledger": {"url": db}})
    return guarded(lambda: wiring.ledger(settings, create=create))


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
    ledger = _open(config, db, create)
    try:
        payload = ev.to_payload(ev.Halt(reason, OPERATOR, flatten))
        seq = ledger.append(ev.HALT, payload, ts_ms=SystemClock().now_ms())
    finally:
        ledger.close()
    typer.echo(f"halt recorded (event {seq}){'; flattening hedges' if flatten else ''}")


def resume(
    config: Path | None = ConfigOption, db: str | None = DbOption, create: bool = CreateOption
) -> None:
    """Lift an operator halt."""
    ledger = _open(config, db, create)
    try:
        seq = ledger.append(
            ev.RESUME, {"reason": "resume", "source": OPERATOR}, ts_ms=SystemClock().now_ms()
        )
    finally:
        ledger.close()
    typer.echo(f"resume recorded (event {seq})")


def register(app: typer.Typer) -> None:
    app.command()(status)
    app.command()(halt)
    app.command()(resume)
