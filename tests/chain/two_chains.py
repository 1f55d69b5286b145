"""Two anvil nodes at once, each with the Uniswap world: chain 31337 (the session's
`uniswap_world`) and chain 8453, deployed from another nonce so every token and pool has
another address there, and swapped so its prices and fees differ. Chain 8453 also has
Uniswap v4 (`other_v4`): v3 on one chain, v3 and v4 on the other."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.devchain.anvil import Anvil
from bot.devchain.deploy import DevChain
from bot.devchain.v4 import UniswapV4, deploy_v4
from bot.devchain.world import deploy_world
from tests.support.anvil import ACCOUNTS, ChainWorld
from tests.support.v4 import V4ChainWorld

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
            v4 = deploy_v4(chain, tokens)  # before any test's snapshot: it stays
            _V4[id(cw)] = V4ChainWorld(cw, v4, UniswapV4.at(chain, v4), 0.0)
            yield cw
        finally:
            chain.close()


_V4: dict[int, V4ChainWorld] = {}


@pytest.fixture
def other_v4(other_world: ChainWorld) -> V4ChainWorld:
    """Uniswap v4 on chain 8453, deployed with `other_world` (use it with `two_chains`,
    which reverts each test's changes)."""
    return _V4[id(other_world)]


@pytest.fixture
def two_chains(uniswap_world: ChainWorld, other_world: ChainWorld) -> Iterator[TwoChains]:
    with uniswap_world.reverted(), other_world.reverted():
        yield TwoChains(uniswap_world, other_world)
