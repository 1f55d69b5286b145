"""Failover that an operator can rely on: a hung node costs one `chain.rpc_timeout_s`, a
node on another chain is skipped, and when no URL can serve, one line says why."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

from bot import wiring
from bot.chain.reader import ChainReader
from bot.config import load_settings
from bot.devchain.anvil import Anvil
from bot.errors import ChainUnavailable, ConfigError
from tests.chain.servers import HungServer
from tests.chain.test_v3_positions import config, read
from tests.support.anvil import ChainWorld

pytestmark = pytest.mark.chain

TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def mainnet_id_node() -> Iterator[Anvil]:
    """An empty node that says it is chain 1: what a mainnet URL in a testnet config is."""
    with Anvil(chain_id=1) as node:
        yield node


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_a_hung_rpc_fails_after_one_timeout(chain_world: ChainWorld) -> None:
    async with HungServer() as hung:
        cfg = config(chain_world, rpc_urls=(hung.url,), token_ids=(1,), timeout_s=TIMEOUT_S)
        async with ChainReader(cfg) as reader:
            started = time.monotonic()
            with pytest.raises(ChainUnavailable) as caught:
                await reader.read()
            elapsed = time.monotonic() - started
        assert hung.accepted == 1  # not asked again on each retry: it already hung
    assert elapsed < 2 * TIMEOUT_S  # one timeout (retrying it would take three)
    message = str(caught.value)
    assert "timed out after 1s" in message and "127.0.0.1" in message
    assert "SECRETKEY123" not in message and "\n" not in message


async def test_a_hung_rpc_fails_over_to_the_next_url(
    chain_world: ChainWorld, caplog: pytest.LogCaptureFixture
) -> None:
    expected = await read(chain_world)
    async with HungServer() as hung:
        cfg = config(chain_world, rpc_urls=(hung.url, chain_world.url), timeout_s=TIMEOUT_S)
        with caplog.at_level(logging.WARNING, logger="lphedge.chain"):
            async with ChainReader(cfg) as reader:
                first = await reader.read()
                second = await reader.read()
        assert hung.accepted == 1  # the good URL is kept for the next rounds and reads
    assert first == second == expected
    hung_host = hung.url.split("/v3/")[0]  # the key-like path is shown as "/…"
    assert warnings_of(caplog) == [
        f"RPC switched to {chain_world.url} after {hung_host}/… (timed out after 1s)"
    ]


def test_the_timeout_comes_from_chain_rpc_timeout_s(chain_world: ChainWorld) -> None:
    chain = {"rpc_urls": [chain_world.url], "rpc_timeout_s": 2.5}
    assert wiring.position_source(load_settings(None, {"chain": chain})).rpc.timeout_s == 2.5
    default = load_settings(None, {"chain": {"rpc_urls": [chain_world.url]}})
    assert wiring.position_source(default).rpc.timeout_s == 5.0
    for bad in (0, -1, 121):
        with pytest.raises(ConfigError, match=r"chain\.rpc_timeout_s"):
            load_settings(None, {"chain": {"rpc_timeout_s": bad}})


async def test_a_url_on_another_chain_is_skipped(
    chain_world: ChainWorld, mainnet_id_node: Anvil, caplog: pytest.LogCaptureFixture
) -> None:
    expected = await read(chain_world)
    with caplog.at_level(logging.WARNING, logger="lphedge.chain"):
        snap = await read(chain_world, rpc_urls=(mainnet_id_node.url, chain_world.url))
    assert snap == expected
    (line,) = warnings_of(caplog)
    assert line == (
        f"RPC {mainnet_id_node.url} serves chain id 1, not 31337 (chain.chain_id): skipping it"
    )


async def test_no_url_on_the_expected_chain_is_a_config_error(
    chain_world: ChainWorld, mainnet_id_node: Anvil
) -> None:
    with pytest.raises(ConfigError) as caught:
        await read(chain_world, chain_id=1)
    assert str(caught.value) == (
        f"chain.chain_id: expected 1, got 31337 from {chain_world.url}: "
        "fix chain.chain_id or chain.rpc_urls"
    )
    urls = (mainnet_id_node.url, chain_world.url)
    with pytest.raises(ConfigError, match=r"^chain\.chain_id: expected 5, got 1 from .*, 31337"):
        await read(chain_world, chain_id=5, rpc_urls=urls)
