"""One writer per account: a second lphedge on the same ledger and account refuses to start.

PostgreSQL: a session advisory lock held on a dedicated connection for as long as the
bot runs (the server drops it when that connection dies). SQLite: an OS file lock on a
file beside the database (released by the kernel when the process dies).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bot.errors import NeedsOperator
from bot.ledger.hashing import stable_key64
from bot.secrets import redact


def _refusal(account_key: str) -> NeedsOperator:
    return NeedsOperator(
        f"another lphedge is already writing for account {redact(account_key)!r} on this "
        "ledger; stop that process first (only one writer per account is allowed)"
    )


def lock_file_path(db_path: Path, account_key: str) -> Path:
    """`<db>.writer-<16 hex>.lock` beside the SQLite file; the hex names the account."""
    digest = hashlib.sha256(account_key.encode("utf-8")).hexdigest()[:16]
    return db_path.with_name(f"{db_path.name}.writer-{digest}.lock")


@contextmanager
def sqlite_writer_lock(db_path: Path, account_key: str) -> Iterator[None]:
    """Hold an exclusive, non-blocking file lock for `account_key` beside `db_path`."""
    lock = FileLock(lock_file_path(db_path, account_key), blocking=False)
    try:
        lock.acquire()
    except Timeout:
        raise _refusal(account_key) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def postgres_writer_lock(url: str, account_key: str) -> Iterator[None]:
    """Hold `pg_try_advisory_lock` for `account_key` (scoped to the current schema)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            key = stable_key64(f"lphedge-writer:{schema}:{account_key}")
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar_one()
            if not got:
                raise _refusal(account_key)
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    finally:
        engine.dispose()
