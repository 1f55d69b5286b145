"""FullMath against Python big ints, and the reverts the contract has."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.amm.full_math import (
    MAX_UINT256,
    AmmInputError,
    div_rounding_up,
    mul_div,
    mul_div_rounding_up,
)
from bot.errors import InputError

uint256 = st.integers(min_value=0, max_value=MAX_UINT256)
positive = st.integers(min_value=1, max_value=MAX_UINT256)


@settings(max_examples=300)
@given(uint256, uint256, positive)
def test_mul_div_is_floor_of_the_exact_product_or_reverts(a: int, b: int, d: int) -> None:
    exact = a * b // d
    if exact > MAX_UINT256:
        with pytest.raises(AmmInputError, match="overflows uint256"):
            mul_div(a, b, d)
    else:
        assert mul_div(a, b, d) == exact


@settings(max_examples=300)
@given(uint256, uint256, positive)
def test_mul_div_rounding_up_is_ceil_or_reverts(a: int, b: int, d: int) -> None:
    exact = -(-a * b // d)
    if exact > MAX_UINT256:
        with pytest.raises(AmmInputError):
            mul_div_rounding_up(a, b, d)
    else:
        assert mul_div_rounding_up(a, b, d) == exact


def test_golden_values_from_the_v3_core_full_math_spec() -> None:
    assert mul_div(MAX_UINT256, MAX_UINT256, MAX_UINT256) == MAX_UINT256
    q128 = 2**128
    assert mul_div(q128, 50 * q128 // 100, 150 * q128 // 100) == q128 // 3
    assert mul_div_rounding_up(q128, 50 * q128 // 100, 150 * q128 // 100) == q128 // 3 + 1
    # floor fits exactly in 256 bits, rounding up would not: the contract reverts
    a, b = 535006138814359, 432862656469423142931042426214547535783388063929571229938474969
    assert mul_div(a, b, 2) == MAX_UINT256
    with pytest.raises(AmmInputError):
        mul_div_rounding_up(a, b, 2)


def test_errors_are_value_errors_and_input_errors_and_name_the_argument() -> None:
    with pytest.raises(ValueError, match="denominator is 0"):
        mul_div(1, 2, 0)
    with pytest.raises(InputError, match="a=-1"):
        mul_div(-1, 2, 3)
    with pytest.raises(AmmInputError, match="b="):
        mul_div(1, 2**256, 3)
    with pytest.raises(AmmInputError):
        div_rounding_up(1, 0)


def test_div_rounding_up() -> None:
    assert div_rounding_up(10, 5) == 2
    assert div_rounding_up(11, 5) == 3
    assert div_rounding_up(0, 5) == 0
