"""One writer per account: a second lphedge for the same venue account refuses to start.

The lock is the lease's first half (`bot.ledger.lease`): PostgreSQL, a session advisory
lock held on a dedicated connection for as long as the bot runs (the server drops it when
that connection dies), in the server's `postgres` database so it spans every ledger on the
server; SQLite, an OS file lock on a file beside the database (released by the kernel when
the process dies). Both yield the held `Lease`, whose `check()` the bot runs before each
order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

from bot.ledger.lease import Lease, PostgresLease, SqliteLease


def lock_file_path(db_path: Path, account_key: str) -> Path:
    """`<db>.writer-<16 hex>.lock` beside the SQLite file; the hex names the account."""
    digest = hashlib.sha256(account_key.encode("utf-8")).hexdigest()[:16]
    return db_path.with_name(f"{db_path.name}.writer-{digest}.lock")


@contextmanager
def sqlite_writer_lock(db_path: Path, engine: Engine, account_key: str) -> Iterator[Lease]:
    """Hold an exclusive, non-blocking file lock for `account_key` beside `db_path`."""
    lease = SqliteLease(lock_file_path(db_path, account_key), engine, account_key)
    try:
        yield lease
    finally:
        lease.release()


@contextmanager
def postgres_writer_lock(
    url: str, engine: Engine, account_key: str, regain_s: float = 30.0
) -> Iterator[Lease]:
    """Hold `pg_try_advisory_lock` for `account_key` on the ledger's server."""
    lease = PostgresLease(url, engine, account_key, regain_s=regain_s)
    try:
        yield lease
    finally:
        lease.release()
