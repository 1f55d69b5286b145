"""`lphedge ledger verify|tail` through typer's runner."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from bot.commands.ledger import register
from bot.ledger.store import Ledger


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """lphedge (test)."""

    register(app)
    return app


def test_verify_and_tail(ledger: Ledger, db_url: str, raw: Engine) -> None:
    for i in range(5):
        ledger.append("note" if i % 2 else "error", {"where": "w", "message": f"m{i}"}, ts_ms=i)
    runner = CliRunner()

    ok = runner.invoke(_app(), ["ledger", "verify", "--db", db_url])
    assert ok.exit_code == 0, ok.output
    assert ok.output.startswith("ok: 5 events")

    tail = runner.invoke(_app(), ["ledger", "tail", "--db", db_url, "-n", "2", "--kind", "error"])
    assert tail.exit_code == 0, tail.output
    lines = tail.output.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["3", "5"]
    assert lines[-1].endswith('{"message":"m4","where":"w"}')
    assert "1970-01-01T00:00:00.004+00:00" in lines[-1]

    guard = "ledger_events_append_only ON ledger_events"
    drops = (
        [f"DROP TRIGGER {guard}"]
        if raw.dialect.name == "postgresql"
        else ["DROP TRIGGER ledger_events_no_update"]
    )
    with raw.begin() as conn:
        for statement in [*drops, "UPDATE ledger_events SET ts_ms = 99 WHERE seq = 2"]:
            conn.execute(text(statement))
    broken = runner.invoke(_app(), ["ledger", "verify", "--db", db_url])
    assert broken.exit_code == 1
    first, *also = broken.output.splitlines()
    assert (
        first == "broken at seq 2: hash mismatch: the event's fields do not hash to its stored hash"
    )
    missing = "ledger_events_append_only" if raw.dialect.name == "postgresql" else drops[0][13:]
    assert also == [
        f"  also: append-only trigger {missing} is missing or disabled (dropped by hand?)"
    ]


def test_verify_of_a_missing_file_is_an_error_not_a_new_ledger(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    result = CliRunner().invoke(_app(), ["ledger", "verify", "--db", str(missing)])
    assert result.exit_code == 2
    assert "no ledger at" in result.output
    assert not missing.exists()
