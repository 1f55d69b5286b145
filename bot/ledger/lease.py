"""The writer lease: one bot writes for a venue account, and knows at once when it no longer does.

A lease is the writer lock (see `bot.ledger.locks`) plus an epoch, a fencing token: a
counter per account key in `lphedge_writer_leases`, a small mutable table beside the hash
chain (not part of it: the chain is append-only, a counter is not), bumped each time a bot
takes the lease. `check()` runs before every order and at the start of every tick; it
fails, for good, when

- the lock is gone: PostgreSQL's lock connection died (pg_terminate_backend, a server
  restart, an idle-connection killer) or no longer holds the advisory lock, or did not
  answer within `check_timeout_s` (a stalled connection counts as lost: fail closed);
  SQLite's lock file was removed or replaced;
- a newer epoch exists for the account: another bot took the lease since.

PostgreSQL advisory locks belong to one database, so the lock is taken in the server's
`postgres` database, keyed by the account alone: ledgers in different schemas or databases
of one server then exclude each other. Where that database cannot be reached the lock falls
back to the ledger's own database (and says so in the log). Bots on different servers or
SQLite files share nothing: see docs/architecture.md, "One writer per account".
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from bot.errors import LedgerUnavailable, NeedsOperator, NotTheWriter
from bot.ledger.db import WRITE_OPTION
from bot.ledger.faults import DbTimeouts, cut_socket, first_line, postgres_connect_args
from bot.ledger.hashing import stable_key64
from bot.secrets import redact

log = logging.getLogger("lphedge.ledger.lease")
T = TypeVar("T")
LEASE_TABLE = "lphedge_writer_leases"
LOCK_DATABASE = "postgres"
CHECK_TIMEOUT_S = 5.0
"""How long a lease check waits for the lock connection before it calls the lease lost, s."""
_CREATE_LOCK = 0x6C70686564676532  # "lphedge2": serialises the lease table's creation
_CREATE = (
    "CREATE TABLE IF NOT EXISTS lphedge_writer_leases (account_key TEXT PRIMARY KEY, "
    "epoch BIGINT NOT NULL, holder TEXT NOT NULL)"
)
_BUMP = (
    "INSERT INTO lphedge_writer_leases (account_key, epoch, holder) VALUES (:k, 1, :h) "
    "ON CONFLICT (account_key) DO UPDATE SET epoch = lphedge_writer_leases.epoch + 1, "
    "holder = excluded.holder RETURNING epoch"
)
_READ = "SELECT epoch, holder FROM lphedge_writer_leases WHERE account_key = :k"


class LeaseLost(NeedsOperator, NotTheWriter):
    """This bot is no longer the account's one writer: it must not send another order."""


class LeaseSuspended(LedgerUnavailable, NotTheWriter):
    """The lock connection went away (database down, link cut, connection killed): no order
    until the lease is taken back, which `check()` tries after `regain_s`."""


def holder() -> str:
    """Who holds a lease, for the refusal message of the next bot: pid and host."""
    return f"pid {os.getpid()} on {socket.gethostname()}"


def refusal(account_key: str, who: str | None = None) -> NeedsOperator:
    by = f" ({who})" if who else ""
    return NeedsOperator(
        f"another lphedge{by} is already writing for account {redact(account_key)!r}; "
        "stop that process first (only one writer per account is allowed)"
    )


def bump_epoch(engine: Engine, account_key: str) -> int:
    """Take the next epoch for `account_key` in the ledger database (creating the table)."""
    with engine.connect() as conn:
        conn = conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _CREATE_LOCK})
            conn.execute(text(_CREATE))
            got = conn.execute(text(_BUMP), {"k": account_key, "h": holder()}).scalar_one()
    return int(got)


def read_lease(engine: Engine, account_key: str) -> tuple[int, str] | None:
    """The newest epoch for `account_key` and who took it (None: never taken here)."""
    try:
        with engine.connect() as conn:
            row = conn.execute(text(_READ), {"k": account_key}).first()
    except DBAPIError:
        if not _table_exists(engine):
            return None
        raise
    return None if row is None else (int(row.epoch), str(row.holder))


def _table_exists(engine: Engine) -> bool:
    from sqlalchemy import inspect

    with engine.connect() as conn:
        return bool(inspect(conn).has_table(LEASE_TABLE))


def _bounded(fn: Callable[[], T], timeout_s: float, on_timeout: Callable[[], None]) -> T:
    """`fn()` in a worker thread, waited for at most `timeout_s` (a blocking driver call
    cannot be interrupted otherwise); on timeout `on_timeout()` and TimeoutError."""
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=work, name="lphedge-lease-check", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        on_timeout()
        raise TimeoutError
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


