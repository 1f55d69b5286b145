"""Deploy Uniswap v4 on a dev chain that has the v3 world's tokens: the real PoolManager,
PositionManager, StateView and PoolSwapTest from npm and Permit2 at its canonical address;
a USDC/WETH pool and a native ETH/USDC pool (currency0 = address(0)), positions in range,
below and above range for two owners, one burned position, and swaps down, up and down
again, so every position earns fees and ends in range, below or above it.

Positions are minted as a wallet does it: PositionManager.modifyLiquidities with
MINT_POSITION + SETTLE_PAIR (ERC-20s pulled through Permit2; native ETH sent along and the
rest swept back). Sync web3 from anvil's unlocked accounts (test support and demo only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak
from web3.contract import Contract

from bot.amm.liquidity_amounts import get_liquidity_for_amounts
from bot.amm.tick_math import get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio
from bot.devchain.anvil import ACCOUNTS
from bot.devchain.contracts import PERMIT2_ADDRESS, permit2_runtime
from bot.devchain.deploy import DEADLINE, MAX_UINT128, DevChain, aligned_tick, sqrt_price_x96

NATIVE = "0x0000000000000000000000000000000000000000"
MAX_UINT160 = 2**160 - 1
MAX_UINT48 = 2**48 - 1
MIN_SQRT_PRICE_LIMIT = 4295128739 + 1  # TickMath.MIN_SQRT_PRICE + 1: no price limit
MAX_SQRT_PRICE_LIMIT = 1461446703485210103287273052203988822378723970342 - 1
# Actions.sol of v4-periphery
DECREASE_LIQUIDITY, MINT_POSITION, BURN_POSITION = 0x01, 0x02, 0x03
SETTLE_PAIR, TAKE_PAIR, SWEEP = 0x0D, 0x11, 0x14
_KEY = "(address,address,uint24,int24,address)"
PoolKey = tuple[str, str, int, int, str]  # currency0, currency1, fee, tickSpacing, hooks
E18 = 10**18


@dataclass(frozen=True, slots=True)
class V4PoolPlan:
    label: str
    currency0: str  # symbol; "ETH" is native
    currency1: str
    fee: int
    tick_spacing: int
    price_num: int  # currency1 raw per currency0 raw = num / den
    price_den: int
    amount0: int  # raw amounts a position is sized for
    amount1: int


POOLS = (
    V4PoolPlan("USDC/WETH 0.05% v4", "USDC", "WETH", 500, 10, E18, 3000 * 10**6, 10**11, 30 * E18),
    V4PoolPlan("ETH/USDC 0.3% v4", "ETH", "USDC", 3000, 60, 3000 * 10**6, E18, 30 * E18, 10**11),
)
# (label, owner index, lower and upper offsets from the current tick in tick spacings)
RANGES = (("in", 0, -20, 20), ("below", 1, -60, -8), ("above", 0, 8, 60), ("wide", 1, -400, 400))


@dataclass(frozen=True, slots=True)
class V4Minted:
    """A v4 position minted by `deploy_v4`; `label` says what the test meant it to be."""

    token_id: int
    label: str
    owner: str
    pool: str  # the pool's label
    key: PoolKey
    tick_lower: int
    tick_upper: int


@dataclass(frozen=True, slots=True)
class V4World:
    """Addresses of everything `deploy_v4` put on the chain (checksummed)."""

    pool_manager: str
    position_manager: str
    state_view: str
    swap_router: str  # v4-core's PoolSwapTest
    pools: Mapping[str, PoolKey]
    positions: tuple[V4Minted, ...]
    burned_token_id: int
    permit2: str = PERMIT2_ADDRESS


def _encode_actions(actions: Sequence[tuple[int, bytes]]) -> bytes:
    """modifyLiquidities' unlockData: abi.encode(bytes actions, bytes[] params)."""
    return encode(["bytes", "bytes[]"], [bytes(a for a, _ in actions), [p for _, p in actions]])


