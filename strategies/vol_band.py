"""`vol_band`: a cost-aware band in the spirit of Whalley & Wilmott (1997).

With proportional cost `c` (fraction of notional), price `P` (USD), gamma `G` (base per USD)
and absolute risk aversion `lam` (1/USD), the no-trade band's half-width in base units is

    h = (3/2 * c * P * G**2 / lam) ** (1/3)

It widens with trading cost and with gamma (the delta moves faster, so a narrow band would
trade all the time); with no gamma (a v3 position out of range) it is zero: the constant
delta is hedged once and then left alone. A second, static band comes from weighing the
cost of closing a gap e (c * P * |e|) against the variance it adds over `horizon` tau
(lam * e**2 * sigma**2 * P**2 * tau): trade only when |e| > c / (lam * sigma**2 * P * tau).
It narrows as volatility rises and stops a position sitting at its range edge (gamma
flipping between zero and not) from trading on every crossing.

`risk_aversion` is relative to the position value (lam = risk_aversion / value_usd), so the
band scales with the position. Volatility cancels from the WW band itself (trading and risk
rates both grow with sigma**2); it sets the static band and enters through funding: with
`funding_aware`, the short is reduced by the mean-variance optimum
e* = funding_per_s / (lam * sigma_per_s**2 * P), so expensive funding buys less hedge,
more so when volatility is low. Volatility comes from `volatility` (annualised), the market
snapshot, or an EWMA of the returns the strategy has seen (kept in its state).

Defaults (risk_aversion 5, rebalance_to 0.75, min_band_rel 0.3) are chosen by walk-forward
validation (`lphedge backtest --walk-forward 52w:13w`): the set the out-of-sample rule picked
most often across the 14 folds of ETHUSDT 1 h at a cost budget of at most 90 % of daily
rebalancing; see docs/benchmarks.md for the method and the figures.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from bot.domain.orders import HedgeTarget
from strategies.bands import band_rule, ideal_hedge
from strategies.base import (
    SECONDS_PER_YEAR,
    AssetState,
    AssetView,
    Decision,
    Duration,
    Fraction,
    HedgeRatio,
    MinNotionalUsd,
    RebalanceTo,
    StrategyContext,
    StrategyParams,
    amount_text,
    decide_each,
    to_decimal,
    update_volatility,
)

FUNDING_PERIOD_S = 8 * 3600.0


class VolBandParams(StrategyParams):
    """`cost`: fraction per trade (default: the instrument's taker fee, else 5 bp).
    `risk_aversion`: relative to position value. `rebalance_to`: where a trade lands inside
    the band (0 = centre). `min_band_rel`: floor of the band as a fraction of the hedge.
    `volatility`: annualised (0.8 = 80 %); unset = estimated. `funding_period`: the
    interval the quoted funding rate is paid over."""

    risk_aversion: float = Field(5.0, gt=0, le=1e6)
    cost: Fraction | None = Field(None, ge=0, le=0.1)
    rebalance_to: RebalanceTo = 0.75
    min_band_rel: Fraction = Field(0.3, ge=0, le=1)
    hedge_ratio: HedgeRatio = 1.0
    min_notional_usd: MinNotionalUsd = 0.0
    volatility: Fraction | None = Field(None, gt=0, le=10)
    vol_halflife: Duration = 3 * 86400.0
    horizon: Duration = 86400.0
    funding_aware: bool = False
    funding_period: Duration = FUNDING_PERIOD_S


class VolBand:
    """Whalley-Wilmott band around the full hedge; optional funding-aware under-hedge."""

    name: ClassVar[str] = "vol_band"
    Params: ClassVar[type[StrategyParams]] = VolBandParams

    def __init__(self, params: VolBandParams | None = None) -> None:
        self.params = params or VolBandParams()

    def target(self, ctx: StrategyContext) -> Decision:
        return decide_each(ctx, lambda view: self._one(ctx.now_ms, view))

    def _cost(self, view: AssetView) -> float:
        if self.params.cost is not None:
            return self.params.cost
        if view.instrument is not None:
            return float(view.instrument.taker_fee)
        return 0.0005

    def _sigma2_per_s(self, view: AssetView, state: AssetState) -> float | None:
        annual = self.params.volatility or view.volatility
        if annual:
            return annual * annual / SECONDS_PER_YEAR
        return state.variance_per_s

    def half_width(self, view: AssetView, ideal: Decimal) -> float:
        """The band's half-width in base units."""
        p = self.params
        floor = p.min_band_rel * abs(float(ideal))
        if view.value_usd <= 0.0:
            return floor
        lam = p.risk_aversion / view.value_usd
        cost = self._cost(view)
        ww = math.cbrt(1.5 * cost * view.price * view.gamma**2 / lam)
        sigma2 = self._sigma2_per_s(view, view.state)
        static = cost / (lam * sigma2 * view.price * p.horizon) if sigma2 else 0.0
        return max(ww, static, floor)

    def _funding_tilt(self, view: AssetView, ideal: Decimal, state: AssetState) -> float:
        """Base units to take off the short when shorts pay funding (0 otherwise)."""
        rate = view.funding_rate
        sigma2 = self._sigma2_per_s(view, state)
        if rate is None or rate >= 0 or not sigma2 or view.value_usd <= 0 or ideal >= 0:
            return 0.0
        lam = self.params.risk_aversion / view.value_usd
        per_s = -rate / self.params.funding_period
        return float(min(per_s / (lam * sigma2 * view.price), abs(float(ideal))))

    def _one(self, now_ms: int, view: AssetView) -> tuple[HedgeTarget, AssetState]:
        p = self.params
        state = update_volatility(view.state, view.price, now_ms, p.vol_halflife)
        view = replace(view, state=state)
        ideal = ideal_hedge(view, p.hedge_ratio)
        why = ""
        if p.funding_aware:
            tilt = self._funding_tilt(view, ideal, state)
            if tilt > 0:
                ideal = ideal + to_decimal(tilt)
                why = f", shorts pay funding {view.funding_rate:.3g}: short reduced by {tilt:.6g}"
        half = self.half_width(view, ideal)
        sigma2 = self._sigma2_per_s(view, state)
        vol = f"{math.sqrt(sigma2 * SECONDS_PER_YEAR):.0%}" if sigma2 else "n/a"
        text = (
            f"WW band {amount_text(ideal)} +- {half:.6g} (gamma {view.gamma:.3g}, vol {vol}{why})"
        )
        return band_rule(view, now_ms, ideal, half, p.rebalance_to, p.min_notional_usd, text)
