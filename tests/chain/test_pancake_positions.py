"""PancakeSwap v3 positions read through the chain reader equal, to the wei, what the real
PancakeSwap NonfungiblePositionManager pays (static decreaseLiquidity + collect); they ride
in the same batched request and block as Uniswap v3's, net with them into one exposure
row, and bad PancakeSwap config is refused naming its field."""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from bot import exposure, wiring
from bot.chain.reader import ChainReader, ChainReaderConfig
from bot.config import Settings, load_settings
from bot.devchain.contracts import artifact
from bot.devchain.pancake import POOL_INIT_CODE_HASH
from bot.domain.lp import ChainSnapshot, PoolKind
from bot.domain.market import AssetMap
from bot.errors import ConfigError, InputError
from tests.chain.test_positions_cli import LPHEDGE
from tests.support.anvil import ACCOUNTS
from tests.support.pancake import PancakeChainWorld

pytestmark = pytest.mark.chain

PREFIX = "pancakeswap_v3:"


def config(pw: PancakeChainWorld, **overrides: object) -> ChainReaderConfig:
    values: dict[str, object] = {
        "rpc_urls": (pw.url,),
        "chain_id": 31337,
        "position_manager": pw.base.world.position_manager,
        "pancakeswap_v3_position_manager": pw.pancake.position_manager,
        "pancakeswap_v3_token_ids": tuple(m.token_id for m in pw.pancake.positions),
    }
    values.update(overrides)
    return ChainReaderConfig(**values)  # type: ignore[arg-type]


async def read(pw: PancakeChainWorld, **overrides: object) -> ChainSnapshot:
    async with ChainReader(config(pw, **overrides)) as reader:
        return await reader.read()


def assert_paid_as_read(pw: PancakeChainWorld, snap: ChainSnapshot) -> int:
    """Every PancakeSwap position's amounts and fees are what its NPM pays at the block
    read; returns how many were checked."""
    checked = 0
    for p in snap.positions:
        if p.protocol == "pancakeswap_v3":
            token_id = int(p.position_id.removeprefix(PREFIX))
            expected = pw.static_decrease(token_id, p.owner, snap.block_number)
            assert (p.amount0_raw, p.amount1_raw) == expected, p.position_id
            fees = pw.static_collect(token_id, p.owner, snap.block_number)
            assert (p.fees0_raw, p.fees1_raw) == fees, p.position_id
            checked += 1
    return checked


def test_the_npm_pairs_with_the_npm_pool_code() -> None:
    """The periphery build computes pool addresses with mainnet's init code hash; the npm
    pool's creation code hashes to it, so npm core 1.0.2 and periphery 1.0.2 pair."""
    pool_code = bytes.fromhex(artifact("PancakeV3Pool").bytecode[2:])
    assert "0x" + keccak(pool_code).hex() == POOL_INIT_CODE_HASH
    for name in ("PancakeV3NonfungiblePositionManager", "PancakeV3SwapRouter"):
        assert POOL_INIT_CODE_HASH[2:] in artifact(name).bytecode.lower(), name


async def test_amounts_and_fees_equal_what_the_position_manager_pays(
    pancake_world: PancakeChainWorld,
) -> None:
    snap = await read(pancake_world)
    assert snap.errors == ()
    assert len(snap.positions) == len(pancake_world.pancake.positions) == 8
    assert assert_paid_as_read(pancake_world, snap) == 8
    ps = snap.positions
    assert {(p.kind, p.protocol, p.fork) for p in ps} == {
        (PoolKind.V3, "pancakeswap_v3", "pancakeswap_v3")
    }
    assert {p.position_id for p in ps} == {
        f"{PREFIX}{m.token_id}" for m in pancake_world.pancake.positions
    }
    assert {p.owner for p in ps} == set(ACCOUNTS[:2])
    assert {p.manager for p in ps} == {pancake_world.pancake.position_manager}
    pools = {p.pool.address: p.pool for p in ps}
    assert set(pools) == set(pancake_world.pancake.pools.values())
    assert {
        (pool.token0.symbol, pool.token1.symbol, pool.fee, pool.tick_spacing)
        for pool in pools.values()
    } == {
        ("USDC", "WETH", 2500, 50),
        ("WETH", "DAI", 100, 1),
    }
    assert [p for p in ps if p.pool.tick >= p.tick_upper]  # the range is below the price
    assert [p for p in ps if p.pool.tick < p.tick_lower]  # above it
    assert [p for p in ps if p.in_range]
    assert all(p.fees0_raw > 0 and p.fees1_raw > 0 for p in ps)  # every range was crossed


