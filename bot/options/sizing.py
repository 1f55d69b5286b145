"""How many options buy back an LP's gamma: the sizing shared by the strategy and backtest.

A concentrated LP of liquidity L on [Pl, Pu] has gamma -L / (2 P**1.5) (ETH per USD) while
the price is inside the range and 0 outside. We buy options whose combined gamma, averaged
over the hedge horizon (gamma of a short-dated option concentrates at its strike as expiry
nears, so a t=0 snapshot would misjudge it), is at least `fraction` times the LP's |gamma|
at every point of a price grid across the range. Quantities are in units of the underlying
(ETH), one per option strike; float (a sizing, not a ledger amount).
"""

from __future__ import annotations

import numpy as np

from bot.errors import InputError
from bot.options.black76 import F64, gamma_array


def lp_gamma_abs(grid: F64, liquidity: F64, lower: F64, upper: F64) -> F64:
    """|gamma| of a set of v3 positions on `grid` (shape (n,)); position arrays shape (p,)."""
    g = np.asarray(grid, dtype=np.float64)[:, None]
    inside = (g >= lower[None, :]) & (g <= upper[None, :])
    out: F64 = np.sum(np.where(inside, liquidity[None, :] / (2.0 * g**1.5), 0.0), axis=1)
    return out


def horizon_gamma(
    grid: F64, strikes: F64, vols: F64, expiry_years: F64, horizon_years: float, steps: int = 8
) -> F64:
    """Gamma (1/USD) of one unit of each option at each grid price, averaged over the
    horizon (midpoints of `steps` slices). Shape (n grid, m options)."""
    if horizon_years <= 0:
        raise InputError(f"horizon_gamma: horizon {horizon_years} years must be > 0")
    ages = (np.arange(steps) + 0.5) / steps * horizon_years
    t = expiry_years[None, None, :] - ages[None, :, None]
    g = gamma_array(
        np.asarray(grid, dtype=np.float64)[:, None, None],
        strikes[None, None, :],
        t,
        vols[None, None, :],
    )
    out: F64 = g.mean(axis=1)
    return out


def nnls(a: F64, b: F64, iterations: int = 400) -> F64:
    """Non-negative least squares min |a w - b|, w >= 0, by projected gradient on
    column-normalised `a` (few columns, so this is exact enough and has no scipy need)."""
    norms = np.linalg.norm(a, axis=0)
    norms = np.where(norms > 0, norms, 1.0)
    an = a / norms
    step = 1.0 / max(float(np.linalg.norm(an, 2)) ** 2, 1e-300)
    w = np.zeros(a.shape[1])
    for _ in range(iterations):
        w = np.maximum(0.0, w - step * (an.T @ (an @ w - b)))
    out: F64 = w / norms
    return out


def size_for_gamma(target_abs_gamma: F64, option_gamma: F64, fraction: float) -> F64:
    """Option quantities (per column of `option_gamma`) whose gamma is >= `fraction` x the
    target at every grid point where the target is positive: fit the shape by NNLS, then
    scale up until the worst point meets the floor. Zeros when `fraction` <= 0."""
    m = option_gamma.shape[1]
    if fraction <= 0 or not np.any(target_abs_gamma > 0):
        return np.zeros(m)
    want = fraction * target_abs_gamma
    w = nnls(option_gamma, want)
    if not np.any(w > 0):
        w = np.ones(m)
    got = option_gamma @ w
    need = want > 0
    if np.any(got[need] <= 0):
        raise InputError("size_for_gamma: no option has gamma where the LP does; add strikes")
    scale = float(np.max(want[need] / got[need]))
    out: F64 = w * scale
    return out
