"""Two anvil nodes at once, each with the Uniswap world: chain 31337 (the session's
`uniswap_world`) and chain 8453, deployed from another nonce so every token and pool has
another address there, and swapped so its prices and fees differ."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.devchain.anvil import Anvil
from bot.devchain.deploy import DevChain
from bot.devchain.world import deploy_world
from tests.support.anvil import ACCOUNTS, ChainWorld

OTHER_CHAIN_ID = 8453


@dataclass
class TwoChains:
    a: ChainWorld  # chain id 31337
    b: ChainWorld  # chain id 8453


@pytest.fixture(scope="session")
def other_world() -> Iterator[ChainWorld]:
    with Anvil(chain_id=OTHER_CHAIN_ID) as anvil:
        chain = DevChain(anvil.url)
        try:
            chain.rpc("anvil_setNonce", ACCOUNTS[0], hex(40))  # other addresses than chain A
            world, burned = deploy_world(anvil.url)
            cw = ChainWorld(anvil, world, burned, chain)
            tokens = world.tokens
            cw.swap(tokens["USDC"], tokens["WETH"], 500, 25_000 * 10**6)
            cw.swap(tokens["WETH"], tokens["WBTC"], 3000, 2 * 10**18)
            yield cw
        finally:
            chain.close()


@pytest.fixture
def two_chains(uniswap_world: ChainWorld, other_world: ChainWorld) -> Iterator[TwoChains]:
    with uniswap_world.reverted(), other_world.reverted():
        yield TwoChains(uniswap_world, other_world)
