"""A running bot with its REST API: `lphedge run` in a subprocess (paper mode on a real
anvil with Uniswap v3, replayed Binance prices), the API on a free port, one read and one
control token from the environment, as a user would give them in `.env`."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.devchain.anvil import rpc
from tests.cli.test_run_exit_codes import config
from tests.support.anvil import ChainWorld, start_world

READ_TOKEN = "read-" + "r" * 32
CONTROL_TOKEN = "ctl-" + "c" * 32
TOKENS = [
    {"name": "dashboard", "token": READ_TOKEN, "scope": "read"},
    {"name": "ops-phone", "token": CONTROL_TOKEN, "scope": "control"},
]


@dataclass
class RunningBot:
    url: str
    db: Path
    proc: subprocess.Popen[str]
    log: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def stderr(self) -> str:
        return self.log.read_text()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def api_world() -> Iterator[ChainWorld]:
    with start_world() as world:
        yield world


def start_bot(
    world: ChainWorld, tmp: Path, strategy: str = "delta_band", ops: str = ""
) -> RunningBot:
    rpc(world.url, "evm_mine")  # a fresh block: the block-age guard is satisfied
    port = free_port()
    ops = f"api_port = {port}\napi_auth_failures_per_minute = 1000\n{ops}\n"
    ops += f'[strategy]\nname = "{strategy}"'
    cfg = config(tmp, world, ops=ops)
    # No new blocks come unless a test mines one, and the time-based tick is 10 minutes
    # away: a tick during a test is one the API woke.
    cfg.write_text(cfg.read_text().replace("max_tick_seconds = 1", "max_tick_seconds = 600"))
    log = tmp / "bot.stderr"
    env = {**os.environ, "LPHEDGE_OPS__API_TOKENS": json.dumps(TOKENS)}
    with log.open("w") as sink:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "-c", str(cfg)],
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
            env=env,
        )
    bot = RunningBot(f"http://127.0.0.1:{port}", tmp / "ledger.db", proc, log)
    deadline = time.monotonic() + 60
    with bot.client(READ_TOKEN) as http:
        while True:
            assert proc.poll() is None, bot.stderr()
            assert time.monotonic() < deadline, "the bot's API never came up: " + bot.stderr()
            try:
                status = http.get("/api/v1/status").json()
                if status.get("last_tick_age_s") is not None:
                    return bot
            except httpx.TransportError:
                pass
            time.sleep(0.2)


def stop_bot(bot: RunningBot) -> int:
    bot.proc.send_signal(signal.SIGINT)
    return bot.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def running_bot(
    api_world: ChainWorld, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningBot]:
    bot = start_bot(api_world, tmp_path_factory.mktemp("bot"))
    try:
        yield bot
    finally:
        code = stop_bot(bot)
        assert code == 0, bot.stderr()
