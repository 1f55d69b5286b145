"""`options_overlay`: buy back the LP's gamma with options; perps take the net delta.

Held options come in `ctx.hedges` keyed by their option symbol (signed base units; the
symbol's `Instrument` in `ctx.market.instruments` has kind OPTION); perps stay keyed by the
asset. Options are bought at the range bounds and the money (`OptionChain.legs_for_range`)
for the listed expiry at least `horizon` away, sized (`bot.options.sizing`) so their gamma
averaged over the horizon is >= `gamma_fraction` x the LP's |gamma| across the range; held
until `roll_before` ahead of expiry, then rolled. Perps alone when options are dear: the
mean implied vol above `max_iv_to_rv` x realised vol (EWMA, kept in state). Returns an
`OverlayDecision`: perp `HedgeTarget`s plus `OptionTarget`s (total wanted per option symbol).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

import numpy as np

from bot.domain.market import Instrument, InstrumentKind, OptionType
from bot.domain.orders import HedgeTarget
from bot.options.black76 import greeks
from bot.options.sizing import horizon_gamma, lp_gamma_abs, size_for_gamma
from strategies.base import (
    SECONDS_PER_YEAR,
    Decision,
    Fraction,
    Seconds,
    StrategyContext,
    StrategyParams,
    to_decimal,
    update_volatility,
)

MS_PER_YEAR = SECONDS_PER_YEAR * 1000.0


@dataclass(frozen=True, slots=True)
class OptionTarget:
    """The total wanted in one option, signed base units (long > 0), and why."""

    asset: str
    symbol: str
    target_base: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class OverlayDecision(Decision):
    options: tuple[OptionTarget, ...] = ()


class OptionsOverlayParams(StrategyParams):
    """`gamma_fraction` of LP |gamma| to buy; `horizon` min time to expiry when buying;
    `roll_before` close this long before expiry; `max_iv_to_rv` perps alone above it."""

    gamma_fraction: Fraction = 0.5
    horizon: Seconds = 7 * 86400.0
    roll_before: Seconds = 86400.0
    max_iv_to_rv: float = 1.5
    vol_halflife: Seconds = 3 * 86400.0
    grid_points: int = 41


def _options_of(ctx: StrategyContext, asset: str) -> list[Instrument]:
    return [
        i
        for i in ctx.market.instruments.values()
        if i.kind is InstrumentKind.OPTION and i.asset == asset and i.expiry_ms is not None
    ]


def _iv(ctx: StrategyContext, inst: Instrument, fallback: float) -> float:
    quote = ctx.market.quotes.get(inst.symbol)
    if quote is not None and quote.implied_vol is not None:
        return float(quote.implied_vol)
    return fallback


class OptionsOverlay:
    """Static gamma overlay rolled before expiry, delta-hedged with perps every tick."""

    name: ClassVar[str] = "options_overlay"
    Params: ClassVar[type[StrategyParams]] = OptionsOverlayParams

    def __init__(self, params: OptionsOverlayParams | None = None) -> None:
        self.params = params or OptionsOverlayParams()

    def target(self, ctx: StrategyContext) -> OverlayDecision:
        perps: list[HedgeTarget] = []
        options: list[OptionTarget] = []
        updates = {}
        for asset in sorted(ctx.exposure.assets):
            perp = ctx.instruments.get(asset)
            if perp is None:
                continue
            price = float(ctx.market.price(asset))
            st = update_volatility(ctx.state.of(asset), price, ctx.now_ms, self.params.vol_halflife)
            updates[asset] = st
            rv = math.sqrt(st.variance_per_s * SECONDS_PER_YEAR) if st.variance_per_s else None
            opts, why = self._options(ctx, asset, price, rv)
            options.extend(opts)
            perps.append(self._perp(ctx, asset, perp.symbol, price, opts, why))
        return OverlayDecision(tuple(perps), ctx.state.with_assets(updates), tuple(options))

    def _held(self, ctx: StrategyContext, chain: Sequence[Instrument]) -> dict[str, Decimal]:
        syms = {i.symbol for i in chain}
        return {s: q for s, q in ctx.hedges.items() if s in syms and q != 0}

    def _options(
        self, ctx: StrategyContext, asset: str, price: float, rv: float | None
    ) -> tuple[list[OptionTarget], str]:
        chain = _options_of(ctx, asset)
        held = self._held(ctx, chain)
        by_sym = {i.symbol: i for i in chain}
        roll_ms = self.params.roll_before * 1000
        due = {s for s in held if (by_sym[s].expiry_ms or 0) - ctx.now_ms <= roll_ms}
        if held and not due:
            keep = [OptionTarget(asset, s, q, "hold overlay") for s, q in held.items()]
            return keep, "options held"
        closing = [OptionTarget(asset, s, Decimal(0), "roll: expiry near") for s in due]
        new, why = self._buy(ctx, asset, price, rv, chain)
        return closing + new, why

    def _buy(
        self,
        ctx: StrategyContext,
        asset: str,
        price: float,
        rv: float | None,
        chain: Sequence[Instrument],
    ) -> tuple[list[OptionTarget], str]:
        p = self.params
        lp = [x for x in ctx.exposure.positions if x.base == asset and x.in_range]
        lp = [x for x in lp if x.price_lower is not None and x.price_upper is not None]
        min_ms = p.horizon * 1000
        expiries = sorted(
            {e for i in chain if (e := i.expiry_ms) is not None and e - ctx.now_ms >= min_ms}
        )
        if not lp or not expiries or p.gamma_fraction <= 0:
            return [], "perps alone: no in-range LP gamma or no option expiry beyond the horizon"
        expiry = expiries[0]  # nearest beyond the horizon: least premium per gamma-time
        lower = min(float(x.price_lower or 0) for x in lp)
        upper = max(float(x.price_upper or 0) for x in lp)
        legs = self._legs(chain, expiry, price, lower, upper)
        fallback = ctx.market.volatility.get(asset) or rv or 0.0
        vols = np.array([_iv(ctx, i, fallback) for i in legs])
        if not np.all(vols > 0):
            return [], "perps alone: no implied vol for the options"
        iv = float(np.mean(vols))
        if rv is not None and iv > p.max_iv_to_rv * rv:
            return [], f"perps alone: implied {iv:.0%} > {p.max_iv_to_rv} x realised {rv:.0%}"
        liq = np.array([-2.0 * x.gamma * float(x.price) ** 1.5 for x in lp])
        lows = np.array([float(x.price_lower or 0) for x in lp])
        highs = np.array([float(x.price_upper or 0) for x in lp])
        grid = np.linspace(lower, upper, p.grid_points)
        t = (expiry - ctx.now_ms) / MS_PER_YEAR
        strikes = np.array([float(i.strike or 0) for i in legs])
        g = horizon_gamma(
            grid, strikes, vols, np.full(len(legs), t), min(p.horizon / SECONDS_PER_YEAR, t)
        )
        q = size_for_gamma(lp_gamma_abs(grid, liq, lows, highs), g, p.gamma_fraction)
        why = f"buy gamma {p.gamma_fraction:.0%} of LP: iv {iv:.0%}, rv " + (
            f"{rv:.0%}" if rv else "n/a"
        )
        return [
            OptionTarget(asset, i.symbol, to_decimal(float(n), 4), why)
            for i, n in zip(legs, q, strict=True)
        ], why

    @staticmethod
    def _legs(
        chain: Sequence[Instrument], expiry: int, spot: float, lower: float, upper: float
    ) -> list[Instrument]:
        def near(strike: float, kind: OptionType) -> Instrument:
            same = [i for i in chain if i.expiry_ms == expiry and i.option_type is kind]
            return min(same, key=lambda i: abs(float(i.strike or 0) - strike))

        picks = [
            near(lower, OptionType.PUT),
            near(spot, OptionType.CALL),
            near(upper, OptionType.CALL),
        ]
        return list(dict.fromkeys(picks))

    def _perp(
        self,
        ctx: StrategyContext,
        asset: str,
        symbol: str,
        price: float,
        opts: Sequence[OptionTarget],
        why: str,
    ) -> HedgeTarget:
        insts: Mapping[str, Instrument] = ctx.market.instruments
        opt_delta = 0.0
        for o in opts:
            inst = insts[o.symbol]
            t = max((inst.expiry_ms or 0) - ctx.now_ms, 0) / MS_PER_YEAR
            vol = _iv(ctx, inst, ctx.market.volatility.get(asset) or 0.8)
            call = inst.option_type is OptionType.CALL
            opt_delta += (
                float(o.target_base) * greeks(price, float(inst.strike or 0), t, vol, call).delta
            )
        lp_delta = float(ctx.exposure.delta(asset))
        target = to_decimal(-(lp_delta + opt_delta))
        reason = f"perp = -(LP delta {lp_delta:.4g} + options delta {opt_delta:.4g}); {why}"
        return HedgeTarget(asset, symbol, target, reason)
