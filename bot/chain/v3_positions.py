"""Uniswap v3 (and forks) NFT positions -> `LpPosition`, with exact amounts and fees.

Works for any NonfungiblePositionManager with Uniswap's interface: its `factory()` is
read once and pools are found with the factory's `getPool` (fork-proof: no init code
hash needed). PancakeSwap v3 is read with the same plan (`protocol="pancakeswap_v3"`):
its NPM's `positions()`, its factory's `getPool` and its pool's views have Uniswap's
selectors and word layout; the one type that differs, slot0's `feeProtocol` (uint32, not
uint8, and above 255 on mainnet), is a word we neither decode strictly nor use.
A PancakeSwap v3 plan given a MasterChef v3 (`farm`) also reads the NFTs owners have
staked there (`bot.chain.masterchef_v3`), as the staker's, with their CAKE.
`V3Plan` is a pure plan for `multicall.resolve`: called again each round with more
results known, it asks for what it still misses.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.amm.full_math import AmmInputError
from bot.amm.liquidity_amounts import position_amounts
from bot.amm.position_fees import fee_growth_inside, uncollected_fees
from bot.chain import masterchef_v3
from bot.chain.abi import checksum, decode_symbol, view
from bot.chain.calls import CallResult, call
from bot.chain.multicall import CallMemo
from bot.domain.lp import LpPosition, PoolKind, PoolState, PositionError, Reward
from bot.domain.market import Token
from bot.errors import ConfigError

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
_POSITIONS = view("position_manager", "positions")
_TICKS = view("v3_pool", "ticks")
_SLOT0 = view("v3_pool", "slot0")
_POOL_VIEWS = ("slot0", "liquidity", "tickSpacing", "feeGrowthGlobal0X128", "feeGrowthGlobal1X128")


class Skip(Exception):
    """This item cannot be read; the message says why (goes into ChainSnapshot.errors)."""


def ok(result: CallResult | None) -> bytes | None:
    """The result's data, None if not fetched yet; Skip if it reverted or returned nothing."""
    if result is None:
        return None
    if not result.success or not result.data:
        raise Skip("call reverted" if not result.success else "call returned no data")
    return result.data


def read_token(memo: CallMemo, address: str) -> Token | None:
    """ERC-20 decimals and symbol (both cached across ticks by the reader)."""
    decimals = memo.get(call(address, "erc20", "decimals"))
    symbol = memo.get(call(address, "erc20", "symbol"))
    if decimals is None or symbol is None:
        return None
    if not decimals.success or len(decimals.data) < 32:
        raise Skip(f"token {address} has no decimals(): not an ERC-20?")
    name = decode_symbol(symbol.data) if symbol.success else address[:10]
    return Token(address, name, int.from_bytes(decimals.data[:32], "big"))


@dataclass(frozen=True, slots=True)
class _Nft:
    token_id: int
    owner: str | None  # None: read ownerOf
    staked: bool = False  # found in the farm's records of `owner`


