"""Options in the report: attribution, the options section, and ledgers without options.

`options_ledger()` is `small_ledger()` (hand-computed in test_attribution.py) plus options:
Interval 1 (2024-01-01 00:00 -> 12:00, closes on day 1), option cash cut at tick 1's greeks:
  buy 2 CALL @ 0.05 ETH at tick 1's ETH 2000: -200, fee 0.0006 ETH = 1.2
  buy 1 PUT @ 30 USDT: -30, fee 0.3                    -> premium -230, fees 1.5
  value 0 -> 262 (tick 2's BOOK_GREEKS): mtm 262        -> options PnL 30.5
  theta 0 -> -24 USD/day over 0.5 day: paid (0 + 24) / 2 * 0.5 = 6
Interval 2 (-> 2024-01-02 08:00, day 2):
  sell 1 CALL @ 0.04 ETH at tick 2's ETH 2100: +84, fee 0.0003 ETH = 0.63
  PUT settles at 1900: payout 100 USDT
  value 262 -> 57: mtm -205                             -> options PnL 84 + 100 - 205 - 0.63
  theta -24 -> -12 over 20 h: paid (24 + 12) / 2 * 20/24 = 15                  = -21.63
Total: options PnL 8.87, net -106.66 + 8.87 = -97.79.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal as D
from decimal import localcontext
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from typer.testing import CliRunner

from bot.commands.report import print_report, register
from bot.domain import events as ev
from bot.domain.events import OptionSettlement
from bot.domain.orders import Side
from bot.ledger.store import Ledger
from bot.report import Report, build
from bot.report.attribution import Components, attribute
from bot.report.load import load
from tests.report.ledger_data import (
    CALL,
    PUT,
    SYMBOL,
    MemoryLedger,
    book_greeks,
    ms,
    option_fill,
    option_intent,
    options_ledger,
    small_ledger,
    tick,
    with_events,
)
from tests.report.test_attribution import DAY1, DAY2

GOLDEN = Path(__file__).parent / "golden" / "no_options"
OPTION_FIELDS = ("options_premium", "options_fees", "options_settlement", "options_mtm")


def _opt(premium: str, fees: str, settlement: str, mtm: str, theta: str) -> dict[str, D]:
    return {
        "options_premium": D(premium),
        "options_fees": D(fees),
        "options_settlement": D(settlement),
        "options_mtm": D(mtm),
        "options_theta_paid": D(theta),
    }


OPT1 = _opt("-230", "1.5", "0", "262", "6")
OPT2 = _opt("84", "0.63", "100", "-205", "15")


def _options_of(c: Components) -> dict[str, D]:
    return {k: getattr(c, k) for k in (*OPTION_FIELDS, "options_theta_paid")}


PERP_AND_LP = (
    "lp_fees",
    "lp_il",
    "lp_hold",
    "hedge_realised",
    "hedge_unrealised",
    "funding",
    "trading_fees",
    "slippage",
)


def _perp_and_lp(c: Components) -> dict[str, D]:
    return {k: getattr(c, k) for k in PERP_AND_LP}


def test_options_component_per_day_and_total() -> None:
    a = attribute(load(options_ledger()))
    assert [_options_of(d.pnl) for d in a.days] == [OPT1, OPT2]
    assert [d.pnl.options_pnl for d in a.days] == [D("30.5"), D("-21.63")]
    assert [d.pnl.net for d in a.days] == [D("27.1"), D("-124.89")]
    assert a.total.options_pnl == D("8.87") and a.total.net == D("-97.79")
    assert a.total.options_theta_paid == D(21)
    for comps in (*(d.pnl for d in a.days), a.total, *(p.cumulative for p in a.series)):
        assert comps.component_sum == comps.net


def test_option_fills_are_not_perp_hedge_pnl() -> None:
    """LP, hedge, funding, perp fees and slippage are what they are without the options."""
    a = attribute(load(options_ledger()))
    assert [_perp_and_lp(d.pnl) for d in a.days] == [_perp_and_lp(DAY1), _perp_and_lp(DAY2)]
    assert [f.symbol for f in a.fills] == [SYMBOL, SYMBOL]  # option fills are not hedge fills
    assert (a.total.trading_fees, a.total.slippage) == (D("0.71"), D(3))
    assert a.total.hedge_pnl == D("-3.5")
    assert not any("no mark" in w for w in a.warnings)  # nothing marked at the ETH price


def test_inverse_premium_converts_at_the_tick_the_trade_came_from() -> None:
    flows = attribute(load(options_ledger())).options.flows  # type: ignore[union-attr]
    trades = [(f.symbol, f.side, f.currency, f.premium, f.usd_rate, f.cash_usd) for f in flows]
    assert trades[0] == (CALL, "buy", "ETH", D("0.1"), D(2000), D(-200))  # tick 1, not 2100
    assert trades[1] == (PUT, "buy", "USDT", D(30), D(1), D(-30))
    assert trades[2] == (CALL, "sell", "ETH", D("0.04"), D(2100), D(84))  # tick 2, not 1900
    assert [f.fee_usd for f in flows[:3]] == [D("1.2"), D("0.3"), D("0.63")]
    settle = flows[3]
    assert (settle.kind, settle.symbol, settle.contracts, settle.cash_usd) == (
        "settlement",
        PUT,
        D(1),
        D(100),
    )


def test_options_summary_adds_up() -> None:
    o = attribute(load(options_ledger())).options
    assert o is not None
    assert (o.premiums_paid_usd, o.premiums_received_usd, o.fees_usd) == (D(230), D(84), D("2.13"))
    assert (o.settlements_usd, o.value_start_usd, o.value_end_usd) == (D(100), D(0), D(57))
    assert (o.pnl_usd, o.theta_paid_usd) == (D("8.87"), D(21))
    assert o.open_contracts == ((CALL, D(1)),)


def _write(db_url: str, led: MemoryLedger) -> None:
    with Ledger.open(db_url) as ledger:
        for e in led.rows:
            ledger.append(e.kind, e.payload, ts_ms=e.ts_ms, run_id=e.run_id)


def test_sql_ledgers_give_the_same_exact_attribution(db_url: str) -> None:
    """SQLite and PostgreSQL: the greeks' floats and the Decimals survive the round trip."""
    _write(db_url, options_ledger())
    with Ledger.open(db_url, create=False) as ledger:
        rep = build(ledger)
        since = build(ledger, since_ms=ms("2024-01-02T00:00:00"))
    a = rep.attribution
    assert a == attribute(load(options_ledger()))
    assert a.total.component_sum == a.total.net == D("-97.79")
    assert all(d.pnl.component_sum == d.pnl.net for d in a.days)
    assert a.options is not None and a.options.greeks[1].row.options_theta == -24.0
    assert _options_of(since.attribution.total) == OPT2  # value at the window start: 262
    assert since.attribution.options is not None
    assert since.attribution.options.value_start_usd == D(262)


