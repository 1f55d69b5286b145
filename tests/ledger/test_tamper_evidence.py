"""Signed checkpoints anchor the tail: every attack an SQL-level attacker can make on the
tip is named by `lphedge ledger verify --checkpoint`, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from bot.cli import app
from bot.clock import FixedClock
from bot.ledger.checkpointer import Checkpointer
from bot.ledger.hashing import event_hash
from bot.ledger.store import Ledger

KEY = "k" * 16 + "0123456789abcdef0123"
EVENTS = 100


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no config/lphedge.toml of the repo
    monkeypatch.setenv("LPHEDGE_LEDGER__CHECKPOINT_KEY", KEY)


def _drop_guards(raw: Engine) -> list[str]:
    if raw.dialect.name == "postgresql":
        return ["DROP TRIGGER ledger_events_append_only ON ledger_events"]
    return ["DROP TRIGGER ledger_events_no_update", "DROP TRIGGER ledger_events_no_delete"]


def _sql(raw: Engine, *statements: str, **params: object) -> None:
    with raw.begin() as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def _forge_at_tip(raw: Engine) -> int:
    """Append an event with a correct hash, as anyone with INSERT rights can."""
    with raw.begin() as conn:
        tip = conn.execute(text("SELECT seq, hash FROM ledger_events ORDER BY seq DESC")).first()
        assert tip is not None
        payload = '{"text":"forged"}'
        seq = tip.seq + 1
        digest = event_hash(
            seq=seq,
            ts_ms=5,
            run_id="r",
            kind="note",
            payload=json.loads(payload),
            prev_hash=tip.hash,
        )
        conn.execute(
            text("INSERT INTO ledger_events VALUES (:s, 5, 'r', 'note', :p, :ph, :h)"),
            {"s": seq, "p": payload, "ph": tip.hash, "h": digest},
        )
    return seq


def _rehash_from(raw: Engine, start: int) -> None:
    """Edit event `start` and re-hash it and every later one, links included."""
    _sql(raw, *_drop_guards(raw))
    with raw.begin() as conn:
        rows = conn.execute(
            text("SELECT * FROM ledger_events WHERE seq >= :s ORDER BY seq"), {"s": start}
        ).all()
        prev = conn.execute(
            text("SELECT hash FROM ledger_events WHERE seq = :s"), {"s": start - 1}
        ).scalar_one()
        for row in rows:
            payload = '{"text":"edited"}' if row.seq == start else row.payload
            digest = event_hash(
                seq=row.seq,
                ts_ms=row.ts_ms,
                run_id=row.run_id,
                kind=row.kind,
                payload=json.loads(payload),
                prev_hash=prev,
            )
            conn.execute(
                text("UPDATE ledger_events SET payload=:p, prev_hash=:ph, hash=:h WHERE seq=:s"),
                {"p": payload, "ph": prev, "h": digest, "s": row.seq},
            )
            prev = digest


async def _written(db_url: str, path: Path, n: int = EVENTS) -> Checkpointer:
    """A ledger of `n` notes written and checkpointed by the bot's writer."""
    ledger = Ledger.open(db_url)
    writer = Checkpointer(ledger, KEY.encode(), path, FixedClock(1_700_000_000_000), "run1")
    for i in range(n):
        ledger.append("note", {"text": f"n{i}"}, ts_ms=i, run_id="run1")
    assert await writer.checkpoint() is not None
    return writer


def _verify(db_url: str, path: Path) -> tuple[int, list[str]]:
    result = CliRunner().invoke(
        app, ["ledger", "verify", "--db", db_url, "--checkpoint", str(path)]
    )
    return result.exit_code, result.output.splitlines()


def _drop_one_trigger(raw: Engine) -> None:
    _sql(raw, _drop_guards(raw)[0])


def _truncate(raw: Engine) -> None:
    _sql(raw, *_drop_guards(raw), f"DELETE FROM ledger_events WHERE seq > {EVENTS - 50}")


def _forge(raw: Engine) -> None:
    _forge_at_tip(raw)


def _edit_checkpoint_file(path: Path) -> None:
    line = json.loads(path.read_text())
    line["seq"] = line["count"] = 50  # as if the ledger had been checkpointed shorter
    path.write_text(json.dumps(line) + "\n")


ATTACKS: dict[str, tuple[Callable[[Engine, Path], None], str]] = {
    "delete the last 50": (
        lambda raw, _: _sql(raw, *_drop_guards(raw), "DELETE FROM ledger_events WHERE seq > 50"),
        "truncated: ledger ends at seq 50 but checkpoint at 2023-11-14T22:13:20Z says seq 100",
    ),
    "forge a new tip over the old one": (
        lambda raw, _: (
            _sql(raw, *_drop_guards(raw), "DELETE FROM ledger_events WHERE seq >= 100"),
            _forge_at_tip(raw),
        ),
        "forged or re-hashed: seq 100 has hash ",
    ),
    "re-hash an edit to the tip": (
        lambda raw, _: _rehash_from(raw, 60),
        "forged or re-hashed: seq 100 has hash ",
    ),
    "drop a trigger": (
        lambda raw, _: _sql(raw, _drop_guards(raw)[0]),
        "append-only trigger ledger_events_",
    ),
    "edit the checkpoint file": (
        lambda _, path: _edit_checkpoint_file(path),
        "checkpoint file line 1: bad signature (forged or edited, or another key)",
    ),
}