class Lease:
    """A held writer lease for one account key; `check()` it before acting as the writer."""

    regain_s: float = 30.0

    def __init__(self, account_key: str, ledger_engine: Engine, epoch: int) -> None:
        self.account_key = account_key
        self.epoch = epoch
        self._ledger = ledger_engine
        self._lost: LeaseLost | None = None
        self._down: tuple[float, str] | None = None  # (since, why) while suspended
        self.regained = 0

    def check(self) -> int:
        """The epoch, while the lease is ours; LeaseSuspended while its lock is down (it is
        taken back after `regain_s` if no other bot took it); LeaseLost for good once a
        newer writer exists or the lock cannot be taken back."""
        if self._lost is not None:
            raise self._lost
        if self._down is not None:
            return self._regain()
        try:
            gone = self._lock_held()
        except TimeoutError:
            gone = f"the lock connection did not answer within {CHECK_TIMEOUT_S:g}s"
        except (DBAPIError, OSError, LedgerUnavailable) as exc:
            gone = f"the lock connection is gone ({first_line(exc)})"
        if gone is not None:
            if self.can_regain:
                self._suspend(gone)
            raise self._lose(gone)
        newer = self._newer()
        if newer is not None:
            raise self._lose(newer)
        return self.epoch

    can_regain = False
    """Whether a lock that went away may be taken back (PostgreSQL: the lock dies with its
    connection; SQLite: a removed lock file means someone meddled)."""

    def _newer(self) -> str | None:
        """Why the lease is superseded (a newer epoch), else None; LedgerUnavailable when
        the epoch cannot be read in time (the lock itself is still ours)."""
        try:
            newest = _bounded(
                lambda: read_lease(self._ledger, self.account_key), CHECK_TIMEOUT_S, lambda: None
            )
        except TimeoutError:
            raise LedgerUnavailable(
                f"writer lease: the epoch could not be read within {CHECK_TIMEOUT_S:g}s"
            ) from None
        if newest is not None and newest[0] != self.epoch:
            return f"a newer writer took it (epoch {newest[0]} > {self.epoch}, {newest[1]})"
        return None

    def _lose(self, reason: str) -> LeaseLost:
        self._lost = LeaseLost(
            f"writer lease for account {redact(self.account_key)!r} lost: {reason}; "
            "stopped, no order sent since (check for a second bot before starting this one again)"
        )
        return self._lost

    def _suspend(self, reason: str) -> None:
        self._down = (time.monotonic(), reason)
        self._drop_lock()
        log.warning("writer lease suspended: %s", reason)
        raise self._suspended()

    def _suspended(self) -> LeaseSuspended:
        assert self._down is not None
        since, reason = self._down
        wait = max(0.0, self.regain_s - (time.monotonic() - since))
        when = f"in {wait:.0f}s" if wait > 0 else "when the database answers"
        return LeaseSuspended(
            f"writer lease for account {redact(self.account_key)!r} suspended: {reason}; "
            f"no order until it is taken back ({when}, if no other bot took it)"
        )

    def _regain(self) -> int:
        """While suspended: lost for good once a newer epoch exists; after `regain_s` (room
        for a replacement bot to take over), take the lock again and go on with our epoch."""
        assert self._down is not None
        since = self._down[0]
        try:
            newer = self._newer()
            if newer is None:
                if time.monotonic() - since < self.regain_s:
                    raise self._suspended()
                if not self._retake_lock():
                    raise self._suspended()  # another bot holds it: its epoch shows next
                newer = self._newer()
                if newer is not None:
                    self._drop_lock()
        except (TimeoutError, DBAPIError, OSError, LedgerUnavailable):
            raise self._suspended() from None
        if newer is not None:
            self._down = None
            raise self._lose(newer)
        log.warning(
            "writer lease taken back after %.0fs (epoch %d)", time.monotonic() - since, self.epoch
        )
        self._down = None
        self.regained += 1
        return self.epoch

    def _lock_held(self) -> str | None:
        raise NotImplementedError

    def _drop_lock(self) -> None:
        """Let go of the (dead) lock connection before taking the lock back."""

    def _retake_lock(self) -> bool:
        return False

    def release(self) -> None:
        raise NotImplementedError


