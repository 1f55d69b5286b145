"""Are the append-only triggers still in place? A dropped (or disabled, or emptied)
trigger is how an attacker with SQL access edits the ledger, so verify names it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from bot.ledger.models import LEDGER_TABLES

PG_FUNCTION = "lphedge_ledger_append_only"
"""The trigger function the migration creates on PostgreSQL (see v0001_initial)."""


def expected_triggers(dialect: str) -> list[str]:
    """Every guard trigger the migration creates, by name."""
    if dialect == "postgresql":
        return [f"{t}_{s}" for t in LEDGER_TABLES for s in ("append_only", "no_truncate")]
    return [f"{t}_{s}" for t in LEDGER_TABLES for s in ("no_update", "no_delete")]


def _sqlite_live(conn: Connection) -> set[str]:
    rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    return {row.name for row in rows if "RAISE(ABORT" in (row.sql or "").upper()}


def _postgres_live(conn: Connection) -> set[str]:
    rows = conn.execute(
        text(
            "SELECT t.tgname, t.tgenabled, p.proname, p.prosrc FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE n.nspname = current_schema() AND NOT t.tgisinternal"
        )
    )
    return {
        row.tgname
        for row in rows
        if row.tgenabled != "D"
        and row.proname == PG_FUNCTION
        and "RAISE EXCEPTION" in (row.prosrc or "").upper()
    }


def missing_triggers(conn: Connection) -> list[str]:
    """Guard triggers that are gone, disabled, or no longer refuse anything."""
    dialect = conn.dialect.name
    live = _postgres_live(conn) if dialect == "postgresql" else _sqlite_live(conn)
    return [name for name in expected_triggers(dialect) if name not in live]
