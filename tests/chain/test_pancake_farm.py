"""PancakeSwap v3 positions staked in MasterChef v3 (the npm build) are the staker's:
found from the farm's records of each owner, read to the wei as MasterChef itself pays
the staker (static decreaseLiquidity, collect, harvest from the staker), with the CAKE
each has earned; beside the owner's unstaked ones, in one request a steady tick."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from bot import exposure, wiring
from bot import report as review
from bot.chain.reader import ChainReader, ChainReaderConfig
from bot.config import Settings
from bot.domain import events as ev
from bot.domain.lp import ChainSnapshot, LpPosition
from bot.domain.market import BINANCE_ETHUSDT, AssetMap
from bot.errors import ConfigError, InputError
from tests.chain.test_positions_cli import LPHEDGE
from tests.support.anvil import ACCOUNTS
from tests.support.pancake_farm import HOUR_S, FarmChainWorld
from tests.support.paper_bot import paper_start

pytestmark = pytest.mark.chain

PREFIX = "pancakeswap_v3:"
ETH = BINANCE_ETHUSDT.symbol
OWNERS = tuple(ACCOUNTS[:2])


def config(fw: FarmChainWorld, **overrides: object) -> ChainReaderConfig:
    values: dict[str, object] = {
        "rpc_urls": (fw.url,),
        "chain_id": 31337,
        "position_manager": None,
        "owners": OWNERS,
        "pancakeswap_v3_position_manager": fw.pw.pancake.position_manager,
        "pancakeswap_v3_farm": fw.world.master_chef,
    }
    values.update(overrides)
    return ChainReaderConfig(**values)  # type: ignore[arg-type]


async def read(fw: FarmChainWorld, **overrides: object) -> ChainSnapshot:
    async with ChainReader(config(fw, **overrides)) as reader:
        return await reader.read()


def token_id(p: LpPosition) -> int:
    return int(p.position_id.removeprefix(PREFIX))


def assert_paid_as_read(fw: FarmChainWorld, snap: ChainSnapshot) -> int:
    """Staked positions pay what MasterChef pays the staker, the others what the NPM pays
    the owner; returns how many staked positions were checked."""
    staked = 0
    for p in snap.positions:
        tid, block = token_id(p), snap.block_number
        truth = fw if p.staked_in is not None else fw.pw
        assert (p.amount0_raw, p.amount1_raw) == truth.static_decrease(tid, p.owner, block)
        assert (p.fees0_raw, p.fees1_raw) == truth.static_collect(tid, p.owner, block)
        staked += p.staked_in is not None
    return staked


async def test_staked_positions_are_the_stakers_and_exact(farm_world: FarmChainWorld) -> None:
    snap = await read(farm_world)
    assert snap.errors == ()
    by_id = {token_id(p): p for p in snap.positions}
    assert set(by_id) == {m.token_id for m in farm_world.pw.pancake.positions}
    for m in farm_world.staked:
        p = by_id[m.token_id]
        assert p.owner == m.owner  # not MasterChef, which holds the NFT
        assert (p.staked_in, p.staking) == (farm_world.world.master_chef, "masterchef_v3")
        assert len(p.rewards) == 1 and p.rewards[0].token.symbol == "Cake"
        assert p.rewards[0].token.address == farm_world.world.cake
    for m in farm_world.unstaked:
        p = by_id[m.token_id]
        assert (p.owner, p.staked_in, p.staking, p.rewards) == (m.owner, None, None, ())
    assert assert_paid_as_read(farm_world, snap) == len(farm_world.staked) == 5
    staked = [by_id[m.token_id] for m in farm_world.staked]
    assert all(p.fees0_raw > 0 and p.fees1_raw > 0 for p in staked)  # fees stay the staker's
    assert {p.in_range for p in staked} == {True, False}


async def test_cake_earned_is_what_harvest_pays(farm_world: FarmChainWorld) -> None:
    """Once MasterChef has booked the LM pools at a block, each staked position's reward
    read there is what harvest() pays the staker there; only staked liquidity in range
    earns, and the pools' CAKE per second is shared out whole (to rounding)."""
    farm_world.farm.wait(HOUR_S)
    block = farm_world.book_rewards()
    snap = await read(farm_world, owners=OWNERS)
    assert snap.block_number == block and snap.errors == ()
    staked = [p for p in snap.positions if p.staked_in is not None]
    for p in staked:
        assert p.rewards[0].amount_raw == farm_world.static_harvest(token_id(p), p.owner, block)
    earned = {p.position_id: p.rewards[0].amount_raw for p in staked}
    assert all(v > 0 for v in earned.values())  # each was in range for part of the hours
    # the next hour: out-of-range positions earn nothing, in-range ones share it all
    farm_world.farm.wait(HOUR_S)
    farm_world.book_rewards()
    snap2 = await read(farm_world)
    gained = {
        p.position_id: p.rewards[0].amount_raw - earned[p.position_id]
        for p in snap2.positions
        if p.staked_in is not None
    }
    for p in snap2.positions:
        if p.staked_in is not None and not p.in_range:
            assert gained[p.position_id] == 0, p.position_id
    per_pool_hour = farm_world.world.cake_per_day // 2 // 24
    ins = [p for p in snap2.positions if p.staked_in is not None and p.in_range]
    for pool in {p.pool.address for p in ins}:
        total = sum(gained[p.position_id] for p in ins if p.pool.address == pool)
        assert abs(total - per_pool_hour) <= per_pool_hour // 10**6, pool


