"""An anvil node with PancakeSwap v3 (`tests.support.pancake`) and its MasterChef v3
farming both pools (`bot.devchain.pancake_farm`), some positions staked, and ground truth
for them: what MasterChef itself pays the staker, by static (`eth_call`) calls from the
staker at the block read: `decreaseLiquidity` of all the liquidity, `collect(max, max)`
and `harvest`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from bot.devchain.deploy import DEADLINE, MAX_UINT128, Minted
from bot.devchain.pancake_farm import FarmWorld, PancakeFarm, deploy_farm
from tests.support.pancake import PancakeChainWorld, start_pancake_world

# Staked: both owners, in range, below, above and wide, in both pools; the rest stay out.
STAKED_LABELS = (
    "USDC/WETH 0.25% pcs in",
    "USDC/WETH 0.25% pcs below",
    "USDC/WETH 0.25% pcs wide",
    "WETH/DAI 0.01% pcs in",
    "WETH/DAI 0.01% pcs above",
)
HOUR_S = 3_600


@dataclass
class FarmChainWorld:
    pw: PancakeChainWorld
    farm: PancakeFarm
    world: FarmWorld
    staked: tuple[Minted, ...]
    unstaked: tuple[Minted, ...]

    @property
    def url(self) -> str:
        return self.pw.url

    @contextmanager
    def reverted(self) -> Iterator[None]:
        with self.pw.reverted():
            yield

    def book_rewards(self) -> int:
        """MasterChef books every LM pool up to now (its owner's updatePools); the block."""
        mc = self.farm.master_chef.functions
        self.farm.chain.receipt(self.farm.chain.send(mc.updatePools([1, 2])))
        return int(self.farm.chain.w3.eth.block_number)

    def static_decrease(self, token_id: int, owner: str, block: int) -> tuple[int, int]:
        """What MasterChef's decreaseLiquidity(all liquidity) books for the staker."""
        liquidity = self.pw.pcs.npm.functions.positions(token_id).call(block_identifier=block)[7]
        params = (token_id, liquidity, 0, 0, DEADLINE)
        fn = self.farm.master_chef.functions.decreaseLiquidity(params)
        amounts = fn.call({"from": owner}, block)
        return int(amounts[0]), int(amounts[1])

    def static_collect(self, token_id: int, owner: str, block: int) -> tuple[int, int]:
        """What MasterChef's collect(max, max) pays the staker."""
        params = (token_id, owner, MAX_UINT128, MAX_UINT128)
        amounts = self.farm.master_chef.functions.collect(params).call({"from": owner}, block)
        return int(amounts[0]), int(amounts[1])

    def static_harvest(self, token_id: int, owner: str, block: int) -> int:
        fn = self.farm.master_chef.functions.harvest(token_id, owner)
        return int(fn.call({"from": owner}, block))


@contextmanager
def start_farm_world() -> Iterator[FarmChainWorld]:
    """PancakeSwap v3 with a farm; five positions staked, then six hours in which the
    price sits two hours below, above and between their ranges, so each staked position
    has been in range for a while and has earned fees and CAKE."""
    with start_pancake_world() as pw:
        chain, pancake = pw.base.chain, pw.pancake
        farm, world = deploy_farm(chain, pancake, pw.base.world.weth)
        staked = tuple(m for m in pancake.positions if m.label in STAKED_LABELS)
        for m in staked:
            farm.stake(m.token_id, m.owner)
        t = pw.base.world.tokens
        usdc, weth, dai = t["USDC"], t["WETH"], t["DAI"]
        phases = (  # down into the lower ranges, up into the upper ones, back between
            ((usdc, weth, 2500, 120_000 * 10**6), (weth, dai, 100, 36 * 10**18)),
            ((weth, usdc, 2500, 75 * 10**18), (dai, weth, 100, 250_000 * 10**18)),
            ((usdc, weth, 2500, 100_000 * 10**6), (weth, dai, 100, 39 * 10**18)),
        )
        for swaps in phases:
            for token_in, token_out, fee, amount in swaps:
                pw.pcs.swap(token_in, token_out, fee, amount)
            farm.wait(2 * HOUR_S)
        unstaked = tuple(m for m in pancake.positions if m not in staked)
        yield FarmChainWorld(pw, farm, world, staked, unstaked)


@pytest.fixture(scope="session")
def farm_session() -> Iterator[FarmChainWorld]:
    with start_farm_world() as world:
        yield world


@pytest.fixture
def farm_world(farm_session: FarmChainWorld) -> Iterator[FarmChainWorld]:
    with farm_session.reverted():
        yield farm_session
