"""The terminal outputs at 80 and 120 columns: `report`, `status`, `ledger tail`, `plan`.

What an operator relies on: no line wider than the terminal, each table row on one line,
numbers whole and rounded (no 24-digit decimals), units right, and a halt (the tick's, the
operator's) said where it cannot be missed, with the net delta that counts the options.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from bot.commands import ledger as ledger_cmd
from bot.commands import ops
from bot.commands.report import print_report
from bot.commands.run import print_tick
from bot.commands.status_view import print_status, status_data
from bot.domain import events as ev
from bot.domain.events import AssetRow, BookGreeks, Decision, GreeksRow, Halt, Tick
from bot.domain.lp import AssetExposure, ExposureBook
from bot.domain.orders import HedgeTarget, OrderIntent, Side
from bot.engine import TickResult
from bot.hedge.risk import Verdict
from bot.ledger.store import Ledger
from bot.report import build
from tests.report.ledger_data import SYMBOL, MemoryLedger, ms, options_ledger, small_ledger
from tests.report.ledger_data import with_events as insert

WIDTHS = (80, 120)
LONG = "rebalance -39.620 -> -47.968196438145143593000000: outside band -47.968196 +- 4.39"


def _print(fn: object, *args: object, width: int) -> list[str]:
    buf = io.StringIO()
    fn(*args, Console(file=buf, width=width, color_system=None))  # type: ignore[operator]
    return buf.getvalue().splitlines()


def _rows(lines: list[str]) -> int:
    """Table body lines: a row that wrapped would add more of them."""
    return sum(1 for line in lines if line.startswith("│"))


def _long_ledger() -> MemoryLedger:
    """small_ledger plus an acting decision whose reason carries a strategy's raw Decimals."""
    d = Decision("delta_band", {}, "ETH", SYMBOL, D("-39.620"), D("-47.9681964"), True, LONG, "p")
    return insert(small_ledger(), {2: [(ev.DECISION, d, "2024-01-01T00:00:02")]})


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("ledger", ["small", "options", "long"])
def test_report_fits_with_one_line_per_row(width: int, ledger: str) -> None:
    led = {"small": small_ledger, "options": options_ledger, "long": _long_ledger}[ledger]()
    rep = build(led)
    lines = _print(print_report, rep, width=width)
    assert max(len(line) for line in lines) <= width
    shown = ["total", "days", "orders", "fills", "halts"]
    if rep.attribution.options is not None:
        shown += ["options_summary", "options", "options_open"]
    acted = sum(1 for r in rep.table("decisions").rows if r[6] is True)
    greeks = 1 if rep.attribution.options is not None else 0
    assert _rows(lines) == sum(len(rep.table(n).rows) for n in shown) + acted + greeks
    text = "\n".join(lines)
    for whole in ("-106.66" if ledger != "options" else "-97.79", "1,998.00", "2,102.00"):
        assert whole in text  # net and fill prices: never cut


@pytest.mark.parametrize("width", WIDTHS)
def test_report_reasons_are_rounded_on_the_terminal_and_exact_in_json(width: int) -> None:
    rep = build(_long_ledger())
    text = "\n".join(_print(print_report, rep, width=width))
    assert "47.968196438145143593" not in text
    assert "-47.968" in text  # the target, at the amount step
    reasons = [d["reason"] for d in rep.to_json()["decisions"]]  # type: ignore[union-attr]
    assert LONG in reasons


def test_a_wide_terminal_shows_more_columns() -> None:
    rep = build(small_ledger())
    narrow = "\n".join(_print(print_report, rep, width=80))
    wide = "\n".join(_print(print_report, rep, width=120))
    assert "ETH/USDT:USDT" in wide and "lp_fees" in wide
    assert "lp_fees" not in narrow and "LP" in narrow  # LP parts merged into LP PnL


def _status_ledger(*, unavailable: bool = False, operator: bool = False) -> MemoryLedger:
    """A tick on block 7 (ETH LP 31.9, perp -20, options +2.5; BTC nothing), then halts."""
    led = MemoryLedger()
    if operator:
        led.add(ev.HALT, Halt("manual halt", "operator", True), "2024-01-02T07:00:00")
    hedge, price = (D(0), D(0)) if unavailable else (D(-20), D(2000))
    assets = (
        AssetRow("BTC", D(0), D(0), 0.0, D(0), D(0)),
        AssetRow("ETH", D("31.912345678901234567"), hedge, -0.1, D(90000), price),
    )
    tick = Tick(7, ms("2024-01-02T08:00:00"), (), assets, {}, {"ETH": assets[1].lp_delta})
    led.add(ev.TICK, tick, "2024-01-02T08:00:00")
    if not unavailable:
        row = GreeksRow(
            "ETH", D(2000), assets[1].lp_delta, -0.1, D(-20), 2.5, 0.0, 0.0, 0.0, D(9), "venue"
        )
        led.add(ev.BOOK_GREEKS, BookGreeks(7, (row,)), "2024-01-02T08:00:00")
    reason = (
        "venue unavailable: VenueUnavailable: paper venue: connection refused"
        if unavailable
        else "halted by operator: manual halt"
        if operator
        else "stale market data: snapshot is 95s old (max 60s)"
    )
    led.add(ev.HALT, Halt(reason, "guard"), "2024-01-02T08:00:01")
    return led


NOW = ms("2024-01-02T08:01:00")


