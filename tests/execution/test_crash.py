"""Crash test: the executor is SIGKILLed at each point of an order's life, then restarted.

The emulator runs in this test's process, so it outlives the killed runner. Each trial:
a fresh emulator account and SQLite ledger; the runner (a forked child of
`tests.support.crash_runner serve`, a fresh process that pays no import cost) executes a
3-leg plan to `TARGET` and kills itself at the n-th pass of a point; a second child without
a kill point resumes, reconciles and re-plans. Then: no client id has two orders on the
venue, the position is at the target, every intent is final, the ledger's fills equal the
venue's position and the hash chain verifies.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.ledger.store import Ledger
from tests.execution.helpers import (
    API_KEY,
    API_SECRET,
    EMU_ETH,
    assert_ledger_matches_venue,
    emulator_orders_per_client_id,
    ledger_intents,
    make_ccxt_venue,
)
from tests.support.crash_runner import CRASH_ENV, POINTS
from tests.support.emulator import Binance, Emulator

ROOT = Path(__file__).resolve().parents[2]
TRIALS = 4
TARGET = Decimal("-0.3")


async def _ask(server: asyncio.subprocess.Process, cmd: dict[str, Any]) -> dict[str, Any]:
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write((json.dumps(cmd) + "\n").encode())
    await server.stdin.drain()
    line = await asyncio.wait_for(server.stdout.readline(), timeout=30)
    assert line, "crash runner server died"
    reply: dict[str, Any] = json.loads(line)
    return reply


async def _trial(
    server: asyncio.subprocess.Process, tmp: Path, point: str, trial: int
) -> tuple[int, list[str]]:
    """Returns (duplicate orders, problems) of one kill-and-restart trial."""
    problems: list[str] = []
    async with Emulator(Binance(), api_key=API_KEY, secret=API_SECRET) as emu:
        db = tmp / f"{point}-{trial}.db"
        log = str(tmp / f"{point}-{trial}.log")
        config = {
            "db": str(db),
            "emulator_url": emu.base_url,
            "api_key": API_KEY,
            "secret": API_SECRET,
            "plan": f"crash-{point}-{trial}",
            "target": str(TARGET),
            "leg": "0.1",
        }
        spec = f"{point}:{trial % 3 + 1}"
        first = await _ask(server, {"config": config, "env": {CRASH_ENV: spec}, "log": log})
        if first["signal"] != 9:
            problems.append(f"{spec}: runner was not killed ({first})")
        second = await _ask(server, {"config": config, "env": {}, "log": log})
        if second["exit"] != 0:
            problems.append(f"{spec}: restart failed ({second}): {Path(log).read_text()[-800:]}")
        per_id = emulator_orders_per_client_id(emu)
        duplicates = sum(n - 1 for n in per_id.values())
        if emu.account.position(EMU_ETH).qty != TARGET:
            problems.append(f"{spec}: position {emu.account.position(EMU_ETH).qty} != {TARGET}")
        venue = make_ccxt_venue(emu, FixedClock())
        try:
            with Ledger.open(str(db)) as ledger:
                await assert_ledger_matches_venue(venue, ledger)
                known = {i.client_id for i in ledger_intents(ledger)}
                if set(per_id) - known:
                    problems.append(f"{spec}: orders on the venue without an intent")
        except AssertionError as exc:
            problems.append(f"{spec}: ledger vs venue: {exc}")
        finally:
            await venue.close()
    return duplicates, problems


@pytest.mark.slow  # ~20 s: 40 forked runs; still part of `make test`
async def test_kill_at_every_point_then_restart_converges_without_duplicates(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(CRASH_ENV, None)
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.crash_runner",
        "serve",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    table: Counter[str] = Counter()
    dups: Counter[str] = Counter()
    problems: list[str] = []
    try:
        for point in POINTS:
            for trial in range(TRIALS):
                d, p = await _trial(server, tmp_path, point, trial)
                table[point] += 1
                dups[point] += d
                problems += p
    finally:
        assert server.stdin is not None
        server.stdin.close()
        await server.wait()
    summary = ", ".join(f"{p}: {table[p]} trials {dups[p]} dup" for p in POINTS)
    print(
        f"\ncrash test: {sum(table.values())} trials, {sum(dups.values())} duplicates ({summary})"
    )
    assert not problems, "\n".join(problems)
    assert sum(dups.values()) == 0
