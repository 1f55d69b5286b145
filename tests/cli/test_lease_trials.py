"""Fault trials of the writer lease with the real `lphedge run` in subprocesses: anvil, offline
paper mode, a PostgreSQL ledger through a local TCP proxy.

Each trial: bot 1 runs and hedges; its lock connection is terminated on the server
(`pg_terminate_backend`); at once an operator flatten is recorded (so a bot that still
trades places orders on its next tick) and bot 2 is started. Bot 1 must place 0 orders after
the drop and exit 4 with one line; bot 2 must take the lease with the next epoch and tick.
`LPHEDGE_LEASE_TRIALS` trials (default 3; 20 for the reported figures).
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.devchain.anvil import rpc
from bot.domain import events as ev
from bot.ledger.hashing import stable_key64
from bot.ledger.store import Ledger
from tests.cli.test_run_exit_codes import config
from tests.ledger.conftest import POSTGRES_URL
from tests.support.anvil import ChainWorld
from tests.support.pg_proxy import PgProxy, pg_proxy

TRIALS = int(os.environ.get("LPHEDGE_LEASE_TRIALS", "3"))


@dataclass
class Trial:
    exit_code: int | None
    exit_line: str
    detect_s: float  # drop -> bot 1 gone
    old_orders_after: int
    new_epoch: int
    old_epoch: int
    new_orders: int


def _bot(cfg: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "-c", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until(what: str, ok: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ok():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _terminate_lock_holder(key: str) -> int | None:
    """Terminate the backend holding the writer lock for `key`; its pid (None: no holder)."""
    k = stable_key64(f"lphedge-writer:{key}")
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.connect() as conn:
            pid = conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid::bigint = :hi AND objid::bigint = :lo AND objsubid = 1"
                ),
                {"hi": (k >> 32) & 0xFFFFFFFF, "lo": k & 0xFFFFFFFF},
            ).scalar()
            if pid is not None:
                conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            return None if pid is None else int(pid)
    finally:
        admin.dispose()


@pytest.fixture
def proxy() -> Iterator[PgProxy]:
    with pg_proxy() as p:
        yield p


def _one_trial(world: ChainWorld, tmp_path: Path, proxy: PgProxy) -> Trial:
    schema = f"lt_{uuid.uuid4().hex[:16]}"
    account = f"t{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = proxy.url(query=f"?options=-csearch_path%3D{schema}")
    cfg = config(tmp_path, world, ledger=f'"{url}"')
    cfg.write_text(
        cfg.read_text().replace('mode = "paper"', f'mode = "paper"\naccount = "{account}"')
    )
    ledger = Ledger.open(url)
    first = _bot(cfg)
    second: subprocess.Popen[str] | None = None
    try:
        _until("bot 1 to hedge", lambda: ledger.events([ev.ORDER_INTENT]))
        [started] = ledger.events([ev.RUN_STARTED])
        old_run = started.run_id
        old_epoch = int(ledger.events([ev.ORDER_INTENT])[0].payload["lease_epoch"])
        mark = ledger.tail(1)[0].seq
        dropped = time.monotonic()
        assert _terminate_lock_holder(f"binanceusdm:{account}:paper") is not None
        ledger.append(ev.HALT, ev.to_payload(ev.Halt("trial: flatten", "operator", True)), ts_ms=1)
        second = _bot(cfg)
        try:
            code: int | None = first.wait(timeout=30)
        except subprocess.TimeoutExpired:
            code = None
        detect_s = time.monotonic() - dropped
        _until(
            "bot 2 to tick",
            lambda: any(e.run_id != old_run for e in ledger.events([ev.TICK], since_seq=mark)),
        )
        intents = ledger.events([ev.ORDER_INTENT], since_seq=mark)
        with ledger.engine.connect() as conn:
            epoch = conn.execute(text("SELECT epoch FROM lphedge_writer_leases")).scalar_one()
        old_after = [e for e in intents if e.run_id == old_run]
    finally:
        for bot in (first, second):
            if bot is not None and bot.poll() is None:
                bot.send_signal(signal.SIGINT)
        _, err = first.communicate(timeout=30)
        if second is not None:
            second.communicate(timeout=30)
        ledger.close()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
    lines = [ln for ln in err.splitlines() if ln.strip()]
    return Trial(
        code,
        lines[-1] if lines else "",
        detect_s,
        len(old_after),
        int(epoch),
        old_epoch,
        len(intents) - len(old_after),
    )


def test_a_dropped_lease_stops_the_old_bot_before_any_order(
    chain_world: ChainWorld, tmp_path: Path, proxy: PgProxy
) -> None:
    trials = []
    for n in range(TRIALS):
        rpc(chain_world.url, "evm_mine")  # a fresh block: the block-age guard passes
        trial_dir = tmp_path / f"t{n}"
        trial_dir.mkdir()
        trials.append(_one_trial(chain_world, trial_dir, proxy))
    detect = [t.detect_s for t in trials]
    print(
        f"\nlease trials: {len(trials)}; old bot orders after the drop: "
        f"{sum(t.old_orders_after for t in trials)}; exit codes: "
        f"{sorted({t.exit_code for t in trials}, key=str)}; drop -> old bot gone: "
        f"min {min(detect):.2f}s median {statistics.median(detect):.2f}s max {max(detect):.2f}s; "
        f"second bot took epoch+1: {sum(t.new_epoch == t.old_epoch + 1 for t in trials)}; "
        f"second bot orders: {sum(t.new_orders for t in trials)}"
    )
    print(f"old bot's last line: {trials[0].exit_line}")
    for t in trials:
        assert t.old_orders_after == 0, t
        assert t.exit_code == 4, t
        assert "writer lease" in t.exit_line and "lost" in t.exit_line, t
        assert t.new_epoch == t.old_epoch + 1, t
