"""Walk-forward validation: spans parsed with errors naming the flag, folds that never let a
test window into its own training span, the selection rule, and the CLI's table and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from bot.backtest.compare import Inputs
from bot.backtest.data import PriceSeries, load_prices
from bot.backtest.runner import BacktestConfig, WindowResult
from bot.backtest.walk_forward import (
    Candidate,
    choose,
    latest_span,
    make_folds,
    parse_split,
    walk_forward,
)
from bot.commands.backtest import register
from bot.demo import data_dir
from bot.errors import InputError

DAY = 86_400_000
WEEK = 7 * DAY
ETH_1H = data_dir() / "market/binance_perp_1h/ETHUSDT_1h.csv"


def _windows(n: int, start: int = 0) -> list[WindowResult]:
    return [
        WindowResult(start + k * WEEK, start + (k + 1) * WEEK, 0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0)
        for k in range(n)
    ]


def test_split_parses_durations_and_names_the_flag_and_part() -> None:
    s = parse_split("52w:13w")
    assert (s.train_ms, s.test_ms) == (52 * WEEK, 13 * WEEK)
    assert parse_split("90d:30d").train_ms == 90 * DAY
    for bad, part in (("52w", "TRAIN:TEST"), ("52x:13w", "TRAIN '52x'"), ("52w:0w", "TEST '0w'")):
        with pytest.raises(InputError, match=f"--walk-forward .*{part}"):
            parse_split(bad)


def test_folds_tile_the_history_after_the_first_train_span_without_lookahead() -> None:
    results = _windows(40)
    folds = make_folds(results, parse_split("10w:5w"))
    tested = [i for f in folds for i in f.test]
    assert tested == list(range(10, 40))  # every window after the first 10 once, in order
    for f in folds:
        assert len(f.train) == 10 and len(f.test) == 5
        last_train_end = max(results[i].end_ms for i in f.train)
        assert last_train_end <= min(results[i].start_ms for i in f.test)
    assert latest_span(results, parse_split("10w:5w")) == tuple(range(30, 40))


def test_folds_never_span_two_series() -> None:
    """Two series with a gap: each gets its own folds (the 1-minute files are like that)."""
    results = _windows(6) + _windows(6, start=100 * WEEK)
    folds = make_folds(results, parse_split("2w:2w"))
    for f in folds:
        both = [results[i].start_ms for i in (*f.train, *f.test)]
        assert max(both) - min(both) < 10 * WEEK


def _cand(name: str, costs: list[float], hedged: list[float]) -> Candidate:
    rows = tuple(
        WindowResult(k * WEEK, (k + 1) * WEEK, 0.0, h, c, 0.0, 0, 0.0, 0.0)
        for k, (c, h) in enumerate(zip(costs, hedged, strict=True))
    )
    return Candidate((name,), rows)


def test_rule_takes_the_least_variance_within_the_budget_else_the_cheapest() -> None:
    daily = _cand("daily", [1.0] * 4, [0.0] * 4)
    tight = _cand("tight", [1.5] * 4, [0.1, -0.1, 0.1, -0.1])  # least variance, too dear
    ok = _cand("ok", [0.8] * 4, [0.2, -0.2, 0.2, -0.2])
    loose = _cand("loose", [0.5] * 4, [1.0, -1.0, 1.0, -1.0])
    idx = range(4)
    assert choose([tight, ok, loose], daily, idx, 0.9).params == ("ok",)
    assert choose([tight, ok, loose], daily, idx, 2.0).params == ("tight",)
    assert choose([tight, ok], daily, idx, 0.1).params == ("ok",)  # none fits: cheapest


def test_walk_forward_is_deterministic_and_scores_baselines_on_the_test_windows() -> None:
    s = load_prices(ETH_1H)
    n = 24 * 7 * 8
    short = PriceSeries(s.name, s.ts_ms[-n - 1 :], s.close[-n - 1 :])
    cfg = BacktestConfig(range_pct=10)
    a = walk_forward(["delta_band"], cfg, Inputs([short]), parse_split("4w:2w"))
    b = walk_forward(["delta_band"], cfg, Inputs([short]), parse_split("4w:2w"))
    assert a.to_json() == b.to_json()
    assert (a.folds, a.test_windows) == (2, 4)
    assert a.baselines["fixed_interval 24h"].windows == 4
    p = a.point("delta_band", 3.0)
    assert p.out_of_sample.windows == 4 and len(p.picks) == 2
    # with a budget this loose the hindsight pick is the least-variance one on those windows
    assert p.in_sample.hedged_std <= p.out_of_sample.hedged_std + 1e-12


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    return app


def _short_csv(tmp_path: Path, weeks: int) -> Path:
    lines = ETH_1H.read_text().splitlines()
    path = tmp_path / "eth.csv"
    path.write_text("\n".join([lines[0], *lines[-(24 * 7 * weeks + 1) :]]) + "\n")
    return path


def test_cli_walk_forward_json_and_table(tmp_path: Path) -> None:
    prices = _short_csv(tmp_path, 5)
    base = ["backtest", "--prices", str(prices), "--range-pct", "10"]
    run = CliRunner().invoke(
        _app(), [*base, "--strategy", "fixed_threshold", "--walk-forward", "2w:1w", "--json"]
    )
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["split"] == "2w:1w" and data["folds"] == 3 and data["test_windows"] == 3
    budgets = [p["budget"] for p in data["frontier"]]
    assert budgets == sorted(budgets) and 0.9 in budgets
    assert np.isfinite(data["frontier"][0]["out_of_sample"]["variance_reduction"])
    table = CliRunner().invoke(
        _app(), [*base, "--strategy", "fixed_threshold", "--walk-forward", "2w:1w"]
    )
    assert table.exit_code == 0 and "out-of-sample" in table.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--walk-forward", "52w"], "--walk-forward '52w': give TRAIN:TEST"),
        (["--walk-forward", "2w:1w", "--engine"], "--engine: --walk-forward"),
        (["--walk-forward", "2w:1w", "--param", "band_rel=0.1"], "--param"),
        (["--walk-forward", "9w:1w"], "--walk-forward 9w:1w: the data holds no TRAIN span"),
        (["--ledger", "x.db"], "--ledger: only with --engine"),
    ],
)
def test_cli_refuses_bad_walk_forward_and_engine_flags(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    prices = _short_csv(tmp_path, 3)
    args = ["backtest", "--prices", str(prices), "--range-pct", "10", "--strategy", "delta_band"]
    run = CliRunner().invoke(_app(), [*args, *extra])
    assert run.exit_code == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
