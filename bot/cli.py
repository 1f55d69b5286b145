"""The `lphedge` command: thin. Parses flags, calls wiring/engine/report, prints."""

from __future__ import annotations

import importlib

import typer

from bot import __version__

app = typer.Typer(
    name="lphedge",
    help="Hedge the impermanent loss of AMM liquidity positions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"lphedge {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """lphedge: read LP positions, hedge their delta, and account for every decision."""


# Each module defines `register(app)`. Written out by hand, so the command list is visible.
COMMAND_MODULES = (
    "bot.commands.positions",
    "bot.commands.run",
    "bot.commands.ops",
    "bot.commands.backtest",
    "bot.commands.ledger",
    "bot.commands.report",
    "bot.commands.demo",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)
