"""Attribution on a hand-computed ledger: every component, and the exact identity.

Interval 1 (2024-01-01 00:00 -> 12:00), ETH 2000 -> 2100, mark 2000 -> 2100:
  LP base 1 -> 0.9 (+0.001 fees), quote 2000 -> 2205 (+2 fees):
    fees 0.001*2100 + 2 = 4.1; IL (0.9-1)*2100 + 205 = -5; hold 1*100 = 100
  hedge: sold 1 ETH at 1998 (decision 2000): unrealised -1*2100 + 1998 = -102; slippage 2
  fee 0.5 USDT -> net 99.1 - 102 - 0.5 = -3.4
Interval 2 (-> 2024-01-02 08:00), ETH 2100 -> 1900, mark 2100 -> 1901:
  LP base 0.9 -> 1.1 (fees 0.001 -> 0.002), quote 2205 -> 1800 (fees 2 -> 5):
    fees 0.001*1900 + 3 = 4.9; IL 0.2*1900 - 405 = -25; hold 0.901*(-200) = -180.2
  hedge: bought 0.5 at 2102: realised 0.5*(1998-2102) = -52; unrealised -0.5*1901 + 999
    = 48.5, change 150.5; slippage (2102-2100)*0.5 = 1
  funding -1.25 USDT; fee 0.0001 ETH at 2100 = 0.21 -> net -200.3 + 98.5 - 1.25 - 0.21 = -103.26
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from bot.domain import events as ev
from bot.domain.orders import Side
from bot.errors import InputError
from bot.report.attribution import Components, attribute
from bot.report.hedge_book import Leg, apply_fill, unrealised
from bot.report.load import load
from tests.report.ledger_data import MemoryLedger, fill, intent, ms, small_ledger, tick

DAY1 = Components(
    lp_fees=D("4.1"),
    lp_il=D("-5"),
    lp_hold=D("100"),
    hedge_realised=D(0),
    hedge_unrealised=D("-102"),
    funding=D(0),
    trading_fees=D("0.5"),
    slippage=D("2"),
    net=D("-3.4"),
)
DAY2 = Components(
    lp_fees=D("4.9"),
    lp_il=D("-25"),
    lp_hold=D("-180.2"),
    hedge_realised=D("-52"),
    hedge_unrealised=D("150.5"),
    funding=D("-1.25"),
    trading_fees=D("0.21"),
    slippage=D("1"),
    net=D("-103.26"),
)


def test_every_component_per_day_and_total() -> None:
    result = attribute(load(small_ledger()))
    assert [d.day for d in result.days] == [date(2024, 1, 1), date(2024, 1, 2)]
    assert result.days[0].pnl == DAY1
    assert result.days[1].pnl == DAY2
    assert result.total == DAY1 + DAY2
    assert result.total.net == D("-106.66")
    assert result.total.lp_pnl == D("-101.2")
    assert result.total.hedge_pnl == D("-3.5")
    assert (result.days[1].fills, result.days[1].funding_payments) == (1, 1)


def test_components_sum_exactly_to_net() -> None:
    result = attribute(load(small_ledger()))
    for comps in (*(d.pnl for d in result.days), result.total):
        assert comps.component_sum == comps.net
    assert all(p.cumulative.component_sum == p.cumulative.net for p in result.series)
    assert result.series[-1].cumulative == result.total


def test_hedge_ratio_and_net_delta_over_time() -> None:
    deltas = attribute(load(small_ledger())).deltas
    assert [(p.lp_delta, p.hedge, p.net_delta) for p in deltas] == [
        (D(1), D(0), D(1)),
        (D("0.901"), D(-1), D("-0.099")),
        (D("1.102"), D("-0.5"), D("0.602")),
    ]
    assert deltas[1].hedge_ratio == D("1.109877913430")  # 1 / 0.901 to 12 places


def test_fills_in_base_units_with_usd_fees_and_slippage() -> None:
    fills = attribute(load(small_ledger())).fills
    assert [(f.qty_base, f.price, f.fee_usd, f.slippage_usd) for f in fills] == [
        (D("-1.0"), D(1998), D("0.5"), D("2.0")),
        (D("0.5"), D(2102), D("0.21"), D("1.0")),
    ]
    assert {f.asset for f in fills} == {"ETH"}


def test_since_keeps_the_history_before_the_window() -> None:
    result = attribute(load(small_ledger(), since_ms=ms("2024-01-02T00:00:00")))
    assert [d.day for d in result.days] == [date(2024, 1, 2)]
    assert result.total == DAY2  # the 1998 short entry comes from before the window
    assert len(result.fills) == 1 and len(result.deltas) == 1


def test_until_is_exclusive_and_cuts_later_events() -> None:
    result = attribute(load(small_ledger(), until_ms=ms("2024-01-02T08:00:00")))
    assert result.total.net == D("-3.4")
    assert any("not attributed yet" in w for w in result.warnings)


def test_since_after_until_is_an_input_error() -> None:
    with pytest.raises(InputError, match="swap"):
        load(MemoryLedger(), since_ms=2, until_ms=1)


def test_empty_ledger_gives_zero_totals() -> None:
    result = attribute(load(MemoryLedger()))
    assert result.total == Components() and result.days == () and result.warnings == ()


@pytest.mark.parametrize(
    ("fills", "mark", "realised", "open_pnl"),
    [
        ([("1", "100"), ("1", "110")], "120", "0", "30"),
        ([("2", "100"), ("-3", "130")], "120", "60", "10"),  # long flips short
        ([("-3", "100"), ("1", "90"), ("2", "95")], "80", "20", "0"),
    ],
)
def test_hedge_book_realised_plus_open_is_mark_to_market(
    fills: list[tuple[str, str]], mark: str, realised: str, open_pnl: str
) -> None:
    leg, total = Leg(), D(0)
    for qty, price in fills:
        leg, r = apply_fill(leg, D(qty), D(price))
        total += r
    assert (total, unrealised(leg, D(mark))) == (D(realised), D(open_pnl))
    cash = sum((D(q) * (D(mark) - D(p)) for q, p in fills), D(0))
    assert total + unrealised(leg, D(mark)) == cash


def test_collected_fees_are_not_a_loss() -> None:
    led = MemoryLedger()
    led.add(ev.TICK, tick(1, "2000", "1", "2000", "0.01", "20", "0", "2000"), "2024-01-01T00:00:00")
    # fees collected (0.01 ETH + 20 USD left the position), then 0.002 ETH + 3 USD accrued
    led.add(ev.TICK, tick(2, "2000", "1", "2000", "0.002", "3", "0", "2000"), "2024-01-01T01:00:00")
    total = attribute(load(led)).total
    assert total.lp_fees == D("0.002") * 2000 + 3
    assert (total.lp_il, total.lp_hold, total.net) == (D(0), D(0), D(7))


def test_unpriced_fee_currency_is_named_in_a_warning() -> None:
    led = small_ledger()
    led.add(ev.ORDER_INTENT, intent("c3", Side.SELL, "1", "0.1", "1900"), "2024-01-02T09:00:00")
    led.add(
        ev.FILL,
        fill("c3", Side.SELL, "1", "1899", "0.01", "BNB", "2024-01-02T09:00:01"),
        "2024-01-02T09:00:01",
    )
    led.add(
        ev.TICK, tick(4, "1900", "1.1", "1800", "0.002", "5", "-0.6", "1900"), "2024-01-02T10:00:00"
    )
    result = attribute(load(led))
    assert any("no USD price for fee in BNB" in w for w in result.warnings)
    assert result.total.component_sum == result.total.net
    # day 2: 98.5 as before, then the short 0.5 marked 1901 -> 1900 and 0.1 sold at 1899
    assert result.days[-1].pnl.hedge_pnl == D("98.5") + D("0.5") - D("0.1")
