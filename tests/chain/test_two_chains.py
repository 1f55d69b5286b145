"""Two chains read as one book: each at its own block, exact to the unit on each, O(1)
requests per chain per tick, and one chain down does not stop reading the other."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot import exposure
from bot.chain.multi_chain import MultiChainReader
from bot.chain.reader import ChainReader, ChainReaderConfig
from bot.domain.lp import ChainSnapshot, PoolKind
from bot.domain.market import AssetMap
from bot.errors import ChainUnavailable, InputError
from tests.chain.servers import CountingProxy
from tests.chain.two_chains import OTHER_CHAIN_ID, TwoChains
from tests.support.anvil import ACCOUNTS, ChainWorld
from tests.support.v4 import V4ChainWorld

pytestmark = pytest.mark.chain


def reader(cw: ChainWorld, name: str, url: str | None = None, **kw: object) -> ChainReader:
    values: dict[str, object] = {
        "rpc_urls": (url or cw.url,),
        "chain_id": int(cw.anvil.chain_id),
        "position_manager": cw.world.position_manager,
        "token_ids": tuple(p.token_id for p in cw.world.positions),
        "name": name,
        "timeout_s": 2.0,
    }
    values.update(kw)
    return ChainReader(ChainReaderConfig(**values))  # type: ignore[arg-type]


def both(tc: TwoChains, urls: Sequence[str | None] = (None, None)) -> MultiChainReader:
    return MultiChainReader(
        [
            reader(tc.a, "main", urls[0]),
            reader(tc.b, "base", urls[1], token_ids=(), owners=(ACCOUNTS[1],)),
        ]
    )


def assert_exact(cw: ChainWorld, snap: ChainSnapshot, name: str) -> int:
    """Every position of chain `name` equals what its contracts pay at that chain's block."""
    (head,) = [h for h in snap.chains if h.name == name]
    mine = [p for p in snap.positions if p.chain == name]
    for p in mine:
        token_id = int(p.position_id)
        assert (p.amount0_raw, p.amount1_raw) == cw.static_decrease(
            token_id, p.owner, head.block_number
        ), (name, token_id)
        assert (p.fees0_raw, p.fees1_raw) == cw.static_collect(
            token_id, p.owner, head.block_number
        ), (name, token_id)
    return len(mine)


async def test_each_chain_at_its_own_block_exact_to_the_unit(two_chains: TwoChains) -> None:
    tc = two_chains
    for _ in range(5):  # chain B runs ahead: its block numbers differ from chain A's
        tc.b.chain.rpc("evm_mine")
    async with both(tc) as multi:
        snap = await multi.read()
    assert snap.errors == () and snap.unread == ()
    heads = {h.name: h for h in snap.chains}
    assert (heads["main"].chain_id, heads["base"].chain_id) == (31337, OTHER_CHAIN_ID)
    assert heads["main"].block_number == tc.a.block_number()
    assert heads["base"].block_number == tc.b.block_number() != heads["main"].block_number
    assert assert_exact(tc.a, snap, "main") == 16
    assert assert_exact(tc.b, snap, "base") == sum(
        1 for p in tc.b.world.positions if p.owner == ACCOUNTS[1]
    )
    # the same token id on both chains: two positions, other pools, other amounts
    a1 = next(p for p in snap.positions if p.chain == "main" and p.position_id == "4")
    b1 = next(p for p in snap.positions if p.chain == "base" and p.position_id == "4")
    assert a1.pool.address != b1.pool.address and a1.amount1_raw != b1.amount1_raw


async def test_the_book_nets_both_chains_per_asset(two_chains: TwoChains) -> None:
    async with both(two_chains) as multi:
        snap = await multi.read()
    book = exposure.book(snap, AssetMap())
    for asset in ("ETH", "BTC"):
        per_chain = [
            sum(
                (e.deltas.get(asset, 0) for e in book.positions if e.chain == name),
                start=book.delta(asset) * 0,
            )
            for name in ("main", "base")
        ]
        assert all(d > 0 for d in per_chain), asset
        assert book.delta(asset) == sum(per_chain)


