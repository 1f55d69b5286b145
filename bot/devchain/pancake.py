"""Deploy PancakeSwap v3 on a dev chain that has the v3 world's tokens: the real npm
PancakeV3Factory, PancakeV3Pool, NonfungiblePositionManager and SwapRouter, with our
`PancakePoolDeployer` (npm ships no build of PancakeV3PoolDeployer) creating pools from the
npm pool code unchanged, so their init code hash is mainnet's and the periphery finds them.

Two pools in PancakeSwap-only fee tiers (USDC/WETH 0.25 %, WETH/DAI 0.01 %), positions in
range, below and above range for two owners, one burned position, and swaps down, up and
down again, so every position earns fees and ends in, below or above its range. The
factory turns on a protocol fee per tier when it creates a pool (slot0.feeProtocol, a
uint32 in PancakeSwap, holds 3200 | 3200 << 16 for 0.25 %, 3300 | 3300 << 16 for 0.01 %),
so the swaps' fees are split as on mainnet. Sync web3 from anvil's unlocked accounts
(test support and demo only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.logs import DISCARD

from bot.devchain.anvil import ACCOUNTS
from bot.devchain.contracts import artifact
from bot.devchain.deploy import (
    DEADLINE,
    MAX_UINT128,
    MAX_UINT256,
    DevChain,
    Minted,
    aligned_tick,
    sqrt_price_x96,
)

# Where the pool's creation code sits as plain code, for PancakePoolDeployer to copy.
POOL_INIT_CODE_HOLDER = "0x0000000000000000000000000000000000003333"
# keccak256 of the npm PancakeV3Pool creation code = PoolAddress.POOL_INIT_CODE_HASH
POOL_INIT_CODE_HASH = "0x6ce8eb472fa82df5469c6ab6d485f17c3ad13c8cd7af59b3d4a8026c5ce0f7e2"
E18 = 10**18


@dataclass(frozen=True, slots=True)
class PancakePoolPlan:
    label: str
    token0: str  # symbol
    token1: str
    fee: int
    step: int  # ticks per range offset unit (a multiple of the tier's tick spacing)
    price_num: int  # token1 raw per token0 raw = num / den
    price_den: int
    amount0: int  # raw amountDesired per position
    amount1: int
    back_down: int = 10  # the last swap sells this many tenths of amount0


POOLS = (
    PancakePoolPlan(
        "USDC/WETH 0.25% pcs", "USDC", "WETH", 2500, 50, E18, 3000 * 10**6, 10**11, 30 * E18
    ),
    PancakePoolPlan(
        "WETH/DAI 0.01% pcs", "WETH", "DAI", 100, 50, 3000, 1, 30 * E18, 10**5 * E18, 13
    ),
)
# (label, owner index, lower and upper offsets from the current tick in steps)
RANGES = (("in", 0, -20, 20), ("below", 1, -60, -8), ("above", 0, 8, 60), ("wide", 1, -400, 400))


@dataclass(frozen=True, slots=True)
class PancakeWorld:
    """Addresses of everything `deploy_pancake` put on the chain (checksummed)."""

    pool_deployer: str
    factory: str
    position_manager: str
    router: str
    pools: Mapping[str, str]  # label -> pool address
    positions: tuple[Minted, ...]
    burned_token_id: int


@dataclass
class PancakeV3:
    """The deployed PancakeSwap v3 contracts plus helpers to create pools, mint and swap."""

    chain: DevChain
    factory: Contract
    npm: Contract
    router: Contract

    @classmethod
    def deploy(cls, chain: DevChain, weth: str) -> PancakeV3:
        chain.set_code(POOL_INIT_CODE_HOLDER, artifact("PancakeV3Pool").bytecode)
        deployer = chain.deploy("PancakePoolDeployer", POOL_INIT_CODE_HOLDER)
        factory = chain.deploy("PancakeV3Factory", deployer.address)
        chain.receipt(chain.send(deployer.functions.setFactoryAddress(factory.address)))
        # The NPM only calls the descriptor in tokenURI(); any address will do here.
        npm = chain.deploy(
            "PancakeV3NonfungiblePositionManager",
            deployer.address,
            factory.address,
            weth,
            ACCOUNTS[3],
        )
        router = chain.deploy("PancakeV3SwapRouter", deployer.address, factory.address, weth)
        return cls(chain, factory, npm, router)

    @classmethod
    def at(cls, chain: DevChain, world: PancakeWorld) -> PancakeV3:
        return cls(
            chain,
            chain.contract("PancakeV3Factory", world.factory),
            chain.contract("PancakeV3NonfungiblePositionManager", world.position_manager),
            chain.contract("PancakeV3SwapRouter", world.router),
        )

    def fund(self, tokens: Sequence[Contract], owners: Sequence[str] = ACCOUNTS[:2]) -> None:
        """Approve the NPM and the router (the v3 world already gave the owners tokens)."""
        last = b""
        for owner in owners:
            for token in tokens:
                for spender in (self.npm.address, self.router.address):
                    last = self.chain.send(token.functions.approve(spender, MAX_UINT256), owner)
        self.chain.receipt(last)

    def create_pool(self, token0: str, token1: str, fee: int, sqrt_price: int) -> str:
        call = self.npm.functions.createAndInitializePoolIfNecessary(
            token0, token1, fee, sqrt_price
        )
        self.chain.receipt(self.chain.send(call))
        return str(self.factory.functions.getPool(token0, token1, fee).call())

    def mint(self, params: tuple[Any, ...], owner: str) -> int:
        receipt = self.chain.receipt(self.chain.send(self.npm.functions.mint(params), owner))
        events = self.npm.events.IncreaseLiquidity().process_receipt(receipt, errors=DISCARD)
        return int(events[0]["args"]["tokenId"])

    def swap(self, token_in: str, token_out: str, fee: int, amount_in: int) -> None:
        """Exact input through the real SwapRouter, from ACCOUNTS[0], no price limit."""
        params = (token_in, token_out, fee, ACCOUNTS[0], DEADLINE, amount_in, 0, 0)
        self.chain.receipt(self.chain.send(self.router.functions.exactInputSingle(params)))

    def tick(self, pool: str) -> int:
        return int(self.chain.contract("PancakeV3Pool", pool).functions.slot0().call()[1])

    def burn(self, token_id: int, owner: str) -> None:
        liquidity = self.npm.functions.positions(token_id).call()[7]
        npm, chain = self.npm.functions, self.chain
        chain.send(npm.decreaseLiquidity((token_id, liquidity, 0, 0, DEADLINE)), owner)
        chain.send(npm.collect((token_id, owner, MAX_UINT128, MAX_UINT128)), owner)
        chain.receipt(chain.send(npm.burn(token_id), owner))


def _mint_ranges(
    pcs: PancakeV3, plan: PancakePoolPlan, addr: Mapping[str, str], pool: str
) -> list[Minted]:
    tick = aligned_tick(pcs.tick(pool), plan.step)
    minted = []
    for label, owner_index, low, high in RANGES:
        owner = ACCOUNTS[owner_index]
        ticks = (tick + low * plan.step, tick + high * plan.step)
        params: tuple[Any, ...] = (addr[plan.token0], addr[plan.token1], plan.fee, *ticks)
        params += (plan.amount0, plan.amount1, 0, 0, owner, DEADLINE)
        token_id = pcs.mint(params, owner)
        minted.append(Minted(token_id, f"{plan.label} {label}", owner, pool, plan.fee, *ticks))
    return minted


def deploy_pancake(chain: DevChain, addr: Mapping[str, str]) -> PancakeWorld:
    """Deploy PancakeSwap v3 next to the v3 world (`addr`: its tokens, symbol -> address,
    with USDC, WETH and DAI, which both owners already hold)."""
    pcs = PancakeV3.deploy(chain, addr["WETH"])
    pcs.fund([chain.contract("ERC20", addr[symbol]) for symbol in ("USDC", "WETH", "DAI")])
    pools: dict[str, str] = {}
    minted: list[Minted] = []
    for plan in POOLS:
        price = sqrt_price_x96(plan.price_num, plan.price_den)
        pool = pcs.create_pool(addr[plan.token0], addr[plan.token1], plan.fee, price)
        pools[plan.label] = pool
        minted += _mint_ranges(pcs, plan, addr, pool)
    for plan in POOLS:  # down into the lower ranges, up into the upper ones, back down
        token0, token1 = addr[plan.token0], addr[plan.token1]
        pcs.swap(token0, token1, plan.fee, plan.amount0 * 12 // 10)
        pcs.swap(token1, token0, plan.fee, plan.amount1 * 25 // 10)
        pcs.swap(token0, token1, plan.fee, plan.amount0 * plan.back_down // 10)
    first = POOLS[0]
    tick = aligned_tick(pcs.tick(pools[first.label]), first.step)
    owner = ACCOUNTS[0]
    params = (addr[first.token0], addr[first.token1], first.fee, tick - 600, tick + 600)
    burned = pcs.mint((*params, 10**6, 10**15, 0, 0, owner, DEADLINE), owner)
    pcs.burn(burned, owner)
    return PancakeWorld(
        pool_deployer=str(pcs.factory.functions.poolDeployer().call()),
        factory=pcs.factory.address,
        position_manager=pcs.npm.address,
        router=pcs.router.address,
        pools=pools,
        positions=tuple(minted),
        burned_token_id=burned,
    )
