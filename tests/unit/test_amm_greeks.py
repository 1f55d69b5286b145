"""Greeks against finite differences, and against the exact integer amounts of a position."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.amm.full_math import AmmInputError
from bot.amm.greeks import (
    Greeks,
    human_liquidity,
    human_price_at_tick,
    human_price_from_sqrt,
    impermanent_loss,
    v2_delta_gamma_np,
    v2_value_delta_gamma,
    v3_delta_gamma_np,
    v3_value_delta_gamma,
)
from bot.amm.liquidity_amounts import position_amounts
from bot.amm.tick_math import get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio

prices = st.floats(min_value=1.0, max_value=1e5)


@st.composite
def v3_ranges(draw: st.DrawFn) -> tuple[float, float, float]:
    """(price, price_lower, price_upper) with the price strictly inside, away from the edges."""
    lower = draw(prices)
    upper = lower * draw(st.floats(min_value=1.05, max_value=20.0))
    price = lower + (upper - lower) * draw(st.floats(min_value=0.05, max_value=0.95))
    return price, lower, upper


def _value(liquidity: float, price: float, lower: float, upper: float) -> float:
    return v3_value_delta_gamma(liquidity, price, lower, upper).value


@settings(max_examples=200)
@given(v3_ranges(), st.floats(min_value=0.01, max_value=1e6))
def test_v3_delta_and_gamma_are_derivatives_of_value(
    prices_: tuple[float, float, float], liquidity: float
) -> None:
    price, lower, upper = prices_
    h = price * 1e-5
    g = v3_value_delta_gamma(liquidity, price, lower, upper)
    fd_delta = (
        _value(liquidity, price + h, lower, upper) - _value(liquidity, price - h, lower, upper)
    ) / (2 * h)
    up = v3_value_delta_gamma(liquidity, price + h, lower, upper).delta
    down = v3_value_delta_gamma(liquidity, price - h, lower, upper).delta
    assert fd_delta == pytest.approx(g.delta, rel=1e-5, abs=1e-9 * liquidity)
    assert (up - down) / (2 * h) == pytest.approx(g.gamma, rel=1e-4)
    assert g.gamma < 0


def test_v3_outside_the_range_is_all_one_token_and_has_no_gamma() -> None:
    liquidity, lower, upper = 100.0, 1000.0, 4000.0
    below = v3_value_delta_gamma(liquidity, 500.0, lower, upper)
    assert below.delta == pytest.approx(liquidity * (1 / math.sqrt(lower) - 1 / math.sqrt(upper)))
    assert below.value == pytest.approx(below.delta * 500.0)
    assert below.gamma == 0.0
    above = v3_value_delta_gamma(liquidity, 9000.0, lower, upper)
    assert above.value == pytest.approx(liquidity * (math.sqrt(upper) - math.sqrt(lower)))
    assert (above.delta, above.gamma) == (0.0, 0.0)
    assert isinstance(above, Greeks)
    at_upper = v3_value_delta_gamma(liquidity, upper, lower, upper)
    assert (at_upper.delta, at_upper.gamma) == (0.0, 0.0)
    at_lower = v3_value_delta_gamma(liquidity, lower, lower, upper)
    assert at_lower.gamma == pytest.approx(-liquidity / (2 * lower**1.5))


@settings(max_examples=200)
@given(prices, st.floats(min_value=1.0, max_value=1e12))
def test_v2_greeks_are_derivatives_of_value(price: float, k: float) -> None:
    h = price * 1e-5
    g = v2_value_delta_gamma(k, price)
    fd_delta = v2_value_delta_gamma(k, price + h).value - v2_value_delta_gamma(k, price - h).value
    fd_gamma = v2_value_delta_gamma(k, price + h).delta - v2_value_delta_gamma(k, price - h).delta
    assert fd_delta / (2 * h) == pytest.approx(g.delta, rel=1e-6)
    assert fd_gamma / (2 * h) == pytest.approx(g.gamma, rel=1e-4)
    # a v2 share holds base = sqrt(k / P) and quote = sqrt(k P)
    assert g.value == pytest.approx(g.delta * price + math.sqrt(k * price))


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=-20_000, max_value=20_000),
    st.integers(min_value=10, max_value=5000),
    st.floats(min_value=0.02, max_value=0.98),
    st.integers(min_value=10**12, max_value=10**24),
)
def test_token0_base_greeks_match_exact_amounts(
    centre: int, half_width: int, where: float, liquidity_raw: int
) -> None:
    """WETH (18, token0) / USDC (6, token1): base = token0, P = p."""
    tick_lower, tick_upper = -200_000 + centre - half_width, -200_000 + centre + half_width
    tick = int(tick_lower + where * (tick_upper - tick_lower))
    sqrt_price = get_sqrt_ratio_at_tick(tick) + 12345
    tick = get_tick_at_sqrt_ratio(sqrt_price)
    amount0, amount1 = position_amounts(sqrt_price, tick, tick_lower, tick_upper, liquidity_raw)
    price = human_price_from_sqrt(sqrt_price, 18, 6)
    g = v3_value_delta_gamma(
        human_liquidity(liquidity_raw, 18, 6),
        price,
        human_price_at_tick(tick_lower, 18, 6),
        human_price_at_tick(tick_upper, 18, 6),
    )
    base, quote = amount0 / 10**18, amount1 / 10**6
    assert g.delta == pytest.approx(base, rel=1e-8, abs=2e-18)
    # the contract floors each amount: allow one raw unit of each, valued in quote
    one_unit = 1e-18 * price + 1e-6
    assert g.value == pytest.approx(base * price + quote, rel=1e-8, abs=one_unit)


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=-20_000, max_value=20_000),
    st.integers(min_value=10, max_value=5000),
    st.floats(min_value=0.02, max_value=0.98),
    st.integers(min_value=10**12, max_value=10**24),
)
def test_token1_base_maps_by_inverting_price_and_swapping_the_range(
    centre: int, half_width: int, where: float, liquidity_raw: int
) -> None:
    """USDC (6, token0) / WETH (18, token1): base = token1, P = 1/p, [1/p_upper, 1/p_lower]."""
    tick_lower, tick_upper = 200_000 + centre - half_width, 200_000 + centre + half_width
    tick = int(tick_lower + where * (tick_upper - tick_lower))
    sqrt_price = get_sqrt_ratio_at_tick(tick) + 12345
    tick = get_tick_at_sqrt_ratio(sqrt_price)
    amount0, amount1 = position_amounts(sqrt_price, tick, tick_lower, tick_upper, liquidity_raw)
    price = 1 / human_price_from_sqrt(sqrt_price, 6, 18)
    g = v3_value_delta_gamma(
        human_liquidity(liquidity_raw, 18, 6),
        price,
        1 / human_price_at_tick(tick_upper, 6, 18),
        1 / human_price_at_tick(tick_lower, 6, 18),
    )
    base, quote = amount1 / 10**18, amount0 / 10**6
    assert g.delta == pytest.approx(base, rel=1e-8, abs=2e-18)
    # the contract floors each amount: allow one raw unit of each, valued in quote
    one_unit = 1e-18 * price + 1e-6
    assert g.value == pytest.approx(base * price + quote, rel=1e-8, abs=one_unit)


def test_numpy_versions_equal_the_scalar_ones_and_are_fast() -> None:
    liquidity, lower, upper = 2500.0, 1500.0, 3500.0
    grid = np.concatenate([np.linspace(500.0, 6000.0, 997), [lower, upper, 2000.0]])
    value, delta, gamma = v3_delta_gamma_np(liquidity, grid, lower, upper)
    for i, p in enumerate(grid):
        g = v3_value_delta_gamma(liquidity, float(p), lower, upper)
        assert (value[i], delta[i], gamma[i]) == pytest.approx((g.value, g.delta, g.gamma))
    v2_value, v2_delta, v2_gamma = v2_delta_gamma_np(1e7, grid)
    g2 = v2_value_delta_gamma(1e7, float(grid[3]))
    assert (v2_value[3], v2_delta[3], v2_gamma[3]) == pytest.approx((g2.value, g2.delta, g2.gamma))
    hourly_year = np.random.default_rng(7).lognormal(np.log(2500.0), 0.3, 24 * 365)
    start = time.perf_counter()
    for _ in range(10):
        v3_delta_gamma_np(liquidity, hourly_year, lower, upper)
    assert time.perf_counter() - start < 0.5


def test_human_liquidity_is_symmetric_in_the_token_order() -> None:
    assert human_liquidity(10**21, 18, 6) == human_liquidity(10**21, 6, 18) == pytest.approx(1e9)


def test_human_prices() -> None:
    assert human_price_at_tick(0, 18, 18) == 1.0
    # WETH (18) / USDC (6) near 2500 USDC per WETH sits near tick -198080
    assert human_price_at_tick(-198080, 18, 6) == pytest.approx(2500.0, rel=1e-3)
    assert human_price_at_tick(198080, 6, 18) == pytest.approx(1 / 2500.0, rel=1e-3)
    assert human_price_from_sqrt(2**96, 6, 6) == 1.0


def test_impermanent_loss() -> None:
    assert impermanent_loss(1000.0, 4000.0) == pytest.approx(-0.2)
    assert impermanent_loss(1000.0, 1000.0) == pytest.approx(0.0)
    assert impermanent_loss(1000.0, 1000.0, 800.0, 1250.0) == pytest.approx(0.0)


@settings(max_examples=200)
@given(v3_ranges(), st.floats(min_value=0.05, max_value=0.95))
def test_a_range_loses_at_least_as_much_as_full_range(
    prices_: tuple[float, float, float], where: float
) -> None:
    price0, lower, upper = prices_
    price1 = lower + (upper - lower) * where
    assert (
        impermanent_loss(price0, price1, lower, upper) <= impermanent_loss(price0, price1) + 1e-12
    )


def test_bad_ranges_are_named() -> None:
    with pytest.raises(AmmInputError, match="price range"):
        v3_value_delta_gamma(1.0, 10.0, 20.0, 10.0)
    with pytest.raises(AmmInputError, match="price=0"):
        v3_value_delta_gamma(1.0, 0.0, 1.0, 2.0)
