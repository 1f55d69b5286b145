"""The ledger API: append hash-chained events (plus their typed rows), read them, verify.

`Ledger` implements `bot.ports.LedgerWriter` and `bot.ports.LedgerReader`. Appends are
serialised within a process by a lock and across processes by the database: SQLite
`BEGIN IMMEDIATE`, PostgreSQL `LOCK TABLE ledger_events IN SHARE ROW EXCLUSIVE MODE`
(a row lock on the tip would not cover an empty table), so the chain stays linear even
with two writers racing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Engine, desc, insert, inspect, select, text
from sqlalchemy.engine import Connection, Row, make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.domain.orders import LedgerEvent
from bot.errors import InputError, LedgerUnavailable
from bot.ledger import migrate
from bot.ledger.anchors import Link, ledger_facts, links_from
from bot.ledger.checkpoints import LedgerFacts
from bot.ledger.db import WRITE_OPTION, LedgerUrl, create_ledger_engine, parse_url
from bot.ledger.faults import DbTimeouts, StallWatch, first_line
from bot.ledger.guards import missing_triggers
from bot.ledger.hashing import GENESIS_HASH, canonical_dumps, event_hash, to_json_value
from bot.ledger.kinds import EventHead, payload_of, typed_row
from bot.ledger.lease import Lease
from bot.ledger.locks import postgres_writer_lock, sqlite_writer_lock
from bot.ledger.models import Base, LedgerEventRow
from bot.ledger.verify import VerifyResult, verify_chain
from bot.secrets import redact

_EVENTS = Base.metadata.tables[LedgerEventRow.__tablename__]
_PG_MIGRATION_LOCK = 0x6C70686564676531  # "lphedge1": serialises concurrent migrations


def _redacted(value: Any) -> Any:
    """`value` (already JSON) with every string, keys included, run through `redact`."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _to_event(row: Row[Any]) -> LedgerEvent:
    return LedgerEvent(
        seq=row.seq,
        ts_ms=row.ts_ms,
        run_id=row.run_id,
        kind=row.kind,
        payload=payload_of(row.payload),
        hash=row.hash,
    )


