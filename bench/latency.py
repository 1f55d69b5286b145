"""Block-to-order latency: a new block is seen -> the hedge order reaches the venue port;
and before that, a block is mined -> the engine's wait for it returns (pushed or polled).

Measured for 1 and 1,000 positions on anvil, through the real engine (chain read at the new
block, exposure, strategy, planner, risk, execution, ledger writes), with the paper venue
and real Binance closes as the market. The venue's own answer is excluded: the clock stops
when `submit` is called.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.chain_read import mint_positions
from bot.chain.heads import HeadWatch
from bot.clock import FixedClock
from bot.config import Settings
from bot.demo import DemoOptions, load_hourly, load_path
from bot.devchain.anvil import Anvil
from bot.devchain.deploy import DevChain
from bot.devchain.world import deploy_world
from bot.domain.market import BINANCE_ETHUSDT, Instrument
from bot.domain.orders import OrderAck, OrderIntent, Side
from bot.venues.replay_market import PricePoint, ReplayMarketData
from bot.wiring import runtime

TRIALS = 7
BTCUSDT = Instrument(venue="paper", symbol="BTC/USDT:USDT", asset="BTC", min_cost=Decimal(100))


class Stopwatch:
    """Wraps a venue; records when the engine hands it an order."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name
        self.submitted_at: float | None = None

    async def submit(self, intent: OrderIntent) -> OrderAck:
        if self.submitted_at is None:
            self.submitted_at = time.perf_counter()
        ack: OrderAck = await self.inner.submit(intent)
        return ack

    def __getattr__(self, item: str) -> Any:
        return getattr(self.inner, item)


def settings(url: str, npm: str, ids: Sequence[int], db: Path) -> Settings:
    return Settings.model_validate(
        {
            "chain": {
                "chain_id": 31337,
                "rpc_urls": [url],
                "position_manager": npm,
                "token_ids": list(ids),
            },
            "venue": {
                "symbols": {"ETH": "ETH/USDT:USDT", "BTC": "BTC/USDT:USDT"},
                "paper_balance_usd": "100000000",
            },
            "strategy": {"name": "delta_band", "params": {"band_rel": 0.0}},
            # the dev pools are not at the recorded market price; this bench times, not guards
            "risk": {
                "max_price_divergence_bps": 10_000,  # the bounds the config allows
                "max_orders_per_hour": 100_000,
                "max_block_age_s": 86_400,
                "max_hedge_notional_usd": "1e12",
                "max_order_notional_usd": "1e12",
            },
            "ledger": {"url": f"sqlite:///{db}"},
        }
    )


async def measure(
    url: str, npm: str, ids: Sequence[int], series: Mapping[str, list[PricePoint]]
) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = FixedClock(series["ETH/USDT:USDT"][0].ts_ms)
        market = ReplayMarketData(
            series, {"ETH/USDT:USDT": BINANCE_ETHUSDT, "BTC/USDT:USDT": BTCUSDT}, clock
        )
        rt = runtime(settings(url, npm, ids, Path(tmp) / "l.db"), clock=clock, market=market)
        watch = Stopwatch(rt.venue)
        rt.engine.p.venue = watch  # type: ignore[assignment]
        rt.engine.p.executor._venue = watch  # type: ignore[attr-defined]
        chain = DevChain(url)
        samples = []
        try:
            await rt.engine.tick()  # warm caches (static calls, instruments)
            for i in range(TRIALS):
                await _flatten(rt.venue, clock, i)
                chain.rpc("evm_mine")
                watch.submitted_at = None
                seen = time.perf_counter()
                result = await rt.engine.tick()
                done = time.perf_counter()
                if result.error or not result.acks:
                    raise SystemExit(f"tick placed no order: {result.error or result.verdict}")
                submitted = watch.submitted_at if watch.submitted_at is not None else done
                samples.append((submitted - seen) * 1000)
        finally:
            chain.close()
            await rt.close()
        return samples


async def _flatten(venue: Any, clock: FixedClock, trial: int) -> None:
    """Close the hedge outside the engine so the next block needs an order again."""
    for h in await venue.positions():
        if h.contracts == 0:
            continue
        side = Side.BUY if h.contracts < 0 else Side.SELL
        cid = f"{trial:08x}{abs(hash(h.symbol)):024x}"[:32]
        await venue.submit(
            OrderIntent(
                "flat",
                trial,
                venue.name,
                h.symbol,
                side,
                abs(h.contracts),
                abs(h.size_base),
                True,
                cid,
                "bench reset",
                Decimal(0),
            )
        )


async def head_wake(url: str, trials: int = 20) -> tuple[list[float], list[float]]:
    """evm_mine -> the engine's wait returns, ms: pushed (newHeads over WebSocket) and, for
    comparison, polled every 0.5 s (the wait is then the poll's phase)."""
    watch = HeadWatch([("main", url.replace("http://", "ws://"))]).start()
    pushed: list[float] = []
    polled: list[float] = []
    chain = DevChain(url)
    try:
        while not watch.live:
            await asyncio.sleep(0.05)
        for _ in range(trials):
            started = time.perf_counter()
            chain.rpc("evm_mine")
            await watch.next_head(5)
            pushed.append((time.perf_counter() - started) * 1000)
        seen: dict[int, float] = {}

        async def poller() -> None:  # what the engine does without a ws_url
            while True:
                seen.setdefault(int(chain.rpc("eth_blockNumber"), 16), time.perf_counter())
                await asyncio.sleep(0.5)

        task = asyncio.ensure_future(poller())
        for i in range(trials):
            await asyncio.sleep(0.5 + 0.5 * (i % 5) / 5)  # blocks land at any phase
            started = time.perf_counter()
            chain.rpc("evm_mine")
            number = int(chain.rpc("eth_blockNumber"), 16)
            while number not in seen:
                await asyncio.sleep(0.005)
            polled.append((seen[number] - started) * 1000)
        task.cancel()
    finally:
        chain.close()
        await watch.close()
    return pushed, polled


def main() -> None:
    with Anvil() as node:
        pushed, polled = asyncio.run(head_wake(node.url))
    print(f"{'blocks':>9} {'median ms':>10} {'max ms':>8}  (evm_mine -> tick may start)")
    print(f"{'pushed':>9} {statistics.median(pushed):>10.1f} {max(pushed):>8.1f}  newHeads, ws")
    print(f"{'polled':>9} {statistics.median(polled):>10.1f} {max(polled):>8.1f}  every 0.5 s")
    eth = load_path(DemoOptions(start="2024-03-11", hours=24))
    btc = load_hourly("BTCUSDT_1h.csv", eth[0].ts_ms, len(eth))
    series = {"ETH/USDT:USDT": eth, "BTC/USDT:USDT": btc}
    with Anvil() as node:
        world, _ = deploy_world(node.url)
        chain = DevChain(node.url)
        try:
            ids = mint_positions(chain, world, 1000)
        finally:
            chain.close()
        print(
            f"{'positions':>9} {'median ms':>10} {'max ms':>8}  (new block seen -> order submitted)"
        )
        # one real position (30 WETH in range) plus small ones up to the count
        real = [m.token_id for m in world.positions if m.label.startswith("USDC/WETH 0.05% in")]
        for n in (1, 1000):
            chosen = (real[:1] + ids)[:n]
            samples = asyncio.run(measure(node.url, world.position_manager, chosen, series))
            print(f"{n:>9} {statistics.median(samples):>10.1f} {max(samples):>8.1f}")


if __name__ == "__main__":
    main()
