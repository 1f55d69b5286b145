"""The ledger ports' contract, run against every implementation the engine can be given:
the SQL ledger on SQLite and on PostgreSQL, the backtest's in-memory ledger, and a
backtest window's view of a shared ledger. The engine reads its own history back through
these calls (orders in the last hour, the executor's incremental view, restarts), so each
must answer exactly as the SQL ledger does."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.backtest.memory_ledger import MemoryLedger, WindowLedger
from bot.ledger.store import Ledger
from tests.ledger.conftest import postgres_schema


@pytest.fixture(params=["sqlite", "postgresql", "memory", "window"])
def port(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """Each implementation, fresh and empty as the engine sees it."""
    if request.param == "sqlite":
        with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as opened:
            yield opened
    elif request.param == "postgresql":
        with postgres_schema() as url, Ledger.open(url) as opened:
            yield opened
    elif request.param == "memory":
        yield MemoryLedger()
    else:
        shared = MemoryLedger()  # an earlier window's events: this view must not see them
        shared.append("note", {"where": "earlier window", "message": "x"}, ts_ms=0)
        shared.append("error", {"where": "earlier window", "message": "y"}, ts_ms=0)
        yield WindowLedger(shared)


def _note(i: int) -> dict[str, Any]:
    return {"where": "contract", "message": str(i), "amount": Decimal(f"{i}.000000000000000001")}


def test_append_numbers_events_in_order(port: Any) -> None:
    seqs = [port.append("note", _note(i), ts_ms=1000 + i) for i in range(3)]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    got = port.events()
    assert [e.seq for e in got] == seqs
    assert [e.payload["message"] for e in got] == ["0", "1", "2"]


def test_decimals_come_back_exact_as_strings(port: Any) -> None:
    port.append("note", _note(7), ts_ms=5, run_id="run-a")
    (event,) = port.events(["note"])
    assert event.payload["amount"] == "7.000000000000000001"
    assert Decimal(event.payload["amount"]) == Decimal("7.000000000000000001")
    assert event.run_id == "run-a" and event.ts_ms == 5


def test_filters_by_kind_sequence_and_time(port: Any) -> None:
    seqs = [port.append("note" if i % 2 else "error", _note(i), ts_ms=100 * i) for i in range(10)]
    assert [e.seq for e in port.events(["error"])] == seqs[0::2]
    assert [e.seq for e in port.events(["error", "note"])] == seqs
    assert [e.seq for e in port.events(["note", "note"])] == seqs[1::2]
    assert [e.seq for e in port.events(since_seq=seqs[6])] == seqs[7:]
    assert [e.ts_ms for e in port.events(since_ms=300, until_ms=600)] == [300, 400, 500]
    assert [e.seq for e in port.events(["note"], since_seq=seqs[2], until_ms=800)] == [
        seqs[3],
        seqs[5],
        seqs[7],
    ]
    assert port.events(["fill"]) == []


def test_last_is_the_newest_of_its_kind(port: Any) -> None:
    assert port.last("note") is None
    port.append("note", _note(1), ts_ms=1)
    newest = port.append("note", _note(2), ts_ms=2)
    port.append("error", _note(3), ts_ms=3)
    last = port.last("note")
    assert last is not None and last.seq == newest and last.payload["message"] == "2"
    assert port.last("fill") is None