async def test_the_reward_is_what_the_farm_has_booked(farm_world: FarmChainWorld) -> None:
    """pendingCake counts up to the LM pool's last booking (each swap books it): time
    alone adds nothing to the figure, though harvest, which books first, pays more."""
    block = farm_world.book_rewards()
    before = await read(farm_world)
    farm_world.farm.wait(HOUR_S)  # no swap, no booking
    after = await read(farm_world)
    assert after.block_number > block
    for p, q in zip(before.positions, after.positions, strict=True):
        if p.staked_in is not None:
            assert q.rewards == p.rewards
            if q.in_range:
                paid = farm_world.static_harvest(token_id(q), q.owner, after.block_number)
                assert paid > q.rewards[0].amount_raw


async def test_a_staked_id_given_by_number_is_the_stakers(farm_world: FarmChainWorld) -> None:
    """An id in pancakeswap_v3_token_ids that the farm holds: its owner is the staker."""
    m = farm_world.staked[1]
    snap = await read(farm_world, owners=(), pancakeswap_v3_token_ids=(m.token_id,))
    (p,) = snap.positions
    assert (p.owner, p.staked_in) == (m.owner, farm_world.world.master_chef)
    assert assert_paid_as_read(farm_world, snap) == 1
    # without the farm configured the NPM's owner, MasterChef, is all there is to say
    snap = await read(
        farm_world, owners=(), pancakeswap_v3_token_ids=(m.token_id,), pancakeswap_v3_farm=None
    )
    (p,) = snap.positions
    assert (p.owner, p.staked_in, p.rewards) == (farm_world.world.master_chef, None, ())


async def test_unstaking_moves_the_position_back_to_the_owner(
    farm_world: FarmChainWorld,
) -> None:
    """withdraw(): the NFT is the owner's again on the NPM and read there, unstaked; the
    harvest paid the CAKE that was pending."""
    m = farm_world.staked[0]
    async with ChainReader(config(farm_world)) as reader:
        staked = {p.position_id: p for p in (await reader.read()).positions}
        farm_world.farm.unstake(m.token_id, m.owner)
        snap = await reader.read()
    p = next(p for p in snap.positions if token_id(p) == m.token_id)
    assert (p.owner, p.staked_in, p.rewards) == (m.owner, None, ())
    assert len(snap.positions) == len(staked) and snap.errors == ()
    assert assert_paid_as_read(farm_world, snap) == len(farm_world.staked) - 1
    cake = farm_world.farm.cake.functions.balanceOf(m.owner).call()
    assert cake >= staked[f"{PREFIX}{m.token_id}"].rewards[0].amount_raw > 0


async def test_a_steady_tick_is_one_request_and_staked_net_with_the_rest(
    farm_world: FarmChainWorld,
) -> None:
    async with ChainReader(config(farm_world)) as reader:
        snap = await reader.read()
        cold = reader.stats.http_requests
        again = await reader.read()
        assert reader.stats.http_requests - cold == 1
    assert again == snap
    book = exposure.book(snap, AssetMap())
    assert set(book.assets) == {"ETH"}
    assert book.assets["ETH"].positions == 8
    staked_delta = sum(
        e.delta for e, p in zip(book.positions, snap.positions, strict=True) if p.staked_in
    )
    assert 0 < staked_delta < book.assets["ETH"].delta
    assert book.assets["ETH"].delta == sum((e.delta for e in book.positions), Decimal(0))


async def test_a_wrong_farm_address_names_the_field(farm_world: FarmChainWorld) -> None:
    chain, pw = farm_world.farm.chain, farm_world.pw
    with pytest.raises(ConfigError, match=r"^chain\.staking\.pancakeswap_v3 0x\w+ is not a Mas"):
        await read(farm_world, pancakeswap_v3_farm=pw.base.world.weth)
    uniswap_farm = chain.deploy(
        "MasterChefV3", farm_world.world.cake, pw.base.world.position_manager, pw.base.world.weth
    )
    with pytest.raises(ConfigError, match=r"farms the NFTs of position manager 0x\w+, not of"):
        await read(farm_world, pancakeswap_v3_farm=uniswap_farm.address)
    with pytest.raises(InputError, match=r"^chain\.position_managers\.pancakeswap_v3: needed w"):
        await read(farm_world, pancakeswap_v3_position_manager=None)
    with pytest.raises(InputError, match=r"^chain\.staking\.pancakeswap_v3: '0x12' is not"):
        await read(farm_world, pancakeswap_v3_farm="0x12")