async def test_slot0_fee_protocol_is_a_uint32_above_255(pancake_world: PancakeChainWorld) -> None:
    """PancakeSwap's slot0 has feeProtocol as uint32 (Uniswap: uint8); the factory turns it
    on per tier, and the reader, which reads slot0 word by word, is unmoved by it."""
    chain = pancake_world.base.chain
    for address in pancake_world.pancake.pools.values():
        fee_protocol = chain.contract("PancakeV3Pool", address).functions.slot0().call()[5]
        assert fee_protocol > 255
        assert fee_protocol & 0xFFFF == fee_protocol >> 16 in (3200, 3300)
    snap = await read(pancake_world)
    assert snap.errors == () and assert_paid_as_read(pancake_world, snap) == 8


async def test_still_exact_after_more_swaps(pancake_world: PancakeChainWorld) -> None:
    pcs, tokens = pancake_world.pcs, pancake_world.base.world.tokens
    pcs.swap(tokens["WETH"], tokens["USDC"], 2500, 40 * 10**18)
    pcs.swap(tokens["USDC"], tokens["WETH"], 2500, 30_000 * 10**6)
    pcs.swap(tokens["DAI"], tokens["WETH"], 100, 200_000 * 10**18)
    snap = await read(pancake_world)
    assert snap.errors == ()
    assert assert_paid_as_read(pancake_world, snap) == 8


async def test_an_owners_pancake_nfts_are_enumerated_beside_their_v3_ones(
    pancake_world: PancakeChainWorld,
) -> None:
    owner = ACCOUNTS[1]
    snap = await read(pancake_world, owners=(owner,), pancakeswap_v3_token_ids=())
    assert snap.errors == ()
    pancake = {p.position_id for p in snap.positions if p.protocol == "pancakeswap_v3"}
    uniswap = {p.position_id for p in snap.positions if p.protocol == "uniswap_v3"}
    mine = pancake_world.pancake.positions
    assert pancake == {f"{PREFIX}{m.token_id}" for m in mine if m.owner == owner}
    assert uniswap == {
        str(m.token_id) for m in pancake_world.base.world.positions if m.owner == owner
    }
    assert {p.owner for p in snap.positions} == {owner}
    assert assert_paid_as_read(pancake_world, snap) == 4


async def test_pancake_and_uniswap_positions_of_one_asset_net_into_one_row(
    pancake_world: PancakeChainWorld,
) -> None:
    """Same ids on both managers (both count from 1) stay apart; one block, one request
    a steady tick; USDC/WETH and WETH/DAI on PancakeSwap and USDC/WETH on Uniswap are one
    ETH row."""
    v3 = tuple(p.token_id for p in pancake_world.base.world.positions if "USDC/WETH" in p.label)
    async with ChainReader(config(pancake_world, token_ids=v3)) as reader:
        snap = await reader.read()
        cold = reader.stats.http_requests
        again = await reader.read()
        assert reader.stats.http_requests - cold == 1  # steady tick: one batched request
    assert again == snap and snap.errors == ()
    assert sum(p.protocol == "uniswap_v3" for p in snap.positions) == len(v3)
    assert {"1", f"{PREFIX}1"} <= {p.position_id for p in snap.positions}
    assert assert_paid_as_read(pancake_world, snap) == 8
    book = exposure.book(snap, AssetMap())
    assert set(book.assets) == {"ETH"}
    eth = book.assets["ETH"]
    assert eth.positions == len(snap.positions) == len(v3) + 8
    assert eth.delta == sum((e.delta for e in book.positions), Decimal(0))
    pancake_delta = sum(e.delta for e in book.positions if e.position_id.startswith(PREFIX))
    assert 0 < pancake_delta < eth.delta


async def test_a_burned_id_and_a_wrong_manager_name_the_field(
    pancake_world: PancakeChainWorld,
) -> None:
    burned, first = pancake_world.pancake.burned_token_id, pancake_world.pancake.positions[0]
    snap = await read(pancake_world, pancakeswap_v3_token_ids=(burned, first.token_id))
    assert [p.position_id for p in snap.positions] == [f"{PREFIX}{first.token_id}"]
    (error,) = snap.errors
    assert error.item == f"position {PREFIX}{burned}"
    assert "burned or never minted" in error.message
    weth = pancake_world.base.world.weth
    with pytest.raises(ConfigError, match=r"^chain\.position_managers\.pancakeswap_v3 0x\w+ on"):
        await read(pancake_world, pancakeswap_v3_position_manager=weth)
    with pytest.raises(InputError, match=r"^chain\.position_managers\.pancakeswap_v3: needed"):
        await read(pancake_world, pancakeswap_v3_position_manager=None)