@dataclass(frozen=True, slots=True)
class V3Plan:
    """Plan of one tick for the NFT positions at one position manager."""

    position_manager: str
    token_ids: tuple[int, ...]
    owners: tuple[str, ...]
    chain_id: int | None
    protocol: str = "uniswap_v3"  # or a fork with Uniswap's interface: "pancakeswap_v3"
    field: str = "chain.position_manager"  # the config field that named the manager
    farm: str | None = None  # MasterChef v3 farming this manager's NFTs (checksummed)
    farm_field: str = "chain.staking.pancakeswap_v3"

    @property
    def _fork(self) -> str | None:
        return None if self.protocol == "uniswap_v3" else self.protocol

    def _item(self, token_id: int) -> str:
        """The position's name in errors and ids: `7`, or `pancakeswap_v3:7` for a fork."""
        return f"{self.protocol}:{token_id}" if self._fork else str(token_id)

    def __call__(self, memo: CallMemo) -> tuple[list[LpPosition], list[PositionError]]:
        factory = self._factory(memo)
        cake = self._reward_token(memo)
        nfts, errors = self._nfts(memo)
        positions: list[LpPosition] = []
        for nft in nfts:
            try:
                position = self._position(memo, factory, nft)
                if position is not None and position.staked_in is not None:
                    farm, token_id = position.staked_in, nft.token_id
                    position = self._with_rewards(memo, farm, token_id, position, cake, errors)
            except (Skip, AmmInputError, masterchef_v3.FarmReadError) as exc:
                errors.append(PositionError(f"position {self._item(nft.token_id)}", str(exc)))
                continue
            if position is not None:
                positions.append(position)
        return positions, errors

    def _reward_token(self, memo: CallMemo) -> Token | None:
        if self.farm is None:
            return None
        address = masterchef_v3.reward_token_address(
            memo, self.farm, self.position_manager, self.farm_field
        )
        return None if address is None else read_token(memo, address)

    def _with_rewards(
        self,
        memo: CallMemo,
        farm: str,
        token_id: int,
        position: LpPosition,
        cake: Token | None,
        errors: list[PositionError],
    ) -> LpPosition | None:
        """The staked position with the CAKE it has earned; a farm whose pendingCake
        fails still gives the position (its tokens are the staker's), with an error."""
        try:
            pending = masterchef_v3.pending_cake(memo, farm, token_id)
        except masterchef_v3.FarmReadError as exc:
            item = f"position {position.position_id}"
            errors.append(PositionError(item, f"{exc}: reward not read"))
            return position
        if pending is None or cake is None:
            return None
        return replace(position, rewards=(Reward(cake, pending),))

    def _factory(self, memo: CallMemo) -> str | None:
        result = memo.get(call(self.position_manager, "position_manager", "factory"))
        if result is None:
            return None
        if not result.success or len(result.data) < 32:
            why = "factory() reverted" if not result.success else "no contract code there"
            on_chain = f" on chain {self.chain_id}" if self.chain_id else ""
            raise ConfigError(
                f"{self.field} {self.position_manager}{on_chain} is not a "
                f"NonfungiblePositionManager ({why}): check the address and the chain"
            )
        return checksum(result.data[12:32])

    def _nfts(self, memo: CallMemo) -> tuple[list[_Nft], list[PositionError]]:
        """Configured token ids first, then each owner's NFTs (enumerated), without repeats."""
        nfts = [_Nft(token_id, None) for token_id in self.token_ids]
        errors: list[PositionError] = []
        npm = self.position_manager
        for owner in self.owners:
            try:
                balance = ok(memo.get(call(npm, "position_manager", "balanceOf", owner)))
            except Skip:
                errors.append(PositionError(f"owner {owner}", f"balanceOf failed at {npm}"))
                continue
            if balance is None:
                continue
            for index in range(int.from_bytes(balance[:32], "big")):
                got = memo.get(call(npm, "position_manager", "tokenOfOwnerByIndex", owner, index))
                if got is not None and got.success:
                    nfts.append(_Nft(int.from_bytes(got.data[:32], "big"), owner))
            nfts += self._staked(memo, owner, errors)
        unique = {n.token_id: n for n in reversed(nfts)}  # the first mention wins
        return [unique[token_id] for token_id in dict.fromkeys(n.token_id for n in nfts)], errors

    def _staked(self, memo: CallMemo, owner: str, errors: list[PositionError]) -> list[_Nft]:
        """The owner's NFTs the farm holds for them."""
        if self.farm is None:
            return []
        try:
            ids = masterchef_v3.staked_ids(memo, self.farm, owner)
        except masterchef_v3.FarmReadError as exc:
            errors.append(PositionError(f"owner {owner}", str(exc)))
            return []
        return [_Nft(token_id, owner, staked=True) for token_id in ids or ()]

    def _holder(self, memo: CallMemo, nft: _Nft) -> tuple[str | None, bool]:
        """(owner, staked): an NFT the farm holds belongs to whoever staked it."""
        if nft.owner is not None:
            return nft.owner, nft.staked
        got = memo.get(call(self.position_manager, "position_manager", "ownerOf", nft.token_id))
        holder = checksum(got.data[12:32]) if got is not None and got.success else None
        if holder is None or holder != self.farm:
            return holder, False
        return masterchef_v3.staker(memo, self.farm, nft.token_id), True

    def _position(self, memo: CallMemo, factory: str | None, nft: _Nft) -> LpPosition | None:
        npm = self.position_manager
        owner, staked = self._holder(memo, nft)
        try:
            raw = ok(memo.get(call(npm, "position_manager", "positions", nft.token_id)))
        except Skip:
            raise Skip(
                f"token id {nft.token_id} not found at position manager {npm} "
                "(burned or never minted): remove it from the configuration"
            ) from None
        if raw is None or factory is None:
            return None
        fields = _POSITIONS.decode(raw)
        tokens = (read_token(memo, fields[2]), read_token(memo, fields[3]))
        pool = self._pool(memo, factory, fields[2], fields[3], fields[4])
        if pool is None or owner is None:
            return None
        state = self._pool_state(memo, pool, fields, tokens)
        if state is None:
            return None
        lower = _tick_outside(memo, pool, fields[5])
        upper = _tick_outside(memo, pool, fields[6])
        position = _lp_position(npm, nft.token_id, owner, state, fields, (*lower, *upper))
        if staked:
            staking = masterchef_v3.STAKING
            position = replace(position, staked_in=self.farm, staking=staking)
        if self._fork is None:
            return position
        return replace(position, position_id=self._item(nft.token_id), fork=self._fork)

    def _pool(self, memo: CallMemo, factory: str, token0: str, token1: str, fee: int) -> str | None:
        got = ok(memo.get(call(factory, "v3_factory", "getPool", token0, token1, fee)))
        if got is None:
            return None
        address = checksum(got[12:32])
        if address == ZERO_ADDRESS:
            raise Skip(f"no pool {token0}/{token1} fee {fee} at factory {factory}")
        return address

    def _pool_state(
        self,
        memo: CallMemo,
        pool: str,
        fields: tuple[Any, ...],
        tokens: tuple[Token | None, Token | None],
    ) -> PoolState | None:
        token0, token1 = tokens
        wanted = [memo.get(call(pool, "v3_pool", name)) for name in _POOL_VIEWS]
        ticks = [memo.get(call(pool, "v3_pool", "ticks", t)) for t in (fields[5], fields[6])]
        if token0 is None or token1 is None or any(r is None for r in wanted + ticks):
            return None
        slot0, liquidity, spacing, fg0, fg1 = (ok(r) for r in wanted)
        sqrt_price, tick = _SLOT0.decode(slot0 or b"")[:2]
        return PoolState(
            address=pool,
            kind=PoolKind.V3,
            token0=token0,
            token1=token1,
            fee=fields[4],
            tick_spacing=int.from_bytes((spacing or b"")[:32], "big", signed=True),
            sqrt_price_x96=sqrt_price,
            tick=tick,
            liquidity=int.from_bytes((liquidity or b"")[:32], "big"),
            fee_growth_global0_x128=int.from_bytes((fg0 or b"")[:32], "big"),
            fee_growth_global1_x128=int.from_bytes((fg1 or b"")[:32], "big"),
        )


