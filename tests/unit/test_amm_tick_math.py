"""TickMath against 120-digit mpmath and the golden values of the v3-core tests."""

from __future__ import annotations

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.amm.full_math import AmmInputError
from bot.amm.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

ticks = st.integers(min_value=MIN_TICK, max_value=MAX_TICK)
ticks_below_max = st.integers(min_value=MIN_TICK, max_value=MAX_TICK - 1)
sqrt_prices = st.integers(min_value=MIN_SQRT_RATIO, max_value=MAX_SQRT_RATIO - 1)


def exact_sqrt_ratio(tick: int) -> mpmath.mpf:
    with mpmath.workdps(120):
        return mpmath.sqrt(mpmath.mpf("1.0001") ** tick) * mpmath.mpf(2) ** 96


def test_golden_values_from_v3_core() -> None:
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO == 4295128739
    assert get_sqrt_ratio_at_tick(MIN_TICK + 1) == 4295343490
    assert get_sqrt_ratio_at_tick(0) == 2**96
    assert get_sqrt_ratio_at_tick(MAX_TICK - 1) == 1461373636630004318706518188784493106690254656249
    assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO
    assert MAX_SQRT_RATIO == 1461446703485210103287273052203988822378723970342
    assert get_tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
    assert get_tick_at_sqrt_ratio(MIN_SQRT_RATIO + 1) == MIN_TICK
    assert get_tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1
    assert get_tick_at_sqrt_ratio(2**96) == 0
    assert get_tick_at_sqrt_ratio(2**96 - 1) == -1


@settings(max_examples=300, deadline=None)
@given(ticks)
def test_sqrt_ratio_matches_exact_value_within_contract_rounding(tick: int) -> None:
    got = get_sqrt_ratio_at_tick(tick)
    exact = exact_sqrt_ratio(tick)
    # the multiply chain loses < 1e-18 relative; the final shift rounds up by < 1 unit
    assert abs(got - exact) <= 1 + exact * mpmath.mpf("1e-18")


@settings(max_examples=300, deadline=None)
@given(ticks_below_max)
def test_tick_round_trip_and_boundary(tick: int) -> None:
    sqrt_ratio = get_sqrt_ratio_at_tick(tick)
    assert get_tick_at_sqrt_ratio(sqrt_ratio) == tick
    assert get_tick_at_sqrt_ratio(get_sqrt_ratio_at_tick(tick + 1) - 1) == tick
    if tick > MIN_TICK:
        assert get_tick_at_sqrt_ratio(sqrt_ratio - 1) == tick - 1


@settings(max_examples=300, deadline=None)
@given(sqrt_prices)
def test_tick_is_the_greatest_whose_ratio_is_at_most_the_price(sqrt_price_x96: int) -> None:
    tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
    assert get_sqrt_ratio_at_tick(tick) <= sqrt_price_x96
    assert tick == MAX_TICK - 1 or get_sqrt_ratio_at_tick(tick + 1) > sqrt_price_x96


@settings(max_examples=200, deadline=None)
@given(ticks_below_max)
def test_sqrt_ratio_is_strictly_increasing(tick: int) -> None:
    assert get_sqrt_ratio_at_tick(tick) < get_sqrt_ratio_at_tick(tick + 1)


def test_out_of_range_inputs_name_the_argument() -> None:
    with pytest.raises(AmmInputError, match="tick=887273"):
        get_sqrt_ratio_at_tick(MAX_TICK + 1)
    with pytest.raises(AmmInputError, match="tick=-887273"):
        get_sqrt_ratio_at_tick(MIN_TICK - 1)
    with pytest.raises(AmmInputError, match="sqrt_price_x96"):
        get_tick_at_sqrt_ratio(MAX_SQRT_RATIO)
    with pytest.raises(AmmInputError, match="sqrt_price_x96"):
        get_tick_at_sqrt_ratio(MIN_SQRT_RATIO - 1)
