"""v3 positions read through the multicall equal, to the unit, what the contracts pay."""

from __future__ import annotations

import pytest

from bot.chain.reader import ChainReader, ChainReaderConfig
from bot.domain.lp import ChainSnapshot, PoolKind
from tests.support.anvil import ACCOUNTS, ChainWorld

pytestmark = pytest.mark.chain


def config(cw: ChainWorld, **overrides: object) -> ChainReaderConfig:
    values: dict[str, object] = {
        "rpc_urls": (cw.url,),
        "chain_id": 31337,
        "position_manager": cw.world.position_manager,
        "token_ids": tuple(p.token_id for p in cw.world.positions),
    }
    values.update(overrides)
    return ChainReaderConfig(**values)  # type: ignore[arg-type]


async def read(cw: ChainWorld, **overrides: object) -> ChainSnapshot:
    async with ChainReader(config(cw, **overrides)) as reader:
        return await reader.read()


def assert_matches_contracts(cw: ChainWorld, snap: ChainSnapshot) -> None:
    for p in snap.positions:
        token_id = int(p.position_id)
        expected = cw.static_decrease(token_id, p.owner, snap.block_number)
        assert (p.amount0_raw, p.amount1_raw) == expected, p.position_id
        fees = cw.static_collect(token_id, p.owner, snap.block_number)
        assert (p.fees0_raw, p.fees1_raw) == fees, p.position_id


async def test_amounts_and_fees_equal_static_decrease_and_collect(chain_world: ChainWorld) -> None:
    snap = await read(chain_world)
    assert snap.errors == ()
    assert len(snap.positions) == len(chain_world.world.positions) == 16
    assert_matches_contracts(chain_world, snap)
    # the scenario covers what the issue asks for
    pools = {p.pool.address: p.pool for p in snap.positions}
    assert {pool.fee for pool in pools.values()} == {500, 3000, 10000}
    assert {(pool.token0.symbol, pool.token1.symbol) for pool in pools.values()} == {
        ("USDC", "WETH"),
        ("WETH", "WBTC"),
        ("WETH", "DAI"),
    }
    assert {t.decimals for pool in pools.values() for t in (pool.token0, pool.token1)} == {6, 8, 18}
    below = [p for p in snap.positions if p.pool.tick >= p.tick_upper]
    above = [p for p in snap.positions if p.pool.tick < p.tick_lower]
    inside = [p for p in snap.positions if p.in_range]
    assert below and above and inside
    assert all(p.amount0_raw == 0 and p.amount1_raw > 0 for p in below)
    assert all(p.amount1_raw == 0 and p.amount0_raw > 0 for p in above)
    assert sum(1 for p in snap.positions if p.fees0_raw and p.fees1_raw) >= 6


async def test_still_exact_after_swaps_both_ways(chain_world: ChainWorld) -> None:
    tokens = chain_world.world.tokens
    chain_world.swap(tokens["WETH"], tokens["USDC"], 500, 40 * 10**18)  # price down a lot
    chain_world.swap(tokens["USDC"], tokens["WETH"], 500, 20_000 * 10**6)
    chain_world.swap(tokens["WBTC"], tokens["WETH"], 3000, 10**8)
    chain_world.swap(tokens["DAI"], tokens["WETH"], 10000, 50_000 * 10**18)
    snap = await read(chain_world)
    assert snap.errors == ()
    assert_matches_contracts(chain_world, snap)


async def test_read_by_owner_enumerates_the_nfts(chain_world: ChainWorld) -> None:
    snap = await read(chain_world, token_ids=(), owners=(ACCOUNTS[1],))
    expected = {str(p.token_id) for p in chain_world.world.positions if p.owner == ACCOUNTS[1]}
    assert {p.position_id for p in snap.positions} == expected
    assert all(p.owner == ACCOUNTS[1] and p.kind is PoolKind.V3 for p in snap.positions)
    assert_matches_contracts(chain_world, snap)


async def test_reads_are_pinned_to_one_block(chain_world: ChainWorld) -> None:
    async with ChainReader(config(chain_world)) as reader:
        before = await reader.read()
        tokens = chain_world.world.tokens
        chain_world.swap(tokens["USDC"], tokens["WETH"], 500, 30_000 * 10**6)
        after = await reader.read()
        again = await reader.read(block=before.block_number)
    assert after.block_number > before.block_number
    assert after.positions != before.positions
    assert again == before


async def test_requests_per_tick_do_not_grow_with_positions(chain_world: ChainWorld) -> None:
    counts = {}
    ids = tuple(p.token_id for p in chain_world.world.positions)
    for n in (1, 16):
        async with ChainReader(config(chain_world, token_ids=ids[:n])) as reader:
            cold = await reader.read()
            first = reader.stats.http_requests
            await reader.read()
            await reader.read()
            warm = (reader.stats.http_requests - first) / 2
        assert len(cold.positions) == n
        counts[n] = (first, warm)
    assert counts[1] == counts[16] == (3, 1)
