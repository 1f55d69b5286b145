"""The option strip that replicates an LP's convexity, shared by the strategy and backtest.

A v3 position's value V(P) depends on the price alone, and is concave on its range with
V''(P) = -L / (2 P**1.5) inside [Pl, Pu] and 0 outside. By Carr and Madan, any payoff is a
line plus puts below and calls above a pivot, weighted by its second derivative, so a strip
of options expiring at the horizon holding |V''(K)| dK at each strike K buys back the LP's
whole convexity: LP + strip = V(P0) + V'(P0) (P_T - P0), a line, whatever path the price
took. A perp holding minus that slope (the LP's delta plus each option's delta *at expiry*)
then leaves only the premium: the hedge error of discrete perp rebalancing (the LP's
realised gamma loss) is swapped for the implied one, locked at purchase.

Listed strikes are discrete: each takes the LP's |gamma| integrated over its cell (half way
to its neighbours), which sums to the LP's whole delta change across the range. Venues
trade whole contracts, so legs are rounded cumulatively (see `strip`). Quantities are float
base units (a sizing, not ledger money).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.errors import InputError
from bot.options.black76 import F64


@dataclass(frozen=True, slots=True)
class Convexity:
    """The LP positions of one asset as the strip needs them: liquidity (sqrt(base x USD))
    and USD range bounds, one entry per in-range position."""

    liquidity: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.liquidity)
        if len(self.lower) != n or len(self.upper) != n:
            raise InputError("Convexity: liquidity, lower and upper need one entry per position")
        for i in range(n):
            if not 0 < self.lower[i] < self.upper[i] or not math.isfinite(self.upper[i]):
                raise InputError(
                    f"Convexity: position {i} range [{self.lower[i]}, {self.upper[i]}] "
                    "must be finite with 0 < lower < upper"
                )

    @property
    def span(self) -> tuple[float, float]:
        return min(self.lower), max(self.upper)

    def delta_change(self, a: F64, b: F64) -> F64:
        """|LP delta change| from price a up to b (base units): the integral of |V''|."""
        out = np.zeros(np.broadcast(a, b).shape)
        for liq, lo, hi in zip(self.liquidity, self.lower, self.upper, strict=True):
            lo_c, hi_c = np.clip(a, lo, hi), np.clip(b, lo, hi)
            out += liq * (1.0 / np.sqrt(lo_c) - 1.0 / np.sqrt(hi_c))
        return out


@dataclass(frozen=True, slots=True)
class Leg:
    """One option of the strip: puts below the pivot, calls at or above it."""

    strike: float
    is_call: bool
    quantity: float


def cell_weights(strikes: F64, convexity: Convexity) -> F64:
    """Base units per strike (ascending, distinct): the LP's |gamma| over each cell."""
    k = np.asarray(strikes, dtype=np.float64)
    if k.ndim != 1 or len(k) == 0 or np.any(np.diff(k) <= 0):
        raise InputError("strip: strikes must be a non-empty ascending list of distinct prices")
    mids = (k[1:] + k[:-1]) / 2.0
    lo = np.concatenate([[0.0], mids])
    hi = np.concatenate([mids, [math.inf]])
    span_lo, span_hi = convexity.span
    return convexity.delta_change(np.maximum(lo, span_lo * 0.5), np.minimum(hi, span_hi * 2.0))


def strip(
    listed: Sequence[float],
    convexity: Convexity,
    pivot: float,
    fraction: float,
    min_quantity: float = 0.0,
    quantity_step: float = 0.0,
) -> tuple[Leg, ...]:
    """`fraction` of the LP's convexity as legs on listed strikes: puts below `pivot`,
    calls at or above. With a contract size (`quantity_step`, `min_quantity`: whole
    contracts of the larger), legs are placed by cumulative rounding outward from the
    pivot, so the strip's delta at expiry stays within half a contract of the exact one at
    every price. Empty when `fraction` <= 0."""
    if fraction <= 0:
        return ()
    k_all = np.array(sorted({float(s) for s in listed if s > 0}))
    if len(k_all) == 0:
        raise InputError("strip: no listed strikes")
    q = fraction * cell_weights(k_all, convexity)
    unit = max(min_quantity, quantity_step)
    calls = k_all >= pivot
    legs: list[Leg] = []
    for side, order in ((calls, slice(None)), (~calls, slice(None, None, -1))):
        ks, qs = k_all[side][order], q[side][order]
        if unit > 0:
            whole = np.round(np.cumsum(qs) / unit)
            qs = np.diff(np.concatenate([[0.0], whole])) * unit
        pairs = zip(ks.tolist(), qs.tolist(), strict=True)
        legs += [Leg(k, k >= pivot, n) for k, n in pairs if n > 1e-12]
    return tuple(sorted(legs, key=lambda leg: leg.strike))


def expiry_delta(spot: F64 | float, strikes: F64, is_call: F64, quantity: F64) -> F64:
    """The strip's delta at expiry (its intrinsic delta) at each spot: +q per call below
    spot, -q per put above; half at the strike. Shape of `spot`."""
    s = np.asarray(spot, dtype=np.float64)[..., None]
    above = np.where(s > strikes, 1.0, np.where(s == strikes, 0.5, 0.0))
    per = np.where(is_call > 0, above, above - 1.0)
    out: F64 = np.sum(quantity * per, axis=-1)
    return out


def intrinsic_delta(strike: float, is_call: bool, spot: float) -> float:
    """One option's delta at expiry if the price stays at `spot` (`expiry_delta`'s rule)."""
    one = np.ones(1)
    return float(expiry_delta(spot, one * strike, one * float(is_call), one))


def buy_fraction(
    gamma_fraction: float, max_fraction: float, implied: float, realised: float | None
) -> float:
    """How much of the LP's convexity to buy: `gamma_fraction` when options are priced at
    the vol the market realises, scaled by (realised / implied)**2 (the ratio of what
    perps lose to gamma to what options charge for it), capped at `max_fraction`."""
    if implied <= 0:
        raise InputError(f"buy_fraction: implied vol {implied} must be > 0")
    if realised is None or realised <= 0:
        return min(gamma_fraction, max_fraction)
    return min(max_fraction, gamma_fraction * (realised / implied) ** 2)
