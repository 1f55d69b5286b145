"""Amount deltas, LiquidityAmounts and position_amounts against exact rationals."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.amm.full_math import MAX_UINT128, Q96, AmmInputError
from bot.amm.liquidity_amounts import (
    get_amounts_for_liquidity,
    get_liquidity_for_amount0,
    get_liquidity_for_amount1,
    get_liquidity_for_amounts,
    position_amounts,
)
from bot.amm.sqrt_price_math import (
    get_amount0_delta,
    get_amount0_delta_signed,
    get_amount1_delta,
    get_amount1_delta_signed,
)
from bot.amm.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

sqrt_prices = st.integers(min_value=MIN_SQRT_RATIO, max_value=MAX_SQRT_RATIO - 1)
liquidities = st.integers(min_value=0, max_value=2**127 - 1)


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """floor(sqrt(reserve1 / reserve0) * 2**96), as the v3-core tests' encodePriceSqrt."""
    return math.isqrt(reserve1 * 2**192 // reserve0)


def exact_amount0(a: int, b: int, liquidity: int) -> Fraction:
    lo, hi = sorted((a, b))
    return Fraction(liquidity * Q96 * (hi - lo), hi * lo)


def exact_amount1(a: int, b: int, liquidity: int) -> Fraction:
    return Fraction(liquidity * abs(b - a), Q96)


@settings(max_examples=300)
@given(sqrt_prices, sqrt_prices, liquidities)
def test_amount_deltas_are_exact_floor_and_ceil(a: int, b: int, liquidity: int) -> None:
    amount0, amount1 = exact_amount0(a, b, liquidity), exact_amount1(a, b, liquidity)
    assert get_amount0_delta(a, b, liquidity, False) == math.floor(amount0)
    assert get_amount0_delta(a, b, liquidity, True) == math.ceil(amount0)
    assert get_amount1_delta(a, b, liquidity, False) == math.floor(amount1)
    assert get_amount1_delta(a, b, liquidity, True) == math.ceil(amount1)
    assert get_amount0_delta(b, a, liquidity, True) == get_amount0_delta(a, b, liquidity, True)


@settings(max_examples=200)
@given(sqrt_prices, sqrt_prices, liquidities)
def test_signed_deltas_round_up_what_the_pool_takes_and_down_what_it_pays(
    a: int, b: int, liquidity: int
) -> None:
    assert get_amount0_delta_signed(a, b, liquidity) == get_amount0_delta(a, b, liquidity, True)
    assert get_amount1_delta_signed(a, b, liquidity) == get_amount1_delta(a, b, liquidity, True)
    assert get_amount0_delta_signed(a, b, -liquidity) == -get_amount0_delta(a, b, liquidity, False)
    assert get_amount1_delta_signed(a, b, -liquidity) == -get_amount1_delta(a, b, liquidity, False)


def test_golden_values_from_the_v3_core_sqrt_price_math_spec() -> None:
    one, p121 = encode_price_sqrt(1, 1), encode_price_sqrt(121, 100)
    liquidity = 10**18
    assert get_amount0_delta(p121, one, liquidity, True) == 90909090909090910
    assert get_amount0_delta(p121, one, liquidity, False) == 90909090909090909
    assert get_amount1_delta(one, p121, liquidity, True) == 100000000000000000
    assert get_amount1_delta(one, p121, liquidity, False) == 99999999999999999
    sqrt_p = 1025574284609383690408304870162715216695788925244
    sqrt_q = 1025574284609383582644711336373707553698163132913
    assert get_amount0_delta(sqrt_p, sqrt_q, 50015962439936049619261659728067971248, True) == 406
    assert get_amount0_delta(one, one, 0, True) == 0


def test_invalid_inputs_are_named() -> None:
    with pytest.raises(AmmInputError, match="liquidity"):
        get_amount1_delta(1, 2, 2**128, False)
    with pytest.raises(AmmInputError, match="sqrt price 0"):
        get_amount0_delta(0, Q96, 1, False)
    with pytest.raises(AmmInputError, match="int128"):
        get_amount0_delta_signed(Q96, 2 * Q96, -(2**127) - 1)
    with pytest.raises(AmmInputError, match="tick_lower=10 must be below tick_upper=10"):
        position_amounts(Q96, 0, 10, 10, 1)


@st.composite
def positions(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    """(sqrt_price_x96, tick, tick_lower, tick_upper, liquidity) with a consistent slot0."""
    spacing = draw(st.sampled_from([1, 10, 60, 200]))
    centre = draw(st.integers(min_value=-400_000, max_value=400_000)) // spacing * spacing
    width = draw(st.integers(min_value=1, max_value=2000)) * spacing
    tick_lower = centre - draw(st.integers(min_value=0, max_value=width // spacing)) * spacing
    tick_upper = tick_lower + width
    sqrt_lo = get_sqrt_ratio_at_tick(max(MIN_TICK, tick_lower - 3 * width))
    # slot0's price is below MAX_SQRT_RATIO (the ratio at MAX_TICK is never a pool's price)
    sqrt_hi = min(get_sqrt_ratio_at_tick(min(MAX_TICK, tick_upper + 3 * width)), MAX_SQRT_RATIO - 1)
    sqrt_price = draw(
        st.one_of(
            st.integers(min_value=sqrt_lo, max_value=sqrt_hi),
            st.sampled_from(
                [get_sqrt_ratio_at_tick(tick_lower), get_sqrt_ratio_at_tick(tick_upper)]
            ),
        )
    )
    liquidity = draw(st.integers(min_value=0, max_value=MAX_UINT128 >> 1))
    return sqrt_price, get_tick_at_sqrt_ratio(sqrt_price), tick_lower, tick_upper, liquidity


@settings(max_examples=300, deadline=None)
@given(positions())
def test_position_amounts_are_exact_floors_of_the_burn_formula(
    position: tuple[int, int, int, int, int],
) -> None:
    sqrt_price, tick, tick_lower, tick_upper, liquidity = position
    sqrt_lower, sqrt_upper = get_sqrt_ratio_at_tick(tick_lower), get_sqrt_ratio_at_tick(tick_upper)
    amount0, amount1 = position_amounts(sqrt_price, tick, tick_lower, tick_upper, liquidity)
    clipped = min(max(sqrt_price, sqrt_lower), sqrt_upper)
    assert amount0 == math.floor(exact_amount0(clipped, sqrt_upper, liquidity))
    assert amount1 == math.floor(exact_amount1(sqrt_lower, clipped, liquidity))
    if tick < tick_lower:
        assert amount1 == 0
    if tick >= tick_upper:
        assert amount0 == 0
    # the periphery's price-based branch gives the same units when slot0 is consistent
    assert (amount0, amount1) == get_amounts_for_liquidity(
        sqrt_price, sqrt_lower, sqrt_upper, liquidity
    )


def test_position_amounts_branch_on_tick_when_price_sits_on_the_lower_boundary() -> None:
    # after a swap that ends exactly on a tick going down, the pool stores tick - 1
    tick_lower, tick_upper, liquidity = -600, 600, 10**20
    sqrt_lower = get_sqrt_ratio_at_tick(tick_lower)
    below = position_amounts(sqrt_lower, tick_lower - 1, tick_lower, tick_upper, liquidity)
    inside = position_amounts(sqrt_lower, tick_lower, tick_lower, tick_upper, liquidity)
    assert below == inside
    assert below[1] == 0
    assert below[0] == get_amount0_delta(sqrt_lower, get_sqrt_ratio_at_tick(600), liquidity, False)


@settings(max_examples=200, deadline=None)
@given(positions(), st.integers(min_value=0, max_value=10**30), st.integers(0, 10**30))
def test_liquidity_for_amounts_never_needs_more_than_given(
    position: tuple[int, int, int, int, int], amount0: int, amount1: int
) -> None:
    sqrt_price, _, tick_lower, tick_upper, _ = position
    sqrt_lower, sqrt_upper = get_sqrt_ratio_at_tick(tick_lower), get_sqrt_ratio_at_tick(tick_upper)
    try:
        liquidity = get_liquidity_for_amounts(sqrt_price, sqrt_lower, sqrt_upper, amount0, amount1)
    except AmmInputError:
        assume(False)
        return
    need0, need1 = get_amounts_for_liquidity(sqrt_price, sqrt_lower, sqrt_upper, liquidity)
    assert need0 <= amount0
    assert need1 <= amount1


def test_liquidity_for_single_amounts_are_exact_floors() -> None:
    a, b = get_sqrt_ratio_at_tick(-1000), get_sqrt_ratio_at_tick(2000)
    amount = 123456789 * 10**12
    assert get_liquidity_for_amount1(a, b, amount) == amount * Q96 // (b - a)
    intermediate = a * b // Q96
    assert get_liquidity_for_amount0(b, a, amount) == amount * intermediate // (b - a)
    with pytest.raises(AmmInputError, match="empty range"):
        get_liquidity_for_amount0(a, a, amount)
