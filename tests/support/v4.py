"""An anvil node with the v3 world plus Uniswap v4 (`bot.devchain.v4`), and ground truth.

Ground truth is what the PositionManager pays out: in a reverted snapshot the owner
sends DECREASE_LIQUIDITY with liquidity 0 + TAKE_PAIR (the fees alone), then with all the
liquidity + TAKE_PAIR (the principal), each to a fresh recipient whose balances then
say, to the wei, what was paid (no gas muddles a native ETH balance that way).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from bot.devchain.v4 import (
    NATIVE,
    PoolKey,
    UniswapV4,
    V4Minted,
    V4World,
    decrease,
    deploy_v4,
    take_pair,
)
from tests.support.anvil import ChainWorld, start_world

RECIPIENT = "0x00000000000000000000000000000000000f4E45"  # holds nothing until paid


@dataclass
class V4ChainWorld:
    """A running anvil with the v3 world (`base`) and v4 (`v4`) deployed."""

    base: ChainWorld
    v4: V4World
    uni: UniswapV4
    deploy_s: float  # deploying v4 and minting, swapping, burning in it

    @property
    def url(self) -> str:
        return self.base.url

    @contextmanager
    def reverted(self) -> Iterator[None]:
        with self.base.reverted():
            yield

    def balances(self, key: PoolKey, holder: str) -> tuple[int, int]:
        w3 = self.base.chain.w3
        out = []
        for currency in key[:2]:
            if currency == NATIVE:
                out.append(int(w3.eth.get_balance(holder)))  # type: ignore[arg-type]
            else:
                token = self.base.chain.contract("ERC20", currency)
                out.append(int(token.functions.balanceOf(holder).call()))
        return out[0], out[1]

    def _paid(self, minted: V4Minted, liquidity: int) -> tuple[int, int]:
        before = self.balances(minted.key, RECIPIENT)
        actions = [decrease(minted.token_id, liquidity), take_pair(minted.key, RECIPIENT)]
        self.uni.modify(actions, minted.owner)
        after = self.balances(minted.key, RECIPIENT)
        return after[0] - before[0], after[1] - before[1]

    def removal(self, minted: V4Minted) -> tuple[tuple[int, int], tuple[int, int]]:
        """(fees, amounts) the owner is paid collecting, then removing all liquidity now."""
        posm = self.uni.position_manager.functions
        with self.reverted():
            liquidity = int(posm.getPositionLiquidity(minted.token_id).call())
            fees = self._paid(minted, 0)
            amounts = self._paid(minted, liquidity)
        return fees, amounts


@contextmanager
def start_v4_world() -> Iterator[V4ChainWorld]:
    """Anvil, the v3 world, then v4 next to it; everything stopped on exit."""
    with start_world() as base:
        started = time.perf_counter()
        v4 = deploy_v4(base.chain, base.world.tokens)
        deploy_s = time.perf_counter() - started
        yield V4ChainWorld(base, v4, UniswapV4.at(base.chain, v4), deploy_s)


@pytest.fixture(scope="session")
def v4_session() -> Iterator[V4ChainWorld]:
    with start_v4_world() as world:
        yield world


@pytest.fixture
def v4_world(v4_session: V4ChainWorld) -> Iterator[V4ChainWorld]:
    with v4_session.reverted():
        yield v4_session
