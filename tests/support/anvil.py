"""An anvil node with the standard Uniswap world, plus ground-truth helpers for tests.

Ground truth is what the contracts themselves pay: a static (`eth_call`) call of the
position manager's `decreaseLiquidity` / `collect` from the owner, or a v2 `burn`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from bot.devchain.anvil import ACCOUNTS, Anvil, rpc
from bot.devchain.deploy import DEADLINE, MAX_UINT128, DevChain, Minted, UniswapWorld
from bot.devchain.world import deploy_world

__all__ = ["ACCOUNTS", "Anvil", "ChainWorld", "Minted", "UniswapWorld", "start_world"]


@dataclass
class ChainWorld:
    """A running anvil with `world` deployed; `burned_token_id` names a burned NFT."""

    anvil: Anvil
    world: UniswapWorld
    burned_token_id: int
    chain: DevChain

    @property
    def url(self) -> str:
        return self.anvil.url

    def block_number(self) -> int:
        return int(rpc(self.url, "eth_blockNumber"), 16)

    @contextmanager
    def reverted(self) -> Iterator[None]:
        """Run the body, then put the chain back as it was (evm_snapshot / evm_revert)."""
        snapshot = self.anvil.snapshot()
        try:
            yield
        finally:
            self.anvil.revert(snapshot)

    def static_decrease(self, token_id: int, owner: str, block: int) -> tuple[int, int]:
        """What decreaseLiquidity(all liquidity) would pay the owner at `block`."""
        npm = self.chain.contract("NonfungiblePositionManager", self.world.position_manager)
        liquidity = npm.functions.positions(token_id).call(block_identifier=block)[7]
        params = (token_id, liquidity, 0, 0, DEADLINE)
        amounts = npm.functions.decreaseLiquidity(params).call({"from": owner}, block)
        return int(amounts[0]), int(amounts[1])

    def static_collect(self, token_id: int, owner: str, block: int) -> tuple[int, int]:
        """What collect(max, max) would pay the owner at `block` (pokes the pool first)."""
        npm = self.chain.contract("NonfungiblePositionManager", self.world.position_manager)
        params = (token_id, owner, MAX_UINT128, MAX_UINT128)
        amounts = npm.functions.collect(params).call({"from": owner}, block)
        return int(amounts[0]), int(amounts[1])

    def static_v2_burn(self, pair: str, owner: str) -> tuple[int, int]:
        """What burning all the owner's LP tokens pays: transfer to the pair, then a
        static `burn`; the transfer is reverted afterwards."""
        contract = self.chain.contract("UniswapV2Pair", pair)
        balance = contract.functions.balanceOf(owner).call()
        with self.reverted():
            self.chain.receipt(self.chain.send(contract.functions.transfer(pair, balance), owner))
            amounts = contract.functions.burn(owner).call({"from": owner})
        return int(amounts[0]), int(amounts[1])

    def swap(self, token_in: str, token_out: str, fee: int, amount_in: int) -> None:
        router = self.chain.contract("SwapRouter", self.world.router)
        params = (token_in, token_out, fee, ACCOUNTS[0], DEADLINE, amount_in, 0, 0)
        self.chain.receipt(self.chain.send(router.functions.exactInputSingle(params)))


@contextmanager
def start_world() -> Iterator[ChainWorld]:
    """Start anvil, deploy the world (about a second), stop everything on exit."""
    with Anvil() as anvil:
        world, burned = deploy_world(anvil.url)
        chain = DevChain(anvil.url)
        try:
            yield ChainWorld(anvil, world, burned, chain)
        finally:
            chain.close()