@pytest.mark.slow
def test_lphedge_positions_shows_where_each_is_staked(
    farm_world: FarmChainWorld, tmp_path: Path
) -> None:
    owner = ACCOUNTS[1]
    argv = [
        LPHEDGE,
        "positions",
        "--rpc-url",
        farm_world.url,
        "--owner",
        owner,
        "--position-manager",
        farm_world.pw.base.world.position_manager,
        "--pancake-position-manager",
        farm_world.pw.pancake.position_manager,
        "--pancake-masterchef",
        farm_world.world.master_chef,
    ]
    env = {**os.environ, "COLUMNS": "250"}

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*argv, *extra], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
        )
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done

    rows = json.loads(run("--json").stdout)["positions"]
    mine = [m for m in farm_world.pw.pancake.positions if m.owner == owner]
    staked = {f"{PREFIX}{m.token_id}" for m in farm_world.staked if m.owner == owner}
    pancake = [r for r in rows if r["protocol"] == "pancakeswap_v3"]
    assert len(pancake) == len(mine) and staked
    for r in pancake:
        if r["token_id"] in staked:
            assert (r["staked_in"], r["staking"]) == (farm_world.world.master_chef, "masterchef_v3")
            (reward,) = r["rewards"]
            assert (reward["symbol"], reward["decimals"]) == ("Cake", 18)
            assert Decimal(reward["amount"]) == Decimal(reward["amount_raw"]).scaleb(-18) > 0
        else:
            assert (r["staked_in"], r["staking"], r["rewards"]) == (None, None, [])
    assert {r["protocol"] for r in rows} == {"pancakeswap_v3", "uniswap_v3"}
    table = run().stdout
    assert "masterchef_v3" in table and "Cake" in table


async def test_the_bot_hedges_staked_positions_and_records_their_farm(
    farm_world: FarmChainWorld, tmp_path: Path
) -> None:
    """Paper tick: the staked positions' ETH is in the delta hedged, and the ledger's TICK
    row names each staked position's farm and the CAKE it had earned."""
    s = Settings.model_validate(
        {
            "mode": "paper",
            "chain": {
                "chain_id": 31337,
                "rpc_urls": [farm_world.url],
                "owners": list(OWNERS),
                "position_managers": {"pancakeswap_v3": farm_world.pw.pancake.position_manager},
                "staking": {"pancakeswap_v3": farm_world.world.master_chef},
            },
            "venue": {"symbols": {"ETH": ETH}, "paper_balance_usd": "10000000"},
            "risk": {"max_order_notional_usd": "1000000"},
            "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        }
    )
    start = await paper_start(s, farm_world.farm.chain)
    snap, clock = start.snap, start.clock
    book = exposure.book(snap, wiring.asset_map(s))
    rt = wiring.runtime(s, clock=clock, market=start.market())
    await rt.engine.start()
    try:
        result = await rt.engine.tick()
        assert result.error is None and result.book is not None
        assert result.book.delta("ETH") == book.delta("ETH") > 0
        hedged = {h.asset: h.size_base for h in await rt.venue.positions()}
        assert abs(hedged["ETH"] + book.delta("ETH")) <= Decimal("0.001")
        tick = rt.ledger.last(ev.TICK)
        farm_world.farm.wait(HOUR_S)  # an hour farmed, booked, and a second tick
        farm_world.book_rewards()
        clock.advance(HOUR_S)
        assert (await rt.engine.tick()).error is None
        later = rt.ledger.last(ev.TICK)
        farm_report = review.build(rt.ledger).to_json()["farm_rewards"]
    finally:
        await rt.close()
    assert later is not None and tick is not None
    cake = {
        r["position_id"]: Decimal(r["rewards"][0]["amount"])
        for r in later.payload["positions"]
        if "rewards" in r
    }
    first = {
        r["position_id"]: Decimal(r["rewards"][0]["amount"])
        for r in tick.payload["positions"]
        if "rewards" in r
    }
    (earned,) = farm_report  # the report: the hour's CAKE, in Cake, out of net
    assert earned["symbol"] == "Cake" and earned["token"] == farm_world.world.cake
    assert Decimal(earned["earned"]) == sum(cake[p] - first[p] for p in cake) > 0
    rows = {r["position_id"]: r for r in tick.payload["positions"]}
    staked = {p.position_id: p for p in snap.positions if p.staked_in is not None}
    assert len(staked) == 5
    for pid, row in rows.items():
        if pid in staked:
            assert row["staked_in"] == farm_world.world.master_chef
            (reward,) = row["rewards"]
            assert reward["symbol"] == "Cake"
            assert int(reward["amount_raw"]) == staked[pid].rewards[0].amount_raw
            assert Decimal(reward["amount"]) == Decimal(reward["amount_raw"]).scaleb(-18)
        else:
            assert "staked_in" not in row and "rewards" not in row
