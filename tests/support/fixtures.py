"""pytest fixtures for chain tests: one anvil + Uniswap deployment per session.

`chain_world` is what tests use: each test starts from the deployed state and the chain
is reverted afterwards, so tests are independent and need no redeploy.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.anvil import ChainWorld, start_world


@pytest.fixture(scope="session")
def uniswap_world() -> Iterator[ChainWorld]:
    with start_world() as world:
        yield world


@pytest.fixture
def chain_world(uniswap_world: ChainWorld) -> Iterator[ChainWorld]:
    with uniswap_world.reverted():
        yield uniswap_world