HOUR = 3_600_000
T0 = ms("2024-03-01T00:00:00")


def _ticks_with_greeks(thetas: list[tuple[int, float]]) -> MemoryLedger:
    """LP-only ticks at the given hours, each with BOOK_GREEKS of that theta (1 CALL held)."""
    led = MemoryLedger()
    for i, (hour, theta) in enumerate(thetas):
        ts = T0 + hour * HOUR
        led.add(ev.TICK, tick(i, "2000", "1", "2000", "0", "0", "0", "2000"), ts)
        led.add(ev.BOOK_GREEKS, book_greeks(i, "2000", "100", theta, "venue"), ts + 1)
    return led


def test_theta_paid_is_the_trapezoid_integral_between_ticks() -> None:
    """Ticks at 0 h, 6 h, 30 h with theta -10, -30, -20 USD/day:
    (10 + 30) / 2 * 0.25 day = 5, then (30 + 20) / 2 * 1 day = 25."""
    a = attribute(load(_ticks_with_greeks([(0, -10.0), (6, -30.0), (30, -20.0)])))
    assert [d.pnl.options_theta_paid for d in a.days] == [D(5), D(25)]
    assert a.options is not None and a.options.theta_paid_usd == D(30)
    assert a.total.options_mtm == 0  # a memo: the value did not move, nothing is added


def test_a_trade_before_its_ticks_greeks_counts_with_the_value_it_bought() -> None:
    """Greeks written after the tick's own trades: premium and value land in one interval."""
    t1, t2 = "2024-03-01T00:00:00", "2024-03-01T06:00:00"
    led = MemoryLedger()
    led.add(ev.TICK, tick(1, "2000", "1", "2000", "0", "0", "0", "2000"), t1)
    led.add(ev.ORDER_INTENT, option_intent("o1", CALL, Side.BUY, "1", "0.06"), t1)
    led.add(ev.FILL, option_fill("o1", CALL, Side.BUY, "1", "0.05", "0", t1), t1)
    led.add(ev.BOOK_GREEKS, book_greeks(1, "2000", "100", -5.0, "venue"), t1)
    led.add(ev.TICK, tick(2, "2000", "1", "2000", "0", "0", "0", "2000"), t2)
    led.add(ev.BOOK_GREEKS, book_greeks(2, "2000", "90", -5.0, "venue"), t2)
    a = attribute(load(led))
    # the premium is before tick 1's cut: in the baseline, like the value 100 it bought
    assert (a.total.options_premium, a.total.options_mtm) == (D(0), D(-10))
    assert a.total.component_sum == a.total.net == D(-10)


