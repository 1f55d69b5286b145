"""Run several strategies over the same windows, and parameter sweeps for the frontier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.backtest.data import FundingSeries, PoolBars, PriceSeries
from bot.backtest.metrics import Summary, summarize
from bot.backtest.options_market import OptionPricing
from bot.backtest.runner import BacktestConfig, Coverage, run
from strategies.base import split_prefixed
from strategies.registry import build, strategy_class

FUNDING_PERIOD_MS = 8 * 3_600_000
DAY_MS = 86_400_000

# The parameter each built-in is swept over for the cost / residual-risk frontier.
SWEEPS: Mapping[str, tuple[str, tuple[str, ...]]] = {
    "fixed_interval": ("interval", ("1h", "2h", "4h", "8h", "12h", "24h", "48h", "72h")),
    "fixed_threshold": (
        "threshold",
        ("0.01", "0.02", "0.05", "0.1", "0.15", "0.2", "0.3", "0.5"),
    ),
    "delta_band": ("band_rel", ("0.02", "0.05", "0.1", "0.2", "0.3", "0.5")),
    "vol_band": ("risk_aversion", ("1", "2", "5", "10", "20", "50", "100", "300")),
    "options_overlay": ("gamma_fraction", ("0", "0.25", "0.5", "0.75", "1")),
}


@dataclass(frozen=True)
class Inputs:
    """The recorded data one comparison runs on."""

    series: Sequence[PriceSeries]
    funding: FundingSeries | None = None
    pool: PoolBars | None = None


def coverage(inputs: Inputs, options: OptionPricing | None = None) -> Coverage | None:
    """Keep only windows the funding file, the pool days and DVOL fully cover (the same
    windows for every strategy compared)."""
    checks: list[Coverage] = []
    if options is not None:
        checks.append(options.covers)
    funding, pool = inputs.funding, inputs.pool
    if funding is not None and len(funding.ts_ms):
        lo, hi = int(funding.ts_ms[0]), int(funding.ts_ms[-1]) + FUNDING_PERIOD_MS
        checks.append(lambda a, b: lo <= a and b <= hi)
    if pool is not None:
        days = pool.days

        def pool_covers(a: int, b: int) -> bool:
            first, last = a // DAY_MS, (b - 1) // DAY_MS
            return all(_day(d) in days for d in range(first, last + 1))

        checks.append(pool_covers)
    if not checks:
        return None
    return lambda a, b: all(c(a, b) for c in checks)


def _day(day_index: int) -> str:
    return str(np.datetime64(day_index, "D"))


def run_one(name: str, params: Sequence[str], cfg: BacktestConfig, inputs: Inputs) -> Summary:
    strategy = build(name, params)
    results = run(
        strategy,
        list(inputs.series),
        cfg,
        inputs.funding,
        inputs.pool,
        coverage(inputs, cfg.options),
    )
    options = bool(getattr(strategy, "uses_options", False))
    return summarize(results, inputs.funding is not None, inputs.pool is not None, options)


def compare(
    names: Sequence[str], params: Sequence[str], cfg: BacktestConfig, inputs: Inputs
) -> dict[str, Summary]:
    """Each named strategy with its params (`name.k=v` or plain `k=v`)."""
    models = {n: strategy_class(n).Params for n in names}
    routed = split_prefixed(params, models)
    return {n: run_one(n, routed[n], cfg, inputs) for n in names}


@dataclass(frozen=True)
class SweepPoint:
    strategy: str
    param: str
    summary: Summary


def sweep(
    name: str, cfg: BacktestConfig, inputs: Inputs, fixed: Sequence[str] = ()
) -> list[SweepPoint]:
    """One point per value of the strategy's sweep parameter (empty if it has none)."""
    if name not in SWEEPS:
        return []
    key, values = SWEEPS[name]
    return [
        SweepPoint(name, f"{key}={v}", run_one(name, [*fixed, f"{key}={v}"], cfg, inputs))
        for v in values
    ]


def dominated(point: Summary, others: Sequence[Summary]) -> bool:
    """True if some other result is both cheaper and less risky."""
    return any(o.cost < point.cost and o.hedged_std < point.hedged_std for o in others)
