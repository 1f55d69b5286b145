"""Commands that read or steer a bot through its ledger never create one by mistake.

A mistyped `--db` used to get a fresh empty ledger (and its folders) and "halt recorded",
a halt no bot would ever read. Now every such command exits 2 naming the place, on SQLite
and on PostgreSQL (a database without the ledger's tables), and `--create` is how an
operator says creating is meant.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.ledger.store import Ledger

READERS = (
    ["status"],
    ["status", "--json"],
    ["halt", "--reason", "x"],
    ["resume"],
    ["ledger", "verify"],
    ["ledger", "tail"],
    ["report"],
)


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_missing_ledger_is_refused_and_nothing_is_created(
    command: list[str], db_url: str, tmp_path: Path
) -> None:
    if db_url.startswith("sqlite"):
        db_url = f"sqlite:///{tmp_path / 'typo' / 'ledgr.db'}"
    result = CliRunner().invoke(app, [*command, "--db", db_url])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: no ledger"), result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "typo").exists()
    if db_url.startswith("postgresql"):
        with Ledger.open(db_url, create=True) as created:  # still empty: nothing was written
            assert created.tail(5) == []


def test_status_without_config_or_ledger_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["status"])
    assert result.exit_code == 2
    assert "lphedge.db" in result.output
    assert list(tmp_path.iterdir()) == []


def test_halt_with_create_makes_the_ledger_a_bot_will_then_read(tmp_path: Path) -> None:
    db = tmp_path / "new" / "ledger.db"
    result = CliRunner().invoke(app, ["halt", "--db", str(db), "--create", "--reason", "before"])
    assert result.exit_code == 0, result.output
    with Ledger.open(str(db), create=False) as ledger:
        assert [e.kind for e in ledger.tail(5)] == ["halt"]


@pytest.mark.parametrize("command", READERS, ids=" ".join)
def test_a_database_that_does_not_answer_is_one_line_and_exit_3(command: list[str]) -> None:
    url = "postgresql://postgres:s3cret@127.0.0.1:1/lphedge"  # nothing listens on port 1
    result = CliRunner().invoke(app, [*command, "--db", url])
    assert result.exit_code == 3, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "database 'lphedge' on 127.0.0.1:1" in lines[0], result.output
    assert "Connection refused" in lines[0] and "s3cret" not in result.output
