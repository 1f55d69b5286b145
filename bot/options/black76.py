"""Black-76 prices and greeks of European options on a forward, and implied volatility.

Units: `forward` and `strike` in USD per unit of the underlying, `t_years` time to expiry in
years (365-day), `vol` annualised (0.8 = 80 %), `rate` the continuous discount rate (0 for
crypto venues, whose options settle at expiry against the index). Prices are USD per unit of
the underlying; `delta` is d price / d forward (dimensionless), `gamma` d delta / d forward
(1 / USD), `vega` d price / d vol (USD per 1.00 of vol), `theta` d price / d calendar time
(USD per year, negative for a long option).

The array functions take numpy arrays (broadcasting) so the backtester prices a whole week
of bars at once; the scalar wrappers serve the strategy. Float only: greeks and statistics,
never the ledger. Deribit quotes premiums in the coin (inverse): `premium_coin` converts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from bot.errors import InputError

F64 = npt.NDArray[np.float64]
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_MIN_T = 1e-12


def _erf(x: F64) -> F64:
    """Vectorised math.erf (exact to double precision; numpy has no erf)."""
    raw = np.frompyfunc(math.erf, 1, 1)(x)
    out: F64 = np.asarray(raw, dtype=np.float64)
    return out


def norm_cdf(x: F64) -> F64:
    out: F64 = 0.5 * (1.0 + _erf(np.asarray(x, dtype=np.float64) / _SQRT2))
    return out


def norm_pdf(x: F64) -> F64:
    out: F64 = _INV_SQRT_2PI * np.exp(-0.5 * np.asarray(x, dtype=np.float64) ** 2)
    return out


def _d1_d2(forward: F64, strike: F64, t: F64, vol: F64) -> tuple[F64, F64, F64]:
    sd = vol * np.sqrt(np.maximum(t, _MIN_T))
    sd = np.maximum(sd, 1e-12)
    d1 = (np.log(forward / strike) + 0.5 * sd * sd) / sd
    return d1, d1 - sd, sd


def price_array(
    forward: F64, strike: F64, t: F64, vol: F64, is_call: F64, rate: float = 0.0
) -> F64:
    """Option value (USD per unit of underlying); at t <= 0 the intrinsic value.

    `is_call` is 1.0 for calls, 0.0 for puts (an array, so one call prices a mixed book).
    """
    f, k, tt, v = (np.asarray(a, dtype=np.float64) for a in (forward, strike, t, vol))
    d1, d2, _ = _d1_d2(f, k, tt, v)
    disc = np.exp(-rate * np.maximum(tt, 0.0))
    call = disc * (f * norm_cdf(d1) - k * norm_cdf(d2))
    put = disc * (k * norm_cdf(-d2) - f * norm_cdf(-d1))
    live = np.where(np.asarray(is_call) > 0.5, call, put)
    intrinsic = np.where(np.asarray(is_call) > 0.5, np.maximum(f - k, 0), np.maximum(k - f, 0))
    out: F64 = np.where(tt > 0, live, intrinsic)
    return out


def delta_array(
    forward: F64, strike: F64, t: F64, vol: F64, is_call: F64, rate: float = 0.0
) -> F64:
    """d price / d forward; at expiry the payoff's slope (1/0 or -1/0)."""
    f, k, tt, v = (np.asarray(a, dtype=np.float64) for a in (forward, strike, t, vol))
    d1, _, _ = _d1_d2(f, k, tt, v)
    disc = np.exp(-rate * np.maximum(tt, 0.0))
    n1 = norm_cdf(d1)
    live = disc * np.where(np.asarray(is_call) > 0.5, n1, n1 - 1.0)
    itm = np.where(np.asarray(is_call) > 0.5, (f > k) * 1.0, (f < k) * -1.0)
    out: F64 = np.where(tt > 0, live, itm)
    return out


def gamma_array(forward: F64, strike: F64, t: F64, vol: F64, rate: float = 0.0) -> F64:
    """d delta / d forward (1/USD), the same for calls and puts; 0 at expiry."""
    f, k, tt, v = (np.asarray(a, dtype=np.float64) for a in (forward, strike, t, vol))
    d1, _, sd = _d1_d2(f, k, tt, v)
    disc = np.exp(-rate * np.maximum(tt, 0.0))
    out: F64 = np.where(tt > 0, disc * norm_pdf(d1) / (f * sd), 0.0)
    return out


def vega_array(forward: F64, strike: F64, t: F64, vol: F64, rate: float = 0.0) -> F64:
    f, k, tt, v = (np.asarray(a, dtype=np.float64) for a in (forward, strike, t, vol))
    d1, _, _ = _d1_d2(f, k, tt, v)
    disc = np.exp(-rate * np.maximum(tt, 0.0))
    out: F64 = np.where(tt > 0, disc * f * norm_pdf(d1) * np.sqrt(np.maximum(tt, 0.0)), 0.0)
    return out