def _tick_outside(memo: CallMemo, pool: str, tick: int) -> tuple[int, int]:
    fields = _TICKS.decode(ok(memo.get(call(pool, "v3_pool", "ticks", tick))) or b"")
    return fields[2], fields[3]


def _lp_position(
    npm: str,
    token_id: int,
    owner: str,
    pool: PoolState,
    fields: tuple[Any, ...],
    outside: tuple[int, int, int, int],
) -> LpPosition:
    """Amounts as decreaseLiquidity(all) pays them; fees as collect(max) pays them."""
    tick_lower, tick_upper, liquidity = fields[5], fields[6], fields[7]
    amount0, amount1 = position_amounts(
        pool.sqrt_price_x96, pool.tick, tick_lower, tick_upper, liquidity
    )
    inside0, inside1 = fee_growth_inside(
        tick_lower,
        tick_upper,
        pool.tick,
        pool.fee_growth_global0_x128,
        pool.fee_growth_global1_x128,
        *outside,
    )
    fees0, fees1 = uncollected_fees(liquidity, inside0, inside1, *fields[8:12])
    return LpPosition(
        position_id=str(token_id),
        kind=PoolKind.V3,
        owner=owner,
        manager=npm,
        pool=pool,
        tick_lower=tick_lower,
        tick_upper=tick_upper,
        liquidity=liquidity,
        amount0_raw=amount0,
        amount1_raw=amount1,
        fees0_raw=fees0,
        fees1_raw=fees1,
    )
