"""Pushed blocks on a real anvil: newHeads over WebSocket wakes the bot at the block, a cut
stream reconnects by itself, and `lphedge run` with a `ws_url` ticks on a new block long
before its `poll_seconds`."""

from __future__ import annotations

import asyncio
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bot.chain.heads import HeadWatch
from bot.devchain.anvil import rpc
from bot.domain import events as ev
from bot.errors import InputError
from bot.ledger.store import Ledger
from tests.cli.test_run_exit_codes import config, fresh
from tests.support.anvil import ChainWorld
from tests.support.pg_proxy import PgProxy

__all__ = ["fresh"]


def _ws(url: str) -> str:
    return url.replace("http://", "ws://")


async def _connected(watch: HeadWatch, within_s: float = 10) -> None:
    deadline = time.monotonic() + within_s
    while not watch.live:
        assert time.monotonic() < deadline, "newHeads stream never connected"
        await asyncio.sleep(0.05)


async def test_a_new_block_wakes_the_watch_at_once(chain_world: ChainWorld) -> None:
    watch = HeadWatch([("main", _ws(chain_world.url))]).start()
    try:
        await _connected(watch)
        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            rpc(chain_world.url, "evm_mine")
            await watch.next_head(5)
            latencies.append(time.perf_counter() - started)
            number = int(rpc(chain_world.url, "eth_blockNumber"), 16)
            assert watch.streams[0].latest == number
        assert watch.seen == 5
        assert max(latencies) < 1.0, latencies
        started = time.perf_counter()
        await watch.next_head(0.3)  # no block: the timeout, polling's fallback
        assert 0.25 < time.perf_counter() - started < 1.0 and watch.seen == 5
    finally:
        await watch.close()


async def test_a_cut_stream_reconnects_and_polling_covers_the_gap(
    chain_world: ChainWorld,
) -> None:
    port = int(chain_world.url.rsplit(":", 1)[1])
    proxy = PgProxy(upstream_port=port).start()  # any TCP: here anvil's WebSocket
    watch = HeadWatch([("main", f"ws://127.0.0.1:{proxy.port}")]).start()
    try:
        await _connected(watch)
        polled: list[int] = []

        async def poll() -> int:
            polled.append(1)
            return int(rpc(chain_world.url, "eth_blockNumber"), 16)

        probe = watch.block_probe(poll)
        assert await probe() == 0 and not polled  # live: no request
        proxy.kill_all()
        deadline = time.monotonic() + 5
        while watch.live:
            assert time.monotonic() < deadline, "a cut stream was not noticed"
            await asyncio.sleep(0.05)
        assert await probe() > 0 and polled  # down: the block number is polled
        await _connected(watch)
        assert watch.streams[0].reconnects >= 1
        rpc(chain_world.url, "evm_mine")
        await watch.next_head(5)
        assert watch.seen == 1
    finally:
        await watch.close()
        proxy.close()


def test_run_with_a_ws_url_ticks_on_the_block_not_the_poll(
    fresh: ChainWorld, tmp_path: Path
) -> None:
    cfg = config(tmp_path, fresh)
    text = cfg.read_text()
    text = text.replace("poll_seconds = 0.5", f'poll_seconds = 30\nws_url = "{_ws(fresh.url)}"')
    text = text.replace("max_tick_seconds = 1", "max_tick_seconds = 600\nmin_tick_seconds = 0.2")
    cfg.write_text(text)
    db = tmp_path / "ledger.db"
    bot = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "-c", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    latencies: list[float] = []
    try:

        def ticks() -> list[int]:
            try:
                with Ledger.open(str(db), create=False) as ledger:
                    return [e.ts_ms for e in ledger.events([ev.TICK])]
            except InputError:
                return []

        deadline = time.monotonic() + 30
        while not ticks():  # the first tick, at start
            assert time.monotonic() < deadline and bot.poll() is None, bot.stderr
            time.sleep(0.1)
        time.sleep(1.5)  # subscribed by now
        for _ in range(3):
            before = len(ticks())
            mined_ms = time.time() * 1000
            rpc(fresh.url, "evm_mine")
            deadline = time.monotonic() + 10
            while len(ticks()) == before:
                assert time.monotonic() < deadline, "no tick on a pushed block"
                time.sleep(0.02)
            latencies.append((ticks()[-1] - mined_ms) / 1000)
            time.sleep(0.5)
    finally:
        bot.send_signal(signal.SIGINT)
        _, err = bot.communicate(timeout=30)
    assert bot.returncode == 0, err
    print(
        f"\npushed blocks: evm_mine -> tick start median {statistics.median(latencies):.3f}s, "
        f"max {max(latencies):.3f}s (poll_seconds 30)"
    )
    assert max(latencies) < 2.0, latencies  # polling alone would wait up to 30 s
