"""Without Multicall3 (a fresh anvil has none) the reader falls back to one JSON-RPC batch
of plain eth_calls per round, pinned to one block: the same snapshot, O(1) requests, and
one warning line per process."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from bot.chain import multicall
from bot.chain.multicall import MULTICALL3_ADDRESS
from bot.chain.reader import ChainReader
from bot.devchain.anvil import rpc
from bot.domain.lp import ChainSnapshot, PoolKind
from bot.errors import ConfigError
from tests.chain.servers import CountingProxy
from tests.chain.test_v3_positions import assert_matches_contracts, config
from tests.support.anvil import ACCOUNTS, ChainWorld

pytestmark = pytest.mark.chain


def remove_multicall(cw: ChainWorld) -> None:
    """What a fresh anvil looks like: no code at the canonical Multicall3 address."""
    rpc(cw.url, "anvil_setCode", [MULTICALL3_ADDRESS, "0x"])
    assert rpc(cw.url, "eth_getCode", [MULTICALL3_ADDRESS, "latest"]) == "0x"


def everything(cw: ChainWorld, **overrides: object) -> dict[str, object]:
    """Every kind of item: NFT ids (one burned, one never minted), owners, a v2 pair."""
    ids = tuple(p.token_id for p in cw.world.positions)
    values: dict[str, object] = {
        "token_ids": (*ids, cw.burned_token_id, 999_999),
        "owners": (ACCOUNTS[1],),
        "v2_pairs": (cw.world.v2_pairs["USDC/WETH v2"],),
    }
    return values | overrides


async def read_all(cw: ChainWorld, **overrides: object) -> tuple[ChainSnapshot, bool]:
    async with ChainReader(config(cw, **everything(cw, **overrides))) as reader:
        snap = await reader.read()
        return snap, reader.uses_multicall


async def test_batch_read_equals_the_multicall_read(chain_world: ChainWorld) -> None:
    with_multicall, used = await read_all(chain_world)
    assert used
    remove_multicall(chain_world)  # no new block: the same state but for the multicall
    without, used = await read_all(chain_world)
    assert not used
    assert without == with_multicall  # block, timestamp, every position and error
    assert len(without.positions) == 16 + 1  # the NFTs and ACCOUNTS[1]'s v2 LP tokens
    assert {e.item for e in without.errors} == {
        f"position {chain_world.burned_token_id}",
        "position 999999",
    }
    v3 = tuple(p for p in without.positions if p.kind is PoolKind.V3)
    assert_matches_contracts(chain_world, replace(without, positions=v3))


async def test_an_address_without_code_falls_back_too(chain_world: ChainWorld) -> None:
    expected, _ = await read_all(chain_world)
    snap, used = await read_all(chain_world, multicall_address=ACCOUNTS[3])
    assert not used and snap == expected


async def test_batch_reads_are_pinned_to_one_block(chain_world: ChainWorld) -> None:
    remove_multicall(chain_world)
    tokens = chain_world.world.tokens
    async with ChainReader(config(chain_world)) as reader:
        before = await reader.read()
        chain_world.swap(tokens["USDC"], tokens["WETH"], 500, 30_000 * 10**6)
        after = await reader.read()
        again = await reader.read(block=before.block_number)
        assert not reader.uses_multicall
    assert after.block_number > before.block_number
    assert after.block_timestamp >= before.block_timestamp
    assert after.positions != before.positions
    assert again == before
    assert_matches_contracts(chain_world, after)


async def requests_per_read(cw: ChainWorld, n: int) -> tuple[int, int, int]:
    """HTTP requests through a counting proxy: cold read, then each warm read; and the
    JSON-RPC calls a warm read sends."""
    ids = tuple(p.token_id for p in cw.world.positions)[:n]
    async with (
        CountingProxy(cw.url) as proxy,
        ChainReader(config(cw, rpc_urls=(proxy.url,), token_ids=ids)) as reader,
    ):
        snap = await reader.read()
        assert len(snap.positions) == n
        cold = proxy.requests
        assert reader.stats.http_requests == cold  # the reader's counter is honest
        proxy.reset()
        await reader.read()
        await reader.read()
        warm, calls = proxy.requests, proxy.calls
    assert warm % 2 == 0
    return cold, warm // 2, calls // 2


async def test_requests_per_read_do_not_grow_with_positions(chain_world: ChainWorld) -> None:
    with_multicall = {n: await requests_per_read(chain_world, n) for n in (1, 16)}
    remove_multicall(chain_world)
    plain = {n: await requests_per_read(chain_world, n) for n in (1, 16)}
    # multicall: 3 rounds cold, 1 warm. Plain: the aggregate3 that came back empty, its
    # eth_getCode, the latest header and 3 rounds cold; warm: the header and one batch.
    assert [with_multicall[n][:2] for n in (1, 16)] == [(3, 1), (3, 1)]
    assert [plain[n][:2] for n in (1, 16)] == [(6, 2), (6, 2)]
    # the work grows with positions, the requests do not: it all rides in the batch
    assert plain[16][2] > 4 * plain[1][2]
    assert with_multicall[16][2] == with_multicall[1][2] == 1  # one aggregate3 eth_call


async def test_one_warning_per_process(
    chain_world: ChainWorld, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(multicall, "_WARNED_MISSING", set())  # as if the process just began
    remove_multicall(chain_world)
    with caplog.at_level(logging.DEBUG, logger="lphedge.chain"):
        for _reader in range(2):
            async with ChainReader(config(chain_world)) as reader:
                for _tick in range(3):
                    await reader.read()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == ["lphedge.chain"]
    (line,) = (r.getMessage() for r in warnings)
    assert line.startswith(f"Multicall3 is missing at {MULTICALL3_ADDRESS} (chain 31337, ")
    assert "JSON-RPC batch of eth_calls" in line and "\n" not in line


STOP_ONLY = "0x00"  # runtime code that returns nothing to any call
SOME_ADDRESS = "0x00000000000000000000000000000000000c0dE5"


@pytest.mark.parametrize("what", ["a token", "code that returns nothing"])
async def test_a_contract_that_is_no_multicall_names_the_field(
    chain_world: ChainWorld, what: str
) -> None:
    if what == "a token":
        address, why = chain_world.world.tokens["USDC"], "aggregate3 reverted"
    else:
        rpc(chain_world.url, "anvil_setCode", [SOME_ADDRESS, STOP_ONLY])
        address, why = SOME_ADDRESS, "aggregate3 returned nothing"
    with pytest.raises(ConfigError) as caught:
        await read_all(chain_world, multicall_address=address)
    message = str(caught.value)
    assert message.startswith(f"chain.multicall {address}: ") and "not a Multicall3" in message
    assert why in message and "\n" not in message
