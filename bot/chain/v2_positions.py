"""Uniswap v2 pair LP balances -> `LpPosition` (kind V2): the owner's share of reserves.

v2 fees are already in the reserves, so `fees*_raw` are 0. A pair is read for every
configured owner; only owners holding LP tokens produce a position.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.amm.v2 import share_of_reserves
from bot.chain.abi import checksum, view
from bot.chain.calls import call
from bot.chain.multicall import CallMemo
from bot.chain.v3_positions import Skip, ok, read_token
from bot.domain.lp import LpPosition, PoolKind, PoolState, PositionError

_RESERVES = view("v2_pair", "getReserves")


def _word(data: bytes | None) -> int | None:
    return None if data is None else int.from_bytes(data[:32], "big")


@dataclass(frozen=True, slots=True)
class V2Plan:
    """Plan of one tick for LP balances of `owners` in `pairs`."""

    pairs: tuple[str, ...]
    owners: tuple[str, ...]

    def __call__(self, memo: CallMemo) -> tuple[list[LpPosition], list[PositionError]]:
        positions: list[LpPosition] = []
        errors: list[PositionError] = []
        for pair in self.pairs:
            try:
                positions += self._pair(memo, pair)
            except Skip as exc:
                errors.append(PositionError(f"v2 pair {pair}", f"not a Uniswap v2 pair: {exc}"))
        return positions, errors

    def _state(self, memo: CallMemo, pair: str) -> PoolState | None:
        t0 = ok(memo.get(call(pair, "v2_pair", "token0")))
        t1 = ok(memo.get(call(pair, "v2_pair", "token1")))
        reserves = ok(memo.get(call(pair, "v2_pair", "getReserves")))
        supply = _word(ok(memo.get(call(pair, "v2_pair", "totalSupply"))))
        if t0 is None or t1 is None or reserves is None or supply is None:
            return None
        token0, token1 = (
            read_token(memo, checksum(t0[12:32])),
            read_token(memo, checksum(t1[12:32])),
        )
        if token0 is None or token1 is None:
            return None
        reserve0, reserve1, _ = _RESERVES.decode(reserves)
        return PoolState(
            address=pair,
            kind=PoolKind.V2,
            token0=token0,
            token1=token1,
            fee=3000,
            reserve0_raw=reserve0,
            reserve1_raw=reserve1,
            total_supply=supply,
        )

    def _pair(self, memo: CallMemo, pair: str) -> list[LpPosition]:
        balances = [
            _word(ok(memo.get(call(pair, "v2_pair", "balanceOf", owner)))) for owner in self.owners
        ]
        state = self._state(memo, pair)
        if state is None or any(b is None for b in balances):
            return []
        positions = []
        for owner, balance in zip(self.owners, balances, strict=True):
            if not balance:
                continue
            amount0, amount1 = share_of_reserves(
                balance, state.total_supply, state.reserve0_raw, state.reserve1_raw
            )
            positions.append(
                LpPosition(
                    position_id=f"v2:{pair}:{owner}",
                    kind=PoolKind.V2,
                    owner=owner,
                    manager=pair,
                    pool=state,
                    tick_lower=0,
                    tick_upper=0,
                    liquidity=balance,
                    amount0_raw=amount0,
                    amount1_raw=amount1,
                    fees0_raw=0,
                    fees1_raw=0,
                )
            )
        return positions
