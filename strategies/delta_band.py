"""`delta_band`: a fixed band around the full hedge, absolute and relative to the delta."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from bot.domain.orders import HedgeTarget
from strategies.bands import band_rule, ideal_hedge
from strategies.base import (
    AssetState,
    AssetView,
    Decision,
    Fraction,
    HedgeRatio,
    MinNotionalUsd,
    RebalanceTo,
    StrategyContext,
    StrategyParams,
    amount_text,
    decide_each,
)


class DeltaBandParams(StrategyParams):
    """`band_abs` in base units; `band_rel` a fraction of the ideal hedge; the band is the
    larger. `rebalance_to` in [0, 1): where inside the band a trade lands (0 = centre)."""

    band_abs: float = Field(0.0, ge=0)
    band_rel: Fraction = Field(0.1, ge=0, le=1)
    hedge_ratio: HedgeRatio = 1.0
    min_notional_usd: MinNotionalUsd = 0.0
    rebalance_to: RebalanceTo = 0.0


class DeltaBand:
    """Hold the hedge within a band around `-hedge_ratio * delta`; trade to its centre."""

    name: ClassVar[str] = "delta_band"
    Params: ClassVar[type[StrategyParams]] = DeltaBandParams

    def __init__(self, params: DeltaBandParams | None = None) -> None:
        self.params = params or DeltaBandParams()

    def target(self, ctx: StrategyContext) -> Decision:
        return decide_each(ctx, lambda view: self._one(ctx.now_ms, view))

    def _one(self, now_ms: int, view: AssetView) -> tuple[HedgeTarget, AssetState]:
        p = self.params
        ideal = ideal_hedge(view, p.hedge_ratio)
        half = max(p.band_abs, p.band_rel * abs(float(ideal)))
        why = f"band {amount_text(ideal)} +- {half:.6g}"
        return band_rule(view, now_ms, ideal, half, p.rebalance_to, p.min_notional_usd, why)
