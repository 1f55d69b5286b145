"""`fixed_threshold` baseline: rehedge fully when the gap exceeds a fraction of the delta."""

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
    StrategyContext,
    StrategyParams,
    amount_text,
    decide_each,
)


class FixedThresholdParams(StrategyParams):
    """`threshold`: allowed gap as a fraction of the ideal hedge (0.05 = 5 %)."""

    threshold: Fraction = Field(0.05, ge=0, le=1)
    hedge_ratio: HedgeRatio = 1.0
    min_notional_usd: MinNotionalUsd = 0.0


class FixedThreshold:
    """Trade back to the full hedge once |hedge - ideal| > threshold * |ideal|."""

    name: ClassVar[str] = "fixed_threshold"
    Params: ClassVar[type[StrategyParams]] = FixedThresholdParams

    def __init__(self, params: FixedThresholdParams | None = None) -> None:
        self.params = params or FixedThresholdParams()

    def target(self, ctx: StrategyContext) -> Decision:
        return decide_each(ctx, lambda view: self._one(ctx.now_ms, view))

    def _one(self, now_ms: int, view: AssetView) -> tuple[HedgeTarget, AssetState]:
        p = self.params
        ideal = ideal_hedge(view, p.hedge_ratio)
        half = p.threshold * abs(float(ideal))
        why = f"threshold {p.threshold:.4g} of {amount_text(ideal)}"
        return band_rule(view, now_ms, ideal, half, 0.0, p.min_notional_usd, why)