def test_status_net_delta_counts_the_options() -> None:
    data = status_data(_status_ledger(), NOW)
    (eth,) = [a for a in data["assets"] if a["asset"] == "ETH"]
    assert D(eth["net_delta"]) == D("31.912345678901234567") - 20 + D("2.5")
    assert eth["options_delta"] == "2.5" and eth["hedge"] == "-20"
    assert D(eth["net_delta_usd"]) == D(eth["net_delta"]) * 2000
    old_fields = {"last_tick_age_s", "block", "assets", "halted", "flatten", "last_guard_halt"}
    assert old_fields | {"open_orders"} <= set(data)
    assert {"asset", "lp_delta", "hedge", "net_delta", "price_usd"} <= set(eth)


@pytest.mark.parametrize("width", WIDTHS)
def test_status_text_shows_the_guard_halt_and_only_held_assets(width: int) -> None:
    lines = _print(print_status, status_data(_status_ledger(), NOW), width=width)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    assert "last tick HALTED 59s ago (guard): stale market data" in " ".join(text.split())
    (row,) = [line for line in lines if line.startswith("│")]
    assert "BTC" not in text
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells[:5] == ["ETH", "31.912", "-20.000", "2.500", "14.412"]  # LP, perps, options, net
    assert "LP + perps + options" in text


def test_status_says_the_hedges_were_not_read() -> None:
    data = status_data(_status_ledger(unavailable=True), NOW)
    assert data["hedges_read"] is False
    assert data["tick_halt"]["reason"].startswith("venue unavailable")
    (eth,) = [a for a in data["assets"] if a["asset"] == "ETH"]
    assert eth["net_delta"] is None  # not LP delta alone, as if the perps were flat
    text = "\n".join(_print(print_status, data, width=80))
    assert "hedges not read at the last tick: net delta unknown" in text
    (row,) = [line for line in text.splitlines() if line.startswith("│")]
    assert "31.912" in row and "0.000" not in row and "?" in row


def test_status_names_an_operator_halt_once() -> None:
    data = status_data(_status_ledger(operator=True), NOW)
    assert data["sticky_halt"]["source"] == "operator" and data["flatten"] is True
    text = " ".join("\n".join(_print(print_status, data, width=80)).split())
    assert "HALTED by the operator 1h 01m ago (flattening hedges): manual halt" in text
    assert text.count("HALTED") == 1  # the guard halt each tick repeats it


def _sqlite(tmp_path: Path, led: MemoryLedger) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url) as ledger:
        for e in led.rows:
            ledger.append(e.kind, e.payload, ts_ms=e.ts_ms, run_id=e.run_id)
    return url


def _app(*modules: object) -> typer.Typer:
    app = typer.Typer()
    for m in modules:
        m.register(app)  # type: ignore[attr-defined]

    @app.callback()
    def _root() -> None:
        """A local app: the real one lives in bot/cli.py."""

    return app


@pytest.mark.parametrize("width", WIDTHS)
def test_status_cli_on_a_real_ledger(tmp_path: Path, width: int) -> None:
    url = _sqlite(tmp_path, _status_ledger())
    result = CliRunner().invoke(_app(ops), ["status", "--db", url], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= width
    assert "HALTED" in result.stdout and "stale market data" in result.stdout
    as_json = CliRunner().invoke(_app(ops), ["status", "--db", url, "--json"])
    assert json.loads(as_json.stdout)["tick_halt"]["source"] == "guard"


@pytest.mark.parametrize("width", WIDTHS)
def test_ledger_tail_on_a_terminal_is_one_line_per_event(tmp_path: Path, width: int) -> None:
    url = _sqlite(tmp_path, _long_ledger())
    env = {"COLUMNS": str(width), "TTY_COMPATIBLE": "1", "NO_COLOR": "1"}
    args = ["ledger", "tail", "--db", url, "-n", "5"]
    result = CliRunner().invoke(_app(ledger_cmd), args, env=env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 5 and max(len(line) for line in lines) <= width
    last = str(len(_long_ledger().rows))
    assert lines[-1].split()[:4] == [last, "2024-01-02", "08:00:00", "tick"]
    piped = CliRunner().invoke(_app(ledger_cmd), args, env={"COLUMNS": str(width)})
    assert max(len(line) for line in piped.stdout.splitlines()) > width  # exact, uncut


def _tick() -> TickResult:
    lp = D("88.705909361006711233")
    book = ExposureBook(
        263,
        0,
        {
            "BTC": AssetExposure("BTC", D(0), 0.0, D(0), 0),
            "ETH": AssetExposure("ETH", lp, -0.145, D("347583.85"), 1),
        },
    )
    reason = f"rebalance -81.828 -> {-lp}000000: outside band {-lp} +- 4.43529"
    targets = (
        HedgeTarget("BTC", "BTC/USDT:USDT", D(0), "hold: hedge 0 within band 0 +- 0.5", False),
        HedgeTarget("ETH", SYMBOL, -lp, reason),
    )
    cid = "4f1c2a9be03d4c5f8e6a7b1c2d3e4f50"
    intent = OrderIntent(
        "p1", 0, "paper", SYMBOL, Side.SELL, D("6.877"), D("6.877"), False, cid, reason, D(3517)
    )
    return TickResult(
        263, book, targets, (intent,), Verdict((intent,)), (), hedges={"ETH": D("-81.828")}
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_plan_prints_held_assets_with_rounded_reasons(width: int) -> None:
    lines = _print(print_tick, _tick(), width=width)
    text = "\n".join(lines)
    assert max(len(line) for line in lines) <= width
    assert _rows(lines) == 2  # ETH's decision and its order; BTC holds nothing
    assert "BTC" not in text and "88.705909361006711233" not in text
    for number in ("88.706", "-81.828", "-88.706", "6.877"):
        assert number in text
    # in the table, or (cut there) whole below it
    assert "rebalance -81.828 -> -88.7059: outside band -88.7059 +- 4.43529" in text
