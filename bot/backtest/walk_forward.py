"""Walk-forward validation: tune each strategy's parameters on one span, score them on the next.

Every parameter set of a strategy's grid is run once over every window (windows are
independent: each opens a fresh LP position and a flat hedge, and the volatility a strategy
sees is causal), so a fold only chooses among results already computed. Fold `f` of a series
trains on the windows that start in `[t0 + f*TEST, t0 + f*TEST + TRAIN)` and tests on those
that start in the TEST span after it; folds roll on by TEST until the series ends, so the test
spans tile the history after the first TRAIN without overlap, and a test window never sits
in its own fold's training span (no lookahead).

The selection rule, one per cost budget `b`: on the training windows, take the parameter
set with the least hedged-PnL variance among those whose mean cost per window is at most
`b` times what daily rebalancing (`fixed_interval` 24h) cost on the same windows; when none
is that cheap, the cheapest. Budgets are relative to daily rebalancing so that one rule
means the same thing in calm and in wild years. Sweeping `b` traces the frontier: the
out-of-sample one scores each fold's pick on its test windows; the in-sample one applies
the rule once to those same test windows and scores it there (hindsight), so the gap
between the two is what not knowing the future costs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.backtest.compare import Inputs, coverage
from bot.backtest.metrics import Summary, summarize
from bot.backtest.runner import BacktestConfig, WindowResult, run
from bot.errors import InputError
from strategies.base import parse_duration
from strategies.registry import build

BUDGETS: tuple[float, ...] = (0.5, 0.75, 0.9, 1.0, 1.5, 2.0, 3.0)
DEFAULT_BUDGET = 0.9
"""The budget the defaults are chosen at: 10 % under daily rebalancing's cost, because a
pick made right at a cost limit on one span tends to land above it on the next."""

YARDSTICK = ("fixed_interval", ("interval=24h",))
HOURLY = ("fixed_interval", ("interval=1h",))

GRIDS: Mapping[str, tuple[tuple[str, ...], ...]] = {
    "fixed_interval": tuple(
        (f"interval={v}",) for v in ("1h", "2h", "4h", "8h", "12h", "24h", "48h", "72h")
    ),
    "fixed_threshold": tuple(
        (f"threshold={v}",) for v in ("0.02", "0.05", "0.1", "0.15", "0.2", "0.3", "0.5")
    ),
    "delta_band": tuple(
        (f"band_rel={b}", f"rebalance_to={r}")
        for b in ("0.1", "0.15", "0.2", "0.3", "0.4", "0.5")
        for r in ("0", "0.5", "0.75")
    ),
    "vol_band": tuple(
        (f"risk_aversion={a}", f"rebalance_to={r}", f"min_band_rel={m}")
        for a in ("5", "10", "20", "50")
        for r in ("0.5", "0.75")
        for m in ("0", "0.1", "0.2", "0.3")
    ),
}
"""Each strategy's tuning grid (the parameters not named keep their defaults)."""


@dataclass(frozen=True)
class Split:
    """TRAIN and TEST span lengths in milliseconds, and the text they came from."""

    train_ms: int
    test_ms: int
    text: str


def parse_split(text: str, flag: str = "--walk-forward") -> Split:
    """'52w:13w' -> Split; a bad value is one error naming `flag` and the part at fault."""
    parts = text.split(":")
    if len(parts) != 2:
        raise InputError(f"{flag} {text!r}: give TRAIN:TEST durations, e.g. 52w:13w")
    spans = []
    for label, part in zip(("TRAIN", "TEST"), parts, strict=True):
        try:
            seconds = parse_duration(part)
        except ValueError:
            seconds = None
        if not isinstance(seconds, float) or not 0 < seconds <= 50 * 365 * 86400:
            raise InputError(
                f"{flag} {text!r}: {label} {part!r} is not a duration such as 52w, 90d or 12h"
            )
        spans.append(int(seconds * 1000))
    return Split(spans[0], spans[1], text)


