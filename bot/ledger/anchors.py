"""The few ledger reads checkpoints need: identity, tip, count, hashes at given seqs, and
the links of the tail. Plain queries on a connection; no parsing of payloads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import desc, func, select
from sqlalchemy.engine import Connection

from bot.ledger.checkpoints import LedgerFacts
from bot.ledger.models import Base, LedgerEventRow

_EVENTS = Base.metadata.tables[LedgerEventRow.__tablename__]
_IN_CHUNK = 500  # seqs per IN (...) query


@dataclass(frozen=True, slots=True)
class Link:
    """One event as the chain sees it: its seq, its hash, and the hash it links to."""

    seq: int
    hash: str
    prev_hash: str


def first_hash(conn: Connection) -> str | None:
    """The hash of seq 1: the ledger's identity (None while it is empty)."""
    return conn.execute(select(_EVENTS.c.hash).where(_EVENTS.c.seq == 1)).scalar_one_or_none()


def ledger_facts(conn: Connection, seqs: Sequence[int]) -> LedgerFacts:
    """Identity, tip seq, count, and the stored hash at each of `seqs` that exists."""
    tip = conn.execute(select(_EVENTS.c.seq).order_by(desc(_EVENTS.c.seq)).limit(1)).scalar()
    count = conn.execute(select(func.count()).select_from(_EVENTS)).scalar_one()
    hashes: dict[int, str] = {}
    wanted = sorted(set(seqs))
    for i in range(0, len(wanted), _IN_CHUNK):
        part = wanted[i : i + _IN_CHUNK]
        rows = conn.execute(select(_EVENTS.c.seq, _EVENTS.c.hash).where(_EVENTS.c.seq.in_(part)))
        hashes.update({row.seq: row.hash for row in rows})
    return LedgerFacts(first_hash(conn), int(tip or 0), int(count), hashes)


def links_from(conn: Connection, seq: int) -> list[Link]:
    """Every event with seq >= `seq`, oldest first (the tail a writer is about to sign)."""
    query = (
        select(_EVENTS.c.seq, _EVENTS.c.hash, _EVENTS.c.prev_hash)
        .where(_EVENTS.c.seq >= seq)
        .order_by(_EVENTS.c.seq)
    )
    return [Link(row.seq, row.hash, row.prev_hash) for row in conn.execute(query)]