def theta_array(
    forward: F64, strike: F64, t: F64, vol: F64, is_call: F64, rate: float = 0.0
) -> F64:
    """d price / d calendar time (USD per year) with the forward held fixed."""
    f, k, tt, v = (np.asarray(a, dtype=np.float64) for a in (forward, strike, t, vol))
    d1, _, _ = _d1_d2(f, k, tt, v)
    disc = np.exp(-rate * np.maximum(tt, 0.0))
    decay = -disc * f * norm_pdf(d1) * v / (2.0 * np.sqrt(np.maximum(tt, _MIN_T)))
    out: F64 = np.where(tt > 0, decay + rate * price_array(f, k, tt, v, is_call, rate), 0.0)
    return out


@dataclass(frozen=True, slots=True)
class Greeks:
    """One option's value and greeks, units as in the module docstring."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float


def _a(x: float) -> F64:
    return np.array([x], dtype=np.float64)


def _scalars(
    forward: float, strike: float, t_years: float, vol: float, call: bool
) -> tuple[F64, F64, F64, F64, F64]:
    """One option's inputs as 1-element arrays, refused when they have no price."""
    if forward <= 0 or strike <= 0 or vol < 0:
        raise InputError(
            f"black76: forward {forward}, strike {strike} must be > 0 and vol {vol} >= 0"
        )
    return _a(forward), _a(strike), _a(t_years), _a(vol), _a(1.0 if call else 0.0)


def greeks(
    forward: float, strike: float, t_years: float, vol: float, call: bool, rate: float = 0.0
) -> Greeks:
    """All greeks of one option (scalar convenience over the array functions)."""
    f, k, t, v, c = _scalars(forward, strike, t_years, vol, call)
    return Greeks(
        price=float(price_array(f, k, t, v, c, rate)[0]),
        delta=float(delta_array(f, k, t, v, c, rate)[0]),
        gamma=float(gamma_array(f, k, t, v, rate)[0]),
        vega=float(vega_array(f, k, t, v, rate)[0]),
        theta=float(theta_array(f, k, t, v, c, rate)[0]),
    )


def price(
    forward: float, strike: float, t_years: float, vol: float, call: bool, rate: float = 0.0
) -> float:
    """One option's price (USD per unit of the underlying), without the greeks."""
    f, k, t, v, c = _scalars(forward, strike, t_years, vol, call)
    return float(price_array(f, k, t, v, c, rate)[0])


def implied_vol(
    premium_usd: float,
    forward: float,
    strike: float,
    t_years: float,
    call: bool,
    rate: float = 0.0,
    tol: float = 1e-10,
) -> float:
    """The vol whose Black-76 price is `premium_usd`: safeguarded Newton inside a bisection
    bracket [1e-6, 20], so it converges for deep ITM/OTM options where plain Newton diverges.

    Raises InputError if the premium is outside the no-arbitrage bounds.
    """
    if t_years <= 0:
        raise InputError(f"implied_vol: option {strike} has expired (t_years={t_years})")
    disc = math.exp(-rate * t_years)
    intrinsic = disc * max(forward - strike, 0.0) if call else disc * max(strike - forward, 0.0)
    upper_bound = disc * (forward if call else strike)
    if not intrinsic - 1e-12 <= premium_usd < upper_bound:
        raise InputError(
            f"implied_vol: premium {premium_usd} for strike {strike} is outside the "
            f"no-arbitrage bounds [{intrinsic}, {upper_bound}); check units (USD, not coin)"
        )
    lo, hi = 1e-6, 20.0
    vol = 0.8
    for _ in range(200):
        g = greeks(forward, strike, t_years, vol, call, rate)
        diff = g.price - premium_usd
        if abs(diff) < tol * max(1.0, premium_usd):
            return vol
        if diff > 0:
            hi = vol
        else:
            lo = vol
        step = vol - diff / g.vega if g.vega > 1e-14 else -1.0
        vol = step if lo < step < hi else 0.5 * (lo + hi)
        if hi - lo < 1e-14:
            break
    return vol


def premium_coin(premium_usd: Decimal, forward: Decimal) -> Decimal:
    """USD premium -> coin premium (Deribit inverse options quote in ETH/BTC)."""
    if forward <= 0:
        raise InputError(f"premium_coin: forward {forward} must be > 0")
    return premium_usd / forward


def premium_usd(premium_in_coin: Decimal, forward: Decimal) -> Decimal:
    """Coin premium -> USD premium (inverse of `premium_coin`)."""
    if forward <= 0:
        raise InputError(f"premium_usd: forward {forward} must be > 0")
    return premium_in_coin * forward
