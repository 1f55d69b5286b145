"""The database refuses changes; changes made anyway (triggers dropped) are caught by verify."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from bot.ledger.models import LEDGER_TABLES
from bot.ledger.store import Ledger

from .events import sample_events

KEY = {table: "event_seq" for table in LEDGER_TABLES} | {"ledger_events": "seq"}


def _fill_all(ledger: Ledger) -> dict[str, int]:
    """Append every sample event; return kind -> seq."""
    return {k: ledger.append(k, p, ts_ms=1, run_id="r") for k, p in sample_events()}


def _attack(raw: Engine, *statements: str) -> None:
    with raw.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def _drop_guard(raw: Engine, table: str) -> list[str]:
    if raw.dialect.name == "postgresql":
        return [f"DROP TRIGGER {table}_append_only ON {table}"]
    return [f"DROP TRIGGER {table}_no_update", f"DROP TRIGGER {table}_no_delete"]


def test_update_delete_and_truncate_are_refused_on_every_table(ledger: Ledger, raw: Engine) -> None:
    _fill_all(ledger)
    for table in LEDGER_TABLES:
        key = KEY[table]
        statements = [f"UPDATE {table} SET {key} = {key}", f"DELETE FROM {table}"]
        if raw.dialect.name == "postgresql":
            statements.append(f"TRUNCATE {table} CASCADE")
        for statement in statements:
            with pytest.raises(DBAPIError, match="append-only"):
                _attack(raw, statement)
    assert ledger.verify().ok


def test_tampered_payload_is_found_at_its_seq(ledger: Ledger, raw: Engine) -> None:
    seqs = _fill_all(ledger)
    target = seqs["note"]
    _attack(
        raw,
        *_drop_guard(raw, "ledger_events"),
        f"""UPDATE ledger_events SET payload = '{{"text":"bye"}}' WHERE seq = {target}""",
    )
    result = ledger.verify()
    assert not result.ok and result.broken_seq == target
    assert result.reason is not None and result.reason.startswith("hash mismatch")
    assert result.events_checked == target


def test_tampered_typed_row_is_found_at_its_seq(ledger: Ledger, raw: Engine) -> None:
    seqs = _fill_all(ledger)
    _attack(raw, *_drop_guard(raw, "fills"), "UPDATE fills SET amount = '0.5'")
    result = ledger.verify()
    assert (result.ok, result.broken_seq) == (False, seqs["fill"])
    assert result.reason == "typed row disagrees with its event: fills.amount"


def test_deleted_event_breaks_the_link_at_the_next_seq(ledger: Ledger, raw: Engine) -> None:
    seqs = _fill_all(ledger)
    target = seqs["note"]
    _attack(
        raw, *_drop_guard(raw, "ledger_events"), f"DELETE FROM ledger_events WHERE seq = {target}"
    )
    result = ledger.verify()
    assert (result.ok, result.broken_seq) == (False, target + 1)
    assert result.reason is not None and "broken link" in result.reason


def test_rehashed_event_breaks_the_link_to_its_successor(ledger: Ledger, raw: Engine) -> None:
    seqs = _fill_all(ledger)
    target = seqs["note"]
    _attack(
        raw,
        *_drop_guard(raw, "ledger_events"),
        f"UPDATE ledger_events SET hash = '{'f' * 64}' WHERE seq = {target}",
    )
    result = ledger.verify()
    assert (result.ok, result.broken_seq) == (False, target)
