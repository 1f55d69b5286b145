"""Crash trials on every venue dialect: the execution path is SIGKILLed at each point of an
order's life and of the account-event sync, then restarted.

The emulator runs in this test's process, so it outlives the killed runner. Each trial: a
fresh emulator account and SQLite ledger; the runner (a forked child of
`tests.support.crash_runner serve`, a fresh process that pays no import cost) executes a
3-leg plan to `target` and kills itself at the n-th pass of a point; the venue then pays
funding; a second child without a kill point resumes, syncs, reconciles and re-plans; the
venue pays funding again and a third child runs. Then: no client id has two orders on the
venue, no order lacks an intent, the position is at the target, every intent is final, the
ledger holds each of the venue's executions once (count, trade ids, fees) and each of its
funding payments once, and the hash chain verifies.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.clock import SystemClock
from bot.domain import events as ev
from bot.domain.orders import OrderAck, OrderIntent
from bot.execution import ledger_positions
from bot.ledger.store import Ledger
from bot.venues.profiles import PROFILES
from tests.support import venues
from tests.support.crash_runner import CRASH_ENV, POINTS

ROOT = Path(__file__).resolve().parents[2]
# `make test`: one trial per kill point per venue; `make trials`: LPHEDGE_CRASH_TRIALS=4.
TRIALS = int(os.environ.get("LPHEDGE_CRASH_TRIALS", "1"))
# (target, leg) in each venue's contracts: about -0.3 ETH in three legs
PLAN = {
    "binanceusdm": ("-0.3", "0.1"),
    "bybit": ("-0.3", "0.1"),
    "okx": ("-3", "1"),
    "hyperliquid": ("-0.3", "0.1"),
    "deribit": ("-900", "300"),
}


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[asyncio.subprocess.Process]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(CRASH_ENV, None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.crash_runner",
        "serve",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    yield proc
    assert proc.stdin is not None
    proc.stdin.close()
    await proc.wait()


async def _ask(server: asyncio.subprocess.Process, cmd: dict[str, Any]) -> dict[str, Any]:
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write((json.dumps(cmd) + "\n").encode())
    await server.stdin.drain()
    line = await asyncio.wait_for(server.stdout.readline(), timeout=60)
    assert line, "crash runner server died"
    reply: dict[str, Any] = json.loads(line)
    return reply


def _intents(ledger: Ledger) -> list[OrderIntent]:
    return [ev.from_payload(OrderIntent, e.payload) for e in ledger.events([ev.ORDER_INTENT])]


def _finals(ledger: Ledger) -> dict[str, OrderAck]:
    out = {}
    for e in ledger.events([ev.ORDER_UPDATE]):
        ack = ev.from_payload(OrderAck, e.payload)
        out[ack.client_id] = ack
    return out


async def _trial(
    server: asyncio.subprocess.Process, tmp: Path, name: str, point: str, trial: int
) -> tuple[int, list[str]]:
    """(duplicate orders, problems) of one kill-and-restart trial."""
    spec = venues.SPECS[name]
    target, leg = PLAN[name]
    problems: list[str] = []
    emu = venues.emulator(name, SystemClock(), balance=Decimal(50_000))
    async with emu:
        db = tmp / f"{name}-{point}-{trial}.db"
        log = str(tmp / f"{name}-{point}-{trial}.log")
        config = {
            "db": str(db),
            "venue": name,
            "emulator_url": emu.base_url,
            "plan": f"crash-{name}-{point}-{trial}",
            "target": target,
            "leg": leg,
            "price": str(venues.eth(emu).mark),
            "start_ms": int(time.time() * 1000) - 1000,
        }
        spec_env = f"{point}:{trial % 3 + 1}" if point != "after_funding" else point
        first = await _ask(server, {"config": config, "env": {CRASH_ENV: spec_env}, "log": log})
        if point == "after_funding":  # the first run pays no funding: kill the second
            emu.account.settle_funding(emu.clock_ms())
            first = await _ask(server, {"config": config, "env": {CRASH_ENV: spec_env}, "log": log})
        if first["signal"] != 9:
            problems.append(f"{name} {spec_env}: runner was not killed ({first})")
        emu.account.settle_funding(emu.clock_ms())
        for _ in range(2):  # restart, then one more run after another funding time
            again = await _ask(server, {"config": config, "env": {}, "log": log})
            if again["exit"] != 0:
                tail = Path(log).read_text()[-1500:]
                problems.append(f"{name} {spec_env}: restart failed ({again}): {tail}")
            emu.account.settle_funding(emu.clock_ms())
        await _ask(server, {"config": config, "env": {}, "log": log})
        ours = PROFILES[name].client_id.from_venue  # Hyperliquid's cloids are 0x + ours
        per_id = Counter(ours(o.client_id) for o in emu.account.orders.values())
        duplicates = sum(n - 1 for n in per_id.values())
        if emu.account.net_position(spec.emu_symbol) != Decimal(target):
            problems.append(
                f"{name} {spec_env}: position {emu.account.net_position(spec.emu_symbol)}"
            )
        with Ledger.open(str(db)) as ledger:
            problems += _check(ledger, emu, name, spec_env, set(per_id))
    return duplicates, problems


def _check(ledger: Ledger, emu: Any, name: str, label: str, on_venue: set[str]) -> list[str]:
    out: list[str] = []
    spec = venues.SPECS[name]
    finals = _finals(ledger)
    intents = _intents(ledger)
    if not all(i.client_id in finals and finals[i.client_id].status.final for i in intents):
        out.append(f"{name} {label}: an intent is not final")
    if on_venue - {i.client_id for i in intents}:
        out.append(f"{name} {label}: orders on the venue without an intent")
    fills = ledger.events([ev.FILL])
    trades = emu.account.trades
    ids = [e.payload["trade_id"] for e in fills]
    if len(ids) != len(set(ids)) or len(fills) != len(trades):
        out.append(f"{name} {label}: {len(fills)} fills recorded for {len(trades)} executions")
    fees = sum(Decimal(str(e.payload["fee"])) for e in fills)
    if fees != sum(t.fee for t in trades):
        out.append(f"{name} {label}: fees {fees} != venue {sum(t.fee for t in trades)}")
    funding = ledger.events([ev.FUNDING])
    paid = [i for i in emu.account.incomes if i.kind == "FUNDING_FEE"]
    pids = [e.payload["payment_id"] for e in funding]
    if len(pids) != len(set(pids)) or len(funding) != len(paid):
        out.append(f"{name} {label}: {len(funding)} funding rows for {len(paid)} payments")
    held = ledger_positions(ledger, name).get(spec.symbol, Decimal(0))
    if held != emu.account.net_position(spec.emu_symbol):
        out.append(f"{name} {label}: ledger position {held}")
    if not ledger.verify().ok:
        out.append(f"{name} {label}: hash chain broken")
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name", venues.VENUES)
async def test_kill_at_every_point_then_restart_converges_without_duplicates(
    name: str, server: asyncio.subprocess.Process, tmp_path: Path
) -> None:
    table: Counter[str] = Counter()
    dups: Counter[str] = Counter()
    problems: list[str] = []
    for point in POINTS:
        for trial in range(TRIALS):
            d, p = await _trial(server, tmp_path, name, point, trial)
            table[point] += 1
            dups[point] += d
            problems += p
    summary = ", ".join(f"{p}: {table[p]} trials {dups[p]} dup" for p in POINTS)
    print(
        f"\n{name} crash trials: {sum(table.values())}, {sum(dups.values())} duplicates ({summary})"
    )
    assert not problems, "\n".join(problems)
    assert sum(dups.values()) == 0
