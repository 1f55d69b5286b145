"""`fixed_interval` baseline: rehedge fully every `interval`, whatever happened."""

from __future__ import annotations

from typing import ClassVar

from bot.domain.orders import HedgeTarget
from strategies.bands import ideal_hedge
from strategies.base import (
    AssetState,
    AssetView,
    Decision,
    Duration,
    HedgeRatio,
    MinNotionalUsd,
    StrategyContext,
    StrategyParams,
    amount_text,
    below_min_notional,
    decide_each,
    hold,
    rebalanced,
)


class FixedIntervalParams(StrategyParams):
    """`interval` in seconds or as '24h', '30m', '7d'."""

    interval: Duration = 86400.0
    hedge_ratio: HedgeRatio = 1.0
    min_notional_usd: MinNotionalUsd = 0.0


class FixedInterval:
    """Trade to the full hedge when `interval` has passed since the last rebalance."""

    name: ClassVar[str] = "fixed_interval"
    Params: ClassVar[type[StrategyParams]] = FixedIntervalParams

    def __init__(self, params: FixedIntervalParams | None = None) -> None:
        self.params = params or FixedIntervalParams()

    def target(self, ctx: StrategyContext) -> Decision:
        return decide_each(ctx, lambda view: self._one(ctx.now_ms, view))

    def _one(self, now_ms: int, view: AssetView) -> tuple[HedgeTarget, AssetState]:
        p = self.params
        last = view.state.last_rebalance_ms
        if last is not None and now_ms - last < p.interval * 1000.0:
            return hold(view, f"hold: next rebalance {p.interval:.0f} s after {last}"), view.state
        ideal = ideal_hedge(view, p.hedge_ratio)
        if below_min_notional(view, ideal, p.min_notional_usd):
            return hold(
                view, f"hold: trade to {amount_text(ideal)} below min notional"
            ), rebalanced(view, now_ms, view.current)
        moves = f"{amount_text(view.current)} -> {amount_text(ideal)}"
        reason = f"scheduled rebalance every {p.interval:.0f} s: {moves}"
        return HedgeTarget(view.asset, view.symbol, ideal, reason), rebalanced(view, now_ms, ideal)
