"""Summaries of window results: risk removed, what it cost, and the LP's own economics.

Every money figure is a fraction of the position value at window open (0.002 = 0.20 %),
averaged per window; the stds are across windows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from bot.backtest.runner import WindowResult

JSON_KEYS = (
    "windows",
    "unhedged_std",
    "hedged_std",
    "variance_reduction",
    "cost",
    "funding",
    "trades_per_window",
    "lp_fees",
    "lvr",
    "option_premium",
    "option_pnl",
)


@dataclass(frozen=True)
class Summary:
    """One strategy's figures. `funding` (received > 0) and `lp_fees` are None when the
    run had no funding file / pool data; `option_premium` (paid at mid) and `option_pnl`
    (at mid, inside the hedged PnL) None when the strategy trades no options."""

    windows: int
    unhedged_std: float
    hedged_std: float
    variance_reduction: float
    cost: float
    funding: float | None
    trades_per_window: float
    lp_fees: float | None
    lvr: float
    option_premium: float | None = None
    option_pnl: float | None = None

    def to_json(self) -> dict[str, float | int | None]:
        """Every figure; one that is not a number (a variance over one window) is null."""
        return {
            k: None if isinstance(v, float) and not math.isfinite(v) else v
            for k, v in asdict(self).items()
        }


def summarize(
    results: Sequence[WindowResult],
    with_funding: bool = False,
    with_pool: bool = False,
    options: bool = False,
) -> Summary:
    if not results:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan, None, nan, None, nan)
    lp = np.array([r.lp_pnl for r in results])
    hedged = np.array([r.hedged_pnl for r in results])
    unhedged_var = float(np.var(lp))
    hedged_var = float(np.var(hedged))
    reduction = 1.0 - hedged_var / unhedged_var if unhedged_var > 0 else float("nan")
    return Summary(
        windows=len(results),
        unhedged_std=float(np.sqrt(unhedged_var)),
        hedged_std=float(np.sqrt(hedged_var)),
        variance_reduction=reduction,
        cost=float(np.mean([r.cost for r in results])),
        funding=float(np.mean([r.funding for r in results])) if with_funding else None,
        trades_per_window=float(np.mean([r.trades for r in results])),
        lp_fees=float(np.mean([r.lp_fees for r in results])) if with_pool else None,
        lvr=float(np.mean([r.lvr for r in results])),
        option_premium=float(np.mean([r.premium for r in results])) if options else None,
        option_pnl=float(np.mean([r.option_pnl for r in results])) if options else None,
    )
