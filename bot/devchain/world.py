"""The standard dev-chain scenario shared by the chain tests, the bench and the demo.

`deploy_world(url)` deploys Uniswap v3 (+ a v2 pair), puts our Multicall3-compatible
contract at the canonical address, creates four pools in all three fee tiers and both
orientations (USDC(6)/WETH, WETH/WBTC(8), WETH/DAI(18)), mints positions in range, below
and above range for two owners, burns one, and swaps both ways so fees accrue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from bot.devchain.anvil import ACCOUNTS
from bot.devchain.contracts import artifact
from bot.devchain.deploy import (
    DEADLINE,
    MAX_UINT128,
    MULTICALL3_ADDRESS,
    TICK_SPACING,
    DevChain,
    Minted,
    Uniswap,
    UniswapWorld,
    aligned_tick,
    current_tick,
    deploy_token_on_side,
    sqrt_price_x96,
)


@dataclass(frozen=True, slots=True)
class PoolPlan:
    label: str
    token0: str  # symbol
    token1: str
    fee: int
    price_num: int  # token1 raw per token0 raw = num / den
    price_den: int
    amount0: int  # raw amountDesired per position
    amount1: int


E18 = 10**18
POOLS = (
    PoolPlan("USDC/WETH 0.05%", "USDC", "WETH", 500, E18, 3000 * 10**6, 100_000 * 10**6, 30 * E18),
    PoolPlan("USDC/WETH 0.3%", "USDC", "WETH", 3000, E18, 2990 * 10**6, 50_000 * 10**6, 20 * E18),
    PoolPlan("WETH/WBTC 0.3%", "WETH", "WBTC", 3000, 5 * 10**6, E18, 30 * E18, 15 * 10**7),
    PoolPlan("WETH/DAI 1%", "WETH", "DAI", 10000, 3000, 1, 30 * E18, 100_000 * E18),
)
# (label, owner index, lower and upper offsets from the current tick in tick spacings)
RANGES = (
    ("in", 0, -20, 20),
    ("below", 1, -60, -8),
    ("above", 0, 8, 60),
    ("wide", 1, -400, 400),
)


def deploy_tokens(chain: DevChain, uni: Uniswap) -> dict[str, Contract]:
    weth = uni.weth.address
    return {
        "WETH": uni.weth,
        "USDC": deploy_token_on_side(chain, "USDC", 6, other=weth, below=True),
        "WBTC": deploy_token_on_side(chain, "WBTC", 8, other=weth, below=False),
        "DAI": deploy_token_on_side(chain, "DAI", 18, other=weth, below=False),
    }


def mint_ranges(uni: Uniswap, plan: PoolPlan, addr: Mapping[str, str], pool: str) -> list[Minted]:
    spacing = TICK_SPACING[plan.fee]
    tick = aligned_tick(current_tick(uni.chain, pool), spacing)
    minted = []
    for label, owner_index, low, high in RANGES:
        owner = ACCOUNTS[owner_index]
        ticks = (tick + low * spacing, tick + high * spacing)
        params: tuple[Any, ...] = (addr[plan.token0], addr[plan.token1], plan.fee, *ticks)
        params += (plan.amount0, plan.amount1, 0, 0, owner, DEADLINE)
        token_id = uni.mint(params, owner)
        minted.append(Minted(token_id, f"{plan.label} {label}", owner, pool, plan.fee, *ticks))
    return minted


def swap_both_ways(uni: Uniswap, plan: PoolPlan, addr: Mapping[str, str]) -> None:
    """Down through the lower ranges, then further up: fees accrue to most positions."""
    uni.swap(addr[plan.token0], addr[plan.token1], plan.fee, plan.amount0 * 3 // 10)
    uni.swap(addr[plan.token1], addr[plan.token0], plan.fee, plan.amount1 * 4 // 10)


def burn_one(uni: Uniswap, plan: PoolPlan, addr: Mapping[str, str], pool: str) -> int:
    """Mint, empty and burn a position: its id then names no position (`Invalid token ID`)."""
    tick = aligned_tick(current_tick(uni.chain, pool), TICK_SPACING[plan.fee])
    owner = ACCOUNTS[0]
    params = (addr[plan.token0], addr[plan.token1], plan.fee, tick - 600, tick + 600)
    token_id = uni.mint((*params, 10**6, 10**15, 0, 0, owner, DEADLINE), owner)
    liquidity = uni.npm.functions.positions(token_id).call()[7]
    npm, chain = uni.npm.functions, uni.chain
    chain.send(npm.decreaseLiquidity((token_id, liquidity, 0, 0, DEADLINE)), owner)
    chain.send(npm.collect((token_id, owner, MAX_UINT128, MAX_UINT128)), owner)
    chain.receipt(chain.send(npm.burn(token_id), owner))
    return token_id


def deploy_v2(chain: DevChain, tokens: dict[str, Contract]) -> tuple[str, dict[str, str]]:
    """A v2 USDC/WETH pair with two LPs, then one swap so reserves move off the mint ratio."""
    factory = chain.deploy("UniswapV2Factory", ACCOUNTS[0])
    usdc, weth = tokens["USDC"], tokens["WETH"]
    chain.receipt(chain.send(factory.functions.createPair(usdc.address, weth.address)))
    pair = chain.contract(
        "UniswapV2Pair", factory.functions.getPair(usdc.address, weth.address).call()
    )
    for owner, scale in ((ACCOUNTS[0], 3), (ACCOUNTS[1], 1)):
        chain.send(usdc.functions.transfer(pair.address, scale * 100_000 * 10**6), owner)
        chain.send(weth.functions.transfer(pair.address, scale * 33 * E18), owner)
        chain.send(pair.functions.mint(owner), owner)
    reserve0, reserve1, _ = pair.functions.getReserves().call()
    amount_in = 10_000 * 10**6  # USDC (token0) in, WETH out, with the 0.3 % fee
    out = amount_in * 997 * reserve1 // (reserve0 * 1000 + amount_in * 997)
    chain.send(usdc.functions.transfer(pair.address, amount_in))
    chain.receipt(chain.send(pair.functions.swap(0, out, ACCOUNTS[0], b"")))
    return factory.address, {"USDC/WETH v2": pair.address}


def deploy_world(url: str) -> tuple[UniswapWorld, int]:
    """Deploy the scenario; returns the world and the id of a burned position."""
    chain = DevChain(url)
    try:
        chain.set_code(MULTICALL3_ADDRESS, artifact("BlockCalls").deployed_bytecode)
        uni = Uniswap.deploy(chain)
        tokens = deploy_tokens(chain, uni)
        uni.fund(list(tokens.values()))
        addr = {symbol: token.address for symbol, token in tokens.items()}
        pools: dict[str, str] = {}
        minted: list[Minted] = []
        for plan in POOLS:
            price = sqrt_price_x96(plan.price_num, plan.price_den)
            pool = uni.create_pool(addr[plan.token0], addr[plan.token1], plan.fee, price)
            pools[plan.label] = pool
            minted += mint_ranges(uni, plan, addr, pool)
        for plan in POOLS:
            swap_both_ways(uni, plan, addr)
        burned = burn_one(uni, POOLS[0], addr, pools[POOLS[0].label])
        v2_factory, v2_pairs = deploy_v2(chain, tokens)
        batch_sender = chain.deploy("BatchSender")
        world = UniswapWorld(
            url=url,
            deployer=ACCOUNTS[0],
            factory=uni.factory.address,
            position_manager=uni.npm.address,
            router=uni.router.address,
            weth=uni.weth.address,
            tokens=addr,
            pools=pools,
            positions=tuple(minted),
            v2_factory=v2_factory,
            v2_pairs=v2_pairs,
            batch_sender=batch_sender.address,
        )
        return world, burned
    finally:
        chain.close()
