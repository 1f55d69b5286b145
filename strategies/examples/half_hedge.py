"""An example user strategy: hedge a fixed fraction of the delta, daily.

Use it with `--strategy strategies/examples/half_hedge.py:HalfHedge --param ratio=0.5`, or
in config as `strategy = "strategies.examples.half_hedge:HalfHedge"`. A strategy is pure:
everything comes in `ctx`, and what it wants to remember goes back in `Decision.state`.
"""

from __future__ import annotations

from typing import ClassVar

from bot.domain.orders import HedgeTarget
from strategies.base import (
    AssetState,
    AssetView,
    Decision,
    Fraction,
    Seconds,
    StrategyContext,
    StrategyParams,
    amount_text,
    decide_each,
    hold,
    rebalanced,
    to_decimal,
)


class HalfHedgeParams(StrategyParams):
    ratio: Fraction = 0.5
    interval: Seconds = 86400.0


class HalfHedge:
    name: ClassVar[str] = "half_hedge"
    Params: ClassVar[type[StrategyParams]] = HalfHedgeParams
    interface_version: ClassVar[int] = 1

    def __init__(self, params: HalfHedgeParams | None = None) -> None:
        self.params = params or HalfHedgeParams()

    def target(self, ctx: StrategyContext) -> Decision:
        return decide_each(ctx, lambda view: self._one(ctx.now_ms, view))

    def _one(self, now_ms: int, view: AssetView) -> tuple[HedgeTarget, AssetState]:
        last = view.state.last_rebalance_ms
        if last is not None and now_ms - last < self.params.interval * 1000:
            return hold(view, "hold: not yet time"), view.state
        wanted = -view.lp_delta * to_decimal(self.params.ratio, 6)
        reason = f"hedge {self.params.ratio:.0%} of delta {amount_text(view.lp_delta)}"
        return HedgeTarget(view.asset, view.symbol, wanted, reason), rebalanced(
            view, now_ms, wanted
        )
