"""`ReplayPositionSource`: the chain port fed from history, for paper runs on recorded prices.

This is a replay adapter, not a chain: there is no block and no contract. It serves the
backtest's own LP model (`bot.backtest.lp`: a position worth `value_usd` centred on the
window's opening close) as the `ChainSnapshot` the chain reader would return for such a
position in a USDC/<asset> pool whose price is the recorded close at the clock's time.
Pool state and token amounts are the contracts' integer maths (`bot.amm`): sqrt price from
the close, the range rounded outward to whole ticks (spacing 1), the v3 amounts of
`position_amounts`, or for v2 a pair that is all ours. So `bot.exposure` reads it exactly
as it reads a real position. Fees are not modelled here (zero), as in the vectorised runner.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from bot.amm.liquidity_amounts import position_amounts
from bot.amm.tick_math import get_tick_at_sqrt_ratio
from bot.backtest.lp import LpRange, open_position, value
from bot.domain.lp import ChainSnapshot, LpPosition, PoolKind, PoolState
from bot.domain.market import Token
from bot.ports import Clock

USDC = Token("0x0000000000000000000000000000000000000001", "USDC", 6)
BASE_TOKENS = {
    "ETH": Token("0x0000000000000000000000000000000000000002", "WETH", 18),
    "BTC": Token("0x0000000000000000000000000000000000000003", "WBTC", 8),
}
REPLAY_CHAIN_ID = 0  # no chain: the id says so


def sqrt_price_x96(price_usd: Decimal, base: Token, quote: Token = USDC) -> int:
    """The pool's sqrtPriceX96 (token0 = the USD token) for a USD price of the base asset,
    exact to the integer: sqrt(10**(d1 - d0) / P * 2**192)."""
    num, den = price_usd.as_integer_ratio()
    shift = base.decimals - quote.decimals
    scaled_num = den * 2**192 * 10 ** max(shift, 0)
    scaled_den = num * 10 ** max(-shift, 0)
    return math.isqrt(scaled_num // scaled_den)


def _tick_of_price(price_usd: float, base: Token) -> float:
    """The (fractional) tick at a USD price of the base (token1 per token0, raw)."""
    raw = 10.0 ** (base.decimals - USDC.decimals) / price_usd
    return math.log(raw) / math.log(1.0001)


def _price_of_tick(tick: int, base: Token) -> float:
    return 10.0 ** (base.decimals - USDC.decimals) / 1.0001**tick


@dataclass(frozen=True)
class ReplayLp:
    """One window's position: `ticks` (v3, tick_lower < tick_upper) or None (v2), and its
    liquidity in raw units (v3) or as the float model holds it (v2)."""

    model: LpRange
    ticks: tuple[int, int] | None
    liquidity_raw: int


def open_replay_lp(price: float, value_usd: float, range_pct: float, base: Token) -> ReplayLp:
    """The window's position: the LP model on the range rounded outward to whole ticks."""
    if range_pct <= 0:
        return ReplayLp(open_position(price, value_usd, 0.0), None, 0)
    # a higher USD price is a lower tick (token0 is the USD token)
    tick_lower = math.floor(_tick_of_price(price * (1 + range_pct / 100), base))
    tick_upper = math.ceil(_tick_of_price(price * (1 - range_pct / 100), base))
    lo, hi = _price_of_tick(tick_upper, base), _price_of_tick(tick_lower, base)
    unit = LpRange(1.0, lo, hi)
    per_l = float(value(unit, np.array([price]))[0])
    model = LpRange(value_usd / per_l, lo, hi)
    raw = int(model.liquidity * 10 ** ((base.decimals + USDC.decimals) / 2))
    return ReplayLp(model, (tick_lower, tick_upper), raw)


class ReplayPositionSource:
    """A `PositionSource` over recorded closes: the current window's LP at the clock's time.

    `times`/`prices` are the recorded bars (ascending); the price at a time is the last
    close at or before it. The block number is the bar's index and its timestamp the bar's.
    """

    def __init__(
        self,
        times: Sequence[int],
        prices: Sequence[Decimal],
        clock: Clock,
        lp: ReplayLp,
        asset: str = "ETH",
    ) -> None:
        self._times, self._prices, self._clock, self.lp = times, prices, clock, lp
        self._base = BASE_TOKENS[asset]

    async def read(self, block: int | None = None) -> ChainSnapshot:
        i = max(bisect.bisect_right(self._times, self._clock.now_ms()) - 1, 0)
        if block is not None:
            i = block
        price = self._prices[i]
        position = self.position(price)
        return ChainSnapshot(REPLAY_CHAIN_ID, i, self._times[i] // 1000, (position,))

    def position(self, price: Decimal) -> LpPosition:
        """The position and its pool at `price` (USD per base)."""
        if self.lp.ticks is None:
            return self._v2(price)
        tick_lower, tick_upper = self.lp.ticks
        sqrt_p = sqrt_price_x96(price, self._base)
        tick = get_tick_at_sqrt_ratio(sqrt_p)
        amount0, amount1 = position_amounts(
            sqrt_p, tick, tick_lower, tick_upper, self.lp.liquidity_raw
        )
        pool = PoolState("replay-pool", PoolKind.V3, USDC, self._base, 100, 1, sqrt_p, tick, 0)
        return LpPosition(
            "replay", PoolKind.V3, "replay", "replay", pool, tick_lower, tick_upper,
            self.lp.liquidity_raw, amount0, amount1, 0, 0,
        )  # fmt: skip

    def _v2(self, price: Decimal) -> LpPosition:
        """v2: a pair that is all ours, reserves on the constant product at `price`."""
        p = float(price)
        liquidity = self.lp.model.liquidity
        usd_raw = int(liquidity * math.sqrt(p) * 10**USDC.decimals)
        base_raw = int(liquidity / math.sqrt(p) * 10**self._base.decimals)
        supply = 10**18
        pool = PoolState(
            "replay-pair", PoolKind.V2, USDC, self._base,
            reserve0_raw=usd_raw, reserve1_raw=base_raw, total_supply=supply,
        )  # fmt: skip
        return LpPosition(
            "v2:replay-pair:replay", PoolKind.V2, "replay", "replay", pool, 0, 0, supply,
            usd_raw, base_raw, 0, 0,
        )  # fmt: skip
