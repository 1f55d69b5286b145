"""`lphedge --help` and `--version` answer at once, and list every command truthfully."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from bot.cli import COMMANDS, app, load_command


@pytest.mark.parametrize("name", list(COMMANDS))
def test_the_listed_summary_is_the_commands_own_help(name: str) -> None:
    command = load_command(name)
    assert command is not None
    first_paragraph = (command.help or "").strip().split("\n\n")[0]
    assert " ".join(first_paragraph.split()) == COMMANDS[name].summary


def test_help_lists_every_command_and_imports_none_of_them() -> None:
    probe = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bot.cli import app\n"
        "out = CliRunner().invoke(app, ['--help']).output\n"
        "heavy = [m for m in ('web3', 'sqlalchemy', 'ccxt', 'bot.wiring') if m in sys.modules]\n"
        "print(out)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert "HEAVY []" in out
    for name in COMMANDS:
        assert f" {name} " in out


def test_a_command_runs_through_the_lazy_group() -> None:
    result = CliRunner().invoke(app, ["ledger", "verify", "--help"])
    assert result.exit_code == 0 and "--db" in result.output
    result = CliRunner().invoke(app, ["nope"])
    assert result.exit_code == 2 and "No such command" in result.output
