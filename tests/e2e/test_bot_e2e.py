"""End to end: anvil + real Uniswap v3 + paper venue + ledger, on a real ETH price path.

The pool is swapped to each hourly Binance ETHUSDT close; the paper venue's market follows
the same closes. The bot's hedge must follow the LP delta within the strategy's band,
across the range and out of it, and the guards must halt on stale or diverging data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.demo import SYMBOL, DemoChain, DemoOptions, demo_settings, deploy, load_path
from bot.devchain.anvil import Anvil
from bot.domain import events as ev
from bot.domain.market import BINANCE_ETHUSDT
from bot.venues.replay_market import PricePoint, ReplayMarketData
from bot.wiring import Runtime, runtime

pytestmark = pytest.mark.chain

# 2024-03-11 .. : ETH 3831 rises to 4073, then falls below the -10 % bound (3448) at hour ~190.
OPTS = DemoOptions(start="2024-03-11", hours=200, range_pct=10.0, strategy="delta_band")
BAND_REL = 0.1


@dataclass
class Bot:
    rt: Runtime
    chain: DemoChain
    clock: FixedClock
    market: ReplayMarketData
    path: list[PricePoint]
    db: Path


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    path = load_path(OPTS)
    with Anvil(extra_args=("--timestamp", str(path[0].ts_ms // 1000 - 3600))) as a:
        yield a


async def _bot(
    node: Anvil,
    tmp: Path,
    path: list[PricePoint],
    chain: DemoChain | None = None,
    db: Path | None = None,
) -> Bot:
    dc = chain or deploy(node.url, OPTS, path[0].price)
    clock = FixedClock(path[0].ts_ms)
    market = ReplayMarketData({SYMBOL: path}, {SYMBOL: BINANCE_ETHUSDT}, clock)
    db = db or tmp / "ledger.db"
    settings = demo_settings(node.url, dc, OPTS, f"sqlite:///{db}")
    settings = settings.model_copy(
        update={"strategy": settings.strategy.model_copy(update={"params": {"band_rel": BAND_REL}})}
    )
    rt = runtime(settings, clock=clock, market=market)
    await rt.engine.start()
    return Bot(rt, dc, clock, market, path, db)


@pytest.fixture
async def bot(node: Anvil, tmp_path: Path) -> AsyncIterator[Bot]:
    snap = node.snapshot()
    b = await _bot(node, tmp_path, load_path(OPTS))
    try:
        yield b
    finally:
        await b.rt.close()
        b.chain.chain.close()
        node.revert(snap)


async def step(b: Bot, point: PricePoint, *, move_pool: bool = True) -> ev.Tick:
    if move_pool:
        b.chain.move_to(point.price, point.ts_ms // 1000)
    b.clock.ms = point.ts_ms
    await b.rt.engine.tick()
    last = b.rt.ledger.last(ev.TICK)
    assert last is not None
    return ev.from_payload(ev.Tick, last.payload)


async def test_hedge_follows_lp_delta_within_band_across_and_out_of_range(bot: Bot) -> None:
    out_of_range_hedges = []
    for point in bot.path:
        tick = await step(bot, point)
        (pos,) = tick.positions
        hedge = (await bot.rt.venue.positions())[0].size_base
        lp = tick.assets[0].lp_delta
        # after the tick's orders, the hedge is within the band (plus one venue step)
        assert abs(lp + hedge) <= Decimal(BAND_REL) * lp + Decimal("0.002"), (point, lp, hedge)
        if not pos.in_range:
            out_of_range_hedges.append(hedge)
    assert out_of_range_hedges, "the path must leave the range"
    # out of range the delta is constant: the hedge does not churn
    assert len(set(out_of_range_hedges)) <= 2
    ledger = bot.rt.ledger
    fills = ledger.events([ev.FILL])
    intents = ledger.events([ev.ORDER_INTENT])
    assert len(fills) >= len(intents) > 10
    assert len({e.payload["client_id"] for e in intents}) == len(intents)
    assert ledger.verify().ok


async def test_stale_chain_data_halts_without_orders(bot: Bot) -> None:
    await step(bot, bot.path[0])
    before = len(bot.rt.ledger.events([ev.ORDER_INTENT]))
    later = bot.path[10]  # market moves 10 h on, the chain's last block stays old
    result_tick = await step(bot, later, move_pool=False)
    halts = bot.rt.ledger.events([ev.HALT])
    assert halts and "stale chain data" in str(halts[-1].payload["reason"])
    assert len(bot.rt.ledger.events([ev.ORDER_INTENT])) == before
    assert result_tick.block == (await step(bot, later, move_pool=False)).block


async def test_pool_price_diverging_from_venue_mark_halts(bot: Bot) -> None:
    await step(bot, bot.path[0])
    before = len(bot.rt.ledger.events([ev.ORDER_INTENT]))
    p = bot.path[1]
    bot.chain.move_to(p.price * Decimal("1.05"), p.ts_ms // 1000)  # pool 5 % off the market
    await step(bot, p, move_pool=False)
    halt = bot.rt.ledger.events([ev.HALT])[-1].payload["reason"]
    assert "price divergence on ETH" in str(halt)
    assert len(bot.rt.ledger.events([ev.ORDER_INTENT])) == before


async def test_operator_halt_and_flatten_through_the_ledger(bot: Bot) -> None:
    for point in bot.path[:3]:
        await step(bot, point)
    assert (await bot.rt.venue.positions())[0].size_base < 0
    ledger = bot.rt.ledger
    ledger.append(
        ev.HALT, ev.to_payload(ev.Halt("test", "operator", flatten=True)), ts_ms=bot.clock.ms
    )
    await step(bot, bot.path[3])
    assert all(h.size_base == 0 for h in await bot.rt.venue.positions())
    await step(bot, bot.path[4])  # stays flat while halted
    assert all(h.size_base == 0 for h in await bot.rt.venue.positions())
    ledger.append(ev.RESUME, {"reason": "test", "source": "operator"}, ts_ms=bot.clock.ms)
    await step(bot, bot.path[5])
    assert (await bot.rt.venue.positions())[0].size_base < 0


async def test_restart_continues_from_the_ledger_without_duplicates(
    node: Anvil, tmp_path: Path
) -> None:
    snap = node.snapshot()
    path = load_path(OPTS)
    first = await _bot(node, tmp_path, path)
    try:
        for point in path[:40]:
            await step(first, point)
        held = (await first.rt.venue.positions())[0].size_base
    finally:
        await first.rt.close()
    second = await _bot(node, tmp_path, path, chain=first.chain, db=first.db)
    try:
        assert (await second.rt.venue.positions())[0].size_base == held
        for point in path[40:80]:
            await step(second, point)
        intents = second.rt.ledger.events([ev.ORDER_INTENT])
        cids = [e.payload["client_id"] for e in intents]
        assert len(cids) == len(set(cids))
        assert second.rt.ledger.verify().ok
    finally:
        await second.rt.close()
        first.chain.chain.close()
        node.revert(snap)
