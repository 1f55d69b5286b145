"""Uniswap v4 positions read through the chain reader equal, to the wei, what the real
PositionManager pays on removal; v4 and v3 positions of one asset net into one row; bad
v4 config is refused naming its field."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from bot import exposure, wiring
from bot.chain.reader import ChainReader, ChainReaderConfig
from bot.chain.v4_positions import native_token
from bot.config import Settings, load_settings
from bot.devchain.v4 import NATIVE, POOLS, pool_id
from bot.domain.lp import ChainSnapshot, PoolKind
from bot.domain.market import AssetMap
from bot.errors import ConfigError
from tests.chain.test_positions_cli import LPHEDGE
from tests.support.anvil import ACCOUNTS
from tests.support.v4 import V4ChainWorld

pytestmark = pytest.mark.chain

NO_CODE = "0x000000000000000000000000000000000000dEaD"


def config(vw: V4ChainWorld, **overrides: object) -> ChainReaderConfig:
    values: dict[str, object] = {
        "rpc_urls": (vw.url,),
        "chain_id": 31337,
        "position_manager": vw.base.world.position_manager,
        "v4_position_manager": vw.v4.position_manager,
        "v4_state_view": vw.v4.state_view,
        "v4_token_ids": tuple(p.token_id for p in vw.v4.positions),
    }
    values.update(overrides)
    return ChainReaderConfig(**values)  # type: ignore[arg-type]


async def read(vw: V4ChainWorld, **overrides: object) -> ChainSnapshot:
    async with ChainReader(config(vw, **overrides)) as reader:
        return await reader.read()


def assert_paid_as_read(vw: V4ChainWorld, snap: ChainSnapshot) -> None:
    """Every v4 position's fees and amounts are what collecting, then removing all of it
    pays, read at the next block (the same state: nothing else is mined)."""
    assert snap.block_number == vw.base.block_number()
    minted = {f"v4:{m.token_id}": m for m in vw.v4.positions}
    for p in snap.positions:
        if p.kind is PoolKind.V4:
            fees, amounts = vw.removal(minted[p.position_id])
            assert (p.fees0_raw, p.fees1_raw) == fees, p.position_id
            assert (p.amount0_raw, p.amount1_raw) == amounts, p.position_id


async def test_amounts_and_fees_equal_what_the_position_manager_pays(
    v4_world: V4ChainWorld,
) -> None:
    snap = await read(v4_world)
    assert snap.errors == ()
    assert len(snap.positions) == len(v4_world.v4.positions) == 8
    assert_paid_as_read(v4_world, snap)
    ps = snap.positions
    assert {(p.kind, p.protocol) for p in ps} == {(PoolKind.V4, "uniswap_v4")}
    assert {p.owner for p in ps} == set(ACCOUNTS[:2])
    pools = {p.pool.address: p.pool for p in ps}
    keys = v4_world.v4.pools
    assert set(pools) == {"0x" + pool_id(k).hex() for k in keys.values()}
    assert {(pool.token0.symbol, pool.token1.symbol, pool.fee) for pool in pools.values()} == {
        ("USDC", "WETH", 500),
        ("ETH", "USDC", 3000),
    }
    native = [pool.token0 for pool in pools.values() if pool.token0.address == NATIVE]
    assert [(t.symbol, t.decimals) for t in native] == [("ETH", 18)]
    assert [p for p in ps if p.pool.tick >= p.tick_upper]  # the range is below the price
    assert [p for p in ps if p.pool.tick < p.tick_lower]  # above it
    assert [p for p in ps if p.in_range]
    assert all(p.fees0_raw > 0 and p.fees1_raw > 0 for p in ps)  # every range was crossed


async def test_still_exact_after_more_swaps_with_native_eth_in(v4_world: V4ChainWorld) -> None:
    uni, keys = v4_world.uni, v4_world.v4.pools
    eth_usdc, usdc_weth = keys[POOLS[1].label], keys[POOLS[0].label]
    uni.swap(eth_usdc, True, 40 * 10**18)  # ETH in: the price falls through every range
    uni.swap(eth_usdc, False, 30_000 * 10**6)
    uni.swap(usdc_weth, False, 50 * 10**18)  # WETH in: above the highest range
    snap = await read(v4_world)
    assert snap.errors == ()
    assert_paid_as_read(v4_world, snap)


async def test_v3_and_v4_positions_of_one_asset_net_into_one_row(v4_world: V4ChainWorld) -> None:
    v3_ids = tuple(p.token_id for p in v4_world.base.world.positions if "USDC/WETH" in p.label)
    snap = await read(v4_world, token_ids=v3_ids)
    assert snap.errors == ()
    by_protocol = {"uniswap_v3": 0, "uniswap_v4": 0}
    for p in snap.positions:
        by_protocol[p.protocol] += 1
    assert by_protocol == {"uniswap_v3": len(v3_ids), "uniswap_v4": 8}
    book = exposure.book(snap, AssetMap())
    assert set(book.assets) == {"ETH"}  # WETH (v3, v4) and native ETH (v4) are one asset
    assert {(e.base, e.quote) for e in book.positions} == {("ETH", "USD")}
    eth = book.assets["ETH"]
    assert eth.positions == len(snap.positions)
    assert eth.delta == sum((e.delta for e in book.positions), Decimal(0))
    v4_delta = sum(e.delta for e in book.positions if e.position_id.startswith("v4:"))
    assert 0 < v4_delta < eth.delta


async def test_a_burned_token_id_is_an_error_naming_the_field(v4_world: V4ChainWorld) -> None:
    burned, first = v4_world.v4.burned_token_id, v4_world.v4.positions[0].token_id
    snap = await read(v4_world, v4_token_ids=(burned, first))
    assert [p.position_id for p in snap.positions] == [f"v4:{first}"]
    (error,) = snap.errors
    assert error.item == f"v4 position {burned}"
    assert "burned or never minted" in error.message and "chain.v4_token_ids" in error.message


async def test_an_owners_v4_positions_are_found_from_transfer_logs(
    v4_world: V4ChainWorld,
) -> None:
    """No ids listed: the owner's v4 NFTs come from the PositionManager's Transfer logs, and
    read exactly as listed ones do; v3 is enumerated as before."""
    owner = ACCOUNTS[1]
    theirs = {f"v4:{m.token_id}" for m in v4_world.v4.positions if m.owner == owner}
    snap = await read(v4_world, owners=(owner,), v4_token_ids=())
    assert snap.errors == ()
    v4 = [p for p in snap.positions if p.kind is PoolKind.V4]
    v3 = [p for p in snap.positions if p.kind is PoolKind.V3]
    assert {p.position_id for p in v4} == theirs and len(theirs) >= 2
    assert {p.owner for p in v3} == {owner} and len(v3) == 8
    assert_paid_as_read(v4_world, snap)


async def test_a_transfer_moves_a_v4_position_between_owners_on_the_next_tick(
    v4_world: V4ChainWorld,
) -> None:
    """The scan follows new blocks only, one eth_getLogs pair a tick: an NFT sent away
    leaves the book, one received joins it, at the block of the transfer."""
    owner, other = ACCOUNTS[1], ACCOUNTS[0]
    mine = [m.token_id for m in v4_world.v4.positions if m.owner == owner]
    async with ChainReader(config(v4_world, owners=(owner,), v4_token_ids=())) as reader:
        first = await reader.read()
        assert {p.position_id for p in first.positions if p.kind is PoolKind.V4} == {
            f"v4:{i}" for i in mine
        }
        posm = v4_world.uni.position_manager.functions
        v4_world.base.chain.send(posm.transferFrom(owner, other, mine[0]), owner)
        requests = reader.stats.http_requests
        second = await reader.read()
        ids = {p.position_id for p in second.positions if p.kind is PoolKind.V4}
        assert ids == {f"v4:{i}" for i in mine[1:]} and second.errors == ()
        # the multicall, one batch of two eth_getLogs, and the read again with the change
        assert reader.stats.http_requests - requests == 3
        v4_world.base.chain.rpc("evm_mine")
        requests = reader.stats.http_requests
        steady = await reader.read()  # a new block, no transfer: two requests
        assert reader.stats.http_requests - requests == 2 and steady.errors == ()
        theirs = [m.token_id for m in v4_world.v4.positions if m.owner == other]
        v4_world.base.chain.send(posm.transferFrom(other, owner, theirs[0]), other)
        third = await reader.read()
        ids = {p.position_id for p in third.positions if p.kind is PoolKind.V4}
        assert f"v4:{theirs[0]}" in ids and f"v4:{mine[0]}" not in ids


async def test_a_scan_that_starts_after_the_mints_is_told_to_start_earlier(
    v4_world: V4ChainWorld,
) -> None:
    owner = ACCOUNTS[1]
    theirs = [m.token_id for m in v4_world.v4.positions if m.owner == owner]
    late = v4_world.base.block_number() + 1
    snap = await read(v4_world, owners=(owner,), v4_token_ids=(theirs[0],), v4_scan_from_block=late)
    assert [p.position_id for p in snap.positions if p.kind is PoolKind.V4] == [f"v4:{theirs[0]}"]
    (error,) = snap.errors
    assert error.item == f"owner {owner}"
    assert f"holds {len(theirs)} Uniswap v4 positions" in error.message
    assert "1 of them listed or found" in error.message
    assert "chain.v4_scan_from_block" in error.message and "chain.v4_token_ids" in error.message


async def test_a_wrong_v4_contract_is_a_config_error_naming_the_field(
    v4_world: V4ChainWorld,
) -> None:
    weth = v4_world.base.world.weth
    with pytest.raises(ConfigError, match=r"^chain\.state_views\.uniswap_v4 0x\w+ on chain "):
        await read(v4_world, v4_state_view=weth)
    npm = v4_world.base.world.position_manager
    with pytest.raises(ConfigError, match=r"^chain\.position_managers\.uniswap_v4 .* not a Uni"):
        await read(v4_world, v4_position_manager=npm)
    elsewhere = v4_world.base.chain.deploy("StateView", ACCOUNTS[3])  # another PoolManager
    with pytest.raises(ConfigError, match=f"reads PoolManager {ACCOUNTS[3]}, but chain"):
        await read(v4_world, v4_state_view=elsewhere.address)
    s = settings(v4_world, state_views={"uniswap_v4": weth})
    with pytest.raises(ConfigError, match=r"^chains\[0\]\.state_views\.uniswap_v4 0x"):
        async with wiring.position_source(s) as source:
            await source.read()


def settings(vw: V4ChainWorld, **entry: object) -> Settings:
    """Only a `[[chains]]` entry, so paths read `chains[0]`."""
    chain: dict[str, object] = {
        "name": "dev",
        "chain_id": 31337,
        "rpc_urls": [vw.url],
        "position_managers": {"uniswap_v4": vw.v4.position_manager},
        "state_views": {"uniswap_v4": vw.v4.state_view},
        "v4_token_ids": [m.token_id for m in vw.v4.positions],
    }
    chain.update(entry)
    return Settings.model_validate({"chains": [chain]})


async def test_requests_per_tick_do_not_grow_with_v4_positions(v4_world: V4ChainWorld) -> None:
    ids = tuple(m.token_id for m in v4_world.v4.positions)
    v3_ids = tuple(p.token_id for p in v4_world.base.world.positions)
    counts = {}
    for label, overrides in {
        "v4 x1": {"v4_token_ids": ids[:1]},
        "v4 x8": {},
        "v4 x8, no Multicall3": {"multicall_address": NO_CODE},
        "v4 x8 + v3 x16": {"token_ids": v3_ids},
    }.items():
        async with ChainReader(config(v4_world, **overrides)) as reader:
            await reader.read()
            cold = reader.stats.http_requests
            await reader.read()
            await reader.read()
            counts[label] = (cold, (reader.stats.http_requests - cold) / 2)
    # two rounds (the PoolKeys, then the pools), a steady tick one request; v3 needs three
    # rounds and v4 rides along. Without Multicall3: aggregate3's empty reply and eth_getCode
    # once, then plain batches, each tick first asking for the latest header to pin them to
    assert counts == {
        "v4 x1": (2, 1),
        "v4 x8": (2, 1),
        "v4 x8, no Multicall3": (5, 2),
        "v4 x8 + v3 x16": (3, 1),
    }


@pytest.mark.parametrize(
    ("chain", "error"),
    [
        (
            "v4_token_ids = [1]\n",
            r"^chain\.position_managers\.uniswap_v4: required with chain\.v4_token_ids",
        ),
        (
            'position_managers = { uniswap_v4 = "0x1111111111111111111111111111111111111111" }\n',
            r"^chain\.state_views\.uniswap_v4: required with chain\.position_",
        ),
        (
            'state_views = { uniswap_v4 = "0x1111111111111111111111111111111111111111" }\n',
            r"^chain\.state_views\.uniswap_v4: given without chain\.position_",
        ),
        (
            'state_views = { uniswap_v3 = "0x1111111111111111111111111111111111111111" }\n',
            r"chain\.state_views: uniswap_v3: not a protocol read yet \(supported: uniswap_v4\)",
        ),
        (
            'position_managers = { uniswap_v4 = "0x1234" }\n',
            r"chain\.position_managers: uniswap_v4 must be a 0x-prefixed 20-byte hex address",
        ),
        ("v4_token_ids = [-1]\n", r"chain\.v4_token_ids: item 0: token id must be a uint256"),
    ],
)
def test_bad_v4_config_is_refused_naming_the_field(tmp_path: Path, chain: str, error: str) -> None:
    path = tmp_path / "lphedge.toml"
    path.write_text(f'[chain]\nchain_id = 1\nrpc_urls = ["http://127.0.0.1:1"]\n{chain}')
    with pytest.raises(ConfigError, match=error):
        load_settings(path)


def test_an_entry_of_chains_names_its_index(tmp_path: Path) -> None:
    path = tmp_path / "lphedge.toml"
    path.write_text(
        '[[chains]]\nname = "base"\nchain_id = 8453\nrpc_urls = ["http://127.0.0.1:1"]\n'
        "v4_token_ids = [7]\n"
    )
    with pytest.raises(ConfigError, match=r"chains\[0\]\.position_managers\.uniswap_v4: req"):
        load_settings(path)


def test_native_coin_is_eth_except_on_chains_whose_coin_is_not() -> None:
    assets = AssetMap()
    assert [assets.asset_of(native_token(c)) for c in (1, 8453, 31337, None)] == ["ETH"] * 4
    assert [assets.asset_of(native_token(c)) for c in (56, 137, 43114)] == ["BNB", "POL", "AVAX"]


@pytest.mark.slow
def test_lphedge_positions_reads_v4_beside_v3(v4_world: V4ChainWorld, tmp_path: Path) -> None:
    cfg = tmp_path / "lphedge.toml"
    v4 = v4_world.v4
    cfg.write_text(
        f"""