@dataclass(frozen=True)
class Fold:
    """Window indices trained on and tested on, and where the test span starts (ms)."""

    train: tuple[int, ...]
    test: tuple[int, ...]
    test_start_ms: int


@dataclass(frozen=True)
class Candidate:
    """One parameter set's results, one per window (the same windows for every candidate)."""

    params: tuple[str, ...]
    results: tuple[WindowResult, ...]


@dataclass(frozen=True)
class FrontierPoint:
    """The rule at one budget: in-sample and out-of-sample figures over the test windows,
    the pick of each fold, and the pick on the latest TRAIN span (what to run now)."""

    strategy: str
    budget: float
    in_sample: Summary
    out_of_sample: Summary
    in_sample_pick: tuple[str, ...]
    picks: tuple[tuple[str, ...], ...]
    latest: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "strategy": self.strategy,
            "budget": self.budget,
            "in_sample": self.in_sample.to_json(),
            "out_of_sample": self.out_of_sample.to_json(),
            "in_sample_pick": list(self.in_sample_pick),
            "picks": [list(p) for p in self.picks],
            "latest": list(self.latest),
        }


@dataclass(frozen=True)
class WalkForward:
    """Every strategy's frontier, with the fixed baselines scored on the same test windows."""

    split: Split
    folds: int
    test_windows: int
    first_test_ms: int
    points: tuple[FrontierPoint, ...]
    baselines: Mapping[str, Summary]

    def point(self, strategy: str, budget: float = DEFAULT_BUDGET) -> FrontierPoint:
        return next(p for p in self.points if p.strategy == strategy and p.budget == budget)

    def to_json(self) -> dict[str, object]:
        return {
            "split": self.split.text,
            "folds": self.folds,
            "test_windows": self.test_windows,
            "first_test_ms": self.first_test_ms,
            "baselines": {k: s.to_json() for k, s in self.baselines.items()},
            "frontier": [p.to_json() for p in self.points],
        }


def make_folds(results: Sequence[WindowResult], split: Split) -> list[Fold]:
    """Folds per series (a series starts where a window does not begin at the last one's
    end); windows are assigned by their start time."""
    folds: list[Fold] = []
    for lo, hi in _series_runs(results):
        starts = np.array([r.start_ms for r in results[lo:hi]], dtype=np.int64)
        t0 = int(starts[0])
        f = 0
        while True:
            train_lo = t0 + f * split.test_ms
            test_lo = train_lo + split.train_ms
            if test_lo > int(starts[-1]):
                break
            train = _between(starts, train_lo, test_lo, lo)
            test = _between(starts, test_lo, test_lo + split.test_ms, lo)
            if train and test:
                folds.append(Fold(train, test, test_lo))
            f += 1
    return folds


def _between(starts: np.ndarray, a: int, b: int, offset: int) -> tuple[int, ...]:
    i, j = np.searchsorted(starts, [a, b], side="left")
    return tuple(range(offset + int(i), offset + int(j)))


def _series_runs(results: Sequence[WindowResult]) -> list[tuple[int, int]]:
    runs, lo = [], 0
    for k in range(1, len(results)):
        if results[k].start_ms != results[k - 1].end_ms:
            runs.append((lo, k))
            lo = k
    if results:
        runs.append((lo, len(results)))
    return runs


def latest_span(results: Sequence[WindowResult], split: Split) -> tuple[int, ...]:
    """The windows of the last series that lie inside its final TRAIN span."""
    lo, hi = _series_runs(results)[-1]
    since = results[hi - 1].end_ms - split.train_ms
    return tuple(i for i in range(lo, hi) if results[i].start_ms >= since)


def choose(
    candidates: Sequence[Candidate], yardstick: Candidate, idx: Sequence[int], budget: float
) -> Candidate:
    """The rule of the module doc on windows `idx` (ties go to the earlier grid entry)."""
    cap = budget * float(np.mean([yardstick.results[i].cost for i in idx]))
    scored = []
    for order, c in enumerate(candidates):
        cost = float(np.mean([c.results[i].cost for i in idx]))
        var = float(np.var([c.results[i].hedged_pnl for i in idx]))
        scored.append((cost, var, order, c))
    feasible = [s for s in scored if s[0] <= cap]
    if feasible:
        return min(feasible, key=lambda s: (s[1], s[0], s[2]))[3]
    return min(scored, key=lambda s: (s[0], s[2]))[3]


