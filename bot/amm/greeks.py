"""Value, delta and gamma of LP positions against price, in human units (floats).

The only float module of `bot.amm`: greeks feed hedging decisions and statistics,
never the ledger. Prices are quote per base, values are in quote, delta is in base
units (the position's base-token holdings, dV/dP) and gamma is d delta / dP.

A v3 position with liquidity L over [Pl, Pu] holds
    base  = L (1/sqrt(P') - 1/sqrt(Pu)),  quote = L (sqrt(P') - sqrt(Pl)),
with P' = P clipped to [Pl, Pu]. L is `human_liquidity(raw, d0, d1)`.

Mapping a pool to base/quote. The pool's human price is p = token1 per token0.
- Volatile token is token0 (e.g. WETH/USDC with WETH token0): base = token0,
  P = p, Pl = p(tick_lower), Pu = p(tick_upper).
- Volatile token is token1 (e.g. USDC/WETH with USDC token0): base = token1,
  P = 1/p, and the range swaps and inverts: Pl = 1/p(tick_upper), Pu = 1/p(tick_lower).
  The formulas above then hold unchanged with the same L, because
  token1 = L (sqrt(p) - sqrt(p_l)) = L (1/sqrt(P) - 1/sqrt(Pu)).
Take range prices from `human_price_at_tick`, not 1.0001**tick in floats: the latter
is off by ~1e-12 relative, which a narrow range amplifies into delta.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from bot.amm.full_math import Q96, AmmInputError
from bot.amm.tick_math import get_sqrt_ratio_at_tick

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Greeks:
    """value in quote, delta in base units, gamma in base units per unit of price."""

    value: float
    delta: float
    gamma: float


def human_liquidity(liquidity_raw: int, decimals_base: int, decimals_quote: int) -> float:
    """v3 liquidity in human units: L / 10**((d0 + d1) / 2); symmetric in the two tokens."""
    return liquidity_raw / 10 ** ((decimals_base + decimals_quote) / 2)


def human_price_from_sqrt(sqrt_price_x96: int, decimals0: int, decimals1: int) -> float:
    """Human price of token0 in token1 (p, token1 per token0) from a Q64.96 sqrt price."""
    return (sqrt_price_x96 / Q96) ** 2 * 10.0 ** (decimals0 - decimals1)


def human_price_at_tick(tick: int, decimals0: int, decimals1: int) -> float:
    """Human price p (token1 per token0) at a tick, via the contract's exact sqrt ratio."""
    return human_price_from_sqrt(get_sqrt_ratio_at_tick(tick), decimals0, decimals1)


def _check_range(price: float, price_lower: float, price_upper: float) -> None:
    if not 0 < price_lower < price_upper:
        raise AmmInputError(
            f"price range [{price_lower}, {price_upper}] is invalid: need 0 < lower < upper"
        )
    if not price > 0:
        raise AmmInputError(f"price={price} must be > 0")


def v3_value_delta_gamma(
    liquidity_h: float, price: float, price_lower: float, price_upper: float
) -> Greeks:
    """Greeks of a v3 range position; in range means price_lower <= price < price_upper."""
    _check_range(price, price_lower, price_upper)
    sqrt_lower, sqrt_upper = math.sqrt(price_lower), math.sqrt(price_upper)
    sqrt_clipped = math.sqrt(min(max(price, price_lower), price_upper))
    base = liquidity_h * (1 / sqrt_clipped - 1 / sqrt_upper)
    quote = liquidity_h * (sqrt_clipped - sqrt_lower)
    in_range = price_lower <= price < price_upper
    gamma = -liquidity_h / (2 * price**1.5) if in_range else 0.0
    return Greeks(value=base * price + quote, delta=base, gamma=gamma)


def v2_value_delta_gamma(k_h: float, price: float) -> Greeks:
    """Greeks of a v2 share with invariant k_h = base_h * quote_h (human units)."""
    if not price > 0 or k_h < 0:
        raise AmmInputError(f"v2 greeks need price > 0 and k >= 0, got price={price}, k={k_h}")
    root_k = math.sqrt(k_h)
    return Greeks(
        value=2 * root_k * math.sqrt(price),
        delta=root_k / math.sqrt(price),
        gamma=-0.5 * root_k * price**-1.5,
    )


def v3_delta_gamma_np(
    liquidity_h: float, prices: ArrayLike, price_lower: float, price_upper: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vectorised `v3_value_delta_gamma` over an array of prices: (value, delta, gamma)."""
    p = np.asarray(prices, dtype=np.float64)
    _check_range(float(p.min()) if p.size else 1.0, price_lower, price_upper)
    sqrt_clipped = np.sqrt(np.clip(p, price_lower, price_upper))
    base = liquidity_h * (1 / sqrt_clipped - 1 / math.sqrt(price_upper))
    quote = liquidity_h * (sqrt_clipped - math.sqrt(price_lower))
    in_range = (p >= price_lower) & (p < price_upper)
    gamma = np.where(in_range, -liquidity_h / (2 * p**1.5), 0.0)
    return base * p + quote, base, gamma


def v2_delta_gamma_np(k_h: float, prices: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Vectorised `v2_value_delta_gamma`: (value, delta, gamma) arrays."""
    p = np.asarray(prices, dtype=np.float64)
    root_k = math.sqrt(k_h)
    sqrt_p = np.sqrt(p)
    return 2 * root_k * sqrt_p, root_k / sqrt_p, -0.5 * root_k * p**-1.5


def impermanent_loss(
    price0: float,
    price1: float,
    price_lower: float | None = None,
    price_upper: float | None = None,
) -> float:
    """LP value / HODL value - 1 after the price moves from price0 to price1 (<= 0).

    Without a range this is the v2 (full-range) loss 2 sqrt(r) / (1 + r) - 1, r = price1/price0;
    with one, the v3 position entered at price0 is compared with holding its price0 tokens.
    """
    if price_lower is None or price_upper is None:
        ratio = price1 / price0
        return 2 * math.sqrt(ratio) / (1 + ratio) - 1
    entry = v3_value_delta_gamma(1.0, price0, price_lower, price_upper)
    quote0 = entry.value - entry.delta * price0
    hodl = entry.delta * price1 + quote0
    lp = v3_value_delta_gamma(1.0, price1, price_lower, price_upper).value
    return lp / hodl - 1
