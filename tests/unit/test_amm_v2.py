"""A v2 LP share as UniswapV2Pair.burn pays it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.amm.v2 import share_of_reserves
from bot.errors import InputError

reserves = st.integers(min_value=0, max_value=2**112 - 1)


@settings(max_examples=300)
@given(st.integers(min_value=1, max_value=2**200), reserves, reserves, st.data())
def test_share_is_floor_and_holders_never_get_more_than_the_reserves(
    total_supply: int, reserve0: int, reserve1: int, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=total_supply))
    first = share_of_reserves(cut, total_supply, reserve0, reserve1)
    rest = share_of_reserves(total_supply - cut, total_supply, reserve0, reserve1)
    assert first == (cut * reserve0 // total_supply, cut * reserve1 // total_supply)
    assert first[0] + rest[0] <= reserve0
    assert first[1] + rest[1] <= reserve1
    assert share_of_reserves(total_supply, total_supply, reserve0, reserve1) == (reserve0, reserve1)


def test_known_share() -> None:
    # 1 % of a pool with 1000 WETH and 3,000,000 USDC
    assert share_of_reserves(10**16, 10**18, 1000 * 10**18, 3_000_000 * 10**6) == (
        10 * 10**18,
        30_000 * 10**6,
    )


def test_empty_pair_and_bad_balance_raise_input_errors() -> None:
    with pytest.raises(InputError, match="total_supply 0"):
        share_of_reserves(0, 0, 1, 1)
    with pytest.raises(InputError, match="exceeds total_supply"):
        share_of_reserves(11, 10, 1, 1)