def run_candidates(
    name: str, grid: Sequence[tuple[str, ...]], cfg: BacktestConfig, inputs: Inputs
) -> list[Candidate]:
    """Every grid point over every window the inputs cover."""
    covered = coverage(inputs, cfg.options)
    out = []
    for params in grid:
        results = run(
            build(name, params), list(inputs.series), cfg, inputs.funding, inputs.pool, covered
        )
        out.append(Candidate(tuple(params), tuple(results)))
    return out


def _summary(results: Sequence[WindowResult], inputs: Inputs) -> Summary:
    return summarize(results, inputs.funding is not None, inputs.pool is not None)


def frontier(
    name: str,
    candidates: Sequence[Candidate],
    yardstick: Candidate,
    folds: Sequence[Fold],
    latest_train: Sequence[int],
    inputs: Inputs,
    budgets: Sequence[float] = BUDGETS,
) -> list[FrontierPoint]:
    """One point per budget for strategy `name`; `latest_train` the windows of the most
    recent TRAIN span (the pick on them is what to run now)."""
    test = [i for f in folds for i in f.test]
    points = []
    for b in budgets:
        picks = [choose(candidates, yardstick, f.train, b) for f in folds]
        oos = [p.results[i] for f, p in zip(folds, picks, strict=True) for i in f.test]
        hindsight = choose(candidates, yardstick, test, b)
        latest = choose(candidates, yardstick, latest_train, b) if latest_train else hindsight
        points.append(
            FrontierPoint(
                name,
                b,
                _summary([hindsight.results[i] for i in test], inputs),
                _summary(oos, inputs),
                hindsight.params,
                tuple(p.params for p in picks),
                latest.params,
            )
        )
    return points


def walk_forward(
    names: Sequence[str],
    cfg: BacktestConfig,
    inputs: Inputs,
    split: Split,
    budgets: Sequence[float] = BUDGETS,
) -> WalkForward:
    """The in- and out-of-sample frontier of each named strategy (see the module doc)."""
    unknown = [n for n in names if n not in GRIDS]
    if unknown:
        raise InputError(
            f"--strategy {unknown[0]!r}: no walk-forward grid; walk-forward tunes "
            f"{', '.join(GRIDS)}"
        )
    yardstick = run_candidates(YARDSTICK[0], [YARDSTICK[1]], cfg, inputs)[0]
    hourly = run_candidates(HOURLY[0], [HOURLY[1]], cfg, inputs)[0]
    folds = make_folds(yardstick.results, split)
    if not folds:
        raise InputError(
            f"--walk-forward {split.text}: the data holds no TRAIN span followed by a TEST "
            f"window ({len(yardstick.results)} windows); give shorter spans"
        )
    test = [i for f in folds for i in f.test]
    latest = latest_span(yardstick.results, split)
    points: list[FrontierPoint] = []
    for name in dict.fromkeys(names):
        cands = run_candidates(name, GRIDS[name], cfg, inputs)
        points += frontier(name, cands, yardstick, folds, latest, inputs, budgets)
    baselines = {
        "fixed_interval 1h": _summary([hourly.results[i] for i in test], inputs),
        "fixed_interval 24h": _summary([yardstick.results[i] for i in test], inputs),
    }
    return WalkForward(
        split, len(folds), len(test), folds[0].test_start_ms, tuple(points), baselines
    )


def modal(picks: Sequence[tuple[str, ...]]) -> tuple[tuple[str, ...], int]:
    """The pick chosen most often across folds (the earliest on a tie) and how often."""
    counts = Counter(picks)
    best = max(counts.values())
    first = next(p for p in picks if counts[p] == best)
    return first, best