def take_pair(key: PoolKey, recipient: str) -> tuple[int, bytes]:
    return TAKE_PAIR, encode(["address", "address", "address"], [key[0], key[1], recipient])


def decrease(token_id: int, liquidity: int) -> tuple[int, bytes]:
    """DECREASE_LIQUIDITY with no minimum out; liquidity 0 collects the fees alone."""
    return DECREASE_LIQUIDITY, encode(
        ["uint256", "uint256", "uint128", "uint128", "bytes"], [token_id, liquidity, 0, 0, b""]
    )


@dataclass
class UniswapV4:
    """The deployed v4 contracts plus helpers to initialize pools, mint, swap and remove."""

    chain: DevChain
    pool_manager: Contract
    position_manager: Contract
    state_view: Contract
    swap_router: Contract

    @classmethod
    def deploy(cls, chain: DevChain, weth: str) -> UniswapV4:
        chain.set_code(PERMIT2_ADDRESS, permit2_runtime())
        manager = chain.deploy("PoolManager", ACCOUNTS[0])
        # The descriptor is only called by tokenURI(); any address will do here.
        posm = chain.deploy(
            "PositionManager", manager.address, PERMIT2_ADDRESS, 300_000, ACCOUNTS[3], weth
        )
        state_view = chain.deploy("StateView", manager.address)
        router = chain.deploy("PoolSwapTest", manager.address)
        return cls(chain, manager, posm, state_view, router)

    @classmethod
    def at(cls, chain: DevChain, world: V4World) -> UniswapV4:
        """The contracts `deploy_v4` put on the chain, to drive them from tests."""
        return cls(
            chain,
            chain.contract("PoolManager", world.pool_manager),
            chain.contract("PositionManager", world.position_manager),
            chain.contract("StateView", world.state_view),
            chain.contract("PoolSwapTest", world.swap_router),
        )

    def fund(self, tokens: Sequence[Contract], owners: Sequence[str] = ACCOUNTS[:2]) -> None:
        """Approve Permit2 (and through it the PositionManager) and the swap router."""
        permit2 = self.chain.contract("IAllowanceTransfer", PERMIT2_ADDRESS)
        posm, router, last = self.position_manager.address, self.swap_router.address, b""
        for owner in owners:
            for token in tokens:
                self.chain.send(token.functions.approve(PERMIT2_ADDRESS, 2**256 - 1), owner)
                self.chain.send(token.functions.approve(router, 2**256 - 1), owner)
                approve = permit2.functions.approve(token.address, posm, MAX_UINT160, MAX_UINT48)
                last = self.chain.send(approve, owner)
        self.chain.receipt(last)

    def initialize(self, key: PoolKey, sqrt_price: int) -> int:
        """Initialize the pool at `sqrt_price`; returns its tick."""
        self.chain.receipt(self.chain.send(self.pool_manager.functions.initialize(key, sqrt_price)))
        return get_tick_at_sqrt_ratio(sqrt_price)

    def modify(self, actions: Sequence[tuple[int, bytes]], owner: str, value: int = 0) -> Any:
        call = self.position_manager.functions.modifyLiquidities(_encode_actions(actions), DEADLINE)
        return self.chain.receipt(self.chain.send(call, owner, value=value))

    def mint(
        self, key: PoolKey, ticks: tuple[int, int], amounts: tuple[int, int], owner: str
    ) -> int:
        """Mint the most liquidity `amounts` buy at the current price; returns the token id."""
        sqrt_price = self.state_view.functions.getSlot0(pool_id(key)).call()[0]
        liquidity = get_liquidity_for_amounts(
            sqrt_price, get_sqrt_ratio_at_tick(ticks[0]), get_sqrt_ratio_at_tick(ticks[1]), *amounts
        )
        token_id = int(self.position_manager.functions.nextTokenId().call())
        mint_types = [_KEY, "int24", "int24", "uint256", "uint128", "uint128", "address", "bytes"]
        mint = encode(mint_types, [key, *ticks, liquidity, MAX_UINT128, MAX_UINT128, owner, b""])
        actions = [(MINT_POSITION, mint), (SETTLE_PAIR, encode(["address"] * 2, key[:2]))]
        value = 0
        if key[0] == NATIVE:  # pay in ETH, take the rest back
            value = amounts[0] + 1
            actions.append((SWEEP, encode(["address", "address"], [NATIVE, owner])))
        self.modify(actions, owner, value)
        return token_id

    def burn(self, token_id: int, key: PoolKey, owner: str) -> None:
        burn = encode(["uint256", "uint128", "uint128", "bytes"], [token_id, 0, 0, b""])
        self.modify([(BURN_POSITION, burn), take_pair(key, owner)], owner)

    def swap(self, key: PoolKey, zero_for_one: bool, amount_in: int) -> None:
        """Exact input through PoolSwapTest, from ACCOUNTS[0]; native ETH sent along."""
        limit = MIN_SQRT_PRICE_LIMIT if zero_for_one else MAX_SQRT_PRICE_LIMIT
        params = (zero_for_one, -amount_in, limit)
        call = self.swap_router.functions.swap(key, params, (False, False), b"")
        value = amount_in if zero_for_one and key[0] == NATIVE else 0
        self.chain.receipt(self.chain.send(call, ACCOUNTS[0], value=value))


