"""The REST API of a running bot, over real HTTP: tokens and scopes, reads that match the
ledger, and halt / resume / params reaching the running engine and the ledger with the
caller's name."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from bot.control import PARAMS_RELOADED
from bot.ledger.store import Ledger
from tests.api.conftest import CONTROL_TOKEN, READ_TOKEN, RunningBot


def _events(bot: RunningBot, kinds: list[str], since_seq: int = 0) -> list[Any]:
    with Ledger.open(f"sqlite:///{bot.db}", create=False) as ledger:
        return ledger.events(kinds, since_seq=since_seq)


def _tick_after(bot: RunningBot, seq: int, within_s: float = 10) -> Any:
    """The first TICK the bot records after event `seq`."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        ticks = _events(bot, ["tick"], since_seq=seq)
        if ticks:
            return ticks[0]
        time.sleep(0.05)
    raise AssertionError(f"no tick after event {seq} within {within_s} s: {bot.stderr()}")


def test_no_token_is_401_and_a_read_token_cannot_act(running_bot: RunningBot) -> None:
    with running_bot.client() as anon:
        r = anon.get("/api/v1/status")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        assert anon.post("/api/v1/halt", json={"reason": "x"}).status_code == 401
        assert anon.get("/api/v1/openapi.json").status_code == 200  # the spec is public
        assert "lphedge" in anon.get("/").text  # and so is the page (it holds no data)
    with running_bot.client(READ_TOKEN) as reader:
        assert reader.get("/api/v1/status").status_code == 200
        r = reader.post("/api/v1/halt", json={"reason": "from a read token"})
        assert r.status_code == 403 and "read-only" in r.json()["detail"]
        r = reader.put("/api/v1/strategy/params", json={"params": {"band_rel": 0.3}, "reason": "x"})
        assert r.status_code == 403
    assert not [h for h in _events(running_bot, ["halt"]) if h.payload.get("source") == "operator"]


def test_reads_answer_what_the_ledger_holds(running_bot: RunningBot) -> None:
    with running_bot.client(READ_TOKEN) as http:
        status = http.get("/api/v1/status").json()
        exposure = http.get("/api/v1/exposure").json()
        hedges = http.get("/api/v1/hedges").json()
        pnl = http.get("/api/v1/pnl").json()
        decisions = http.get("/api/v1/decisions", params={"limit": 5}).json()
        verify = http.get("/api/v1/ledger/verify").json()
        report = http.get("/api/v1/report.html")
        assert http.get("/api/v1/decisions", params={"limit": 0}).status_code == 422
    [tick] = _events(running_bot, ["tick"])[-1:]
    assert status["mode"] == "paper" and status["engine_running"] is True
    assert status["strategy"] == "delta_band" and status["block"] == tick.payload["block"]
    eth = next(a for a in status["assets"] if a["asset"] == "ETH")
    assert eth["lp_delta"] == tick.payload["exposure"]["ETH"]
    assert len(exposure["positions"]) == len(tick.payload["positions"]) == 3
    assert exposure["positions"] == tick.payload["positions"]
    assert next(h for h in hedges["assets"] if h["asset"] == "ETH")["hedge"] == eth["hedge"]
    assert "hedge_pnl" in pnl["total"] and isinstance(pnl["days"], list)
    ledger_decisions = _events(running_bot, ["decision"])
    assert decisions[0]["seq"] == ledger_decisions[-1].seq  # newest first
    assert verify["ok"] is True and verify["events_checked"] >= len(ledger_decisions)
    assert report.status_code == 200 and "<svg" in report.text


def test_halt_then_resume_reach_the_running_engine_and_the_ledger(
    running_bot: RunningBot,
) -> None:
    with running_bot.client(CONTROL_TOKEN) as http:
        r = http.post("/api/v1/halt", json={"reason": "api test halt"})
        assert r.status_code == 200, r.text
        halt = r.json()
        assert halt["by"] == "api:ops-phone"
        started = time.monotonic()
        tick = _tick_after(running_bot, halt["seq"])  # woken: no block, no timer due
        woke_s = time.monotonic() - started
        status = http.get("/api/v1/status").json()
        assert status["halted"] == "api test halt" and status["sticky_halt"]["source"] == "operator"
        assert status["sticky_halt"]["by"] == "api:ops-phone"
        cli = subprocess.run(
            [sys.executable, "-m", "bot", "status", "--db", f"sqlite:///{running_bot.db}"],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
            check=False,
        )
        assert "HALTED by api:ops-phone" in cli.stdout, cli.stdout + cli.stderr
        assert not _events(running_bot, ["order_intent"], since_seq=halt["seq"])

        r = http.post("/api/v1/resume", json={"reason": "api test done"})
        assert r.status_code == 200, r.text
        resume = r.json()
        _tick_after(running_bot, resume["seq"])
        assert http.get("/api/v1/status").json()["halted"] is None
    [h] = [e for e in _events(running_bot, ["halt"]) if e.seq == halt["seq"]]
    assert h.payload == {
        "reason": "api test halt",
        "source": "operator",
        "flatten": False,
        "by": "api:ops-phone",
    }
    [res] = [e for e in _events(running_bot, ["resume"]) if e.seq == resume["seq"]]
    assert res.payload["by"] == "api:ops-phone" and res.payload["reason"] == "api test done"
    assert tick.seq > halt["seq"] and woke_s < 5
    assert CONTROL_TOKEN not in running_bot.stderr() and READ_TOKEN not in running_bot.stderr()


def test_params_change_within_bounds_and_bad_ones_change_nothing(
    running_bot: RunningBot,
) -> None:
    with running_bot.client(CONTROL_TOKEN) as http:
        before = len(_events(running_bot, [PARAMS_RELOADED]))
        bad = http.put(
            "/api/v1/strategy/params", json={"params": {"band_rel": -1}, "reason": "too tight"}
        )
        assert bad.status_code == 422 and "params.band_rel" in bad.json()["detail"], bad.text
        unknown = http.put(
            "/api/v1/strategy/params", json={"params": {"nope": 1}, "reason": "typo"}
        )
        assert unknown.status_code == 422 and "nope" in unknown.json()["detail"]
        assert len(_events(running_bot, [PARAMS_RELOADED])) == before

        ok = http.put(
            "/api/v1/strategy/params",
            json={"params": {"band_rel": 0.35}, "reason": "wider band for the weekend"},
        )
        assert ok.status_code == 200, ok.text
        done = ok.json()
        assert done["changed"] == ["band_rel"] and done["params"]["band_rel"] == 0.35
        assert http.get("/api/v1/status").json()["params"]["band_rel"] == 0.35
    [event] = _events(running_bot, [PARAMS_RELOADED])[-1:]
    assert event.seq == done["seq"] and event.payload["by"] == "api:ops-phone"
    assert event.payload["reason"] == "wider band for the weekend"
    tick = _tick_after(running_bot, done["seq"])
    decisions = _events(running_bot, ["decision"], since_seq=tick.seq)
    assert decisions and all(d.payload["params"]["band_rel"] == 0.35 for d in decisions)