async def test_an_untouched_ledger_verifies(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    (await _written(db_url, path))._ledger.close()
    code, lines = _verify(db_url, path)
    assert code == 0, lines
    assert lines[0].startswith(f"ok: {EVENTS} events (tip ")
    assert lines[0].endswith("; 1 checkpoints verified, the last at seq 100")
    assert len(lines) == 1


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_each_attack_is_named(db_url: str, raw: Engine, tmp_path: Path, attack: str) -> None:
    path = tmp_path / "cp.jsonl"
    (await _written(db_url, path))._ledger.close()
    do, first_line = ATTACKS[attack]
    do(raw, path)
    code, lines = _verify(db_url, path)
    assert code == 1, lines
    assert lines[0].startswith(first_line), lines


async def test_events_after_the_last_checkpoint_are_a_warning(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "cp.jsonl"
    writer = await _written(db_url, path)
    for i in range(3):
        writer._ledger.append("note", {"text": f"late {i}"}, ts_ms=1, run_id="run1")
    writer._ledger.close()
    code, lines = _verify(db_url, path)
    assert code == 0, lines
    assert lines[1:] == ["warning: 3 events after the last checkpoint are not anchored"]


async def test_the_writer_refuses_to_sign_a_forged_tip(
    db_url: str, raw: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "cp.jsonl"
    alerts: list[str] = []

    async def alert(text: str) -> None:
        alerts.append(text)

    ledger = Ledger.open(db_url)
    writer = Checkpointer(ledger, KEY.encode(), path, FixedClock(1), "run1", alert=alert)
    for i in range(10):
        ledger.append("note", {"text": f"n{i}"}, ts_ms=i, run_id="run1")
    assert (await writer.checkpoint()) is not None
    forged = _forge_at_tip(raw)
    ledger.append("note", {"text": "after"}, ts_ms=11, run_id="run1")
    assert await writer.checkpoint() is None
    assert await writer.checkpoint() is None
    assert len(alerts) == 1, alerts  # once, not every minute
    assert alerts[0].startswith(f"ledger checkpoint refused: event {forged} was not written by")
    assert "lphedge ledger checkpoint --through 12" in alerts[0]
    code, lines = _verify(db_url, path)  # the refusal is on record, signed
    assert code == 1, lines
    assert lines[0].startswith(f"event {forged} was not written by the bot"), lines

    # The operator reviews the tail and vouches; the writer picks that up and signs again.
    runner = CliRunner()
    args = ["ledger", "checkpoint", "--db", db_url, "--checkpoint", str(path)]
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "--through: events 11..12 are not anchored" in refused.output
    signed = runner.invoke(app, [*args, "--through", "12"])
    assert signed.exit_code == 0, signed.output
    ledger.append("note", {"text": "later"}, ts_ms=12, run_id="run1")
    cp = await writer.checkpoint()
    assert cp is not None and cp.seq == 13
    ledger.close()
    code, lines = _verify(db_url, path)
    assert code == 0, lines
    assert lines[0].endswith("; 4 checkpoints verified, the last at seq 13"), lines


def test_bad_input_exits_2(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Ledger.open(db_url).close()
    code, lines = _verify(db_url, tmp_path / "none.jsonl")
    assert code == 2 and "no checkpoint file at" in "".join(lines)
    (tmp_path / "cp.jsonl").write_text("")
    monkeypatch.delenv("LPHEDGE_LEDGER__CHECKPOINT_KEY")
    code, lines = _verify(db_url, tmp_path / "cp.jsonl")
    assert code == 2 and "ledger.checkpoint_key is not set" in "".join(lines)


async def test_an_operators_halt_and_resume_are_witnessed_not_alerted_on(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lphedge halt`/`resume` while the bot runs: the bot signs over them; a forgery next
    to them is still refused."""
    path = tmp_path / "cp.jsonl"
    monkeypatch.setenv("LPHEDGE_LEDGER__CHECKPOINT_FILE", str(path))
    alerts: list[str] = []

    async def alert(text: str) -> None:
        alerts.append(text)

    ledger = Ledger.open(db_url)
    writer = Checkpointer(ledger, KEY.encode(), path, FixedClock(1), "run1", alert=alert)
    ledger.append("note", {"text": "tick"}, ts_ms=1, run_id="run1")
    assert (await writer.checkpoint()) is not None
    runner = CliRunner()
    halted = runner.invoke(app, ["halt", "--db", db_url, "--reason", "lunch"])
    assert halted.exit_code == 0, halted.output
    assert f"witnessed in {path}" in halted.output
    ledger.append("note", {"text": "tick"}, ts_ms=2, run_id="run1")
    resumed = runner.invoke(app, ["resume", "--db", db_url])
    assert resumed.exit_code == 0, resumed.output
    ledger.append("note", {"text": "tick"}, ts_ms=3, run_id="run1")
    cp = await writer.checkpoint()
    assert cp is not None and cp.seq == 5 and alerts == []
    code, lines = _verify(db_url, path)
    assert code == 0, lines
    assert lines == ["ok: 5 events (tip " + lines[0].split("(tip ", 1)[1]], lines

    # A witness names one event: an event forged beside it is still not vouched for.
    forged = ledger.append("note", {"text": "forged"}, ts_ms=4, run_id="x")  # not the bot's
    writer._own.pop(forged)
    ledger.append("note", {"text": "tick"}, ts_ms=5, run_id="run1")
    assert await writer.checkpoint() is None
    assert alerts and f"event {forged} was not written by" in alerts[0]
    ledger.close()
