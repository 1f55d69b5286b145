"""`options_overlay`: buy back the LP's convexity with an option strip; perps take the rest.

Why a strip: an LP's value is a function of the price alone, so a strip of puts and calls
weighted by the LP's |gamma| at each strike (`bot.options.strip`) turns LP + strip into a
line at expiry. The perp then holds minus the book's delta *at expiry* (LP delta plus each
option's intrinsic delta): counting the options' current Black-76 delta instead would trade
away the gamma we paid for (the backtest measures both; see docs/benchmarks.md).

How much: `gamma_fraction` of the LP's convexity when options are priced at the vol the
market realises, scaled by (realised / implied)**2 (what perps lose to gamma against what
options charge for it), capped at `max_fraction`; perps alone below `min_fraction`, with the
reason recorded. Implied vol comes from the option quotes (else `ctx.market.volatility`);
realised vol from the strategy's own EWMA of prices once it holds `vol_halflife` of history
(else `ctx.market.volatility` again, so a fresh start buys the plain `gamma_fraction`).

Which expiry: the nearest one at least `horizon + roll_before` away unless a
later one is cheaper per unit of gamma over the horizon by more than `expiry_switch`. Held
options are left alone until `roll_before` ahead of expiry, then closed and a new strip
bought; they are closed when no LP position on the asset remains.

Held options come in `ctx.hedges` keyed by option symbol (signed base units), perps keyed by
asset; option instruments and quotes in `ctx.market`. Returns perp `HedgeTarget`s in
`targets` and option `HedgeTarget`s in `options` (only the options to change).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import ClassVar

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from bot.domain.lp import PositionExposure
from bot.domain.market import USD, Instrument, InstrumentKind, OptionType
from bot.domain.orders import HedgeTarget
from bot.options.black76 import gamma_array
from bot.options.black76 import price as b76_price
from bot.options.strip import Convexity, Leg, buy_fraction, intrinsic_delta, strip
from strategies.bands import band_rule
from strategies.base import (
    MAX_DURATION_S,
    SECONDS_PER_YEAR,
    AssetState,
    Decision,
    Duration,
    Fraction,
    MinNotionalUsd,
    Seconds,
    StrategyContext,
    StrategyParams,
    amount_text,
    asset_view,
    hedged_assets,
    to_decimal,
    update_volatility,
)

MS_PER_YEAR = SECONDS_PER_YEAR * 1000.0
GAMMA_STEPS = 32


class OptionsOverlayParams(StrategyParams):
    """`gamma_fraction` of the LP's convexity to buy when implied = realised vol (exactly
    that, whatever the vols, with `scale_by_vol` off), capped at `max_fraction`, none below
    `min_fraction`; `horizon` how long a strip is meant to be
    held; `roll_before` close this long before expiry; `expiry_switch` how much cheaper
    per gamma a later expiry must be to be chosen; `vol_halflife` of the realised-vol EWMA;
    `band_rel` / `band_abs` the perp's band around its target (relative to the LP delta /
    base units); `min_notional_usd` the smallest perp trade."""

    gamma_fraction: Fraction = Field(0.75, ge=0, le=1.5)
    scale_by_vol: bool = True
    max_fraction: Fraction = Field(1.0, ge=0, le=1.5)
    min_fraction: Fraction = Field(0.05, ge=0, le=1.5)
    horizon: Duration = 7 * 86400.0
    roll_before: Seconds = Field(2 * 86400.0, ge=0, le=MAX_DURATION_S)
    expiry_switch: Fraction = Field(0.1, ge=0, lt=1)
    vol_halflife: Duration = 86400.0
    band_rel: Fraction = Field(0.05, ge=0, le=1)
    band_abs: float = Field(0.0, ge=0)
    min_notional_usd: MinNotionalUsd = 0.0

    @field_validator("min_fraction")
    @classmethod
    def _below_max(cls, v: float, info: ValidationInfo) -> float:
        top = info.data.get("max_fraction")
        if top is not None and v > top:
            raise ValueError(f"above max_fraction {top}")
        return v


def _convexity(positions: Sequence[PositionExposure], asset: str) -> Convexity | None:
    """Liquidity and bounds of the asset's USD-quoted concentrated positions: from gamma in
    range, else from the amounts (all base below the range, all quote above)."""
    liq: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    for x in positions:
        if x.base != asset or x.quote != USD or x.price_lower is None or x.price_upper is None:
            continue
        lo, hi, p = float(x.price_lower), float(x.price_upper), float(x.price)
        if not 0 < lo < hi or not math.isfinite(hi):
            continue
        if x.in_range and x.gamma < 0:
            L = -2.0 * x.gamma * p**1.5
        elif p <= lo:
            L = float(x.delta) / (1 / math.sqrt(lo) - 1 / math.sqrt(hi))
        else:
            L = float(x.value) / (math.sqrt(hi) - math.sqrt(lo))
        if L > 0:
            liq.append(L)
            lows.append(lo)
            highs.append(hi)
    return Convexity(tuple(liq), tuple(lows), tuple(highs)) if liq else None


class OptionsOverlay:
    """A strip of options for the LP's convexity, rolled before expiry; perps for the rest."""

    name: ClassVar[str] = "options_overlay"
    Params: ClassVar[type[StrategyParams]] = OptionsOverlayParams
    uses_options: ClassVar[bool] = True

    def __init__(self, params: OptionsOverlayParams | None = None) -> None:
        self.params = params or OptionsOverlayParams()

    def target(self, ctx: StrategyContext) -> Decision:
        perps: list[HedgeTarget] = []
        options: list[HedgeTarget] = []
        updates: dict[str, AssetState] = {}
        for asset in self._assets(ctx):
            view = asset_view(ctx, asset)
            st = update_volatility(view.state, view.price, ctx.now_ms, self.params.vol_halflife)
            rv = self._realised(ctx, asset, st)
            held = self._held(ctx, asset)
            changes, why = self._options(ctx, asset, view.price, rv, held)
            options.extend(changes)
            after = {**held, **{t.symbol: t.target_base for t in changes}}
            opt_delta = self._expiry_delta(ctx.market.instruments, after, view.price)
            ideal = -(view.lp_delta + to_decimal(opt_delta))
            half = max(self.params.band_abs, self.params.band_rel * abs(float(view.lp_delta)))
            band = (
                f"band {amount_text(ideal)} +- {half:.6g} (LP delta {amount_text(view.lp_delta)}, "
                f"options at expiry "
                f"{opt_delta:.6g}); {why}"
            )
            view = replace(view, state=st)
            target, st = band_rule(
                view, ctx.now_ms, ideal, half, 0.0, self.params.min_notional_usd, band
            )
            perps.append(target)
            updates[asset] = st
        return Decision(tuple(perps), ctx.state.with_assets(updates), tuple(options))

    def _realised(self, ctx: StrategyContext, asset: str, st: AssetState) -> float | None:
        """Own EWMA once it has a half-life of history, else the market's estimate."""
        seen_ms = ctx.now_ms - (st.first_price_ms or ctx.now_ms)
        if st.variance_per_s is not None and seen_ms >= self.params.vol_halflife * 1000:
            return math.sqrt(st.variance_per_s * SECONDS_PER_YEAR)
        return ctx.market.volatility.get(asset)

    @staticmethod
    def _assets(ctx: StrategyContext) -> list[str]:
        """Assets with exposure, a perp or an option held (options keyed by symbol)."""
        names = {a for a in hedged_assets(ctx) if a in ctx.instruments}
        for sym, q in ctx.hedges.items():
            inst = ctx.market.instruments.get(sym)
            if q != 0 and inst is not None and inst.asset in ctx.instruments:
                names.add(inst.asset)
        return sorted(names)

    @staticmethod
    def _held(ctx: StrategyContext, asset: str) -> dict[str, Decimal]:
        out = {}
        for sym, q in ctx.hedges.items():
            inst = ctx.market.instruments.get(sym)
            if q != 0 and inst and inst.kind is InstrumentKind.OPTION and inst.asset == asset:
                out[sym] = q
        return out

    @staticmethod
    def _expiry_delta(
        instruments: Mapping[str, Instrument], held: Mapping[str, Decimal], spot: float
    ) -> float:
        total = 0.0
        for sym, q in held.items():
            inst = instruments.get(sym)
            if inst is None or inst.strike is None or q == 0:
                continue
            call = inst.option_type is OptionType.CALL
            total += float(q) * intrinsic_delta(float(inst.strike), call, spot)
        return total

    def _options(
        self,
        ctx: StrategyContext,
        asset: str,
        spot: float,
        rv: float | None,
        held: Mapping[str, Decimal],
    ) -> tuple[list[HedgeTarget], str]:
        p = self.params
        insts = ctx.market.instruments
        conv = _convexity(ctx.exposure.positions, asset)
        if conv is None:
            closing = [HedgeTarget(asset, s, Decimal(0), "close: no LP range left") for s in held]
            return closing, "perps alone: no concentrated USD-quoted LP position"
        roll_ms = p.roll_before * 1000
        due = [s for s in held if (insts[s].expiry_ms or 0) - ctx.now_ms <= roll_ms]
        if held and len(due) < len(held):
            return [], f"holding {len(held)} options"
        closing = [HedgeTarget(asset, s, Decimal(0), "roll: expiry near") for s in due]
        legs, why = self._buy(ctx, asset, spot, rv, conv)
        return closing + legs, why

    def _buy(
        self, ctx: StrategyContext, asset: str, spot: float, rv: float | None, conv: Convexity
    ) -> tuple[list[HedgeTarget], str]:
        p = self.params
        if p.gamma_fraction <= 0:
            return [], "perps alone: gamma_fraction is 0"
        chain = [
            i
            for i in ctx.market.instruments.values()
            if i.kind is InstrumentKind.OPTION and i.asset == asset and i.expiry_ms is not None
        ]
        min_ms = ctx.now_ms + (p.horizon + p.roll_before) * 1000
        expiries = sorted({e for i in chain if (e := i.expiry_ms) is not None and e >= min_ms})
        if not expiries:
            return [], "perps alone: no listed expiry beyond horizon + roll margin"
        fallback = ctx.market.volatility.get(asset)
        costs = {e: self._cost_per_gamma(ctx, chain, e, spot, fallback) for e in expiries}
        priced = {e: c for e, c in costs.items() if c is not None}
        if not priced:
            return [], "perps alone: no implied vol for the options"
        expiry = min(priced)  # nearest: its expiry matches the horizon the strip replicates
        best = min(priced, key=lambda e: priced[e][0])
        if priced[best][0] < priced[expiry][0] * (1 - p.expiry_switch):
            expiry = best
        iv = priced[expiry][1]
        f = buy_fraction(p.gamma_fraction, p.max_fraction, iv, rv if p.scale_by_vol else None)
        rv_text = f"{rv:.0%}" if rv else "n/a"
        if f < p.min_fraction:
            return [], f"perps alone: implied {iv:.0%} dear against realised {rv_text}"
        by_strike = self._listed(chain, expiry, spot)
        sample = next(iter(by_strike.values()))
        unit_min = float(sample.min_amount * sample.contract_size)
        unit_step = float(sample.amount_step * sample.contract_size)
        legs = strip(sorted(by_strike), conv, spot, f, unit_min, unit_step)
        why = (
            f"strip of {len(legs)} legs, {f:.0%} of LP convexity (implied {iv:.0%}, "
            f"realised {rv_text})"
        )
        return [self._target(asset, by_strike, leg, why) for leg in legs], why

    @staticmethod
    def _listed(chain: Sequence[Instrument], expiry: int, spot: float) -> dict[float, Instrument]:
        """Per strike, the option the strip uses there: a put below spot, a call at or above."""
        out: dict[float, Instrument] = {}
        for i in chain:
            if i.expiry_ms != expiry or i.strike is None:
                continue
            k = float(i.strike)
            want = OptionType.CALL if k >= spot else OptionType.PUT
            if i.option_type is want:
                out[k] = i
        return out

    @staticmethod
    def _target(
        asset: str, by_strike: Mapping[float, Instrument], leg: Leg, why: str
    ) -> HedgeTarget:
        return HedgeTarget(asset, by_strike[leg.strike].symbol, to_decimal(leg.quantity, 6), why)

    def _cost_per_gamma(
        self,
        ctx: StrategyContext,
        chain: Sequence[Instrument],
        expiry: int,
        spot: float,
        fallback: float | None,
    ) -> tuple[float, float] | None:
        """(premium decay over the horizon per unit of gamma, implied vol) of the option
        nearest the money at this expiry."""
        same = [i for i in chain if i.expiry_ms == expiry and i.strike is not None]
        atm = min(same, key=lambda i: abs(float(i.strike or 0) - spot))
        quote = ctx.market.quotes.get(atm.symbol)
        iv = float(quote.implied_vol) if quote and quote.implied_vol else fallback
        if not iv or iv <= 0:
            return None
        k = float(atm.strike or 0)
        call = atm.option_type is OptionType.CALL
        t = (expiry - ctx.now_ms) / MS_PER_YEAR
        h = min(self.params.horizon / SECONDS_PER_YEAR, t)
        decay = b76_price(spot, k, t, iv, call) - b76_price(spot, k, t - h, iv, call)
        ages = (np.arange(GAMMA_STEPS) + 0.5) / GAMMA_STEPS * h  # midpoint rule over the horizon
        n = np.ones(GAMMA_STEPS)
        gamma = float(np.mean(gamma_array(spot * n, k * n, t - ages, iv * n)))
        return (decay / gamma if gamma > 0 else math.inf), iv
