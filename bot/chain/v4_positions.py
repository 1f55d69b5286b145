"""Uniswap v4 NFT positions -> `LpPosition` (kind V4), with exact amounts and fees.

Every v4 pool lives in one PoolManager, named by its PoolId (keccak of the PoolKey). The
PositionManager holds each NFT's liquidity as a position of its own in that pool: owner
the PositionManager, salt the token id. So a position is read as
- PositionManager `getPoolAndPositionInfo(id)` (the PoolKey, ticks packed in PositionInfo)
  and `ownerOf(id)`, then
- StateView `getSlot0`, `getLiquidity`, `getFeeGrowthGlobals` of the pool, and
  `getPositionInfo(poolId, positionManager, tickLower, tickUpper, bytes32(id))` and
  `getFeeGrowthInside(poolId, tickLower, tickUpper)` of the position,
all at the tick's block through `multicall.resolve` (two rounds, batched with v3's).
Amounts use v3's exact math (v4's Pool.modifyLiquidity is v3's); fees are the growth
since the position's last snapshot, all of it owed since v4 keeps no tokensOwed. Both are
what the PoolManager credits on removal, before any hook's own delta (a hook with the
afterRemoveLiquidityReturnDelta permission can take a cut that no view reports).

The v4 PositionManager is an ERC-721 without Enumerable: an owner's token ids cannot be
listed on-chain. Positions are read by token id, listed or found for the owners in the
manager's Transfer logs (`bot.chain.v4_owner_scan`); for each owner the plan compares
`balanceOf` with the ids it read for them and reports any still missing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from eth_utils.crypto import keccak

from bot.amm.full_math import AmmInputError
from bot.amm.liquidity_amounts import position_amounts
from bot.amm.position_fees import v4_fees_owed
from bot.chain.abi import checksum, view
from bot.chain.calls import CallResult, call
from bot.chain.multicall import CallMemo
from bot.chain.v3_positions import ZERO_ADDRESS, Skip, ok, read_token
from bot.domain.lp import LpPosition, PoolKind, PoolState, PositionError
from bot.domain.market import Token
from bot.errors import ConfigError

_PM = "v4_position_manager"
_SV = "v4_state_view"
_POOL_AND_INFO = view(_PM, "getPoolAndPositionInfo")
_SLOT0 = view(_SV, "getSlot0")
_POSITION = view(_SV, "getPositionInfo")
_PAIR = view(_SV, "getFeeGrowthInside")  # two uint256 words, as getFeeGrowthGlobals
# Currency address(0) is the chain's native coin: ETH, but for these chains (all 18 decimals).
_NATIVE_SYMBOLS = {56: "BNB", 100: "XDAI", 137: "POL", 42220: "CELO", 43114: "AVAX"}


def native_token(chain_id: int | None) -> Token:
    """The coin v4 calls currency address(0) on `chain_id`, so it maps to its own asset
    (a BNB pool hedged as ETH would be the wrong hedge)."""
    return Token(ZERO_ADDRESS, _NATIVE_SYMBOLS.get(chain_id or 0, "ETH"), 18)


@dataclass(frozen=True, slots=True)
class PoolKey:
    """v4's PoolKey, as the PositionManager stores it for a token id."""

    currency0: str
    currency1: str
    fee: int  # 0x800000: a dynamic-fee pool
    tick_spacing: int
    hooks: str

    def pool_id(self) -> bytes:
        """PoolIdLibrary.toId: keccak256(abi.encode(key)), five static words."""
        words = (
            bytes(12) + bytes.fromhex(self.currency0[2:]),
            bytes(12) + bytes.fromhex(self.currency1[2:]),
            self.fee.to_bytes(32, "big"),
            self.tick_spacing.to_bytes(32, "big", signed=True),
            bytes(12) + bytes.fromhex(self.hooks[2:]),
        )
        return keccak(b"".join(words))


def _int24(value: int) -> int:
    value &= 0xFFFFFF
    return value - (1 << 24) if value >> 23 else value


def position_ticks(info: int) -> tuple[int, int]:
    """(tick_lower, tick_upper) from a packed PositionInfo (PositionInfoLibrary): bits
    8-31 are tickLower and 32-55 tickUpper, each an int24."""
    return _int24(info >> 8), _int24(info >> 32)


