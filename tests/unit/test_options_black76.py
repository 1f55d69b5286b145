"""Black-76: parity, greeks by finite differences, IV round trip, inverse premiums."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.errors import InputError
from bot.options.black76 import greeks, implied_vol, premium_coin, premium_usd, price

F, T, V = 3000.0, 14 / 365, 0.65


@pytest.mark.parametrize("k", [2000.0, 2700.0, 3000.0, 3300.0, 4500.0])
def test_put_call_parity(k: float) -> None:
    for rate in (0.0, 0.05):
        c = price(F, k, T, V, True, rate)
        p = price(F, k, T, V, False, rate)
        disc = 2.718281828459045 ** (-rate * T)
        assert c - p == pytest.approx(disc * (F - k), abs=1e-9)


@pytest.mark.parametrize(("k", "call"), [(2700.0, False), (3000.0, True), (3400.0, True)])
def test_greeks_match_finite_differences(k: float, call: bool) -> None:
    g = greeks(F, k, T, V, call)
    h = 0.5
    up, dn = price(F + h, k, T, V, call), price(F - h, k, T, V, call)
    assert g.delta == pytest.approx((up - dn) / (2 * h), rel=1e-6)
    assert g.gamma == pytest.approx((up - 2 * g.price + dn) / h**2, rel=1e-4)
    dv = 1e-5
    vega = (price(F, k, T, V + dv, call) - price(F, k, T, V - dv, call)) / (2 * dv)
    assert g.vega == pytest.approx(vega, rel=1e-6)
    dt = 1e-6
    theta = -(price(F, k, T + dt, V, call) - price(F, k, T - dt, V, call)) / (2 * dt)
    assert g.theta == pytest.approx(theta, rel=1e-5)
    assert g.theta < 0 < g.gamma


@pytest.mark.parametrize("k", [1500.0, 2900.0, 3000.0, 3600.0, 6000.0])
@pytest.mark.parametrize("vol", [0.05, 0.6, 2.5])
def test_implied_vol_round_trip(k: float, vol: float) -> None:
    for call in (True, False):
        p = price(F, k, 30 / 365, vol, call)
        intrinsic = max(F - k, 0.0) if call else max(k - F, 0.0)
        if p - intrinsic < 1e-3:  # no time value left: the price holds no vol information
            continue
        assert implied_vol(p, F, k, 30 / 365, call) == pytest.approx(vol, rel=1e-6)


def test_implied_vol_rejects_premium_below_intrinsic() -> None:
    with pytest.raises(InputError, match="no-arbitrage"):
        implied_vol(100.0, 3000.0, 2500.0, 0.1, True)  # intrinsic is 500


def test_expired_option_is_worth_intrinsic() -> None:
    assert price(3100.0, 3000.0, 0.0, 0.6, True) == pytest.approx(100.0)
    assert greeks(3100.0, 3000.0, 0.0, 0.6, False).delta == 0.0


def test_inverse_premium_conversion_is_exact() -> None:
    usd = Decimal("123.45")
    fwd = Decimal("3086.25")
    coin = premium_coin(usd, fwd)
    assert coin == Decimal("0.04")
    assert premium_usd(coin, fwd) == usd
    with pytest.raises(InputError, match="forward"):
        premium_coin(usd, Decimal(0))