def pool_id(key: PoolKey) -> bytes:
    """keccak256(abi.encode(key)), as PoolIdLibrary.toId."""
    return keccak(encode([_KEY], [key]))


def _key(plan: V4PoolPlan, addr: Mapping[str, str]) -> PoolKey:
    c0, c1 = (NATIVE if s == "ETH" else addr[s] for s in (plan.currency0, plan.currency1))
    if int(c0, 16) >= int(c1, 16):
        raise ValueError(f"{plan.label}: currency0 {c0} must sort below currency1 {c1}")
    return (c0, c1, plan.fee, plan.tick_spacing, NATIVE)


def _mint_ranges(v4: UniswapV4, plan: V4PoolPlan, key: PoolKey, tick: int) -> list[V4Minted]:
    spacing, minted = plan.tick_spacing, []
    tick = aligned_tick(tick, spacing)
    for label, owner_index, low, high in RANGES:
        owner, ticks = ACCOUNTS[owner_index], (tick + low * spacing, tick + high * spacing)
        token_id = v4.mint(key, ticks, (plan.amount0, plan.amount1), owner)
        minted.append(V4Minted(token_id, f"{plan.label} {label}", owner, plan.label, key, *ticks))
    return minted


def deploy_v4(chain: DevChain, addr: Mapping[str, str]) -> V4World:
    """Deploy v4 next to the v3 world (`addr`: its tokens, symbol -> address, with WETH
    and USDC, which both owners already hold)."""
    v4 = UniswapV4.deploy(chain, addr["WETH"])
    v4.fund([chain.contract("ERC20", addr[symbol]) for symbol in ("USDC", "WETH")])
    pools: dict[str, PoolKey] = {}
    minted: list[V4Minted] = []
    for plan in POOLS:
        key = _key(plan, addr)
        tick = v4.initialize(key, sqrt_price_x96(plan.price_num, plan.price_den))
        pools[plan.label] = key
        minted += _mint_ranges(v4, plan, key, tick)
    for plan in POOLS:  # down into the lower ranges, up into the upper ones, back down
        key = pools[plan.label]
        v4.swap(key, True, plan.amount0 * 12 // 10)
        v4.swap(key, False, plan.amount1 * 25 // 10)
        v4.swap(key, True, plan.amount0)
    first = pools[POOLS[0].label]
    burned = v4.mint(first, (-887_270, 887_270), (10**6, 10**15), ACCOUNTS[0])
    v4.burn(burned, first, ACCOUNTS[0])
    return V4World(
        pool_manager=v4.pool_manager.address,
        position_manager=v4.position_manager.address,
        state_view=v4.state_view.address,
        swap_router=v4.swap_router.address,
        pools=pools,
        positions=tuple(minted),
        burned_token_id=burned,
    )
