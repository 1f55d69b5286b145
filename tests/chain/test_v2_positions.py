"""v2 LP balances read as an exact share of the pair: what a burn would pay."""

from __future__ import annotations

import pytest

from bot.domain.lp import PoolKind
from tests.chain.test_v3_positions import read
from tests.support.anvil import ACCOUNTS, ChainWorld

pytestmark = pytest.mark.chain


async def test_v2_share_equals_a_static_burn(chain_world: ChainWorld) -> None:
    pair = chain_world.world.v2_pairs["USDC/WETH v2"]
    owners = (ACCOUNTS[0], ACCOUNTS[1], ACCOUNTS[2])
    snap = await read(chain_world, token_ids=(), v2_pairs=(pair,), owners=owners)
    v2 = [p for p in snap.positions if p.kind is PoolKind.V2]
    assert [p.owner for p in v2] == [ACCOUNTS[0], ACCOUNTS[1]]  # ACCOUNTS[2] holds no LP
    for p in v2:
        assert p.pool.token0.symbol == "USDC" and p.pool.token0.decimals == 6
        assert (p.amount0_raw, p.amount1_raw) == chain_world.static_v2_burn(pair, p.owner)
        assert p.fees0_raw == p.fees1_raw == 0


async def test_not_a_pair_is_reported(chain_world: ChainWorld) -> None:
    usdc = chain_world.world.tokens["USDC"]
    snap = await read(chain_world, token_ids=(1,), v2_pairs=(usdc,), owners=(ACCOUNTS[0],))
    assert any(p.position_id == "1" for p in snap.positions)
    assert [e.item for e in snap.errors] == [f"v2 pair {usdc}"]
