"""SqrtPriceMath: token amounts between two sqrt prices, with the contract's rounding.

amount0 = L * (sqrt_b - sqrt_a) / (sqrt_a * sqrt_b) and amount1 = L * (sqrt_b - sqrt_a),
prices as Q64.96 and amounts in raw token units. The pool rounds up what it takes in
(mint) and down what it pays out (burn); the signed variants choose by liquidity's sign.
"""

from __future__ import annotations

from bot.amm.full_math import (
    Q96,
    AmmInputError,
    check_uint,
    div_rounding_up,
    mul_div,
    mul_div_rounding_up,
)

_INT128_MIN = -(2**127)
_INT128_MAX = 2**127 - 1


def _ordered(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int) -> tuple[int, int]:
    check_uint("sqrt_ratio_a_x96", sqrt_ratio_a_x96, 160)
    check_uint("sqrt_ratio_b_x96", sqrt_ratio_b_x96, 160)
    if sqrt_ratio_a_x96 > sqrt_ratio_b_x96:
        return sqrt_ratio_b_x96, sqrt_ratio_a_x96
    return sqrt_ratio_a_x96, sqrt_ratio_b_x96


def get_amount0_delta(
    sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool
) -> int:
    """Raw token0 amount for `liquidity` between two sqrt prices (either order)."""
    lo, hi = _ordered(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    check_uint("liquidity", liquidity, 128)
    if lo == 0:
        raise AmmInputError("get_amount0_delta: sqrt price 0 is not a price; pass sqrt_ratio > 0")
    numerator1 = liquidity << 96
    numerator2 = hi - lo
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, hi), lo)
    return mul_div(numerator1, numerator2, hi) // lo


def get_amount1_delta(
    sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool
) -> int:
    """Raw token1 amount for `liquidity` between two sqrt prices (either order)."""
    lo, hi = _ordered(sqrt_ratio_a_x96, sqrt_ratio_b_x96)
    check_uint("liquidity", liquidity, 128)
    if round_up:
        return mul_div_rounding_up(liquidity, hi - lo, Q96)
    return mul_div(liquidity, hi - lo, Q96)


def _check_int128(liquidity: int) -> None:
    if not _INT128_MIN <= liquidity <= _INT128_MAX:
        raise AmmInputError(f"liquidity={liquidity} is not an int128")


def get_amount0_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """Signed token0 delta as the pool books it: negative liquidity pays out, rounded down."""
    _check_int128(liquidity)
    if liquidity < 0:
        return -get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, -liquidity, False)
    return get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity, True)


def get_amount1_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """Signed token1 delta as the pool books it: negative liquidity pays out, rounded down."""
    _check_int128(liquidity)
    if liquidity < 0:
        return -get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, -liquidity, False)
    return get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity, True)
