"""Check the whole ledger: seq continuity, hash links, hashes, canonical payloads, typed rows.

Reads in chunks of `CHUNK` events so memory stays flat on long ledgers. Typed rows are
read as raw column text (no Decimal parsing), so a tampered value is reported, not raised.
What verify cannot see: an attacker who rewrites every hash from some seq to the tip, or
removes events at the tip. Anchor `tip_hash` elsewhere (a log, a chat) to catch that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from bot.errors import InputError
from bot.ledger.hashing import GENESIS_HASH, canonical_json, event_hash
from bot.ledger.kinds import TYPED_MODELS, EventHead, row_text, typed_row
from bot.ledger.models import Base, LedgerEventRow

CHUNK = 2000
"""Events read per query while verifying."""

_EVENTS = Base.metadata.tables[LedgerEventRow.__tablename__]


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """`ok`, how many events were checked, and for a broken ledger the first bad seq and why."""

    ok: bool
    events_checked: int
    broken_seq: int | None = None
    reason: str | None = None
    tip_hash: str = GENESIS_HASH


TypedRows = dict[str, dict[int, Mapping[str, Any]]]


def _typed_rows(conn: Connection, lo: int, hi: int | None) -> TypedRows:
    """Raw typed rows with lo < event_seq <= hi (no upper bound if hi is None), per table."""
    out: TypedRows = {}
    for model in TYPED_MODELS:
        name = model.__tablename__
        where = "event_seq > :lo" + ("" if hi is None else " AND event_seq <= :hi")
        rows = conn.execute(text(f"SELECT * FROM {name} WHERE {where}"), {"lo": lo, "hi": hi})  # noqa: S608
        out[name] = {row._mapping["event_seq"]: dict(row._mapping) for row in rows}
    return out


def _check_link(row: Any, prev_seq: int, prev_hash: str) -> str | None:
    if row.seq != prev_seq + 1:
        return f"broken link: seq {prev_seq + 1} is missing (found {row.seq} after {prev_seq})"
    if row.prev_hash != prev_hash:
        return f"broken link: prev_hash does not match the hash of seq {prev_seq}"
    return None


def _check_event(row: Any) -> tuple[str | None, dict[str, Any] | None]:
    """The problem with the event itself (or None) and its parsed payload."""
    try:
        payload = json.loads(row.payload)
    except ValueError:
        return "payload is not JSON", None
    if not isinstance(payload, dict) or canonical_json(payload) != row.payload:
        return "payload is not canonical JSON", None
    digest = event_hash(
        seq=row.seq,
        ts_ms=row.ts_ms,
        run_id=row.run_id,
        kind=row.kind,
        payload=payload,
        prev_hash=row.prev_hash,
    )
    if digest != row.hash:
        return "hash mismatch: the event's fields do not hash to its stored hash", None
    return None, payload


def _check_typed(row: Any, payload: dict[str, Any], typed: TypedRows) -> str | None:
    """Compare the typed row(s) of this seq with what the payload says they must be."""
    try:
        expected = typed_row(EventHead(row.kind, row.ts_ms, row.run_id), payload)
    except InputError as exc:
        return f"typed row disagrees with its event: {exc}"
    want_table = expected[0].__tablename__ if expected else None
    for name, rows in typed.items():
        actual = rows.pop(row.seq, None)
        if name != want_table:
            if actual is not None:
                return f"typed row disagrees with its event: {name} has a row for kind {row.kind}"
            continue
        if actual is None:
            return f"typed row disagrees with its event: {name} row is missing"
        assert expected is not None
        for column, value in expected[1].items():
            if row_text(value) != actual.get(column):
                return f"typed row disagrees with its event: {name}.{column}"
    return None


def _check_row(row: Any, prev_seq: int, prev_hash: str, typed: TypedRows) -> str | None:
    problem = _check_link(row, prev_seq, prev_hash)
    if problem is None:
        problem, payload = _check_event(row)
        if problem is None and payload is not None:
            problem = _check_typed(row, payload, typed)
    return problem


def _orphan(typed: TypedRows) -> tuple[int, str] | None:
    """The lowest-seq typed row whose event was not seen in this chunk, if any."""
    found = [(seq, name) for name, rows in typed.items() for seq in rows]
    if not found:
        return None
    seq, name = min(found)
    return seq, f"typed row in {name} has no event"


def verify_chain(conn: Connection) -> VerifyResult:
    """Walk the chain from seq 1; stop at the first problem."""
    prev_seq, prev_hash, checked = 0, GENESIS_HASH, 0
    while True:
        rows = list(
            conn.execute(
                select(_EVENTS).where(_EVENTS.c.seq > prev_seq).order_by(_EVENTS.c.seq).limit(CHUNK)
            )
        )
        last_chunk = len(rows) < CHUNK
        typed = _typed_rows(conn, prev_seq, None if last_chunk else rows[-1].seq)
        for row in rows:
            checked += 1
            problem = _check_row(row, prev_seq, prev_hash, typed)
            if problem is not None:
                return VerifyResult(False, checked, row.seq, problem, prev_hash)
            prev_seq, prev_hash = row.seq, row.hash
        orphan = _orphan(typed)
        if orphan is not None:
            return VerifyResult(False, checked, orphan[0], orphan[1], prev_hash)
        if last_chunk:
            return VerifyResult(True, checked, tip_hash=prev_hash)