def test_ticks_without_greeks_carry_the_value_and_say_so() -> None:
    led = _ticks_with_greeks([(0, -1.0)])
    led.add(ev.ORDER_INTENT, option_intent("o1", CALL, Side.BUY, "1", "0.06"), T0 + 2)
    led.add(ev.FILL, option_fill("o1", CALL, Side.BUY, "1", "0.05", "0", "2024-03-01"), T0 + 3)
    led.add(ev.TICK, tick(1, "2000", "1", "2000", "0", "0", "0", "2000"), T0 + HOUR)
    a = attribute(load(led))
    assert a.total.options_premium == D(-100) and a.total.options_mtm == 0
    assert any("without BOOK_GREEKS" in w for w in a.warnings)


def test_greeks_that_match_no_tick_are_left_out_with_a_warning() -> None:
    led = options_ledger()
    led.add(ev.BOOK_GREEKS, book_greeks(99, "1900", "1000", -1.0, "venue"), "2024-01-02T09:00")
    a = attribute(load(led))
    assert a.total.net == D("-97.79")
    assert "book greeks of block 99 match no tick; left out" in a.warnings


premiums = st.decimals(min_value=D("0.0001"), max_value=D(1), places=6)
values = st.decimals(min_value=D(-500), max_value=D(5000), places=12)
steps = st.lists(
    st.tuples(premiums, values, st.sampled_from(["buy", "sell", "settle", "none"]), st.booleans()),
    min_size=2,
    max_size=8,
)


def _random_options(path: list[tuple[D, D, str, bool]]) -> MemoryLedger:
    inserts: dict[int, list[tuple[str, object, str | int]]] = {}
    base = small_ledger()
    ticks = [e for e in base.rows if e.kind == ev.TICK]
    for i, (premium, value, action, greeks_first) in enumerate(path):
        t = ticks[i % len(ticks)]
        block = int(t.payload["block"])  # type: ignore[call-overload]
        events: list[tuple[str, object, str | int]] = []
        if action in ("buy", "sell"):
            side = Side.BUY if action == "buy" else Side.SELL
            cid = f"r{i}"
            f = option_fill(cid, CALL, side, "3", str(premium), "0.0007", "2024-01-01")
            events += [(ev.ORDER_INTENT, option_intent(cid, CALL, side, "3", "1"), t.ts_ms)]
            events += [(ev.FILL, f, t.ts_ms)]
        elif action == "settle":
            payout = premium * 7
            settle = OptionSettlement(
                "paper",
                CALL,
                "ETH",
                D(1),
                D(1),
                D(2200),
                "call",
                t.ts_ms,
                D(2201),
                payout,
                "ETH",
                payout * 2201,
            )
            events += [(ev.OPTION_SETTLEMENT, settle, t.ts_ms)]
        greeks = (ev.BOOK_GREEKS, book_greeks(block, "2000", str(value), -3.3, "venue"), t.ts_ms)
        inserts.setdefault(t.seq, []).extend([greeks, *events] if greeks_first else events)
        if not greeks_first:
            inserts[t.seq].append(greeks)
    return with_events(base, inserts)


@settings(max_examples=40, deadline=None)
@given(steps)
def test_components_sum_to_net_exactly_with_options(path: list[tuple[D, D, str, bool]]) -> None:
    a = attribute(load(_random_options(path)))
    for day in a.days:
        assert day.pnl.component_sum == day.pnl.net
    assert a.total.component_sum == a.total.net
    with localcontext() as ctx:
        ctx.prec = 200
        assert sum((d.pnl.net for d in a.days), D(0)) == a.total.net
        no_options = attribute(load(small_ledger())).total
        assert a.total.net - a.total.options_pnl == no_options.net


