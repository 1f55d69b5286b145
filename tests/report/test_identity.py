"""The attribution identity holds to the last digit on arbitrary ledgers (hypothesis)."""

from __future__ import annotations

from decimal import Decimal as D
from decimal import localcontext

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import events as ev
from bot.domain.orders import FundingPayment, Side
from bot.report.attribution import attribute
from bot.report.load import load
from tests.report.ledger_data import SYMBOL, MemoryLedger, fill, intent, tick

HOUR_MS = 3_600_000
T0 = 1_704_067_200_000  # 2024-01-01

amounts = st.decimals(min_value=D("0.000001"), max_value=D(50), places=18)
prices = st.decimals(min_value=D(500), max_value=D(5000), places=30)
steps = st.lists(
    st.tuples(prices, amounts, amounts, amounts, st.integers(-40, 40), st.sampled_from("n f u")),
    min_size=2,
    max_size=10,
)


def _ledger(path: list[tuple[D, D, D, D, int, str]]) -> MemoryLedger:
    led = MemoryLedger()
    fees = D(0)
    for i, (price, base, quote, fee_growth, trade, extra) in enumerate(path):
        ts = T0 + i * 7 * HOUR_MS  # crosses UTC days
        fees = fees + fee_growth / 1000 if extra != "f" else D(0)  # "f": fees collected
        mark = price + D(trade) / 7
        led.add(
            ev.TICK,
            tick(i, str(price), str(base), str(quote), str(fees), "1.5", "0", str(mark)),
            ts,
        )
        if trade:
            side = Side.BUY if trade > 0 else Side.SELL
            cid = f"c{i}"
            led.add(
                ev.ORDER_INTENT,
                intent(cid, side, str(abs(trade)), str(abs(trade) / D(100)), str(price)),
                ts + 1,
            )
            f = fill(
                cid,
                side,
                str(abs(trade)),
                str(mark + D("0.37")),
                "0.0003",
                "ETH",
                "2024-01-01T00:00:00",
            )
            led.add(ev.FILL, f, ts + 2)
        if extra == "u":
            led.add(
                ev.FUNDING,
                FundingPayment(
                    "paper", SYMBOL, D("-0.123456789"), "USDT", D("0.0001"), ts + 3, f"f{i}"
                ),
                ts + 3,
            )
    return led


@settings(max_examples=40, deadline=None)
@given(steps)
def test_components_sum_to_net_exactly(path: list[tuple[D, D, D, D, int, str]]) -> None:
    result = attribute(load(_ledger(path)))
    for day in result.days:
        assert day.pnl.component_sum == day.pnl.net
    assert result.total.component_sum == result.total.net
    with localcontext() as ctx:
        ctx.prec = 200  # the test's own sum must not round either
        assert sum((d.pnl.net for d in result.days), D(0)) == result.total.net
