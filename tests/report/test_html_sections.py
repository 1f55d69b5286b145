"""The HTML report's capital and return, LP ranges, round time axes and collapsed decisions,
on ledgers small enough to compute by hand."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal as D

import pytest

from bot.domain import events as ev
from bot.domain.account import AccountState
from bot.domain.events import Decision, Halt, Tick
from bot.domain.orders import Side
from bot.report import build
from bot.report.activity import ActingTick, QuietRun, activity
from bot.report.attribution import attribute
from bot.report.html_activity import short_reason
from bot.report.load import load
from bot.report.performance import ACCOUNT_SOURCE, PEAK_SOURCE, performance
from bot.report.ranges import position_ranges, range_spans
from bot.report.timeaxis import DAY_MS, HOUR_MS, time_ticks
from tests.report.ledger_data import (
    SYMBOL,
    MemoryLedger,
    ms,
    option_intent,
    small_ledger,
    tick,
    with_events,
)

T0 = ms("2024-03-11T00:00:00")


def test_capital_return_apr_and_drawdown_by_hand() -> None:
    """small_ledger: LP 1 ETH + 2000 USD at 2000 = 4000; no ACCOUNT_STATE, so the margin is
    the peak hedge notional, 1 ETH x 2100 at the second tick; 32 hours; net -106.66."""
    data = load(small_ledger())
    p = performance(data, attribute(data))
    assert p is not None
    assert (p.capital.lp_usd, p.capital.margin_usd) == (D(4000), D(2100))
    assert p.capital.margin_source == PEAK_SOURCE
    assert p.days == D(32) / 24
    h, lp = p.hedged, p.unhedged
    assert (h.capital_usd, h.pnl_usd) == (D(6100), D("-106.66"))
    assert h.return_pct == D("-1.748525")  # -106.66 / 6100, in %
    assert h.apr_pct == D("-478.658607")  # x 365 / (32 / 24) days
    # equity 6100 -> 6096.60 -> 5993.34: the drawdown is the whole loss, from the start
    assert h.max_drawdown_usd == D("-106.66")
    assert h.max_drawdown_pct == D("-1.748525")
    assert (lp.capital_usd, lp.pnl_usd, lp.return_pct) == (D(4000), D("-101.2"), D("-2.53"))
    assert [e.drawdown_usd for e in p.curve] == [0, D("-3.4"), D("-106.66")]


def test_capital_takes_the_recorded_account_balance_at_the_start_price() -> None:
    balances = {"USDT": D(10000), "ETH": D(1), "BTC": D(1)}
    state = AccountState("paper", "one_way", balances, {}, (), 0)
    led = with_events(small_ledger(), {0: [(ev.ACCOUNT_STATE, state, "2024-01-01T00:00:00")]})
    data = load(led)
    p = performance(data, attribute(data))
    assert p is not None
    assert p.capital.margin_usd == D(12000)  # 10000 USDT + 1 ETH at 2000
    assert p.capital.margin_source == ACCOUNT_SOURCE + "; no USD price for BTC: left out"
    assert p.capital.total_usd == D(16000)


def test_a_later_window_starts_its_capital_at_the_tick_before_it() -> None:
    data = load(small_ledger(), since_ms=ms("2024-01-02T00:00:00"))
    p = performance(data, attribute(data))
    assert p is not None
    assert p.capital.lp_usd == D("0.9") * 2100 + 2205  # the second tick's LP value
    assert p.capital.margin_usd == D("0.5") * 1900  # peak notional inside the window
    assert p.hedged.pnl_usd == D("-103.26")


def ranged_ledger(path: list[tuple[str, bool]], bounds: tuple[str, str] | None) -> MemoryLedger:
    """Hourly ticks of one position along `path` (price, in range), with its range or not."""
    led = MemoryLedger()
    for i, (price, inside) in enumerate(path):
        t = tick(i + 1, price, "1", "2000", "0", "0", "0", price)
        row = replace(
            t.positions[0],
            in_range=inside,
            price_lower=None if bounds is None else D(bounds[0]),
            price_upper=None if bounds is None else D(bounds[1]),
        )
        led.add(ev.TICK, replace(t, positions=(row,)), T0 + i * HOUR_MS)
    return led


PATH = [("2000", True), ("2100", True), ("2300", False), ("2350", False), ("2150", True)]


def test_range_spans_follow_the_in_and_out_of_range_ticks() -> None:
    spans = range_spans(load(ranged_ledger(PATH, ("1800", "2200"))))
    assert [
        (s.in_range, (s.start_ms - T0) // HOUR_MS, (s.end_ms - T0) // HOUR_MS) for s in spans
    ] == [
        (True, 0, 2),
        (False, 2, 4),
        (True, 4, 4),
    ]
    assert {(s.lower_usd, s.upper_usd) for s in spans} == {(D(1800), D(2200))}
    (r,) = position_ranges(load(ranged_ledger(PATH, ("1800", "2200"))))
    assert (r.ticks, r.ticks_out, r.share_in) == (5, 2, D("0.5"))  # 2 h in, 2 h out


def test_html_draws_the_range_band_in_and_out_of_range() -> None:
    page = build(ranged_ledger(PATH, ("1800", "2200"))).to_html()
    bands = re.findall(
        r'<rect class="range-band (in|out)"[^>]*data-lower="([^"]*)" '
        r'data-upper="([^"]*)"',
        page,
    )
    assert [b[0] for b in bands] == ["in", "out", "in"]
    assert {b[1:] for b in bands} == {("1800.00", "2200.00")}
    assert "LP range, price out of range" in page  # its legend
    assert re.search(r'<tr data-position="4242" data-lower="1800.00" data-upper="2200.00">', page)
    assert ">50.0 %</td>" in page  # time in range


def test_a_ledger_without_ranges_shades_only_the_time_out_of_range() -> None:
    page = build(ranged_ledger(PATH, None)).to_html()
    assert 'class="range-band' not in page
    assert page.count('<rect class="out-shade"') == 1
    assert ">not recorded</td>" in page


def test_a_tick_written_before_ranges_were_recorded_still_reads() -> None:
    payload = ev.to_payload(tick(1, "2000", "1", "2000", "0", "0", "0", "2000"))
    for row in payload["positions"]:
        del row["price_lower"], row["price_upper"]
    row = ev.from_payload(Tick, payload).positions[0]
    assert (row.price_lower, row.price_upper) == (None, None)


def _decision(act: bool, reason: str, symbol: str = SYMBOL) -> Decision:
    return Decision("delta_band", {}, "ETH", symbol, D(0), D(-1), act, reason, "p")


def test_decisions_collapse_to_the_ticks_that_acted() -> None:
    """small_ledger (3 ticks: orders at the first two, a halt in the second) plus 4 quiet
    hourly ticks after it."""
    led = small_ledger()
    for i in range(4):
        ts = ms("2024-01-02T09:00:00") + i * HOUR_MS
        led.add(ev.TICK, tick(4 + i, "1900", "1.1", "1800", "0", "0", "-0.5", "1900"), ts)
        led.add(ev.DECISION, _decision(False, "hold: within band"), ts + 1)
    entries = activity(load(led))
    assert [type(e) for e in entries] == [ActingTick, ActingTick, QuietRun]
    first, second, quiet = entries
    assert isinstance(first, ActingTick) and isinstance(second, ActingTick)
    assert isinstance(quiet, QuietRun)
    assert (first.orders, len(first.lines), first.halts) == (1, 1, ())
    assert second.orders == 1 and second.halts == (Halt("price divergence 200 bps", "risk"),)
    assert quiet.ticks == 5  # the third tick and the four quiet ones
    page = build(led).to_html()
    assert "2 of 7 ticks placed orders or halted" in page
    assert '<tr class="quiet" data-ticks="5">' in page and "5 ticks without action" in page
    assert "hold: within band" not in page.split('id="table-decisions"')[1].split("</table>")[0]
    assert '<tr class="halt">' in page


def test_option_legs_with_one_reason_are_one_line() -> None:
    led = small_ledger()
    legs = [f"ETH/USD:ETH-240126-{k}-C" for k in (2200, 2300, 2400)]
    for symbol in legs:
        led.add(ev.DECISION, _decision(True, "strip of 3 legs", symbol), "2024-01-02T08:00:01")
    *_, quiet = activity(load(led))
    assert isinstance(quiet, QuietRun)  # decided, but no order placed: not an acting tick
    for i, symbol in enumerate(legs):
        led.add(
            ev.ORDER_INTENT,
            option_intent(f"o{i}", symbol, Side.BUY, "1", "0.1"),
            ms("2024-01-02T08:00:02"),
        )
    *_, last = activity(load(led))
    assert isinstance(last, ActingTick)
    (line,) = last.lines
    assert (line.legs, line.orders, line.symbol, line.reason) == (3, 3, legs[0], "strip of 3 legs")
    assert "3 option legs (ETH/USD:ETH-240126-2200-C …)" in build(led).to_html()


def test_reasons_read_with_their_long_decimals_rounded() -> None:
    assert short_reason("rebalance 0 -> -45.913561086943301769000000: band 4.59136") == (
        "rebalance 0 -> -45.913561: band 4.59136"
    )


@pytest.mark.parametrize(
    ("span_ms", "labels", "dates"),
    [
        (10 * DAY_MS - HOUR_MS, [f"Mar {d:02d}" for d in range(11, 21)], ["2024"] + [""] * 9),
        (6 * HOUR_MS, [f"{h:02d}:00" for h in range(7)], ["Mar 11"] + [""] * 6),
        (
            30 * HOUR_MS,
            [
                "00:00",
                "03:00",
                "06:00",
                "09:00",
                "12:00",
                "15:00",
                "18:00",
                "21:00",
                "00:00",
                "03:00",
                "06:00",
            ],
            ["Mar 11", "", "", "", "", "", "", "", "Mar 12", "", ""],
        ),
    ],
)
def test_time_ticks_are_round_utc_times(span_ms: int, labels: list[str], dates: list[str]) -> None:
    ticks = time_ticks(T0, T0 + span_ms)
    assert [t.label for t in ticks] == labels
    assert [t.date for t in ticks] == dates
    assert all(t.ts_ms % HOUR_MS == 0 for t in ticks)


def test_time_ticks_start_at_the_first_round_time_inside_the_window() -> None:
    ticks = time_ticks(T0 + 23 * 60_000, T0 + 3 * HOUR_MS + 5 * 60_000)
    assert [t.label for t in ticks][:3] == ["00:30", "00:45", "01:00"]
    assert len(time_ticks(T0, T0 + 730 * DAY_MS)) <= 12
    months = time_ticks(T0, T0 + 730 * DAY_MS)
    assert [t.label for t in months][:3] == ["May", "Jul", "Sep"]  # 2-month steps
    assert [t.date for t in months][:1] == ["2024"]