def settings(pw: PancakeChainWorld, **entry: object) -> Settings:
    """Only a `[[chains]]` entry, so paths read `chains[0]`."""
    chain: dict[str, object] = {
        "name": "bsc-dev",
        "chain_id": 31337,
        "rpc_urls": [pw.url],
        "position_managers": {"pancakeswap_v3": pw.pancake.position_manager},
        "owners": [ACCOUNTS[0]],
    }
    chain.update(entry)
    return Settings.model_validate({"chains": [chain]})


async def test_a_pancake_only_chain_reads_no_uniswap_v3(pancake_world: PancakeChainWorld) -> None:
    """Owners on a chain that names only PancakeSwap: Uniswap v3 is not asked at the
    mainnet default address (no code there); naming it reads both."""
    async with wiring.position_source(settings(pancake_world)) as source:
        snap = await source.read()
    assert snap.errors == () and snap.positions
    assert {p.protocol for p in snap.positions} == {"pancakeswap_v3"}
    managers = {"pancakeswap_v3": pancake_world.pancake.position_manager}
    managers["uniswap_v3"] = pancake_world.base.world.position_manager
    async with wiring.position_source(settings(pancake_world, position_managers=managers)) as both:
        snap = await both.read()
    assert {p.protocol for p in snap.positions} == {"pancakeswap_v3", "uniswap_v3"}
    assert assert_paid_as_read(pancake_world, snap) == 4


@pytest.mark.parametrize(
    ("chain", "error"),
    [
        (
            "pancakeswap_v3_token_ids = [1]\n",
            r"^chain\.position_managers\.pancakeswap_v3: required with chain\.pancakeswap_v3_to",
        ),
        (
            'position_managers = { pancakeswap_v3 = "0x1234" }\n',
            r"chain\.position_managers: pancakeswap_v3 must be a 0x-prefixed 20-byte hex address",
        ),
        (
            'position_managers = { pancake_v3 = "0x1111111111111111111111111111111111111111" }\n',
            r"pancake_v3: not a protocol read yet \(supported: uniswap_v3, uniswap_v4, pancakes",
        ),
        (
            "pancakeswap_v3_token_ids = [-1]\n",
            r"chain\.pancakeswap_v3_token_ids: item 0: token id must be a uint256",
        ),
        (
            'staking = { pancakeswap_v3 = "0x1111111111111111111111111111111111111111" }\n',
            r"^chain\.position_managers\.pancakeswap_v3: required with chain\.staking\.pancakes",
        ),
        (
            'staking = { pancakeswap_v3 = "0x1234" }\n',
            r"chain\.staking: pancakeswap_v3 must be a 0x-prefixed 20-byte hex address",
        ),
        (
            'staking = { uniswap_v3 = "0x1111111111111111111111111111111111111111" }\n',
            r"uniswap_v3: not a protocol read yet \(supported: pancakeswap_v3\)",
        ),
    ],
)
def test_bad_pancake_config_is_refused_naming_the_field(
    tmp_path: Path, chain: str, error: str
) -> None:
    path = tmp_path / "lphedge.toml"
    path.write_text(f'[chain]\nchain_id = 1\nrpc_urls = ["http://127.0.0.1:1"]\n{chain}')
    with pytest.raises(ConfigError, match=error):
        load_settings(path)


def test_an_entry_of_chains_names_its_index(tmp_path: Path) -> None:
    path = tmp_path / "lphedge.toml"
    path.write_text(
        '[[chains]]\nname = "bsc"\nchain_id = 56\nrpc_urls = ["http://127.0.0.1:1"]\n'
        "pancakeswap_v3_token_ids = [7]\n"
    )
    with pytest.raises(ConfigError, match=r"chains\[0\]\.position_managers\.pancakeswap_v3: r"):
        load_settings(path)


@pytest.mark.slow
def test_lphedge_positions_reads_pancake_beside_uniswap_v3(
    pancake_world: PancakeChainWorld, tmp_path: Path
) -> None:
    cfg = tmp_path / "lphedge.toml"
    cfg.write_text(
        f"""
[chain]
rpc_urls = ["{pancake_world.url}"]
position_manager = "{pancake_world.base.world.position_manager}"
token_ids = [1]
position_managers = {{ pancakeswap_v3 = "{pancake_world.pancake.position_manager}" }}
"""
    )
    argv = [LPHEDGE, "positions", "--config", str(cfg), "--pancake-token-id", "1", "--json"]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    out = json.loads(done.stdout)
    rows = [(r["token_id"], r["protocol"], r["kind"]) for r in out["positions"]]
    assert rows == [("1", "uniswap_v3", "v3"), (f"{PREFIX}1", "pancakeswap_v3", "v3")]
    assert out["exposure"]["ETH"]["positions"] == 2
