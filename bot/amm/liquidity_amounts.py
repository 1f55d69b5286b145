"""LiquidityAmounts (v3-periphery) and the exact amounts a v3 position pays on removal.

`position_amounts` follows Pool._modifyPosition: the branch is chosen by the pool's
current `tick` (not by comparing sqrt prices), amounts are the signed deltas for
-liquidity, so each is rounded down. That is to the unit what
NonfungiblePositionManager.decreaseLiquidity of the whole liquidity returns.
All amounts are raw token units, prices Q64.96.
"""

from __future__ import annotations

from bot.amm.full_math import Q96, AmmInputError, check_uint, mul_div
from bot.amm.sqrt_price_math import get_amount0_delta_signed, get_amount1_delta_signed
from bot.amm.tick_math import get_sqrt_ratio_at_tick


def _ordered(sqrt_a: int, sqrt_b: int) -> tuple[int, int]:
    check_uint("sqrt_a", sqrt_a, 160)
    check_uint("sqrt_b", sqrt_b, 160)
    return (sqrt_b, sqrt_a) if sqrt_a > sqrt_b else (sqrt_a, sqrt_b)


def _to_uint128(name: str, value: int) -> int:
    if value >> 128:
        raise AmmInputError(f"{name}: liquidity {value} overflows uint128; the amount is too large")
    return value


def get_liquidity_for_amount0(sqrt_a: int, sqrt_b: int, amount0: int) -> int:
    """Liquidity that `amount0` raw token0 buys over [sqrt_a, sqrt_b] (rounded down)."""
    lo, hi = _ordered(sqrt_a, sqrt_b)
    if lo == hi:
        raise AmmInputError("get_liquidity_for_amount0: empty range; pass sqrt_a != sqrt_b")
    intermediate = mul_div(lo, hi, Q96)
    return _to_uint128("get_liquidity_for_amount0", mul_div(amount0, intermediate, hi - lo))


def get_liquidity_for_amount1(sqrt_a: int, sqrt_b: int, amount1: int) -> int:
    """Liquidity that `amount1` raw token1 buys over [sqrt_a, sqrt_b] (rounded down)."""
    lo, hi = _ordered(sqrt_a, sqrt_b)
    if lo == hi:
        raise AmmInputError("get_liquidity_for_amount1: empty range; pass sqrt_a != sqrt_b")
    return _to_uint128("get_liquidity_for_amount1", mul_div(amount1, Q96, hi - lo))


def get_liquidity_for_amounts(
    sqrt_price_x96: int, sqrt_a: int, sqrt_b: int, amount0: int, amount1: int
) -> int:
    """The most liquidity the two amounts allow at the current price (as the periphery)."""
    lo, hi = _ordered(sqrt_a, sqrt_b)
    if sqrt_price_x96 <= lo:
        return get_liquidity_for_amount0(lo, hi, amount0)
    if sqrt_price_x96 < hi:
        liquidity0 = get_liquidity_for_amount0(sqrt_price_x96, hi, amount0)
        liquidity1 = get_liquidity_for_amount1(lo, sqrt_price_x96, amount1)
        return min(liquidity0, liquidity1)
    return get_liquidity_for_amount1(lo, hi, amount1)


def get_amount0_for_liquidity(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """Raw token0 for `liquidity` over [sqrt_a, sqrt_b], rounded down."""
    lo, hi = _ordered(sqrt_a, sqrt_b)
    check_uint("liquidity", liquidity, 128)
    if lo == 0:
        raise AmmInputError("get_amount0_for_liquidity: sqrt price 0; pass sqrt_a > 0")
    return mul_div(liquidity << 96, hi - lo, hi) // lo


def get_amount1_for_liquidity(sqrt_a: int, sqrt_b: int, liquidity: int) -> int:
    """Raw token1 for `liquidity` over [sqrt_a, sqrt_b], rounded down."""
    lo, hi = _ordered(sqrt_a, sqrt_b)
    check_uint("liquidity", liquidity, 128)
    return mul_div(liquidity, hi - lo, Q96)


def get_amounts_for_liquidity(
    sqrt_price_x96: int, sqrt_a: int, sqrt_b: int, liquidity: int
) -> tuple[int, int]:
    """(amount0, amount1) raw for `liquidity`, branch chosen by sqrt price (periphery rule)."""
    lo, hi = _ordered(sqrt_a, sqrt_b)
    if sqrt_price_x96 <= lo:
        return get_amount0_for_liquidity(lo, hi, liquidity), 0
    if sqrt_price_x96 < hi:
        return (
            get_amount0_for_liquidity(sqrt_price_x96, hi, liquidity),
            get_amount1_for_liquidity(lo, sqrt_price_x96, liquidity),
        )
    return 0, get_amount1_for_liquidity(lo, hi, liquidity)


def position_amounts(
    sqrt_price_x96: int, tick: int, tick_lower: int, tick_upper: int, liquidity: int
) -> tuple[int, int]:
    """(amount0_raw, amount1_raw) that burning all `liquidity` of the position pays now.

    `sqrt_price_x96` and `tick` are the pool's slot0 at the same block.
    """
    if tick_lower >= tick_upper:
        raise AmmInputError(
            f"tick_lower={tick_lower} must be below tick_upper={tick_upper}; swap them"
        )
    check_uint("liquidity", liquidity, 128)
    sqrt_lower = get_sqrt_ratio_at_tick(tick_lower)
    sqrt_upper = get_sqrt_ratio_at_tick(tick_upper)
    delta = -liquidity
    if tick < tick_lower:
        return -get_amount0_delta_signed(sqrt_lower, sqrt_upper, delta), 0
    if tick < tick_upper:
        return (
            -get_amount0_delta_signed(sqrt_price_x96, sqrt_upper, delta),
            -get_amount1_delta_signed(sqrt_lower, sqrt_price_x96, delta),
        )
    return 0, -get_amount1_delta_signed(sqrt_lower, sqrt_upper, delta)
