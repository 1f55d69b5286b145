"""The `lphedge` command: thin. Parses flags, calls wiring/engine/report, prints."""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="lphedge",
    help="Hedge the impermanent loss of AMM liquidity positions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app)`. Written out by hand, so the command list is visible.
COMMAND_MODULES = ("bot.commands.positions",)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)