[chain]
rpc_urls = ["{v4_world.url}"]
position_manager = "{v4_world.base.world.position_manager}"
token_ids = [1]
position_managers = {{ uniswap_v4 = "{v4.position_manager}" }}
state_views = {{ uniswap_v4 = "{v4.state_view}" }}
v4_token_ids = [{v4.positions[0].token_id}]
"""
    )
    native = v4.positions[4].token_id  # ETH/USDC; the flag replaces the file's list
    argv = [LPHEDGE, "positions", "--config", str(cfg), "--v4-token-id", str(native)]
    runs = [
        subprocess.run(
            [*argv, *extra],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=tmp_path,
            env={**os.environ, "COLUMNS": "200"},
        )
        for extra in (["--json"], [])
    ]
    for done in runs:
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr and "Unclosed" not in done.stderr, done.stderr
    out = json.loads(runs[0].stdout)
    rows = [
        (r["token_id"], r["protocol"], r["kind"], r["token0"]["symbol"]) for r in out["positions"]
    ]
    assert rows == [("1", "uniswap_v3", "v3", "USDC"), (f"v4:{native}", "uniswap_v4", "v4", "ETH")]
    assert out["exposure"]["ETH"]["positions"] == 2
    assert sum("uniswap_v4" in line for line in runs[1].stdout.splitlines()) == 1
