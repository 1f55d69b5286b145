"""The engine over two anvil chains, one venue account: ETH split over both chains is
hedged once, by its netted delta; a chain gone stale or unreachable stops the assets it
holds (with the reason, in the ledger and as an alert) while the others trade on.

Chain "main" (31337) holds a USDC/WETH and a WETH/WBTC position, chain "base" (8453) a
USDC/WETH one: ETH lives on both chains, BTC only on main.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot import exposure, wiring
from bot.clock import FixedClock
from bot.config import Settings
from bot.domain import events as ev
from bot.domain.market import BINANCE_BTCUSDT, BINANCE_ETHUSDT
from bot.engine import TickResult
from bot.venues.replay_market import PricePoint, ReplayMarketData
from tests.chain.servers import CountingProxy
from tests.chain.two_chains import OTHER_CHAIN_ID, TwoChains
from tests.support.anvil import ChainWorld

pytestmark = pytest.mark.chain

ETH, BTC = BINANCE_ETHUSDT.symbol, BINANCE_BTCUSDT.symbol
USDC_WETH_IN, WETH_WBTC_IN = 1, 9


def settings(tc: TwoChains, tmp: Path, base_url: str) -> Settings:
    return Settings.model_validate(
        {
            "mode": "paper",
            "chain": {
                "chain_id": 31337,
                "rpc_urls": [tc.a.url],
                "position_manager": tc.a.world.position_manager,
                "token_ids": [USDC_WETH_IN, WETH_WBTC_IN],
                "rpc_timeout_s": 2,
            },
            "chains": [
                {
                    "name": "base",
                    "chain_id": OTHER_CHAIN_ID,
                    "rpc_urls": [base_url],
                    "position_managers": {"uniswap_v3": tc.b.world.position_manager},
                    "token_ids": [USDC_WETH_IN],
                    "rpc_timeout_s": 2,
                }
            ],
            "venue": {"symbols": {"ETH": ETH, "BTC": BTC}, "paper_balance_usd": "10000000"},
            "ledger": {"url": f"sqlite:///{tmp / 'ledger.db'}"},
        }
    )


@dataclass
class Bot:
    rt: wiring.Runtime
    clock: FixedClock
    proxy: CountingProxy  # between the bot and chain base


def block_ts(cw: ChainWorld) -> int:
    return int(cw.chain.w3.eth.get_block("latest")["timestamp"])


async def marks(s: Settings, clock: FixedClock) -> ReplayMarketData:
    """Venue marks at the pools' own prices (ETH from main's USDC/WETH, BTC through WBTC)."""
    async with wiring.position_source(s) as source:
        snap = await source.read()
    book = exposure.book(snap, wiring.asset_map(s))
    by_id = {(e.chain, e.position_id): e for e in book.positions}
    eth = by_id[("main", str(USDC_WETH_IN))].price
    btc = eth / by_id[("main", str(WETH_WBTC_IN))].price  # that pool's price: WBTC per WETH
    series = {ETH: [PricePoint(0, eth)], BTC: [PricePoint(0, btc.quantize(Decimal("0.1")))]}
    return ReplayMarketData(
        series, {ETH: BINANCE_ETHUSDT, BTC: BINANCE_BTCUSDT}, clock, level_amount=Decimal(50)
    )


@pytest.fixture
async def bot(two_chains: TwoChains, tmp_path: Path) -> AsyncIterator[Bot]:
    async with CountingProxy(two_chains.b.url) as proxy:
        s = settings(two_chains, tmp_path, proxy.url)
        clock = FixedClock((max(block_ts(two_chains.a), block_ts(two_chains.b)) + 2) * 1000)
        market = await marks(s, clock)
        rt = wiring.runtime(s, clock=clock, market=market)
        await rt.engine.start()
        try:
            yield Bot(rt, clock, proxy)
        finally:
            await rt.close()


def intents(b: Bot, symbol: str) -> list[Any]:
    return [e for e in b.rt.ledger.events([ev.ORDER_INTENT]) if e.payload["symbol"] == symbol]


async def hedge(b: Bot, asset: str) -> Decimal:
    sizes = {h.asset: h.size_base for h in await b.rt.venue.positions()}
    return sizes.get(asset, Decimal(0))


def lp_delta(result: TickResult, asset: str, chain: str) -> Decimal:
    assert result.book is not None
    return sum(
        (e.deltas.get(asset, Decimal(0)) for e in result.book.positions if e.chain == chain),
        Decimal(0),
    )


async def test_eth_over_two_chains_is_hedged_once_by_its_net_delta(bot: Bot) -> None:
    result = await bot.rt.engine.tick()
    assert result.error is None and result.verdict is not None and not result.verdict.halted
    on_main, on_base = lp_delta(result, "ETH", "main"), lp_delta(result, "ETH", "base")
    assert on_main > 0 and on_base > 0
    assert result.book is not None and result.book.delta("ETH") == on_main + on_base
    (eth_order,) = intents(bot, ETH)  # one order for ETH on the one account
    assert len(intents(bot, BTC)) == 1
    assert abs(await hedge(bot, "ETH") + on_main + on_base) <= Decimal("0.001")
    assert Decimal(eth_order.payload["amount_base"]) > max(on_main, on_base)
    tick = bot.rt.ledger.last(ev.TICK)
    assert tick is not None
    chains = {c["name"]: c for c in tick.payload["chains"]}
    assert chains["main"]["chain_id"] == 31337 and chains["base"]["chain_id"] == OTHER_CHAIN_ID
    assert {c["error"] for c in chains.values()} == {None}
    assert {r["chain"] for r in tick.payload["positions"]} == {"main", "base"}


async def test_a_stale_chain_stops_eth_but_not_btc(bot: Bot, two_chains: TwoChains) -> None:
    base_ts = block_ts(two_chains.b)
    bot.clock.ms = (base_ts + 400) * 1000  # base's last block is 400 s old: stale
    two_chains.a.chain.rpc("evm_setNextBlockTimestamp", base_ts + 399)
    two_chains.a.chain.rpc("evm_mine")  # main is fresh
    result = await bot.rt.engine.tick()
    assert result.error is None and result.verdict is not None and not result.verdict.halted
    assert intents(bot, ETH) == [] and len(intents(bot, BTC)) == 1
    assert await hedge(bot, "ETH") == 0 and await hedge(bot, "BTC") < 0
    why = "ETH exposure not seen in full: chain base stale"
    skipped = [str(e.payload["reason"]) for e in bot.rt.ledger.events([ev.SKIPPED])]
    assert any(why in r and "400s old (max 180s)" in r for r in skipped), skipped
    assert any(a.startswith("not trading ETH: chain base stale") for a in result.alerts)


async def test_an_unreachable_chain_stops_what_it_may_hold_and_the_bot_reads_on(
    bot: Bot, two_chains: TwoChains
) -> None:
    bot.proxy.down = True  # never read: base may hold any asset
    result = await bot.rt.engine.tick()
    assert result.error is None and result.book is not None
    assert {e.chain for e in result.book.positions} == {"main"}  # main still read
    assert bot.rt.ledger.events([ev.ORDER_INTENT]) == []
    errors = [e.payload for e in bot.rt.ledger.events([ev.ERROR])]
    assert any(e["where"] == "chain base" and "no RPC endpoint" in e["message"] for e in errors)
    assert any(
        a.startswith("not trading every asset: chain base unreadable") for a in result.alerts
    )
    tick = bot.rt.ledger.last(ev.TICK)
    assert tick is not None
    base = next(c for c in tick.payload["chains"] if c["name"] == "base")
    assert "no RPC endpoint answered" in base["error"]

    bot.clock.advance(301)  # still down, past chain.max_outage_s (300): said, not a halt
    two_chains.a.chain.rpc("evm_setNextBlockTimestamp", bot.clock.ms // 1000 - 1)
    two_chains.a.chain.rpc("evm_mine")  # main is fresh
    result = await bot.rt.engine.tick()
    assert result.error is None and bot.rt.engine.p.ledger.events([ev.HALT]) == []
    (alert,) = [a for a in result.alerts if a.startswith("not trading every asset")]
    assert "chain base unreadable for 301s (past chain.max_outage_s 300; the other " in alert

    for side in (two_chains.a.chain, two_chains.b.chain):  # both chains make a new block
        side.rpc("evm_setNextBlockTimestamp", bot.clock.ms // 1000)
        side.rpc("evm_mine")
    bot.proxy.down = False  # back: both assets hedged by the full book
    result = await bot.rt.engine.tick()
    assert result.alerts == () and len(intents(bot, ETH)) == len(intents(bot, BTC)) == 1
    bot.proxy.down = True  # down again: its last read says it holds ETH only
    bot.clock.advance(1)
    result = await bot.rt.engine.tick()
    assert [a.split(":")[0] for a in result.alerts] == ["not trading ETH"]