class Ledger:
    """An open ledger database. Use `Ledger.open(url)`; `close()` when done."""

    def __init__(self, where: LedgerUrl, engine: Engine, watch: StallWatch | None = None) -> None:
        self._where = where
        self._engine = engine
        self._watch = watch
        self._append_lock = threading.Lock()
        self._listeners: list[Callable[[int, str], None]] = []

    @classmethod
    def open(cls, url: str, *, create: bool = True, timeouts: DbTimeouts | None = None) -> Ledger:
        """Open (and create/migrate to the newest schema) the ledger at `url`.

        `url`: a SQLite file path, `sqlite:///path`, or `postgresql://...`. With
        `create=False` a missing SQLite file is an InputError instead of a new ledger.
        `timeouts` bound the waits on the database (`bot.ledger.faults`); a running bot
        sets a statement timeout, which also starts the stall watch on PostgreSQL.
        """
        where = parse_url(url)
        if not create and where.sqlite_path and not where.sqlite_path.is_file():
            raise InputError(
                f"no ledger at {where.sqlite_path}: check --db or ledger.url "
                "(a bot creates its ledger on its first run)"
            )
        if where.sqlite_path:
            where.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_ledger_engine(where, timeouts, describe_where(where))
        limit = None if timeouts is None else timeouts.statement_s
        watch = None if limit is None or where.sqlite_path else StallWatch(engine, limit + 1)
        ledger = cls(where, engine, watch)
        try:
            if not create and not ledger._has_events_table():
                raise InputError(
                    f"no ledger in {ledger.describe()}: check --db or ledger.url "
                    "(a bot creates its ledger on its first run)"
                )
            ledger._migrate()
        except OperationalError as err:  # not mapped by the engine: an unexpected kind
            ledger.close()
            raise LedgerUnavailable(f"ledger {ledger.describe()}: {first_line(err)}") from None
        except BaseException:
            ledger.close()
            raise
        return ledger

    def on_append(self, listener: Callable[[int, str], None]) -> None:
        """Call `listener(seq, hash)` after each append of this object commits: how a
        checkpoint writer knows which events it wrote itself."""
        self._listeners.append(listener)

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._where.dialect

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for read-only report queries on the typed tables."""
        return self._engine

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
        self._engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._engine.connect() as conn:
            conn = conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.exec_driver_sql("LOCK TABLE ledger_events IN SHARE ROW EXCLUSIVE MODE")
                yield conn

    def _has_events_table(self) -> bool:
        with self._engine.connect() as conn:
            return bool(inspect(conn).has_table("ledger_events"))

    def describe(self) -> str:
        """Where the ledger is, without credentials: a file path or host/database."""
        return describe_where(self._where)

    def _migrate(self) -> None:
        with self._engine.connect() as conn:
            conn = conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
                    )
                if migrate.current_revision(conn) != migrate.head_revision():
                    migrate.upgrade(conn)

    def append(
        self, kind: str, payload: Mapping[str, Any], *, ts_ms: int, run_id: str | None = None
    ) -> int:
        """Append one event (and its typed row) and return its sequence number.

        `payload` may hold Decimals, ints, Enums and dataclasses (see `to_json_value`);
        every string in it is redacted. `ts_ms` comes from the caller's clock.
        """
        if not kind or not isinstance(kind, str):
            raise InputError(f"ledger append: kind {kind!r} must be a non-empty string")
        if isinstance(ts_ms, bool) or not isinstance(ts_ms, int) or ts_ms < 0:
            raise InputError(f"ledger append {kind}: ts_ms {ts_ms!r} must be an int >= 0")
        run_id = None if run_id is None else redact(run_id)
        text = canonical_dumps(_redacted(to_json_value(dict(payload))))
        body = payload_of(text)
        typed = typed_row(EventHead(kind, ts_ms, run_id), body)
        with self._append_lock:
            try:
                with self._write() as conn:
                    seq, digest = self._insert(conn, kind, body, text, ts_ms, run_id, typed)
            except IntegrityError as exc:
                raise InputError(
                    f"ledger {kind}: refused, a row with the same unique key is already "
                    f"recorded ({redact(str(exc.orig))})"
                ) from None
            for listener in self._listeners:
                listener(seq, digest)
        return seq

    def _insert(
        self,
        conn: Connection,
        kind: str,
        body: dict[str, Any],
        text: str,
        ts_ms: int,
        run_id: str | None,
        typed: tuple[type[Base], dict[str, Any]] | None,
    ) -> tuple[int, str]:
        tip = conn.execute(
            select(_EVENTS.c.seq, _EVENTS.c.hash).order_by(desc(_EVENTS.c.seq)).limit(1)
        ).first()
        seq, prev_hash = (tip.seq + 1, tip.hash) if tip else (1, GENESIS_HASH)
        digest = event_hash(
            seq=seq,
            ts_ms=ts_ms,
            run_id=run_id,
            kind=kind,
            payload=body,
            prev_hash=prev_hash,
            payload_json=text,
        )
        conn.execute(
            insert(_EVENTS).values(
                seq=seq,
                ts_ms=ts_ms,
                run_id=run_id,
                kind=kind,
                payload=text,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        if typed is not None:
            model, values = typed
            conn.execute(insert(model).values(event_seq=seq, **values))
        return seq, digest

    def events(
        self,
        kinds: Sequence[str] | None = None,
        *,
        since_seq: int = 0,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[LedgerEvent]:
        """Events in sequence order with seq > since_seq and since_ms <= ts_ms < until_ms."""
        query = select(_EVENTS).where(_EVENTS.c.seq > since_seq).order_by(_EVENTS.c.seq)
        if kinds is not None:
            query = query.where(_EVENTS.c.kind.in_(list(kinds)))
        if since_ms is not None:
            query = query.where(_EVENTS.c.ts_ms >= since_ms)
        if until_ms is not None:
            query = query.where(_EVENTS.c.ts_ms < until_ms)
        with self._engine.connect() as conn:
            return [_to_event(row) for row in conn.execute(query)]

    def last(self, kind: str) -> LedgerEvent | None:
        """The newest event of `kind`, or None."""
        return next(iter(self.tail(1, [kind])), None)

    def tail(self, n: int = 20, kinds: Sequence[str] | None = None) -> list[LedgerEvent]:
        """The newest `n` events (of `kinds`, if given), oldest first."""
        query = select(_EVENTS).order_by(desc(_EVENTS.c.seq)).limit(max(n, 0))
        if kinds is not None:
            query = query.where(_EVENTS.c.kind.in_(list(kinds)))
        with self._engine.connect() as conn:
            rows = list(conn.execute(query))
        return [_to_event(row) for row in reversed(rows)]

    def verify(self) -> VerifyResult:
        """Recompute the chain and every typed row; report the first broken seq and why."""
        with self._engine.connect() as conn:
            return verify_chain(conn)

    def missing_triggers(self) -> list[str]:
        """Append-only guard triggers that were dropped, disabled or emptied."""
        with self._engine.connect() as conn:
            return missing_triggers(conn)

    def facts(self, seqs: Sequence[int] = ()) -> LedgerFacts:
        """Identity, tip, count and the hashes at `seqs`: what checkpoints are held against."""
        with self._engine.connect() as conn:
            return ledger_facts(conn, seqs)

    def links_from(self, seq: int) -> list[Link]:
        """Seq, hash and prev_hash of every event from `seq` on."""
        with self._engine.connect() as conn:
            return links_from(conn, seq)

    def writer_lock(
        self, account_key: str, *, regain_s: float = 30.0
    ) -> AbstractContextManager[Lease]:
        """Hold the writer lease for `account_key` (`bot.ledger.lease`); raises
        NeedsOperator if another bot holds it. A PostgreSQL lease whose lock connection
        dropped is taken back after `regain_s` if no other bot took it meanwhile."""
        if self._where.sqlite_path is not None:
            return sqlite_writer_lock(self._where.sqlite_path, self._engine, account_key)
        return postgres_writer_lock(self._where.url, self._engine, account_key, regain_s)


def payload_json(event: LedgerEvent) -> str:
    """The event's payload as canonical JSON text (for printing)."""
    return json.dumps(event.payload, sort_keys=True, separators=(",", ":"))


def describe_where(where: LedgerUrl) -> str:
    """Where a ledger is, without credentials: a file path or host/database."""
    if where.sqlite_path:
        return str(where.sqlite_path)
    url = make_url(where.url)
    return f"database {url.database!r} on {url.host}:{url.port or 5432}"