async def test_v3_on_one_chain_and_v3_plus_v4_on_the_other_are_exact_and_net(
    two_chains: TwoChains, other_v4: V4ChainWorld
) -> None:
    """Chain 8453 holds v3 and v4 positions (native ETH among them), chain 31337 v3 only:
    each position equals what its contracts pay at its chain's block, and ETH is one row."""
    v4_ids = tuple(m.token_id for m in other_v4.v4.positions)
    multi = MultiChainReader(
        [
            reader(two_chains.a, "main"),
            reader(
                two_chains.b,
                "base",
                v4_position_manager=other_v4.v4.position_manager,
                v4_state_view=other_v4.v4.state_view,
                v4_token_ids=v4_ids,
            ),
        ]
    )
    async with multi:
        snap = await multi.read()
    assert snap.errors == ()
    v4 = [p for p in snap.positions if p.kind is PoolKind.V4]
    assert {p.chain for p in v4} == {"base"} and len(v4) == len(v4_ids)
    minted = {f"v4:{m.token_id}": m for m in other_v4.v4.positions}
    for p in v4:
        fees, amounts = other_v4.removal(minted[p.position_id])
        assert ((p.fees0_raw, p.fees1_raw), (p.amount0_raw, p.amount1_raw)) == (fees, amounts)
    v3_a = [p for p in snap.positions if p.chain == "main"]
    v3_b = [p for p in snap.positions if p.chain == "base" and p.kind is PoolKind.V3]
    assert v3_a and v3_b
    assert assert_exact(two_chains.a, snap, "main") == len(v3_a)
    book = exposure.book(snap, AssetMap())
    eth = [e for e in book.positions if "ETH" in e.deltas]
    protocol = {(p.chain, p.position_id): p.protocol for p in snap.positions}
    assert {(e.chain, protocol[e.chain, e.position_id]) for e in eth} >= {
        ("main", "uniswap_v3"),
        ("base", "uniswap_v3"),
        ("base", "uniswap_v4"),
    }
    assert book.delta("ETH") == sum((e.deltas["ETH"] for e in eth), start=book.delta("ETH") * 0)


async def test_one_request_per_chain_per_steady_tick(two_chains: TwoChains) -> None:
    tc = two_chains
    async with (
        CountingProxy(tc.a.url) as pa,
        CountingProxy(tc.b.url) as pb,
        both(tc, (pa.url, pb.url)) as multi,
    ):
        await multi.read()
        # cold: the depth of the dependencies (by owner two more: balanceOf, token ids)
        assert (pa.requests, pb.requests) == (3, 5)
        for _ in range(3):
            pa.reset()
            pb.reset()
            tc.a.chain.rpc("evm_mine")
            tc.b.chain.rpc("evm_mine")
            snap = await multi.read()
            assert (pa.requests, pb.requests) == (1, 1)
    assert {h.block_number for h in snap.chains} == {tc.a.block_number(), tc.b.block_number()}


async def test_an_unreachable_chain_is_reported_and_the_other_still_read(
    two_chains: TwoChains,
) -> None:
    tc = two_chains
    async with CountingProxy(tc.b.url) as pb, both(tc, (None, pb.url)) as multi:
        first = await multi.read()
        pb.down = True
        snap = await multi.read()
        (down,) = snap.unread
        assert down.name == "base" and down.chain_id == OTHER_CHAIN_ID
        assert "no RPC endpoint answered" in (down.error or "")
        assert down.last_seen == tuple(p for p in first.positions if p.chain == "base")
        assert {p.chain for p in snap.positions} == {"main"}
        assert assert_exact(tc.a, snap, "main") == 16
        pb.down = False
        again = await multi.read()
        assert again.unread == () and {p.chain for p in again.positions} == {"main", "base"}


async def test_no_chain_readable_fails_the_read(two_chains: TwoChains) -> None:
    tc = two_chains
    async with CountingProxy(tc.a.url) as pa, CountingProxy(tc.b.url) as pb:
        pa.down = pb.down = True
        async with both(tc, (pa.url, pb.url)) as multi:
            with pytest.raises(ChainUnavailable, match=r"chain main: .*; chain base: "):
                await multi.read()


async def test_a_block_number_is_refused_across_chains(two_chains: TwoChains) -> None:
    async with both(two_chains) as multi:
        with pytest.raises(InputError, match="block numbers are per chain"):
            await multi.read(block=1)
