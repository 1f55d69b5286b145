"""LP positions as read from the chain, and the exposure they give."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from bot.domain.market import Token


class PoolKind(StrEnum):
    V3 = "v3"
    V2 = "v2"
    V4 = "v4"  # concentrated liquidity as v3; the pool lives in v4's singleton PoolManager


_PROTOCOLS = {PoolKind.V2: "uniswap_v2", PoolKind.V3: "uniswap_v3", PoolKind.V4: "uniswap_v4"}


@dataclass(frozen=True, slots=True)
class PoolState:
    """A pool's state at one block, as the contracts name it.

    For v2 pairs, `reserve0_raw`/`reserve1_raw`/`total_supply` are set and the v3 fields
    are zero. A v4 pool has no address of its own: `address` is its PoolId (0x + 64 hex),
    `fee` the LP fee slot0 charges now (a dynamic-fee pool's key says only "dynamic"), and
    native ETH is the token at the zero address.
    """

    address: str
    kind: PoolKind
    token0: Token
    token1: Token
    fee: int = 0
    tick_spacing: int = 0
    sqrt_price_x96: int = 0
    tick: int = 0
    liquidity: int = 0
    fee_growth_global0_x128: int = 0
    fee_growth_global1_x128: int = 0
    reserve0_raw: int = 0
    reserve1_raw: int = 0
    total_supply: int = 0


@dataclass(frozen=True, slots=True)
class Reward:
    """A farm's reward a staked position has earned and not been paid (raw units of
    `token`): MasterChef v3's `pendingCake`, what `harvest` pays once the farm has booked
    up to that block."""

    token: Token
    amount_raw: int

    @property
    def amount(self) -> Decimal:
        """In the token's units (exact)."""
        return Decimal(self.amount_raw).scaleb(-self.token.decimals)


@dataclass(frozen=True, slots=True)
class LpPosition:
    """One LP position at one block, with exact token amounts.

    `position_id` is the NFT token id for v3, `v4:<token id>` for v4 (its ids count from 1
    as v3's do, so the prefix keeps them apart), `<fork>:<token id>` for a v3 fork's
    (`pancakeswap_v3:7`) and `v2:<pair>:<owner>` for v2. `fork` names a v3 fork whose
    contracts hold the position (kind V3: the same math); None for Uniswap's own.
    `amount*_raw` are what removing all liquidity would pay now; `fees*_raw` what
    `collect` would pay on top (uncollected fees from fee growth plus `tokensOwed`).
    A staked position (`staked_in`: the farm contract holding the NFT, `staking` its kind,
    "masterchef_v3") still belongs to `owner`, the staker the farm records; its fees are
    theirs too (the farm collects them for the staker) and `rewards` what it has earned.
    """

    position_id: str
    kind: PoolKind
    owner: str
    manager: str
    pool: PoolState
    tick_lower: int
    tick_upper: int
    liquidity: int
    amount0_raw: int
    amount1_raw: int
    fees0_raw: int
    fees1_raw: int
    chain: str = "main"  # the configured chain's name (`[chain]` is "main")
    staked_in: str | None = None  # the farm contract holding the NFT; None: not staked
    fork: str | None = None  # "pancakeswap_v3"; None: Uniswap
    staking: str | None = None  # the farm's kind: "masterchef_v3"
    rewards: tuple[Reward, ...] = ()

    @property
    def protocol(self) -> str:
        """The AMM that holds the liquidity, as `lphedge positions` names it."""
        return self.fork or _PROTOCOLS[self.kind]

    @property
    def in_range(self) -> bool:
        if self.kind is PoolKind.V2:
            return True
        return self.tick_lower <= self.pool.tick < self.tick_upper


@dataclass(frozen=True, slots=True)
class PositionError:
    """A position that could not be read; the others still are."""

    item: str
    message: str


@dataclass(frozen=True, slots=True)
class ChainHead:
    """One chain's part of a tick: the block it was read at, or why it could not be read.

    `last_seen` are an unread chain's positions at its last good read, so the guards
    know which assets it holds (None: never read, so it may hold any).
    """

    name: str
    chain_id: int
    block_number: int = 0
    block_timestamp: int = 0
    error: str | None = None
    last_seen: tuple[LpPosition, ...] | None = None


@dataclass(frozen=True, slots=True)
class ChainSnapshot:
    """All configured positions and their pools, each chain read at one block.

    With several chains, `chains` has one head per chain (each at its own block) and
    `block_number`/`block_timestamp` are those of the newest chain read; `chain_id` is
    the first chain's.
    """

    chain_id: int
    block_number: int
    block_timestamp: int
    positions: tuple[LpPosition, ...]
    errors: tuple[PositionError, ...] = ()
    chains: tuple[ChainHead, ...] = ()

    @property
    def unread(self) -> tuple[ChainHead, ...]:
        return tuple(h for h in self.chains if h.error is not None)


@dataclass(frozen=True, slots=True)
class PositionExposure:
    """One position seen from the hedger: amounts, value, delta and gamma.

    `base` is the volatile token's asset, `quote` the other one's. `price` is quote per
    base. `value` is in the quote asset. `delta` is in units of the base asset (dV/dP),
    `gamma` in base units per unit of price (d delta / dP; negative for an LP).
    `deltas` gives the holdings per underlying asset (both sides when neither is USD).
    """

    position_id: str
    pool: str
    base: str
    quote: str
    in_range: bool
    amount0: Decimal
    amount1: Decimal
    fees0: Decimal
    fees1: Decimal
    price: Decimal
    value: Decimal
    delta: Decimal
    gamma: float
    deltas: Mapping[str, Decimal]
    price_lower: Decimal | None = None
    price_upper: Decimal | None = None
    chain: str = "main"


@dataclass(frozen=True, slots=True)
class AssetExposure:
    """Net exposure to one underlying asset across positions, pools and wallets.

    `delta` in units of the asset; `gamma` in asset units per USD of price move;
    `value_usd` the USD value of the positions whose base is this asset.
    """

    asset: str
    delta: Decimal
    gamma: float
    value_usd: Decimal
    positions: int


@dataclass(frozen=True, slots=True)
class ExposureBook:
    """Per-asset exposure at one block, plus the per-position detail it came from."""

    block_number: int
    block_timestamp: int
    assets: Mapping[str, AssetExposure]
    positions: tuple[PositionExposure, ...] = field(default_factory=tuple)

    def delta(self, asset: str) -> Decimal:
        hit = self.assets.get(asset)
        return hit.delta if hit else Decimal(0)
