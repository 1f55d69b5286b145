"""An in-memory ledger for paper runs on history: the engine's ledger ports without a database.

A year of hourly ticks writes tens of thousands of events and the engine reads some back
every tick (orders in the last hour, the executor's incremental view), so reads are indexed
by kind and answered by bisection on sequence numbers and times instead of a scan. Payloads
go through the same exact JSON encoding as the SQL ledger, so what a reader gets back is
what it would get from SQLite. There is no hash chain: nothing here is kept.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from bot.domain.orders import LedgerEvent
from bot.ledger.hashing import to_json_value


class MemoryLedger:
    """`bot.ports.LedgerWriter` and `LedgerReader` over lists (seq = position + 1)."""

    def __init__(self) -> None:
        self.rows: list[LedgerEvent] = []
        self._by_kind: dict[str, list[int]] = {}  # kind -> seqs, ascending
        self._ts_sorted = True  # times ascending with seq (a replay clock never goes back)

    def append(
        self, kind: str, payload: Mapping[str, Any], *, ts_ms: int, run_id: str | None = None
    ) -> int:
        seq = len(self.rows) + 1
        if self.rows and ts_ms < self.rows[-1].ts_ms:
            self._ts_sorted = False
        self.rows.append(LedgerEvent(seq, ts_ms, run_id, kind, to_json_value(dict(payload))))
        self._by_kind.setdefault(kind, []).append(seq)
        return seq

    def _seqs(self, kinds: Sequence[str] | None, since_seq: int) -> list[int]:
        if kinds is None:
            return list(range(since_seq + 1, len(self.rows) + 1))
        out: list[int] = []
        for kind in dict.fromkeys(kinds):
            seqs = self._by_kind.get(kind, [])
            out += seqs[bisect.bisect_right(seqs, since_seq) :]
        return sorted(out) if len(kinds) > 1 else out

    def events(
        self,
        kinds: Sequence[str] | None = None,
        *,
        since_seq: int = 0,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[LedgerEvent]:
        """Like the SQL ledger: seq > since_seq, since_ms <= ts < until_ms, in seq order."""
        seqs = self._seqs(kinds, since_seq)
        if since_ms is not None and self._ts_sorted:
            times = [self.rows[s - 1].ts_ms for s in seqs]
            seqs = seqs[bisect.bisect_left(times, since_ms) :]
        rows = [self.rows[s - 1] for s in seqs]
        return [
            e
            for e in rows
            if (since_ms is None or e.ts_ms >= since_ms)
            and (until_ms is None or e.ts_ms < until_ms)
        ]

    def last(self, kind: str) -> LedgerEvent | None:
        seqs = self._by_kind.get(kind)
        return self.rows[seqs[-1] - 1] if seqs else None


class WindowLedger:
    """One window's view of a shared ledger: reads see only the events this view appended
    (those after its first append), so a backtest can keep every window in one SQLite file
    while each window's engine starts as a fresh run (no strategy state or orders carried)."""

    def __init__(self, ledger: Any) -> None:
        self._ledger = ledger
        self._base: int | None = None  # the seq before this window's first event

    def append(
        self, kind: str, payload: Mapping[str, Any], *, ts_ms: int, run_id: str | None = None
    ) -> int:
        seq: int = self._ledger.append(kind, payload, ts_ms=ts_ms, run_id=run_id)
        if self._base is None:
            self._base = seq - 1
        return seq

    def events(
        self,
        kinds: Sequence[str] | None = None,
        *,
        since_seq: int = 0,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[LedgerEvent]:
        if self._base is None:
            return []
        found: list[LedgerEvent] = self._ledger.events(
            kinds, since_seq=max(since_seq, self._base), since_ms=since_ms, until_ms=until_ms
        )
        return found

    def last(self, kind: str) -> LedgerEvent | None:
        if self._base is None:
            return None
        hit: LedgerEvent | None = self._ledger.last(kind)
        return hit if hit is not None and hit.seq > self._base else None
