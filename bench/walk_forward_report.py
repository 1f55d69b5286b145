"""Walk-forward frontiers for docs/benchmarks.md: ETH and BTC hourly at four range widths,
and the 1-minute ETH windows.

Run: `.venv/bin/python -m bench.walk_forward_report` (computes, about 15 min on one core,
and writes docs/walk-forward.json), then `.venv/bin/python -m bench.walk_forward_report
--render` prints the markdown tables from that JSON. The same figures come from
`lphedge backtest --walk-forward 52w:13w --prices ... --range-pct ... --strategy ... --json`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.backtest_report import BTC_1H, ETH_1H, ONE_MIN, ROOT
from bot.backtest.compare import Inputs
from bot.backtest.data import load_prices
from bot.backtest.runner import BacktestConfig
from bot.backtest.walk_forward import DEFAULT_BUDGET, GRIDS, modal, parse_split, walk_forward

OUT = ROOT / "docs" / "walk-forward.json"
STRATEGIES = tuple(GRIDS)
HOURLY_SPLIT = "52w:13w"
MINUTE_SPLIT = "14d:7d"

CASES: Sequence[tuple[str, str, float, str, str]] = (
    ("ETH 1h, v3 +-10 %", "eth", 10.0, HOURLY_SPLIT, "7d"),
    ("ETH 1h, v3 +-5 %", "eth", 5.0, HOURLY_SPLIT, "7d"),
    ("ETH 1h, v3 +-20 %", "eth", 20.0, HOURLY_SPLIT, "7d"),
    ("ETH 1h, v2 full range", "eth", 0.0, HOURLY_SPLIT, "7d"),
    ("BTC 1h, v3 +-10 %", "btc", 10.0, HOURLY_SPLIT, "7d"),
    ("BTC 1h, v3 +-5 %", "btc", 5.0, HOURLY_SPLIT, "7d"),
    ("BTC 1h, v3 +-20 %", "btc", 20.0, HOURLY_SPLIT, "7d"),
    ("BTC 1h, v2 full range", "btc", 0.0, HOURLY_SPLIT, "7d"),
    ("ETH 1m (4 windows of ~35 days), v3 +-10 %, daily windows", "eth1m", 10.0, MINUTE_SPLIT, "1d"),
)
WINDOW_MS = {"7d": 7 * 86_400_000, "1d": 86_400_000}


def _inputs(which: str) -> Inputs:
    if which == "eth":
        return Inputs([load_prices(ETH_1H)])
    if which == "btc":
        return Inputs([load_prices(BTC_1H)])
    return Inputs([load_prices(p) for p in ONE_MIN])


def compute(out: Path = OUT) -> None:
    cases: list[dict[str, Any]] = []
    for title, which, range_pct, split, window in CASES:
        started = time.perf_counter()
        cfg = BacktestConfig(range_pct=range_pct, window_ms=WINDOW_MS[window])
        wf = walk_forward(STRATEGIES, cfg, _inputs(which), parse_split(split))
        took = time.perf_counter() - started
        print(f"{title}: {wf.folds} folds, {wf.test_windows} test windows, {took:.0f} s")
        cases.append({"title": title, "range_pct": range_pct, "window": window, **wf.to_json()})
    out.write_text(json.dumps(cases, indent=1))
    print(f"wrote {out}")


def pct(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f} %"


def _params(p: Sequence[str]) -> str:
    return " ".join(p)


def case_table(case: Mapping[str, Any]) -> str:
    """One row per strategy and budget: in-sample beside out-of-sample."""
    lines = [
        f"{case['folds']} folds of {case['split']}, {case['test_windows']} test windows.",
        "",
        "| strategy | budget x daily cost | IS var. red. | IS cost/window | OOS var. red. "
        "| OOS cost/window | latest pick (what runs now) | most-picked (folds) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, s in case["baselines"].items():
        lines.append(
            f"| {name} (no tuning) | - | {pct(s['variance_reduction'])} | {pct(s['cost'], 4)} "
            f"| {pct(s['variance_reduction'])} | {pct(s['cost'], 4)} | - | - |"
        )
    for p in case["frontier"]:
        isx, oos = p["in_sample"], p["out_of_sample"]
        mode, n = modal([tuple(x) for x in p["picks"]])
        lines.append(
            f"| {p['strategy']} | {p['budget']:g} | {pct(isx['variance_reduction'])} "
            f"| {pct(isx['cost'], 4)} | {pct(oos['variance_reduction'])} | {pct(oos['cost'], 4)} "
            f"| {_params(p['latest'])} | {_params(mode)} ({n}/{len(p['picks'])}) |"
        )
    return "\n".join(lines)


def verdict(case: Mapping[str, Any], strategy: str, budget: float = DEFAULT_BUDGET) -> str:
    """The issue's bar for one strategy at the defaults' budget, out of sample."""
    hourly = case["baselines"]["fixed_interval 1h"]
    daily = case["baselines"]["fixed_interval 24h"]
    p = next(x for x in case["frontier"] if x["strategy"] == strategy and x["budget"] == budget)
    oos = p["out_of_sample"]
    gap = 100 * (hourly["variance_reduction"] - oos["variance_reduction"])
    ok_vr = gap <= 1.0
    ok_cost = oos["cost"] <= daily["cost"]
    return (
        f"{strategy} at budget {budget:g}: OOS {pct(oos['variance_reduction'])} at "
        f"{pct(oos['cost'], 4)}/window; hourly {pct(hourly['variance_reduction'])} "
        f"(gap {gap:+.2f} points: {'ok' if ok_vr else 'NOT within 1'}), daily cost "
        f"{pct(daily['cost'], 4)} ({'ok' if ok_cost else 'NOT below'})"
    )


def render(path: Path = OUT) -> str:
    cases = json.loads(path.read_text())
    parts = []
    for case in cases:
        parts.append(f"### {case['title']}\n\n{case_table(case)}\n")
        for name in ("vol_band", "delta_band"):
            parts.append(f"- {verdict(case, name)}")
        parts.append("")
    return "\n".join(parts)


def main() -> None:
    if "--render" in sys.argv:
        print(render())
    else:
        compute()


if __name__ == "__main__":
    main()
