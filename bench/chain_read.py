"""Benchmark: read 1, 100 and 1,000 v3 positions (over 12 pools) on anvil per tick.

Prints HTTP requests, eth_calls and milliseconds per tick (median of warm ticks, a new
block before each) for `ChainReader` beside a naive reader that sends one `eth_call`
per view function. Target: 1,000 positions in <= 3 requests and < 150 ms per tick.

Then 1,000 positions over two chains and both protocols at once (two anvil nodes, chain ids
31337 and 8453, read concurrently by `MultiChainReader`): 500 v3 on one, 250 v3 and 250
Uniswap v4 on the other; requests per tick per chain (target <= 3) and ms per tick.
`python -m bench.chain_read --two-chains` runs only that part.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.amm.liquidity_amounts import position_amounts
from bot.amm.position_fees import fee_growth_inside, uncollected_fees
from bot.chain.abi import view
from bot.chain.multi_chain import MultiChainReader
from bot.chain.reader import ChainReader, ChainReaderConfig
from bot.chain.rpc import RpcClient
from bot.devchain.anvil import ACCOUNTS, Anvil, rpc
from bot.devchain.deploy import (
    DEADLINE,
    MAX_UINT128,
    MAX_UINT256,
    TICK_SPACING,
    DevChain,
    Uniswap,
    UniswapWorld,
    aligned_tick,
    current_tick,
    sqrt_price_x96,
)
from bot.devchain.v4 import V4World
from bot.devchain.world import deploy_world

SIZES = (1, 100, 1000)
WARM_TICKS = 7
MINTS_PER_TX = 40
# extra pools on top of the world's four: (token0, token1, fee, price num, price den)
EXTRA_POOLS = (
    ("USDC", "WETH", 10000, 10**18, 3000 * 10**6),
    ("WETH", "WBTC", 500, 5 * 10**6, 10**18),
    ("WETH", "WBTC", 10000, 5 * 10**6, 10**18),
    ("WETH", "DAI", 500, 3000, 1),
    ("WETH", "DAI", 3000, 3000, 1),
    ("USDC", "DAI", 500, 10**12, 1),
    ("USDC", "DAI", 3000, 10**12, 1),
    ("USDC", "WBTC", 3000, 10**8, 60000 * 10**6),
)


def _pools(chain: DevChain, world: UniswapWorld) -> list[tuple[str, str, int, str]]:
    """Create the extra pools; returns (token0, token1, fee, pool) for all pools."""
    uni = Uniswap(
        chain,
        chain.contract("UniswapV3Factory", world.factory),
        chain.contract("NonfungiblePositionManager", world.position_manager),
        chain.contract("SwapRouter", world.router),
        chain.contract("WETH9", world.weth),
    )
    t = world.tokens
    pools = []
    for a, b, fee, num, den in EXTRA_POOLS:
        pool = uni.create_pool(t[a], t[b], fee, sqrt_price_x96(num, den))
        pools.append((t[a], t[b], fee, pool))
    factory = uni.factory.functions
    for label in world.pools:
        symbols, tier = label.split(" ")
        fee = {"0.05%": 500, "0.3%": 3000, "1%": 10000}[tier]
        a, b = symbols.split("/")
        pools.append((t[a], t[b], fee, factory.getPool(t[a], t[b], fee).call()))
    return pools


def mint_positions(chain: DevChain, world: UniswapWorld, count: int) -> list[int]:
    """Mint `count` small positions over all pools through BatchSender, 40 per transaction."""
    pools = _pools(chain, world)
    sender = chain.contract("BatchSender", world.batch_sender)
    npm = chain.contract("NonfungiblePositionManager", world.position_manager)
    setup = []
    for symbol, address in world.tokens.items():
        token = chain.contract("TestToken" if symbol != "WETH" else "WETH9", address)
        setup.append((address, token.encode_abi("approve", [npm.address, MAX_UINT256])))
        if symbol != "WETH":
            setup.append((address, token.encode_abi("mint", [sender.address, 10**40])))
    weth = chain.contract("WETH9", world.weth)
    chain.send(weth.functions.transfer(sender.address, 1_000 * 10**18))
    chain.receipt(chain.send(sender.functions.run(setup)))
    rng = random.Random(7)
    first_id = npm.functions.totalSupply().call() + 2  # ids so far + the burned one
    calls = []
    for i in range(count):
        token0, token1, fee, pool = pools[i % len(pools)]
        spacing = TICK_SPACING[fee]
        tick = aligned_tick(current_tick(chain, pool), spacing)
        lower = tick - spacing * rng.randint(-30, 60)
        upper = max(lower + spacing, tick + spacing * rng.randint(-30, 60))
        params = (token0, token1, fee, lower, upper, 10**9, 10**9, 0, 0, ACCOUNTS[i % 4], DEADLINE)
        calls.append((npm.address, npm.encode_abi("mint", [params])))
    hashes = [
        chain.w3.eth.send_transaction(
            {
                "from": ACCOUNTS[0],
                "to": sender.address,
                "gas": 29_000_000,
                "data": sender.encode_abi("run", [calls[i : i + MINTS_PER_TX]]),
            }
        )
        for i in range(0, count, MINTS_PER_TX)
    ]
    for tx_hash in hashes:
        chain.receipt(bytes(tx_hash))
    return list(range(first_id, first_id + count))


@dataclass(frozen=True)
class Row:
    reader: str
    positions: int
    cold_requests: int
    requests: float
    eth_calls: float
    ms: float


async def bench_reader(url: str, npm: str, ids: Sequence[int]) -> Row:
    cfg = ChainReaderConfig((url,), 31337, npm, token_ids=tuple(ids))
    async with ChainReader(cfg) as reader:
        snap = await reader.read()
        assert len(snap.positions) == len(ids) and not snap.errors, snap.errors[:3]
        cold = reader.stats.http_requests
        times, requests, calls = [], [], []
        for _ in range(WARM_TICKS):
            rpc(url, "evm_mine")
            before = (reader.stats.http_requests, reader.stats.rpc_calls)
            start = time.perf_counter()
            await reader.read()
            times.append((time.perf_counter() - start) * 1000)
            requests.append(reader.stats.http_requests - before[0])
            calls.append(reader.stats.rpc_calls - before[1])
    return Row(
        "multicall",
        len(ids),
        cold,
        statistics.median(requests),
        statistics.median(calls),
        statistics.median(times),
    )


async def naive_tick(client: RpcClient, npm: str, factory: str, ids: Sequence[int]) -> None:
    """One eth_call per view function, nothing cached: what a first version would do."""

    async def eth_call(target: str, abi: str, fn: str, *args: object) -> tuple[object, ...]:
        data = view(abi, fn).encode(*args)
        raw = await client.call("eth_call", [{"to": target, "data": "0x" + data.hex()}, block])
        return view(abi, fn).decode(bytes.fromhex(raw[2:]))

    block = await client.call("eth_blockNumber", [])
    for token_id in ids:
        f = await eth_call(npm, "position_manager", "positions", token_id)
        await eth_call(npm, "position_manager", "ownerOf", token_id)
        for token in (f[2], f[3]):
            await eth_call(str(token), "erc20", "decimals")
        (pool,) = await eth_call(factory, "v3_factory", "getPool", f[2], f[3], f[4])
        sqrt_price, tick = (await eth_call(str(pool), "v3_pool", "slot0"))[:2]
        (g0,) = await eth_call(str(pool), "v3_pool", "feeGrowthGlobal0X128")
        (g1,) = await eth_call(str(pool), "v3_pool", "feeGrowthGlobal1X128")
        lo = await eth_call(str(pool), "v3_pool", "ticks", f[5])
        hi = await eth_call(str(pool), "v3_pool", "ticks", f[6])
        args = [int(x) for x in (f[5], f[6], tick, g0, g1, lo[2], lo[3], hi[2], hi[3])]
        inside = fee_growth_inside(*args)
        uncollected_fees(int(f[7]), *inside, *(int(x) for x in f[8:12]))  # type: ignore[call-overload]
        position_amounts(int(sqrt_price), int(tick), int(f[5]), int(f[6]), int(f[7]))  # type: ignore[call-overload]


async def bench_naive(url: str, npm: str, factory: str, ids: Sequence[int]) -> Row:
    client = RpcClient((url,), 31337)
    ticks = 1 if len(ids) >= 1000 else 3
    try:
        await client.call("eth_chainId", [])
        cold = client.stats.http_requests
        times = []
        for _ in range(ticks):
            start = time.perf_counter()
            await naive_tick(client, npm, factory, ids)
            times.append((time.perf_counter() - start) * 1000)
        per_tick = (client.stats.http_requests - cold) / ticks
    finally:
        await client.close()
    return Row("naive", len(ids), int(per_tick), per_tick, per_tick, statistics.median(times))


async def run(world: UniswapWorld, ids: list[int]) -> list[Row]:
    rows = []
    for size in SIZES:
        chosen = ids[:size]
        rows.append(await bench_reader(world.url, world.position_manager, chosen))
        rows.append(await bench_naive(world.url, world.position_manager, world.factory, chosen))
    return rows


TWO_CHAIN_IDS = (31337, 8453)
TWO_CHAIN_POSITIONS = 500  # per chain; on the second, half of them Uniswap v4
V4_MINTS_PER_TX = 25


def mint_v4_positions(chain: DevChain, world: UniswapWorld, count: int) -> V4World:
    """Uniswap v4 next to `world`, plus `count` positions of varied ranges in its
    USDC/WETH pool (minted `V4_MINTS_PER_TX` to one modifyLiquidities)."""
    from eth_abi.abi import encode

    from bot.devchain import v4

    v4w = v4.deploy_v4(chain, world.tokens)
    uni = v4.UniswapV4.at(chain, v4w)
    key = v4w.pools[v4.POOLS[0].label]
    spacing = key[3]
    tick = aligned_tick(int(uni.state_view.functions.getSlot0(v4.pool_id(key)).call()[1]), spacing)
    rng = random.Random(4)
    types = ["(address,address,uint24,int24,address)", "int24", "int24", "uint256"]
    types += ["uint128", "uint128", "address", "bytes"]
    ids: list[int] = []
    owner = ACCOUNTS[0]
    while len(ids) < count:
        first = int(uni.position_manager.functions.nextTokenId().call())
        n = min(V4_MINTS_PER_TX, count - len(ids))
        actions = []
        for _ in range(n):
            lo = tick + rng.randint(-300, 10) * spacing
            hi = max(lo + spacing, tick + rng.randint(-10, 300) * spacing)
            args = [key, lo, hi, 10**12, MAX_UINT128, MAX_UINT128, owner, b""]
            actions.append((v4.MINT_POSITION, encode(types, args)))
        actions.append((v4.SETTLE_PAIR, encode(["address"] * 2, key[:2])))
        uni.modify(actions, owner)
        ids += range(first, first + n)
    return replace(
        v4w,
        positions=tuple(v4.V4Minted(i, "bench", owner, v4.POOLS[0].label, key, 0, 0) for i in ids),
    )


@dataclass(frozen=True)
class ChainRow:
    chain: str
    positions: int
    cold_requests: int
    requests: float
    eth_calls: float


async def bench_two_chains(
    worlds: Sequence[tuple[int, UniswapWorld, list[int], V4World | None]],
) -> tuple[list[ChainRow], float]:
    """Warm ticks over both chains (a new block on each before every tick): rows per
    chain, and the median ms per tick for the whole book."""
    readers = [
        ChainReader(
            ChainReaderConfig(
                (w.url,),
                cid,
                w.position_manager,
                token_ids=tuple(ids),
                name=str(cid),
                v4_position_manager=None if v4w is None else v4w.position_manager,
                v4_state_view=None if v4w is None else v4w.state_view,
                v4_token_ids=() if v4w is None else tuple(p.token_id for p in v4w.positions),
            )
        )
        for cid, w, ids, v4w in worlds
    ]
    async with MultiChainReader(readers) as multi:
        snap = await multi.read()
        want = sum(len(ids) + (len(v.positions) if v else 0) for _, _, ids, v in worlds)
        assert len(snap.positions) == want, snap.errors[:3]
        cold = {name: s.http_requests for name, s in multi.stats().items()}
        times: list[float] = []
        per_chain: dict[str, list[tuple[int, int]]] = {name: [] for name in cold}
        for _ in range(WARM_TICKS):
            for _cid, w, _ids, _v4 in worlds:
                rpc(w.url, "evm_mine")
            before = {n: (s.http_requests, s.rpc_calls) for n, s in multi.stats().items()}
            start = time.perf_counter()
            await multi.read()
            times.append((time.perf_counter() - start) * 1000)
            for n, s in multi.stats().items():
                per_chain[n].append((s.http_requests - before[n][0], s.rpc_calls - before[n][1]))
    rows = [
        ChainRow(
            name,
            len(ids) + (len(v4w.positions) if v4w else 0),
            cold[name],
            statistics.median(r for r, _ in per_chain[name]),
            statistics.median(c for _, c in per_chain[name]),
        )
        for (_cid, _w, ids, v4w), name in zip(worlds, per_chain, strict=True)
    ]
    return rows, statistics.median(times)


def two_chains() -> None:
    """Two anvil nodes, the world and TWO_CHAIN_POSITIONS positions on each."""
    started = time.perf_counter()
    with Anvil(chain_id=TWO_CHAIN_IDS[0]) as a, Anvil(chain_id=TWO_CHAIN_IDS[1]) as b:
        worlds = []
        for cid, anvil in zip(TWO_CHAIN_IDS, (a, b), strict=True):
            chain = DevChain(anvil.url)
            try:
                if cid != TWO_CHAIN_IDS[0]:  # other addresses on the other chain
                    chain.rpc("anvil_setNonce", ACCOUNTS[0], hex(40))
                world, _burned = deploy_world(anvil.url)
                v4w = None
                v3_count = TWO_CHAIN_POSITIONS
                if cid != TWO_CHAIN_IDS[0]:
                    v3_count = TWO_CHAIN_POSITIONS // 2
                    v4w = mint_v4_positions(chain, world, TWO_CHAIN_POSITIONS - v3_count)
                ids = mint_positions(chain, world, v3_count)
            finally:
                chain.close()
            worlds.append((cid, world, ids, v4w))
        setup_s = time.perf_counter() - started
        rows, ms = asyncio.run(bench_two_chains(worlds))
    print(
        f"two chains: 2 anvil + deploy + {TWO_CHAIN_POSITIONS} mints each "
        f"(v4 half of them on {TWO_CHAIN_IDS[1]}): {setup_s:.1f} s"
    )
    print(f"{'chain':<8} {'positions':>9} {'cold req':>8} {'req/tick':>8} {'eth_call/tick':>13}")
    for r in rows:
        print(
            f"{r.chain:<8} {r.positions:>9} {r.cold_requests:>8} {r.requests:>8g} "
            f"{r.eth_calls:>13g}"
        )
    total = sum(r.positions for r in rows)
    print(f"both chains, {total} positions, read concurrently: {ms:.1f} ms per tick (median)")


def main() -> None:
    if "--two-chains" in sys.argv[1:]:
        two_chains()
        return
    started = time.perf_counter()
    with Anvil() as anvil:
        world, _burned = deploy_world(anvil.url)
        chain = DevChain(anvil.url)
        try:
            ids = mint_positions(chain, world, max(SIZES))
        finally:
            chain.close()
        setup_s = time.perf_counter() - started
        rows = asyncio.run(run(world, ids))
    print(f"anvil + deploy + {max(SIZES)} mints over 12 pools: {setup_s:.1f} s")
    print(
        f"{'reader':<10} {'positions':>9} {'cold req':>8} {'req/tick':>8} "
        f"{'eth_call/tick':>13} {'ms/tick':>9}"
    )
    for r in rows:
        print(
            f"{r.reader:<10} {r.positions:>9} {r.cold_requests:>8} {r.requests:>8g} "
            f"{r.eth_calls:>13g} {r.ms:>9.1f}"
        )
    print(f"total {time.perf_counter() - started:.1f} s")
    two_chains()


if __name__ == "__main__":
    main()
