"""Ledger engines: a SQLite file (WAL, foreign keys, BEGIN IMMEDIATE writes) or PostgreSQL.

The URL decides: `postgresql://...` (psycopg 3), `sqlite:///path.db`, or a bare file path
(SQLite). An in-memory SQLite ledger is refused: the audit trail must outlive the process.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError

from bot.errors import InputError
from bot.ledger.faults import DbTimeouts, map_unavailable, postgres_connect_args
from bot.secrets import redact

WRITE_OPTION = "lphedge_ledger_write"
"""Execution option that makes SQLite open the transaction with BEGIN IMMEDIATE."""

SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for another writer's transaction before failing, seconds."""


@dataclass(frozen=True, slots=True)
class LedgerUrl:
    """A parsed ledger location: the SQLAlchemy URL and, for SQLite, the file."""

    url: str
    dialect: str
    sqlite_path: Path | None


def parse_url(url: str) -> LedgerUrl:
    """Normalise `url` (bare path, sqlite:///, postgres://, postgresql://) or raise InputError."""
    if "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().absolute()}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError("ledger URL is not a database URL; check --db / ledger.url") from None
    shown = redact(parsed.render_as_string(hide_password=True))
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return LedgerUrl(url, "postgresql", None)
    if backend != "sqlite":
        raise InputError(f"ledger URL {shown!r}: use a SQLite file path or a postgresql:// URL")
    if not parsed.database or parsed.database == ":memory:":
        raise InputError("ledger URL: SQLite needs a file path (sqlite:///path/to/ledger.db)")
    return LedgerUrl(url, "sqlite", Path(parsed.database).absolute())


def create_ledger_engine(
    where: LedgerUrl, timeouts: DbTimeouts | None = None, describe: str = "ledger"
) -> Engine:
    """An engine configured for the ledger's locking, durability and fault needs
    (`bot.ledger.faults`): bounded waits, and LedgerUnavailable for connection loss."""
    timeouts = timeouts or DbTimeouts()
    if where.dialect == "postgresql":
        engine = create_engine(
            where.url,
            # the stall watch pings inside its watched time; without it, SQLAlchemy's ping
            pool_pre_ping=timeouts.statement_s is None,
            connect_args=postgres_connect_args(where.url, timeouts),
        )
    else:
        engine = create_engine(where.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    map_unavailable(engine, describe)
    return engine


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy's "begin" event, not pysqlite, decide when and how transactions start.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        _wal(cursor)
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _wal(cursor: Any) -> None:
    """Switch the file to WAL once. Switching needs the file to itself and SQLite does not
    wait for that (no busy handler), so bots opening a new ledger together retry here."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _sqlite_begin(connection: Connection) -> None:
    # IMMEDIATE takes the write lock at once, so two writers reading the chain tip cannot
    # both read the same tip and fork the chain; readers stay DEFERRED and never block.
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
