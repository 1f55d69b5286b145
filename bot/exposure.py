"""ChainSnapshot + AssetMap -> ExposureBook: what the LP is long, per underlying asset. Pure.

For each position we pick a base (the volatile side) and a quote: the token that maps to USD
is the quote; with two volatile tokens, token1 is the quote. `price` is quote per base in
human units, `delta` the base holdings (dV/dP, exact Decimal from the raw amounts, fees
included since uncollected fees are held in the same tokens), `gamma` d delta/dP (float).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext

from bot.amm.greeks import human_liquidity
from bot.domain.lp import (
    AssetExposure,
    ChainSnapshot,
    ExposureBook,
    LpPosition,
    PoolKind,
    PositionExposure,
)
from bot.domain.market import USD, AssetMap

_Q192 = Decimal(2) ** 192
_TICK_BASE = Decimal("1.0001")


@dataclass(frozen=True, slots=True)
class _Orientation:
    base_is_token0: bool
    base: str
    quote: str


def _orientation(position: LpPosition, assets: AssetMap) -> _Orientation:
    a0 = assets.asset_of(position.pool.token0)
    a1 = assets.asset_of(position.pool.token1)
    if a0 == USD and a1 != USD:
        return _Orientation(False, a1, a0)
    return _Orientation(True, a0, a1)


def pool_price(position: LpPosition) -> Decimal:
    """Human price of token0 in token1 at the pool's current state (exact to 40 digits)."""
    pool = position.pool
    shift = Decimal(10) ** (pool.token0.decimals - pool.token1.decimals)
    with localcontext() as ctx:
        ctx.prec = 60
        if pool.kind is PoolKind.V2:
            if pool.reserve0_raw == 0:
                return Decimal(0)
            raw = Decimal(pool.reserve1_raw) / Decimal(pool.reserve0_raw)
        else:
            raw = Decimal(pool.sqrt_price_x96) ** 2 / _Q192
        return +(raw * shift)


def _tick_price(tick: int, position: LpPosition) -> Decimal:
    shift = Decimal(10) ** (position.pool.token0.decimals - position.pool.token1.decimals)
    with localcontext() as ctx:
        ctx.prec = 40
        return +(_TICK_BASE**tick * shift)


def _range(position: LpPosition, base_is_token0: bool) -> tuple[Decimal | None, Decimal | None]:
    if position.kind is PoolKind.V2:
        return None, None
    lo, hi = _tick_price(position.tick_lower, position), _tick_price(position.tick_upper, position)
    if base_is_token0:
        return lo, hi
    with localcontext() as ctx:
        ctx.prec = 40
        return 1 / hi, 1 / lo


def _gamma(position: LpPosition, amount0: Decimal, amount1: Decimal, price: Decimal) -> float:
    """d delta / d price: -L/(2 P^1.5) in range, in either orientation (L in human units)."""
    if price <= 0:
        return 0.0
    if position.kind is PoolKind.V2:
        liquidity_h = float((amount0 * amount1).sqrt())
    elif position.in_range:
        pool = position.pool
        liquidity_h = human_liquidity(
            position.liquidity, pool.token0.decimals, pool.token1.decimals
        )
    else:
        return 0.0
    p = float(price)
    return -liquidity_h / (2.0 * p * math.sqrt(p))


def position_exposure(position: LpPosition, assets: AssetMap) -> PositionExposure:
    """One position's amounts, value (in its quote), delta and gamma."""
    pool = position.pool
    o = _orientation(position, assets)
    amount0 = pool.token0.to_human(position.amount0_raw)
    amount1 = pool.token1.to_human(position.amount1_raw)
    fees0 = pool.token0.to_human(position.fees0_raw)
    fees1 = pool.token1.to_human(position.fees1_raw)
    p01 = pool_price(position)
    with localcontext() as ctx:
        ctx.prec = 40
        if o.base_is_token0:
            price = p01
            base_amt, quote_amt = amount0 + fees0, amount1 + fees1
        else:
            price = 1 / p01 if p01 else Decimal(0)
            base_amt, quote_amt = amount1 + fees1, amount0 + fees0
        value = +(base_amt * price + quote_amt)
    deltas: dict[str, Decimal] = {}
    if o.base != USD:
        deltas[o.base] = base_amt
    if o.quote != USD:
        deltas[o.quote] = deltas.get(o.quote, Decimal(0)) + quote_amt
    lower, upper = _range(position, o.base_is_token0)
    return PositionExposure(
        position_id=position.position_id,
        pool=pool.address,
        base=o.base,
        quote=o.quote,
        in_range=position.in_range,
        amount0=amount0,
        amount1=amount1,
        fees0=fees0,
        fees1=fees1,
        price=price,
        value=value,
        delta=base_amt,
        gamma=_gamma(position, amount0, amount1, price),
        deltas=deltas,
        price_lower=lower,
        price_upper=upper,
        chain=position.chain,
    )


def book(
    snapshot: ChainSnapshot,
    assets: AssetMap | None = None,
    usd_prices: Mapping[str, Decimal] | None = None,
    wallet: Mapping[str, Decimal] | None = None,
) -> ExposureBook:
    """Net the positions' exposure per underlying asset, over every chain, wallet and
    protocol in `snapshot` (one hedge per asset).

    `usd_prices` (asset -> USD) convert values and gammas of positions quoted in a non-USD
    asset; without them such positions count in delta but not in `value_usd`/`gamma`.
    `wallet` adds idle token holdings per asset (they are delta, no gamma).
    """
    assets = assets or AssetMap()
    exposures = tuple(position_exposure(p, assets) for p in snapshot.positions)
    return ExposureBook(
        block_number=snapshot.block_number,
        block_timestamp=snapshot.block_timestamp,
        assets=net(exposures, usd_prices or {}, wallet or {}),
        positions=exposures,
    )


def net(
    exposures: Iterable[PositionExposure],
    usd_prices: Mapping[str, Decimal],
    wallet: Mapping[str, Decimal],
) -> dict[str, AssetExposure]:
    delta: dict[str, Decimal] = defaultdict(Decimal)
    gamma: dict[str, float] = defaultdict(float)
    value: dict[str, Decimal] = defaultdict(Decimal)
    count: dict[str, int] = defaultdict(int)
    for e in exposures:
        for asset, d in e.deltas.items():
            delta[asset] += d
        if e.base == USD:
            continue
        count[e.base] += 1
        quote_usd = Decimal(1) if e.quote == USD else usd_prices.get(e.quote)
        if quote_usd is None:
            continue
        gamma[e.base] += e.gamma / float(quote_usd)
        value[e.base] += e.value * quote_usd
    for asset, amount in wallet.items():
        if asset != USD:
            delta[asset] += amount
    return {
        a: AssetExposure(a, delta[a], gamma.get(a, 0.0), value.get(a, Decimal(0)), count.get(a, 0))
        for a in sorted(delta)
    }