def _outputs(rep: Report, out: Path) -> dict[str, str]:
    buf = io.StringIO()
    print_report(rep, Console(file=buf, width=220, color_system=None))
    texts = {
        "json": json.dumps(rep.to_json(), indent=1, sort_keys=False),
        "html": rep.to_html(),
        "txt": buf.getvalue(),
    }
    for path in rep.write_csv(out):
        texts[f"csv/{path.name}"] = path.read_text()
    return texts


@pytest.mark.parametrize("window", ["all", "since"])
def test_a_ledger_without_options_gives_the_report_it_gave_before(
    window: str, tmp_path: Path
) -> None:
    """Terminal, JSON, CSV and HTML byte for byte as before options existed (golden files
    written by the report of commit 2231cf0; the terminal ones rewritten when its tables
    were laid out for the console's width)."""
    since = ms("2024-01-02T00:00:00") if window == "since" else None
    rep = build(small_ledger(), since_ms=since)
    assert rep.attribution.options is None
    got = _outputs(rep, tmp_path)
    for key, text in got.items():
        name = (
            key.replace("csv/", f"{window}_csv/") if key.startswith("csv/") else f"{window}.{key}"
        )
        assert text == (GOLDEN / name).read_text(), name
    assert len([k for k in got if k.startswith("csv/")]) == 7


def test_greeks_without_options_leave_the_report_as_it_was() -> None:
    """BOOK_GREEKS of a perp-only book (no option figures) do not open an options section."""
    led = with_events(
        small_ledger(), {1: [(ev.BOOK_GREEKS, book_greeks(1, "2000", "0", 0.0, "venue"), 1)]}
    )
    assert build(led).to_html() == build(small_ledger()).to_html()


@pytest.fixture
def options_db(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    _write(url, options_ledger())
    yield url


def _cli(*args: str) -> typer.testing.Result:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """A local app: the real one lives in bot/cli.py."""

    return CliRunner().invoke(app, ["report", *args], env={"COLUMNS": "200"})


def test_cli_text_shows_the_options_section(options_db: str) -> None:
    result = _cli("--db", options_db)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in (
        "Option premiums (received +, paid -)",
        "= Options PnL",
        "8.87",
        "-97.79",
        "Options (USD)",
        "Premiums paid",
        "230.00",
        "Option value now (MTM)",
        "57.00",
        "Theta paid",
        "21.00",
        "Option trades and settlements",
        "settlement",
        CALL,
        "Options held at the end",
        "Greeks of the book at the last tick",
        "black76 at 1 tick, venue at 1 tick",
    ):
        assert text in out, text


def test_json_and_csv_carry_options_exactly(options_db: str, tmp_path: Path) -> None:
    result = _cli("--db", options_db, "--json", "--csv", str(tmp_path / "csv"))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    t = out["total"]
    assert (t["options_pnl"], t["options_premium"], t["options_theta_paid"]) == (
        "8.87",
        "-146",
        "21",
    )
    parts = D(t["lp_pnl"]) + D(t["hedge_pnl"]) + D(t["funding"]) - D(t["trading_fees"])
    assert parts + D(t["options_pnl"]) == D(t["net"]) == D("-97.79")
    assert [o["usd"] for o in out["options"]] == ["-200", "-30", "84", "100"]
    assert [g["source"] for g in out["book_greeks"]] == ["none", "black76", "venue"]
    assert out["book_greeks"][1]["net_gamma"] == "0.001"
    assert {r["key"]: r["usd"] for r in out["options_summary"]}["value_end_usd"] == "57"
    names = {p.name for p in (tmp_path / "csv").iterdir()}
    assert {"options.csv", "options_summary.csv", "book_greeks.csv", "options_open.csv"} <= names
    with (tmp_path / "csv" / "days.csv").open() as fh:
        days = list(csv.DictReader(fh))
    assert [(d["options_pnl"], d["net"]) for d in days] == [("30.5", "27.1"), ("-21.63", "-124.89")]


def test_html_has_the_options_section_and_greeks_charts() -> None:
    page = build(options_ledger()).to_html()
    assert page.count("<svg") == 8 + 3  # + net delta, gamma, vega/theta for ETH
    assert "id='options'" in page and 'id="options-pnl_usd"' in page
    assert 'id="total-options_pnl"><span class="pos">8.87<' in page
    assert "ETH: black76 at 1 tick, venue at 1 tick" in page
    for title in (
        "ETH: net delta of the book, LP + perp + options",
        "ETH: gamma, LP vs options",
        "ETH: options vega (USD per vol point) and theta (USD per day)",
        "Option trades and settlements",
        "Greeks of the whole book per asset, per tick",
    ):
        assert title in page, title
