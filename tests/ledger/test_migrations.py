"""Alembic migrations upgrade, downgrade and upgrade again; models match the migrations."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.errors import InputError
from bot.ledger import migrate
from bot.ledger.models import LEDGER_TABLES, Base
from bot.ledger.store import Ledger


def _tables(ledger: Ledger) -> set[str]:
    return set(inspect(ledger.engine).get_table_names()) - {"alembic_version"}


def test_open_migrates_to_head_and_models_match(ledger: Ledger) -> None:
    assert _tables(ledger) == set(LEDGER_TABLES)
    with ledger.engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.head_revision()
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_upgrade_downgrade_upgrade(ledger: Ledger, db_url: str) -> None:
    ledger.append("note", {"before": "downgrade"}, ts_ms=1)
    with ledger.engine.begin() as conn:
        migrate.downgrade(conn, "base")
    assert _tables(ledger) == set()
    with ledger.engine.connect() as conn:
        assert migrate.current_revision(conn) is None

    with ledger.engine.begin() as conn:
        migrate.upgrade(conn, "head")
    assert _tables(ledger) == set(LEDGER_TABLES)
    assert ledger.append("note", {"after": "upgrade"}, ts_ms=2) == 1
    assert ledger.verify().ok

    with Ledger.open(db_url) as reopened:  # already at head: open is a no-op migration
        assert reopened.verify().events_checked == 1


def test_concurrent_opens_of_an_empty_ledger_migrate_once(db_url: str) -> None:
    errors: list[BaseException] = []
    opened: list[Ledger] = []

    def open_one() -> None:
        try:
            opened.append(Ledger.open(db_url))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert [lg.append("note", {}, ts_ms=1) for lg in opened] == [1, 2, 3]
    finally:
        for lg in opened:
            lg.close()


def test_sqlite_file_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    with Ledger.open(str(tmp_path / "sub" / "bare-path.db")) as ledger:
        assert ledger.dialect == "sqlite"
        with ledger.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "sub" / "bare-path.db").exists()


def test_urls_that_cannot_hold_a_ledger_are_refused() -> None:
    with pytest.raises(InputError, match="needs a file path"):
        Ledger.open("sqlite://")
    with pytest.raises(InputError, match="use a SQLite file path or a postgresql") as info:
        Ledger.open("mysql://u:hunter2@db/x")
    assert "hunter2" not in str(info.value)