class PostgresLease(Lease):
    """`pg_try_advisory_lock` on a dedicated connection, in the server's `postgres`
    database when it can be reached (see the module)."""

    can_regain = True

    def __init__(
        self, url: str, ledger_engine: Engine, account_key: str, *, regain_s: float = 30.0
    ) -> None:
        self.key = stable_key64(f"lphedge-writer:{account_key}")
        self.regain_s = regain_s
        self._url = url
        self._engine, self._conn, self.scope = _lock_connection(url)
        try:
            if not self._try_lock():
                taken = read_lease(ledger_engine, account_key)
                raise refusal(account_key, taken[1] if taken else None)
            super().__init__(account_key, ledger_engine, bump_epoch(ledger_engine, account_key))
        except BaseException:
            self._close()
            raise

    def _try_lock(self) -> bool:
        """`pg_try_advisory_lock` on the lock connection, bounded like a check."""
        query = text("SELECT pg_try_advisory_lock(:k), pg_backend_pid()")
        got, pid = _bounded(
            lambda: tuple(self._conn.execute(query, {"k": self.key}).one()),
            CHECK_TIMEOUT_S,
            self._shut_socket,
        )
        self.backend_pid = int(pid)
        return bool(got)

    def _lock_held(self) -> str | None:
        lo, hi = self.key & 0xFFFFFFFF, (self.key >> 32) & 0xFFFFFFFF
        query = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = pg_backend_pid() AND classid::bigint = :hi AND objid::bigint = :lo "
            "AND objsubid = 1"
        )
        held = _bounded(
            lambda: self._conn.execute(query, {"hi": hi, "lo": lo}).scalar_one(),
            CHECK_TIMEOUT_S,
            self._shut_socket,
        )
        return None if held else "the lock connection no longer holds the advisory lock"

    def _drop_lock(self) -> None:
        self._shut_socket()  # a stalled connection would block the close too
        self._close()

    def _retake_lock(self) -> bool:
        """A new lock connection, in the same scope as the first, and the lock on it."""
        self._drop_lock()
        self._engine, self._conn, _ = _lock_connection(self._url, only=self.scope)
        if self._try_lock():
            return True
        self._close()
        return False

    def _shut_socket(self) -> None:
        """Unblock a check stuck on a stalled connection, so its thread ends."""
        with contextlib.suppress(AttributeError, SQLAlchemyError):  # closed: nothing blocks
            cut_socket(self._conn.connection.dbapi_connection)

    def release(self) -> None:
        if self._lost is None and self._down is None:
            with contextlib.suppress(DBAPIError, OSError):  # gone: its lock went with it
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(SQLAlchemyError, OSError):
            self._conn.close()
        self._engine.dispose()


def _lock_connection(url: str, only: str | None = None) -> tuple[Engine, Connection, str]:
    """An AUTOCOMMIT connection for the lock, in `postgres` if reachable, and its scope
    (`only`: that scope or LedgerUnavailable, when the lock is taken back)."""
    server_wide = make_url(url).set(database=LOCK_DATABASE)
    ledger_db = make_url(url).database
    tries = [(server_wide, "server")] if ledger_db != LOCK_DATABASE else []
    tries.append((make_url(url), "database"))
    tries = [t for t in tries if only is None or t[1] == only] or tries[-1:]
    args = postgres_connect_args(url, DbTimeouts(connect_s=CHECK_TIMEOUT_S))
    for n, (where, scope) in enumerate(tries):
        engine = create_engine(where, poolclass=NullPool, connect_args=args)
        try:
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        except OperationalError as exc:
            engine.dispose()
            if n == len(tries) - 1:
                raise LedgerUnavailable(f"writer lease: {first_line(exc)}") from None
            log.warning(
                "writer lease: database %r not reachable (%s); the lease spans only the "
                "ledger's database %r",
                LOCK_DATABASE,
                first_line(exc),
                ledger_db,
            )
            continue
        return engine, conn, scope
    raise AssertionError("unreachable")


class SqliteLease(Lease):
    """An OS file lock beside the SQLite file (released by the kernel when the process
    dies); the lock file's identity is checked with the epoch."""

    def __init__(self, lock_path: Path, ledger_engine: Engine, account_key: str) -> None:
        self.path = lock_path
        self._lock = FileLock(lock_path, blocking=False)
        try:
            self._lock.acquire()
        except Timeout:
            taken = read_lease(ledger_engine, account_key)
            raise refusal(account_key, taken[1] if taken else None) from None
        try:
            self._inode = os.stat(lock_path).st_ino
            super().__init__(account_key, ledger_engine, bump_epoch(ledger_engine, account_key))
        except BaseException:
            self._lock.release()
            raise

    def _lock_held(self) -> str | None:
        try:
            same = os.stat(self.path).st_ino == self._inode
        except FileNotFoundError:
            same = False
        return None if same else f"its lock file {self.path.name} was removed or replaced"

    def release(self) -> None:
        self._lock.release()
