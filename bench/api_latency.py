"""The control surface's latency: an operator's halt through the REST API -> the engine's
next tick recorded (no new block, no timer due: the API wakes it), and what a dashboard
refresh costs (GET /status cached per ledger tip, and after a new event).

Real parts: anvil with Uniswap v3 and one LP position, the bot's own engine loop with the
paper venue on real Binance closes, the API served in the same loop over real HTTP.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bench.latency import BTCUSDT, settings
from bot.api.server import serve_bot
from bot.clock import FixedClock
from bot.config_sections import ApiToken
from bot.demo import DemoOptions, load_hourly, load_path
from bot.devchain.anvil import Anvil
from bot.devchain.world import deploy_world
from bot.domain.market import BINANCE_ETHUSDT
from bot.venues.replay_market import ReplayMarketData
from bot.wiring import runtime

TRIALS = 10


class ReplayTime(FixedClock):
    """The replayed hour for the market, but waits that take real time: the engine's loop
    polls for blocks as a running bot does instead of spinning."""

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


TOKEN = "bench-" + "t" * 30
STATUS = "/api/v1/status"


async def measure(url: str, npm: str, token_id: int) -> dict[str, list[float]]:
    eth = load_path(DemoOptions(start="2024-03-11", hours=24))
    btc = load_hourly("BTCUSDT_1h.csv", eth[0].ts_ms, len(eth))
    series = {"ETH/USDT:USDT": eth, "BTC/USDT:USDT": btc}
    with tempfile.TemporaryDirectory() as tmp:
        base = settings(url, npm, [token_id], Path(tmp) / "l.db")
        ops = {
            "api_port": 0,
            "api_tokens": [ApiToken(name="bench", token=SecretStr(TOKEN), scope="control")],
        }
        cfg = base.model_copy(update={"ops": base.ops.model_copy(update=ops)})
        clock = ReplayTime(eth[0].ts_ms)
        market = ReplayMarketData(
            series, {"ETH/USDT:USDT": BINANCE_ETHUSDT, "BTC/USDT:USDT": BTCUSDT}, clock
        )
        rt = runtime(cfg, clock=clock, market=market)
        surface = await serve_bot(cfg, rt.engine)
        assert surface is not None and surface.api is not None
        loop = asyncio.ensure_future(
            rt.engine.run(rt.block_number, poll_seconds=0.2, max_tick_seconds=3600)
        )
        out: dict[str, list[float]] = {"halt": [], "resume": [], "cached": [], "fresh": []}
        try:
            port = surface.api.port
            while rt.engine.last_tick is None:
                await asyncio.sleep(0.01)
            for i in range(TRIALS):  # requests from another thread, as from another process
                for action in ("halt", "resume"):
                    before = rt.engine.last_tick
                    started = time.perf_counter()
                    body = {"reason": f"bench {i}"}
                    await asyncio.to_thread(_request_ms, port, "POST", f"/api/v1/{action}", body)
                    while rt.engine.last_tick is before:
                        await asyncio.sleep(0.001)
                    out[action].append((time.perf_counter() - started) * 1000)
                for key in ("fresh", "cached"):  # first read after the tick, then again
                    out[key].append(await asyncio.to_thread(_request_ms, port, "GET", STATUS))
        finally:
            rt.engine.stop()
            await loop
            await surface.close()
            await rt.close()
        return out


def _request_ms(port: int, method: str, path: str, body: dict[str, str] | None = None) -> float:
    """One request on a new connection, as a browser's after an idle while. http.client
    sends it in one write (httpx's client adds ~40 ms of delayed ACK on loopback here)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        conn.request(method, path, None if body is None else json.dumps(body), headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{method} {path}: HTTP {response.status}")
    finally:
        conn.close()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    with Anvil() as node:
        world, _ = deploy_world(node.url)
        real = [m.token_id for m in world.positions if m.label.startswith("USDC/WETH 0.05% in")]
        got = asyncio.run(measure(node.url, world.position_manager, real[0]))
    print(f"{'':>28} {'median ms':>10} {'max ms':>8}  ({TRIALS} trials, one position)")
    rows = (
        ("POST /halt -> tick recorded", "halt"),
        ("POST /resume -> tick", "resume"),
        ("GET /status after a tick", "fresh"),
        ("GET /status, cached", "cached"),
    )
    for label, key in rows:
        xs = got[key]
        print(f"{label:>28} {statistics.median(xs):>10.1f} {max(xs):>8.1f}")


if __name__ == "__main__":
    main()
