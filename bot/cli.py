"""The `lphedge` command: thin. Parses flags, calls wiring/engine/report, prints.

Commands load lazily: `lphedge --version` and `lphedge --help` import no command module
(web3, SQLAlchemy and ccxt take over a second to import), and `lphedge status` imports only
the module that holds `status`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import typer
import typer.main
from typer import _click as click
from typer.core import TyperCommand, TyperGroup

from bot import __version__
from bot.commands.usage_errors import OneLineUsageErrors


@dataclass(frozen=True, slots=True)
class CommandSpec:
    module: str  # defines `register(app)`, which adds this command (and maybe others)
    summary: str  # the one-line help `lphedge --help` shows (a test keeps it the docstring's)


# Written out by hand, so the command list is visible (and costs nothing to show).
COMMANDS: dict[str, CommandSpec] = {
    "positions": CommandSpec(
        "bot.commands.positions",
        "Read LP positions at one block per chain: amounts, uncollected fees, value,"
        " delta and gamma, netted per asset over every chain.",
    ),
    "run": CommandSpec(
        "bot.commands.run",
        "Run the bot: a tick on every new block and at least every max_tick_seconds.",
    ),
    "plan": CommandSpec(
        "bot.commands.run",
        "Run one tick without placing orders: what the bot would do now, and why.",
    ),
    "status": CommandSpec(
        "bot.commands.ops",
        "Last tick age, halts (the tick's and the operator's), exposure per asset, hedges,"
        " options, net delta and open orders.",
    ),
    "halt": CommandSpec(
        "bot.commands.ops",
        "Halt a running bot (it places no new hedge orders) until `lphedge resume`.",
    ),
    "resume": CommandSpec("bot.commands.ops", "Lift an operator halt."),
    "backtest": CommandSpec(
        "bot.commands.backtest",
        "Hedge a fresh LP position per window with each strategy; compare risk and cost.",
    ),
    "ledger": CommandSpec("bot.commands.ledger", "Audit ledger: verify the chain, show events."),
    "report": CommandSpec(
        "bot.commands.report",
        "Post-trade review: PnL attribution per day and in total, deltas, decisions, orders,"
        " fills.",
    ),
    "demo": CommandSpec(
        "bot.commands.demo", "Run the bot end to end offline on a real ETH price path, then report."
    ),
}


def load_command(name: str) -> click.Command | None:
    """The click command `name`, built by importing only its module."""
    spec = COMMANDS.get(name)
    if spec is None:
        return None
    holder = typer.Typer()
    holder.callback()(lambda: None)  # a callback makes typer build a group, even for one
    importlib.import_module(spec.module).register(holder)
    group = typer.main.get_command(holder)
    assert isinstance(group, TyperGroup)
    return group.get_command(click.Context(group), name)


class LazyGroup(OneLineUsageErrors):
    """A typer group whose commands are imported when one is run, or its own help shown."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if self._listing and cmd_name in COMMANDS:  # `lphedge --help`: the summary is enough
            summary = COMMANDS[cmd_name].summary
            return TyperCommand(cmd_name, help=summary, short_help=summary)
        if cmd_name not in self.commands:
            command = load_command(cmd_name)
            if command is None:
                return None
            self.commands[cmd_name] = command
        return self.commands[cmd_name]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


app = typer.Typer(
    name="lphedge",
    cls=LazyGroup,
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
