"""Fee growth inside with uint256 wrap-around, and what collect would pay."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.amm.full_math import MAX_UINT128, MAX_UINT256, Q128, AmmInputError
from bot.amm.position_fees import (
    fee_growth_inside,
    tokens_owed,
    uncollected_fees,
    v4_fees_owed,
)

MOD = 2**256


class TwoTickPool:
    """A toy pool with one position's two ticks, booked as Tick.cross / Tick.update do."""

    def __init__(self, tick: int, tick_lower: int, tick_upper: int, global_x128: int) -> None:
        self.tick, self.lower, self.upper = tick, tick_lower, tick_upper
        self.global_x128 = global_x128
        # by convention all growth before initialisation happened below the tick
        self.outside = {t: (global_x128 if t <= tick else 0) for t in (tick_lower, tick_upper)}
        self.earned_inside_x128 = 0  # what a unit of in-range liquidity truly earned

    def accrue(self, growth_x128: int) -> None:
        self.global_x128 = (self.global_x128 + growth_x128) % MOD
        if self.lower <= self.tick < self.upper:
            self.earned_inside_x128 += growth_x128

    def move_to(self, new_tick: int) -> None:
        for t in (self.lower, self.upper):
            if (self.tick < t <= new_tick) or (new_tick < t <= self.tick):
                self.outside[t] = (self.global_x128 - self.outside[t]) % MOD
        self.tick = new_tick

    def inside(self) -> int:
        g, lower, upper = self.global_x128, self.outside[self.lower], self.outside[self.upper]
        inside0, inside1 = fee_growth_inside(
            self.lower, self.upper, self.tick, g, g, lower, lower, upper, upper
        )
        assert inside0 == inside1
        return inside0


steps = st.lists(
    st.one_of(
        st.tuples(st.just("fee"), st.integers(min_value=0, max_value=2**200)),
        st.tuples(st.just("move"), st.integers(min_value=-300, max_value=300)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=-300, max_value=300),
    st.integers(min_value=MAX_UINT256 - 2**201, max_value=MAX_UINT256),
    steps,
)
def test_fee_growth_inside_tracks_what_in_range_liquidity_earned_across_wraps(
    start_tick: int, start_global: int, actions: list[tuple[str, int]]
) -> None:
    pool = TwoTickPool(start_tick, -100, 100, start_global)
    snapshot = pool.inside()
    for kind, value in actions:
        if kind == "fee":
            pool.accrue(value)
        else:
            pool.move_to(value)
    assert (pool.inside() - snapshot) % MOD == pool.earned_inside_x128 % MOD


def test_outside_greater_than_global_wraps_like_the_contract() -> None:
    # in range: inside = global - lower_outside - upper_outside, mod 2**256
    inside0, inside1 = fee_growth_inside(-60, 60, 0, 10, 7, 20, 0, 5, 8)
    assert inside0 == MOD - 15
    assert inside1 == MOD - 1
    # below the range: inside = upper_outside - lower_outside
    assert fee_growth_inside(-60, 60, -61, 10, 10, 1, 1, 3, 3) == (MOD - 2, MOD - 2)
    # the pool counts tick == tick_lower as above lower, tick == tick_upper as above upper
    assert fee_growth_inside(-60, 60, -60, 100, 100, 30, 30, 20, 20) == (50, 50)
    assert fee_growth_inside(-60, 60, 59, 100, 100, 30, 30, 20, 20) == (50, 50)
    # at tick_upper the range is below the price: inside = upper_outside - lower_outside
    assert fee_growth_inside(-60, 60, 60, 100, 100, 30, 30, 20, 20) == (MOD - 10, MOD - 10)


def test_tokens_owed_uses_growth_since_last_across_the_wrap() -> None:
    liquidity = 3 * 10**18
    last = MAX_UINT256 - 5 * Q128 + 1  # snapshot taken just before global wrapped
    now = 2 * Q128
    growth = (now - last) % MOD
    assert tokens_owed(liquidity, now, last) == growth * liquidity // Q128


@settings(max_examples=300)
@given(
    st.integers(min_value=0, max_value=MAX_UINT128),
    st.integers(min_value=0, max_value=MAX_UINT256),
    st.integers(min_value=0, max_value=MAX_UINT256),
)
def test_tokens_owed_is_floor_truncated_to_uint128(liquidity: int, inside: int, last: int) -> None:
    exact = Fraction((inside - last) % MOD * liquidity, Q128)
    assert tokens_owed(liquidity, inside, last) == int(exact) % 2**128


def test_uncollected_fees_add_owed_and_wrap_in_uint128() -> None:
    liquidity = 2**64
    growth0 = 7 * 2**64  # 7 tokens for 2**64 liquidity, exactly
    fees = uncollected_fees(liquidity, 100 + growth0, 5, 100, 5, 11, 13)
    assert fees == (11 + 7, 13)
    assert uncollected_fees(liquidity, 100 + growth0 - 1, 5, 100, 5, 11, 13) == (11 + 6, 13)
    # tokensOwed += uint128(...) in Solidity 0.7 wraps
    assert uncollected_fees(liquidity, 2**64, 0, 0, 0, MAX_UINT128, 0) == (0, 0)
    # a position with no liquidity is paid only its tokensOwed
    assert uncollected_fees(0, 10**60, 10**60, 0, 0, 4, 2) == (4, 2)


def test_invalid_inputs_are_named() -> None:
    with pytest.raises(AmmInputError, match="upper_outside1_x128"):
        fee_growth_inside(-1, 1, 0, 0, 0, 0, 0, 0, MOD)
    with pytest.raises(AmmInputError, match="tokens_owed0"):
        uncollected_fees(1, 0, 0, 0, 0, -1, 0)


def test_v4_fees_owed_wrap_the_growth_but_not_the_result() -> None:
    # growth since `last` across the uint256 wrap, as v4-core's unchecked subtraction
    assert v4_fees_owed(3 * 10**18, 5 * Q128, 2 * Q128, MOD - Q128, 0) == (
        18 * 10**18,
        6 * 10**18,
    )
    # a uint256 result: v3 would keep it mod 2**128, v4's PoolManager pays it (or reverts)
    assert v4_fees_owed(MAX_UINT128, 4 * Q128, 0, 0, 0)[0] == 4 * MAX_UINT128
    with pytest.raises(AmmInputError, match="liquidity"):
        v4_fees_owed(2**128, 0, 0, 0, 0)
