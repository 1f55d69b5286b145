"""Run several strategies over the same windows, and parameter sweeps for the frontier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.backtest.data import FundingSeries, PoolBars, PriceSeries
from bot.backtest.metrics import Summary, summarize
from bot.backtest.options_market import OptionPricing
from bot.backtest.runner import BacktestConfig, Coverage, run, window_bounds
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


@dataclass(frozen=True)
class CoverageCheck:
    """Windows one input's data covers: `flag` names the input, `span` what it holds."""

    flag: str
    span: str
    covers: Coverage


def _date(ms: int) -> str:
    return str(np.datetime64(int(ms), "ms").astype("datetime64[D]"))


def coverage_checks(inputs: Inputs, options: OptionPricing | None = None) -> list[CoverageCheck]:
    """One check per input with its own time span: funding, pool days, DVOL."""
    checks: list[CoverageCheck] = []
    funding, pool = inputs.funding, inputs.pool
    if funding is not None and len(funding.ts_ms):
        lo, hi = int(funding.ts_ms[0]), int(funding.ts_ms[-1]) + FUNDING_PERIOD_MS

        def funding_covers(a: int, b: int) -> bool:
            return lo <= a and b <= hi

        checks.append(CoverageCheck("--funding", f"{_date(lo)} to {_date(hi)}", funding_covers))
    if pool is not None:
        days = pool.days

        def pool_covers(a: int, b: int) -> bool:
            first, last = a // DAY_MS, (b - 1) // DAY_MS
            return all(_day(d) in days for d in range(first, last + 1))

        ordered = sorted(days)
        span = f"{len(days)} days from {ordered[0]} to {ordered[-1]}" if ordered else "no days"
        checks.append(CoverageCheck("--pool-data", span, pool_covers))
    if options is not None:
        dv = options.dvol
        span = f"{_day(dv.days[0])} to {_day(dv.days[-1])}" if dv.days else "no days"
        checks.append(CoverageCheck("--dvol", span, options.covers))
    return checks


def coverage(inputs: Inputs, options: OptionPricing | None = None) -> Coverage | None:
    """Keep only windows the funding file, the pool days and DVOL fully cover (the same
    windows for every strategy compared)."""
    checks = [c.covers for c in coverage_checks(inputs, options)]
    if not checks:
        return None
    return lambda a, b: all(c(a, b) for c in checks)


def _day(day_index: int) -> str:
    return str(np.datetime64(day_index, "D"))


@dataclass(frozen=True)
class WindowPlan:
    """How many windows the prices hold, how many every input covers (those run), and per
    input flag how many it does not cover (a window may be missed by several)."""

    total: int
    kept: int
    missed: Mapping[str, int]
    spans: Mapping[str, str]
    longest_ms: int = 0  # the longest price series, first to last bar


def plan_windows(inputs: Inputs, cfg: BacktestConfig) -> WindowPlan:
    checks = coverage_checks(inputs, cfg.options)
    total = kept = 0
    missed = dict.fromkeys((c.flag for c in checks), 0)
    for s in inputs.series:
        for i0, i1 in window_bounds(s.ts_ms, cfg.window_ms):
            a, b = int(s.ts_ms[i0]), int(s.ts_ms[i1])
            total += 1
            misses = [c.flag for c in checks if not c.covers(a, b)]
            for flag in misses:
                missed[flag] += 1
            kept += not misses
    longest = max((int(s.ts_ms[-1] - s.ts_ms[0]) for s in inputs.series), default=0)
    return WindowPlan(total, kept, missed, {c.flag: c.span for c in checks}, longest)


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
