"""The strip that replicates an LP's convexity: weights, terminal payoff, whole contracts,
the delta the perp must hold, and how much to buy against realised vol."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bot.backtest.lp import amount_base, open_position, value
from bot.errors import InputError
from bot.options.strip import Convexity, buy_fraction, cell_weights, expiry_delta, strip

P0 = 3000.0
POS = open_position(P0, 100_000.0, 10.0)
CONV = Convexity((POS.liquidity,), (POS.price_lower,), (POS.price_upper,))


def _arrays(legs: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # type: ignore[type-arg]
    return (
        np.array([x.strike for x in legs]),
        np.array([1.0 if x.is_call else 0.0 for x in legs]),
        np.array([x.quantity for x in legs]),
    )


def _payoff(legs: tuple, s: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    k, call, q = _arrays(legs)
    intrinsic = np.where(call > 0, np.maximum(s[:, None] - k, 0), np.maximum(k - s[:, None], 0))
    out: np.ndarray = np.sum(q * intrinsic, axis=1)  # type: ignore[type-arg]
    return out


def test_weights_sum_to_the_lps_delta_change_across_its_range() -> None:
    strikes = np.arange(2500.0, 3550.0, 50.0)
    w = cell_weights(strikes, CONV)
    whole = POS.liquidity * (1 / math.sqrt(POS.price_lower) - 1 / math.sqrt(POS.price_upper))
    assert float(np.sum(w)) == pytest.approx(whole, rel=1e-12)
    assert np.all(w[(strikes < 2650) | (strikes > 3350)] == 0)  # cells wholly outside
    assert np.all(w >= 0)


def test_lp_plus_strip_is_a_line_at_expiry() -> None:
    """The point of the strip: LP + options at expiry is a line in the price (which a
    static perp cancels), inside the range and out of it."""
    legs = strip(np.arange(2000.0, 4000.0, 1.0).tolist(), CONV, P0, 1.0)
    s = np.linspace(2000.0, 4000.0, 401)
    book = value(POS, s) + _payoff(legs, s)
    slope, level = np.polyfit(s, book, 1)
    lp_alone = value(POS, s) - np.polyval(np.polyfit(s, value(POS, s), 1), s)
    assert np.max(np.abs(book - (slope * s + level))) < 1e-4 * np.max(np.abs(lp_alone))
    assert slope * P0 + level == pytest.approx(value(POS, np.array([P0]))[0], rel=1e-6)
    assert all(x.is_call == (x.strike >= P0) for x in legs)  # out of the money at P0


def test_whole_contracts_keep_the_expiry_delta_within_half_a_contract() -> None:
    listed = np.arange(2000.0, 4000.0, 50.0).tolist()
    exact = strip(listed, CONV, P0, 0.55)
    whole = strip(listed, CONV, P0, 0.55, min_quantity=1.0, quantity_step=1.0)
    assert all(x.quantity == round(x.quantity) and x.quantity >= 1 for x in whole)
    assert any(x.quantity < 1 for x in exact)  # some cells hold under a contract
    s = np.linspace(2500.0, 3500.0, 1001)
    gap = expiry_delta(s, *_arrays(whole)) - expiry_delta(s, *_arrays(exact))
    assert np.max(np.abs(gap)) <= 0.5 + 1e-9


def test_perp_at_minus_lp_and_expiry_delta_is_nearly_static() -> None:
    legs = strip(np.arange(2000.0, 4000.0, 25.0).tolist(), CONV, P0, 1.0)
    s = np.linspace(2600.0, 3400.0, 801)
    book = amount_base(POS, s) + expiry_delta(s, *_arrays(legs))
    start = amount_base(POS, np.array([P0]))[0]
    cell = float(np.max(cell_weights(np.arange(2000.0, 4000.0, 25.0), CONV)))
    assert np.max(np.abs(book - start)) <= cell  # one strike's step at most
    assert np.max(np.abs(amount_base(POS, s) - start)) > 10 * cell  # the LP alone moves


def test_fraction_scales_the_strip_and_zero_buys_nothing() -> None:
    listed = np.arange(2000.0, 4000.0, 50.0).tolist()
    full = sum(x.quantity for x in strip(listed, CONV, P0, 1.0))
    half = sum(x.quantity for x in strip(listed, CONV, P0, 0.5))
    assert half == pytest.approx(full / 2)
    assert strip(listed, CONV, P0, 0.0) == ()


def test_buy_fraction_follows_realised_over_implied_squared() -> None:
    assert buy_fraction(0.75, 1.0, 0.6, 0.6) == pytest.approx(0.75)
    assert buy_fraction(0.75, 1.0, 0.8, 0.4) == pytest.approx(0.75 / 4)
    assert buy_fraction(0.75, 1.0, 0.4, 0.8) == 1.0  # capped
    assert buy_fraction(0.75, 1.0, 0.6, None) == 0.75  # no realised vol yet


def test_bad_input_names_the_item() -> None:
    with pytest.raises(InputError, match="position 0 range"):
        Convexity((1.0,), (3300.0,), (2700.0,))
    with pytest.raises(InputError, match="ascending"):
        cell_weights(np.array([3000.0, 2900.0]), CONV)
    with pytest.raises(InputError, match="no listed strikes"):
        strip([], CONV, P0, 1.0)
    with pytest.raises(InputError, match="implied vol"):
        buy_fraction(0.5, 1.0, 0.0, 0.5)