def _word(result: CallResult | None) -> int | None:
    data = ok(result)
    return None if data is None else int.from_bytes(data[:32], "big")


@dataclass(frozen=True, slots=True)
class V4Plan:
    """Plan of one tick for the v4 NFT positions at one PositionManager.

    `config_path` is the chain's section (`chain`, `chains[1]`): errors name its fields.
    `chain_id` gives the chain's id once the RPC has said it (with the first round of
    calls, when `chain.chain_id` is not set): it names the native coin.
    """

    position_manager: str
    state_view: str
    token_ids: tuple[int, ...]
    owners: tuple[str, ...]
    chain_id: Callable[[], int | None]
    config_path: str = "chain"
    found: Mapping[int, str] = field(default_factory=dict)  # owners' ids from Transfer logs

    def __call__(self, memo: CallMemo) -> tuple[list[LpPosition], list[PositionError]]:
        self._check_pool_manager(memo)
        positions: list[LpPosition] = []
        errors: list[PositionError] = []
        owners: dict[int, str | None] = {}
        listed = set(self.token_ids)
        for token_id in dict.fromkeys((*self.token_ids, *self.found)):
            owners[token_id] = self._owner(memo, token_id)
            if token_id not in listed and owners[token_id] not in self.owners:
                continue  # the logs' hint is out of date (sent on, or a reorg): not ours
            try:
                position = self._position(memo, token_id, owners[token_id])
            except (Skip, AmmInputError) as exc:
                errors.append(PositionError(f"v4 position {token_id}", str(exc)))
                continue
            if position is not None:
                positions.append(position)
        return positions, errors + self._unlisted(memo, owners)

    def _manager_of(self, result: CallResult, field: str, address: str, what: str) -> str:
        if result.success and len(result.data) >= 32:
            return checksum(result.data[12:32])
        why = "poolManager() reverted" if not result.success else "no contract code there"
        on_chain = f" on chain {self.chain_id()}" if self.chain_id() else ""
        raise ConfigError(
            f"{self.config_path}.{field} {address}{on_chain} is not a Uniswap v4 {what} "
            f"({why}): check the address and the chain"
        )

    def _check_pool_manager(self, memo: CallMemo) -> None:
        """The StateView must read the PoolManager the PositionManager writes to: any
        other answers every position with zeros."""
        pm, sv = self.position_manager, self.state_view
        by_pm = memo.get(call(pm, _PM, "poolManager"))
        by_sv = memo.get(call(sv, _SV, "poolManager"))
        if by_pm is None or by_sv is None:
            return
        pm_field, sv_field = "position_managers.uniswap_v4", "state_views.uniswap_v4"
        of_pm = self._manager_of(by_pm, pm_field, pm, "PositionManager")
        of_sv = self._manager_of(by_sv, sv_field, sv, "StateView")
        if of_pm != of_sv:
            raise ConfigError(
                f"{self.config_path}.{sv_field} {sv} reads PoolManager {of_sv}, but "
                f"{self.config_path}.{pm_field} {pm} uses PoolManager {of_pm}: give the "
                "StateView deployed for that PoolManager"
            )

    def _owner(self, memo: CallMemo, token_id: int) -> str | None:
        got = memo.get(call(self.position_manager, _PM, "ownerOf", token_id))
        return checksum(got.data[12:32]) if got is not None and got.success else None

    def _unlisted(self, memo: CallMemo, owners: dict[int, str | None]) -> list[PositionError]:
        """Owners holding more v4 NFTs than the token ids listed for them."""
        errors = []
        pm = self.position_manager
        for owner in self.owners:
            try:
                held = _word(memo.get(call(pm, _PM, "balanceOf", owner)))
            except Skip:
                errors.append(PositionError(f"owner {owner}", f"balanceOf failed at {pm}"))
                continue
            listed = sum(1 for o in owners.values() if o == owner)
            if held is not None and held > listed:
                errors.append(
                    PositionError(
                        f"owner {owner}",
                        f"holds {held} Uniswap v4 positions at {pm}, {listed} of them "
                        "listed or found in its Transfer logs from "
                        f"{self.config_path}.v4_scan_from_block on: lower that block (to "
                        f"the PositionManager's deployment) or add the token ids to "
                        f"{self.config_path}.v4_token_ids",
                    )
                )
        return errors

    def _key(self, memo: CallMemo, token_id: int) -> tuple[PoolKey, int, int] | None:
        raw = ok(memo.get(call(self.position_manager, _PM, "getPoolAndPositionInfo", token_id)))
        if raw is None:
            return None
        c0, c1, fee, spacing, hooks, info = _POOL_AND_INFO.decode(raw)
        if spacing == 0:  # no PoolKey stored for it: never minted, or burned
            raise Skip(
                f"token id {token_id} not found at v4 PositionManager {self.position_manager} "
                f"(burned or never minted): remove it from {self.config_path}.v4_token_ids"
            )
        return (PoolKey(c0, c1, fee, spacing, hooks), *position_ticks(info))

    def _position(self, memo: CallMemo, token_id: int, owner: str | None) -> LpPosition | None:
        keyed = self._key(memo, token_id)
        if keyed is None:
            return None
        key, tick_lower, tick_upper = keyed
        pool = self._pool_state(memo, key)
        sv, pool_id = self.state_view, key.pool_id()
        salt = token_id.to_bytes(32, "big")
        args = (pool_id, self.position_manager, tick_lower, tick_upper, salt)
        mine = ok(memo.get(call(sv, _SV, "getPositionInfo", *args)))
        inside = ok(memo.get(call(sv, _SV, "getFeeGrowthInside", pool_id, tick_lower, tick_upper)))
        if pool is None or mine is None or inside is None:
            return None
        if owner is None:
            raise Skip(f"ownerOf({token_id}) reverted at {self.position_manager}")
        liquidity, last0, last1 = _POSITION.decode(mine)
        amount0, amount1 = position_amounts(
            pool.sqrt_price_x96, pool.tick, tick_lower, tick_upper, liquidity
        )
        inside0, inside1 = _PAIR.decode(inside)
        fees0, fees1 = v4_fees_owed(liquidity, inside0, inside1, last0, last1)
        return LpPosition(
            position_id=f"v4:{token_id}",
            kind=PoolKind.V4,
            owner=owner,
            manager=self.position_manager,
            pool=pool,
            tick_lower=tick_lower,
            tick_upper=tick_upper,
            liquidity=liquidity,
            amount0_raw=amount0,
            amount1_raw=amount1,
            fees0_raw=fees0,
            fees1_raw=fees1,
        )

    def _pool_state(self, memo: CallMemo, key: PoolKey) -> PoolState | None:
        sv, pool_id = self.state_view, key.pool_id()
        token0, token1 = (self._currency(memo, c) for c in (key.currency0, key.currency1))
        slot0 = ok(memo.get(call(sv, _SV, "getSlot0", pool_id)))
        liquidity = _word(memo.get(call(sv, _SV, "getLiquidity", pool_id)))
        growth = ok(memo.get(call(sv, _SV, "getFeeGrowthGlobals", pool_id)))
        if token0 is None or token1 is None or slot0 is None or liquidity is None:
            return None
        if growth is None:
            return None
        sqrt_price, tick, _protocol_fee, lp_fee = _SLOT0.decode(slot0)
        if sqrt_price == 0:
            raise Skip(f"pool {pool_id.hex()} is not initialized in the PoolManager")
        global0, global1 = _PAIR.decode(growth)
        return PoolState(
            address="0x" + pool_id.hex(),
            kind=PoolKind.V4,
            token0=token0,
            token1=token1,
            fee=lp_fee,
            tick_spacing=key.tick_spacing,
            sqrt_price_x96=sqrt_price,
            tick=tick,
            liquidity=liquidity,
            fee_growth_global0_x128=global0,
            fee_growth_global1_x128=global1,
        )

    def _currency(self, memo: CallMemo, address: str) -> Token | None:
        """An ERC-20 as v3 reads it; address(0) is the native coin, with no call."""
        if address == ZERO_ADDRESS:
            return native_token(self.chain_id())
        return read_token(memo, address)
