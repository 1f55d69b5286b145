"""An anvil node with the v3 world plus PancakeSwap v3 (`bot.devchain.pancake`), and
ground truth: what PancakeSwap's own NonfungiblePositionManager pays, by a static
(`eth_call`) `decreaseLiquidity` of all the liquidity and `collect(max, max)` from the
owner at the block read, as for Uniswap v3 (`tests.support.anvil.ChainWorld`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from bot.devchain.deploy import DEADLINE, MAX_UINT128
from bot.devchain.pancake import PancakeV3, PancakeWorld, deploy_pancake
from tests.support.anvil import ChainWorld, start_world


@dataclass
class PancakeChainWorld:
    """A running anvil with the v3 world (`base`) and PancakeSwap v3 (`pancake`)."""

    base: ChainWorld
    pancake: PancakeWorld
    pcs: PancakeV3
    deploy_s: float  # deploying PancakeSwap and minting, swapping, burning in it

    @property
    def url(self) -> str:
        return self.base.url

    @contextmanager
    def reverted(self) -> Iterator[None]:
        with self.base.reverted():
            yield

    def static_decrease(self, token_id: int, owner: str, block: int) -> tuple[int, int]:
        """What PancakeSwap's decreaseLiquidity(all liquidity) would pay the owner."""
        npm = self.pcs.npm.functions
        liquidity = npm.positions(token_id).call(block_identifier=block)[7]
        params = (token_id, liquidity, 0, 0, DEADLINE)
        amounts = npm.decreaseLiquidity(params).call({"from": owner}, block)
        return int(amounts[0]), int(amounts[1])

    def static_collect(self, token_id: int, owner: str, block: int) -> tuple[int, int]:
        """What PancakeSwap's collect(max, max) would pay the owner (pokes the pool first)."""
        params = (token_id, owner, MAX_UINT128, MAX_UINT128)
        amounts = self.pcs.npm.functions.collect(params).call({"from": owner}, block)
        return int(amounts[0]), int(amounts[1])


@contextmanager
def start_pancake_world() -> Iterator[PancakeChainWorld]:
    """Anvil, the v3 world, then PancakeSwap v3 next to it; everything stopped on exit."""
    with start_world() as base:
        started = time.perf_counter()
        pancake = deploy_pancake(base.chain, base.world.tokens)
        deploy_s = time.perf_counter() - started
        yield PancakeChainWorld(base, pancake, PancakeV3.at(base.chain, pancake), deploy_s)


@pytest.fixture(scope="session")
def pancake_session() -> Iterator[PancakeChainWorld]:
    with start_pancake_world() as world:
        yield world


@pytest.fixture
def pancake_world(pancake_session: PancakeChainWorld) -> Iterator[PancakeChainWorld]:
    with pancake_session.reverted():
        yield pancake_session
