"""The band rule shared by the band strategies: trade only when the hedge leaves the band.

Hysteresis: a trade goes to the band centre (or to an inner band, `rebalance_to` of the
half-width from the centre), never to the edge it crossed, so the next tick does not
trade back.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain.orders import HedgeTarget
from strategies.base import (
    AssetState,
    AssetView,
    amount_text,
    below_min_notional,
    hold,
    rebalanced,
    to_decimal,
)


def ideal_hedge(view: AssetView, hedge_ratio: float) -> Decimal:
    """The full hedge: short `hedge_ratio` times the LP's delta (base units)."""
    return -view.lp_delta * to_decimal(hedge_ratio, 6)


def band_rule(
    view: AssetView,
    now_ms: int,
    ideal: Decimal,
    half_width: float,
    rebalance_to: float,
    min_notional_usd: float,
    why: str,
) -> tuple[HedgeTarget, AssetState]:
    """Hold inside `ideal +- half_width` (base units); outside, trade back toward the centre."""
    gap = float(view.current - ideal)
    if abs(gap) <= half_width:
        return hold(view, f"hold: hedge {amount_text(view.current)} within {why}"), view.state
    inner = rebalance_to * half_width
    wanted = ideal + to_decimal(inner if gap > 0 else -inner)
    if below_min_notional(view, wanted, min_notional_usd):
        return hold(
            view,
            f"hold: trade to {amount_text(wanted)} below min notional {min_notional_usd:g} USD",
        ), (view.state)
    reason = f"rebalance {amount_text(view.current)} -> {amount_text(wanted)}: outside {why}"
    target = HedgeTarget(view.asset, view.symbol, wanted, reason)
    return target, rebalanced(view, now_ms, wanted)
