"""Farm PancakeSwap v3 positions on a dev chain: the real npm MasterChefV3 build
(`@pancakeswap/masterchef-v3` 1.0.0) over the PancakeSwap world, with CAKE rewards.

MasterChefV3 needs an LM pool per farmed v3 pool; PancakeSwap ships none in a package, so
ours (`solidity/PancakeLmPool.sol`) keeps those books. Owners stake by sending the NFT to
MasterChef (`safeTransferFrom`), as PancakeSwap's UI does; MasterChef then holds it and
records the owner in `userPositionInfos`. Sync web3 (test support and demo only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from web3.contract import Contract

from bot.devchain.anvil import ACCOUNTS
from bot.devchain.deploy import MAX_UINT256, DevChain
from bot.devchain.pancake import PancakeV3, PancakeWorld

E18 = 10**18
REWARD_RECEIVER = ACCOUNTS[2]  # MasterChef's `receiver`: pays CAKE in with upkeep()
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class FarmWorld:
    """What `deploy_farm` put on the chain (checksummed addresses)."""

    master_chef: str
    cake: str
    lm_pool_deployer: str
    lm_pools: Mapping[str, str]  # v3 pool address -> its LM pool
    cake_per_day: int  # raw CAKE (18 decimals) over all farmed pools


@dataclass
class PancakeFarm:
    """The deployed MasterChefV3 plus helpers to stake, fund rewards and let time pass."""

    chain: DevChain
    pcs: PancakeV3
    master_chef: Contract
    cake: Contract

    def stake(self, token_id: int, owner: str) -> None:
        """The owner sends the NFT to MasterChef, which farms it for them."""
        npm = self.pcs.npm.functions
        transfer = npm.safeTransferFrom(owner, self.master_chef.address, token_id)
        self.chain.receipt(self.chain.send(transfer, owner))

    def unstake(self, token_id: int, owner: str) -> None:
        """withdraw(): the NFT goes back to the owner, with the CAKE harvested."""
        withdraw = self.master_chef.functions.withdraw(token_id, owner)
        self.chain.receipt(self.chain.send(withdraw, owner))

    def fund(self, cake: int, days: int = 30) -> None:
        """Pay `cake` raw CAKE in to be spread over `days` (MasterChef's upkeep)."""
        mc = self.master_chef.functions
        self.chain.receipt(self.chain.send(mc.upkeep(cake, days * DAY_S, True), REWARD_RECEIVER))

    def wait(self, seconds: int) -> None:
        """Move the chain's clock on and mine a block (rewards accrue by the second)."""
        self.chain.rpc("evm_increaseTime", seconds)
        self.chain.rpc("evm_mine")


def deploy_farm(
    chain: DevChain, pancake: PancakeWorld, weth: str, cake_per_day: int = 1_000 * E18
) -> tuple[PancakeFarm, FarmWorld]:
    """MasterChefV3 farming every pool of `pancake` (equal allocation), paid a month of
    `cake_per_day` CAKE at once."""
    pcs = PancakeV3.at(chain, pancake)
    cake = chain.deploy("TestToken", "PancakeSwap Token", "Cake", 18)
    mc = chain.deploy("MasterChefV3", cake.address, pcs.npm.address, weth)
    deployer = chain.deploy("PancakeLmPoolDeployer", mc.address)
    last = chain.send(pcs.factory.functions.setLmPoolDeployer(deployer.address))
    last = chain.send(mc.functions.setLMPoolDeployer(deployer.address))
    for pool in pancake.pools.values():
        last = chain.send(mc.functions.add(100, pool, False))
    month = 30 * cake_per_day
    last = chain.send(cake.functions.mint(REWARD_RECEIVER, month))
    last = chain.send(cake.functions.approve(mc.address, MAX_UINT256), REWARD_RECEIVER)
    chain.receipt(last)
    chain.receipt(chain.send(mc.functions.setReceiver(REWARD_RECEIVER)))
    farm = PancakeFarm(chain, pcs, mc, cake)
    farm.fund(month)
    lm_pools = {
        pool: str(chain.contract("PancakeV3Pool", pool).functions.lmPool().call())
        for pool in pancake.pools.values()
    }
    world = FarmWorld(mc.address, cake.address, deployer.address, lm_pools, cake_per_day)
    return farm, world
