"""Reconciliation: venue truth vs the ledger, every difference recorded, positions adopted."""

from __future__ import annotations

from decimal import Decimal

from bot.clock import FixedClock
from bot.domain.events import ORDER_INTENT, RECONCILE_DIFF, ReconcileDiff, from_payload, to_payload
from bot.domain.orders import OrderStatus, Side
from bot.execution import OrderExecutor, ledger_positions, reconcile
from bot.ledger.store import Ledger
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.paper import PaperVenue
from tests.execution.conftest import POLICY
from tests.execution.helpers import EMU_ETH, ETH, assert_ledger_matches_venue, make_intent
from tests.support.emulator import Emulator

V = "binanceusdm"


async def test_after_clean_execution_nothing_differs(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock
) -> None:
    await OrderExecutor(ccxt_venue, ledger, clock, "r", POLICY).execute(
        [make_intent(V, "rc1", 0, Side.SELL, "0.2")]
    )
    report = await reconcile(ccxt_venue, ledger, clock, "r", [ETH], policy=POLICY)
    assert report.clean
    assert report.positions == {ETH: Decimal("-0.2")}
    assert not ledger.events([RECONCILE_DIFF])


async def test_a_position_opened_by_hand_is_recorded_and_adopted_once(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    emulator.account.place(
        symbol=EMU_ETH,
        side="BUY",
        qty=Decimal("0.5"),
        order_type="MARKET",
        reduce_only=False,
        client_id="byhand",
        price=Decimal(0),
        now_ms=0,
    )
    report = await reconcile(ccxt_venue, ledger, clock, "r", [ETH], policy=POLICY)
    [diff] = report.diffs
    assert (diff.what, diff.symbol, diff.ledger, Decimal(diff.venue)) == (
        "position",
        ETH,
        "0",
        Decimal("0.5"),
    )
    assert "adopted" in diff.action
    [event] = ledger.events([RECONCILE_DIFF])
    assert from_payload(ReconcileDiff, event.payload) == diff
    assert ledger_positions(ledger, V) == {ETH: Decimal("0.5")}
    again = await reconcile(ccxt_venue, ledger, clock, "r", [ETH], policy=POLICY)
    assert again.clean
    await OrderExecutor(ccxt_venue, ledger, clock, "r", POLICY).execute(
        [make_intent(V, "rc2", 0, Side.SELL, "0.2")]
    )
    assert (await reconcile(ccxt_venue, ledger, clock, "r", [ETH], policy=POLICY)).clean
    await assert_ledger_matches_venue(ccxt_venue, ledger)


async def test_an_unknown_open_order_is_reported_not_touched(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    emulator.account.place(
        symbol=EMU_ETH,
        side="BUY",
        qty=Decimal("0.1"),
        order_type="LIMIT",
        reduce_only=False,
        client_id="stranger",
        price=Decimal(2000),
        now_ms=0,
    )
    report = await reconcile(ccxt_venue, ledger, clock, "r", [ETH], policy=POLICY)
    [diff] = report.diffs
    assert diff.what == "unknown_open_order" and "stranger" in diff.venue
    assert [o.status for o in emulator.account.orders.values()] == ["NEW"]


async def test_fills_made_while_down_come_in_as_fills_not_as_a_diff(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock
) -> None:
    intent = make_intent(V, "rc3", 0, Side.SELL, "0.1")
    ledger.append(ORDER_INTENT, to_payload(intent), ts_ms=clock.now_ms())
    await ccxt_venue.submit(intent)  # sent; the process died before the ack was recorded
    report = await reconcile(ccxt_venue, ledger, clock, "r2", [ETH], policy=POLICY)
    assert [a.status for a in report.resumed] == [OrderStatus.FILLED]
    assert report.clean
    await assert_ledger_matches_venue(ccxt_venue, ledger)


async def test_paper_venue_reconciles_clean(
    paper: PaperVenue, ledger: Ledger, clock: FixedClock
) -> None:
    await OrderExecutor(paper, ledger, clock, "r", POLICY).execute(
        [make_intent("paper", "rc4", 0, Side.BUY, "0.4")]
    )
    report = await reconcile(paper, ledger, clock, "r", [ETH], policy=POLICY)
    assert report.clean and report.positions == {ETH: Decimal("0.4")}
