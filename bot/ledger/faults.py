"""Database faults as the bot meets them: bounded waits, and one error type for "the ledger
cannot be reached", so a tick fails cleanly and the bot retries instead of dying.

- Connecting waits at most `connect_s` (libpq `connect_timeout`); dead links are found by
  TCP keepalives.
- With `statement_s` (the running bot), PostgreSQL cancels a statement or lock wait after
  that long, and `StallWatch` cuts a connection that has been out of the pool longer:
  a stalled link (packets accepted, nothing answered) would otherwise block the bot for as
  long as it stalls, since a blocking driver call has no timeout of its own.
- A refused, dropped, cut or timed-out connection surfaces as `LedgerUnavailable`
  (retryable, exit 3) through the engine's `handle_error` hook, never as a driver error.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from bot.errors import LedgerUnavailable
from bot.secrets import redact

log = logging.getLogger("lphedge.ledger")

_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o", "readonly")


@dataclass(frozen=True, slots=True)
class DbTimeouts:
    """How long the ledger may wait on its database (see the module)."""

    connect_s: float = 5.0
    statement_s: float | None = None  # None: no statement timeout and no stall watch


def postgres_connect_args(url: str, timeouts: DbTimeouts) -> dict[str, Any]:
    """psycopg connection parameters bounding connect, dead links and statements."""
    args: dict[str, Any] = {
        "connect_timeout": max(2, math.ceil(timeouts.connect_s)),  # libpq: whole seconds >= 2
        "keepalives": 1,
        "keepalives_idle": 10,
        "keepalives_interval": 5,
        "keepalives_count": 3,
    }
    if timeouts.statement_s is not None:
        ms = max(1, round(timeouts.statement_s * 1000))
        given = make_url(url).query.get("options", "")
        given = " ".join(given) if isinstance(given, tuple) else given
        args["options"] = f"{given} -c statement_timeout={ms} -c lock_timeout={ms}".strip()
    return args


def map_unavailable(engine: Engine, where: str) -> None:
    """Make `engine` raise LedgerUnavailable (naming `where`, redacted) for connection loss,
    refusal and timeouts; other database errors pass unchanged."""

    def handle(ctx: ExceptionContext) -> BaseException | None:
        exc = ctx.sqlalchemy_exception
        if not (ctx.is_disconnect or _is_unavailable(engine.dialect.name, exc)):
            return None
        return LedgerUnavailable(f"ledger {where}: {first_line(ctx.original_exception)}")

    event.listen(engine, "handle_error", handle, retval=True)


def _is_unavailable(dialect: str, exc: BaseException | None) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    if dialect == "postgresql":
        return True  # connection failures, cancelled statements, server shutdown
    return any(word in str(exc.orig).lower() for word in _SQLITE_UNAVAILABLE)


def first_line(exc: BaseException | None) -> str:
    """A driver error's first line, without SQLAlchemy's SQL echo; redacted."""
    orig = getattr(exc, "orig", None)
    msg = str(orig if orig is not None else exc) or type(exc).__name__
    lines = [ln.strip() for ln in msg.splitlines() if ln.strip()]
    return redact(lines[0] if lines else type(exc).__name__)


def cut_socket(dbapi_connection: Any) -> None:
    """Shut a psycopg connection's socket, waking the thread blocked on it with an error."""
    with contextlib.suppress(OSError, AttributeError, ValueError):  # closed already
        fd = dbapi_connection.pgconn.socket
        with socket.socket(fileno=os.dup(fd)) as dup:
            dup.shutdown(socket.SHUT_RDWR)


class StallWatch:
    """Cuts a pooled PostgreSQL connection kept out of the pool longer than `limit_s`.

    The bot's ledger work is short (an append, a read), so a connection out that long is
    waiting on a link that stopped answering. The connection is pinged on checkout (inside
    the watched time, unlike `pool_pre_ping`), so a stale one is replaced, not used.
    """

    def __init__(self, engine: Engine, limit_s: float, *, every_s: float = 0.25) -> None:
        self.limit_s = limit_s
        self.cuts = 0
        self._out: dict[int, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        event.listen(engine, "checkout", self._checkout)
        event.listen(engine, "checkin", self._checkin)
        self._thread = threading.Thread(
            target=self._watch, args=(every_s,), name="lphedge-ledger-stall-watch", daemon=True
        )
        self._thread.start()

    def _checkout(self, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        with self._lock:
            self._out[id(record)] = (time.monotonic(), dbapi_connection)
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # any driver failure: the pool replaces the connection
            self._forget(record)
            raise DisconnectionError(first_line(exc)) from None

    def _checkin(self, _dbapi_connection: Any, record: Any) -> None:
        self._forget(record)

    def _forget(self, record: Any) -> None:
        with self._lock:
            self._out.pop(id(record), None)

    def _watch(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            now = time.monotonic()
            with self._lock:
                stalled = [
                    (key, conn) for key, (t, conn) in self._out.items() if now - t > self.limit_s
                ]
                for key, _ in stalled:
                    del self._out[key]
            for _, conn in stalled:
                self.cuts += 1
                log.warning("ledger connection silent for %gs: cut", self.limit_s)
                cut_socket(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
