"""Vectorised float LP maths for the backtester (value, delta, gamma of one position).

Uniswap v3 in range [Pl, Pu]: x = L (1/sqrt(P) - 1/sqrt(Pu)) ETH, y = L (sqrt(P) -
sqrt(Pl)) USD; outside, P is clipped to the range. v2 (full range): x = L/sqrt(P),
y = L sqrt(P). Value V = x P + y (USD), delta dV/dP = x, gamma = -L / (2 P**1.5) in range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bot.backtest.data import F64


@dataclass(frozen=True)
class LpRange:
    """A position of liquidity `liquidity` (sqrt(ETH*USD)) on [price_lower, price_upper]
    (0 and inf for v2)."""

    liquidity: float
    price_lower: float
    price_upper: float

    @property
    def full_range(self) -> bool:
        return self.price_lower <= 0.0 and math.isinf(self.price_upper)


def open_position(price: float, value_usd: float, range_pct: float) -> LpRange:
    """A position worth `value_usd` centred on `price`: v2 when `range_pct` is 0, else
    v3 on price * (1 -+ range_pct / 100)."""
    if range_pct <= 0:
        return LpRange(value_usd / (2.0 * math.sqrt(price)), 0.0, math.inf)
    lower = price * (1.0 - range_pct / 100.0)
    upper = price * (1.0 + range_pct / 100.0)
    unit = LpRange(1.0, lower, upper)
    per_l = float(value(unit, np.array([price]))[0])
    return LpRange(value_usd / per_l, lower, upper)


def _clip(pos: LpRange, price: F64) -> F64:
    return np.clip(price, pos.price_lower, pos.price_upper)


def amount_base(pos: LpRange, price: F64) -> F64:
    """ETH held (= delta)."""
    if pos.full_range:
        return pos.liquidity / np.sqrt(price)
    p = _clip(pos, price)
    out: F64 = pos.liquidity * (1.0 / np.sqrt(p) - 1.0 / math.sqrt(pos.price_upper))
    return out


def amount_quote(pos: LpRange, price: F64) -> F64:
    """USD held."""
    if pos.full_range:
        return pos.liquidity * np.sqrt(price)
    p = _clip(pos, price)
    out: F64 = pos.liquidity * (np.sqrt(p) - math.sqrt(pos.price_lower))
    return out


def value(pos: LpRange, price: F64) -> F64:
    out: F64 = amount_base(pos, price) * price + amount_quote(pos, price)
    return out


def gamma(pos: LpRange, price: F64) -> F64:
    """d delta / dP in ETH per USD: negative in range, zero outside."""
    g: F64 = -pos.liquidity / (2.0 * price**1.5)
    if pos.full_range:
        return g
    inside = (price >= pos.price_lower) & (price <= pos.price_upper)
    out: F64 = np.where(inside, g, 0.0)
    return out
