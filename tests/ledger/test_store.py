"""Append and read back, exactly, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.errors import InputError
from bot.ledger.hashing import GENESIS_HASH
from bot.ledger.models import FillRow, HaltRow, OrderIntentRow, TickRow
from bot.ledger.store import Ledger
from bot.ports import LedgerReader, LedgerWriter
from bot.secrets import register

from .events import FILL, HUGE_RAW, TINY, sample_events


def _fill_payload(trade_id: str, amount: object = "1") -> dict[str, object]:
    return {
        "venue": "okx",
        "trade_id": trade_id,
        "client_id": "c1",
        "symbol": "ETH/USDT:USDT",
        "side": "buy",
        "amount": amount,
        "price": "3000",
        "fee": "0.1",
        "fee_currency": "USDT",
    }


def test_round_trip_every_kind(ledger: Ledger) -> None:
    writer: LedgerWriter = ledger
    reader: LedgerReader = ledger
    samples = sample_events()
    seqs = [writer.append(k, p, ts_ms=1000 + i, run_id="run-1") for i, (k, p) in enumerate(samples)]
    assert seqs == list(range(1, len(samples) + 1))

    events = reader.events()
    assert [e.kind for e in events] == [k for k, _ in samples]
    assert events[0].run_id == "run-1" and events[0].ts_ms == 1000
    assert events[1].payload["exposure"] == {"ETH": "1.5", "WBTC": "-0.01"}
    assert events[1].payload["block"] == 19_000_000
    assert events[-1].kind == "some_future_kind" and events[-1].payload == {"anything": [1, 2, 3]}
    assert all(len(e.hash) == 64 for e in events)
    assert ledger.verify().ok


def test_exact_decimals_and_huge_raw_ints(ledger: Ledger) -> None:
    for kind, payload in sample_events()[:7]:
        ledger.append(kind, payload, ts_ms=1, run_id="r")
    fill = ledger.last("fill")
    assert fill is not None
    assert Decimal(str(fill.payload["amount"])) == TINY
    assert fill.payload["amount"] == "0.000000000000000001"
    assert int(str(fill.payload["price"])) == HUGE_RAW
    tick = ledger.last("tick")
    assert tick is not None and int(str(tick.payload["liquidity_raw"])) == HUGE_RAW

    with ledger.engine.connect() as conn:
        row = conn.execute(select(FillRow)).one()
        assert row.amount == TINY and row.price == Decimal(HUGE_RAW)
        assert row.fee == FILL.fee and row.side == "sell" and row.venue == "binanceusdm"
        intent = conn.execute(select(OrderIntentRow)).one()
        assert intent.reduce_only is False and intent.decision_price == Decimal("3012.45")
        assert conn.execute(select(TickRow.exposure)).scalar_one() == '{"ETH":"1.5","WBTC":"-0.01"}'


def test_event_filters_last_and_tail(ledger: Ledger) -> None:
    for i in range(10):
        ledger.append("note" if i % 2 else "error", {"where": "x", "message": str(i)}, ts_ms=i)
    assert [e.seq for e in ledger.events(["error"])] == [1, 3, 5, 7, 9]
    assert [e.seq for e in ledger.events(since_seq=7)] == [8, 9, 10]
    assert [e.ts_ms for e in ledger.events(since_ms=3, until_ms=6)] == [3, 4, 5]
    last_note = ledger.last("note")
    assert last_note is not None and last_note.seq == 10
    assert ledger.last("fill") is None
    assert [e.seq for e in ledger.tail(3)] == [8, 9, 10]
    assert [e.seq for e in ledger.tail(2, ["error"])] == [7, 9]


def test_chain_links_each_event_to_the_previous(ledger: Ledger) -> None:
    ledger.append("note", {}, ts_ms=1)
    ledger.append("note", {}, ts_ms=1)
    with ledger.engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT seq, prev_hash, hash FROM ledger_events").all()
    assert rows[0].prev_hash == GENESIS_HASH
    assert rows[1].prev_hash == rows[0].hash != rows[1].hash


def test_halt_and_resume_share_a_table(ledger: Ledger) -> None:
    ledger.append("halt", {"reason": "kill switch", "source": "cli"}, ts_ms=1)
    ledger.append("resume", {"reason": "ok", "source": "cli"}, ts_ms=2)
    with ledger.engine.connect() as conn:
        assert [r.active for r in conn.execute(select(HaltRow).order_by(HaltRow.event_seq))] == [
            True,
            False,
        ]


def test_bad_payloads_are_refused_and_leave_no_trace(ledger: Ledger) -> None:
    with pytest.raises(InputError, match="'price' is required"):
        ledger.append("fill", {**_fill_payload("t"), "price": None}, ts_ms=1)
    with pytest.raises(InputError, match="floats are not exact"):
        ledger.append("fill", _fill_payload("t", amount=0.1), ts_ms=1)
    with pytest.raises(InputError, match="not a finite number"):
        ledger.append("note", {"x": float("nan")}, ts_ms=1)
    with pytest.raises(InputError, match="ts_ms"):
        ledger.append("note", {}, ts_ms=-1)
    assert ledger.events() == []


def test_duplicate_fill_is_refused_and_chain_stays_intact(ledger: Ledger) -> None:
    ledger.append("fill", _fill_payload("t-1"), ts_ms=1)
    with pytest.raises(InputError, match="already recorded"):
        ledger.append("fill", _fill_payload("t-1"), ts_ms=2)
    assert ledger.append("fill", _fill_payload("t-2"), ts_ms=3) == 2
    assert ledger.verify().ok


def test_secrets_are_redacted_before_storage(ledger: Ledger) -> None:
    secret = "sk-ledger-test-9f8e7d6c5b4a"
    register(secret)
    ledger.append(
        "error",
        {"where": "venue", "message": f"auth failed for key {secret}", "nested": [{"k": secret}]},
        ts_ms=1,
        run_id="r",
    )
    ledger.append("note", {"rpc": "https://eth.example.com/v3/abcdef0123456789"}, ts_ms=2)
    with ledger.engine.connect() as conn:
        dump = "\n".join(
            str(row)
            for table in ("ledger_events", "errors")
            for row in conn.exec_driver_sql(f"SELECT * FROM {table}")
        )
    assert secret not in dump and "abcdef0123456789" not in dump
    assert "auth failed for key ***" in dump
    assert ledger.verify().ok


def test_racing_writers_keep_the_chain_linear(db_url: str) -> None:
    """Two Ledger objects (two engines, two pools) append at once from two threads."""
    first, second = Ledger.open(db_url), Ledger.open(db_url)
    errors: list[BaseException] = []

    def write(ledger: Ledger, tag: str) -> None:
        try:
            for i in range(25):
                ledger.append("note", {"by": tag, "i": i}, ts_ms=i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(lg, t)) for lg, t in ((first, "a"), (second, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        events = first.events()
        assert [e.seq for e in events] == list(range(1, 51))
        result = second.verify()
        assert result.ok and result.events_checked == 50
    finally:
        first.close()
        second.close()
