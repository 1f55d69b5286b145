"""The order lifecycle against a real ccxt binanceusdm object talking to the emulator.

After every fault sequence: exactly one order per intent on the venue, the ledger agrees
with the venue (statuses, fills, position) and its hash chain verifies.
"""

from __future__ import annotations

from decimal import Decimal

from bot.clock import FixedClock
from bot.domain.events import ERROR, FILL, ORDER_INTENT, ORDER_UPDATE, to_payload
from bot.domain.orders import OrderStatus, Side
from bot.execution import OrderExecutor
from bot.ledger.store import Ledger
from bot.venues.ccxt_venue import CcxtVenue
from tests.execution.conftest import POLICY
from tests.execution.helpers import (
    EMU_ETH,
    assert_ledger_matches_venue,
    emulator_orders_per_client_id,
    last_updates,
    make_intent,
)
from tests.support.emulator import Emulator, Fault

V = "binanceusdm"


def executor(venue: CcxtVenue, ledger: Ledger, clock: FixedClock) -> OrderExecutor:
    return OrderExecutor(venue, ledger, clock, "run-1", POLICY)


async def test_two_legs_fill_and_ledger_records_intent_before_fill(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    intents = [make_intent(V, "p1", 0, Side.SELL, "0.1"), make_intent(V, "p1", 1, Side.SELL, "0.2")]
    acks = await executor(ccxt_venue, ledger, clock).execute(intents)
    assert [a.status for a in acks] == [OrderStatus.FILLED, OrderStatus.FILLED]
    assert emulator.account.position(EMU_ETH).qty == Decimal("-0.3")
    kinds = [e.kind for e in ledger.events([ORDER_INTENT, ORDER_UPDATE, FILL])]
    assert kinds == [ORDER_INTENT, FILL, ORDER_UPDATE] * 2
    await assert_ledger_matches_venue(ccxt_venue, ledger)


async def test_replaying_a_plan_sends_nothing_twice(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    intents = [make_intent(V, "p2", 0, Side.BUY, "0.05")]
    first = await executor(ccxt_venue, ledger, clock).execute(intents)
    n_events = len(ledger.events())
    again = await executor(ccxt_venue, ledger, clock).execute(intents)
    assert again[0].status is first[0].status is OrderStatus.FILLED
    assert again[0].venue_order_id == first[0].venue_order_id
    assert len(ledger.events()) == n_events
    assert emulator_orders_per_client_id(emulator) == {intents[0].client_id: 1}


async def _one_order_after(
    fault: Fault | list[Fault],
    venue: CcxtVenue,
    ledger: Ledger,
    clock: FixedClock,
    emu: Emulator,
) -> None:
    for f in fault if isinstance(fault, list) else [fault]:
        emu.inject(f)
    intent = make_intent(V, f"p-{id(fault)}", 0, Side.SELL, "0.1")
    [ack] = await executor(venue, ledger, clock).execute([intent])
    assert ack.status is OrderStatus.FILLED
    assert emulator_orders_per_client_id(emu) == {intent.client_id: 1}
    assert emu.account.position(EMU_ETH).qty == Decimal("-0.1")
    assert ledger.events([ERROR]), "the fault is on record"
    await assert_ledger_matches_venue(venue, ledger)


async def test_429_then_ok_gives_one_order(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    await _one_order_after(Fault("http429"), ccxt_venue, ledger, clock, emulator)


async def test_5xx_then_ok_gives_one_order(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    await _one_order_after(Fault("http5xx", times=2), ccxt_venue, ledger, clock, emulator)


async def test_timeout_after_accept_is_found_not_resent(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    before = clock.now_ms()
    await _one_order_after(
        Fault("timeout_after_accept", delay_s=1.0), ccxt_venue, ledger, clock, emulator
    )
    posts = [r for r in emulator.requests if r.method == "POST" and r.path == "/fapi/v1/order"]
    assert len(posts) == 1, "found by client id, never resent"
    assert clock.now_ms() - before < 15_000, "found at once: no in-doubt wait"


async def test_timeout_then_failing_lookups_are_retried(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    faults = [
        Fault("timeout_after_accept", delay_s=1.0),
        Fault("http5xx", method="GET", times=1),
        Fault("http429", method="GET", times=1),
    ]
    await _one_order_after(faults, ccxt_venue, ledger, clock, emulator)


async def test_insufficient_margin_is_recorded_and_the_next_intent_still_runs(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    emulator.inject(Fault("margin"))
    intents = [make_intent(V, "pm", 0, Side.SELL, "0.1"), make_intent(V, "pm", 1, Side.SELL, "0.1")]
    acks = await executor(ccxt_venue, ledger, clock).execute(intents)
    assert [a.status for a in acks] == [OrderStatus.REJECTED, OrderStatus.FILLED]
    assert "insufficient" in acks[0].info["reason"].lower()
    assert emulator_orders_per_client_id(emulator) == {intents[1].client_id: 1}
    assert last_updates(ledger)[intents[0].client_id].status is OrderStatus.REJECTED
    await assert_ledger_matches_venue(ccxt_venue, ledger)


async def test_min_notional_rejection_is_final_and_not_retried(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    intent = make_intent(V, "pn", 0, Side.BUY, "0.005")  # 15 USDT < 20 USDT minimum
    [ack] = await executor(ccxt_venue, ledger, clock).execute([intent])
    assert ack.status is OrderStatus.REJECTED
    assert "notional" in ack.info["reason"].lower()
    assert not emulator.account.orders
    [again] = await executor(ccxt_venue, ledger, clock).execute([intent])
    assert again.status is OrderStatus.REJECTED
    posts = [r for r in emulator.requests if r.method == "POST"]
    assert len(posts) == 1
    await assert_ledger_matches_venue(ccxt_venue, ledger)


async def test_venue_down_leaves_intent_pending_then_resume_completes_it(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    emulator.inject(Fault("timeout_after_accept", delay_s=1.0))
    emulator.inject(Fault("http5xx", method="GET", times=100))
    intent = make_intent(V, "pd", 0, Side.SELL, "0.1")
    [ack] = await executor(ccxt_venue, ledger, clock).execute([intent])
    assert ack.status is OrderStatus.PENDING
    assert intent.client_id not in last_updates(ledger)
    emulator.faults.clear()
    [resumed] = await executor(ccxt_venue, ledger, clock).resume_pending()
    assert resumed.status is OrderStatus.FILLED
    assert emulator_orders_per_client_id(emulator) == {intent.client_id: 1}
    await assert_ledger_matches_venue(ccxt_venue, ledger)


async def test_resume_expires_an_intent_that_never_reached_the_venue(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    intent = make_intent(V, "pe", 0, Side.SELL, "0.1")
    ledger.append(ORDER_INTENT, to_payload(intent), ts_ms=clock.now_ms())
    start = clock.now_ms()
    [ack] = await executor(ccxt_venue, ledger, clock).resume_pending()
    assert ack.status is OrderStatus.EXPIRED
    assert clock.now_ms() - start >= 15_000, "waited out the in-doubt window before believing it"
    assert not emulator.account.orders
    await assert_ledger_matches_venue(ccxt_venue, ledger)


async def test_execute_of_a_pending_intent_looks_up_before_sending(
    ccxt_venue: CcxtVenue, ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    intent = make_intent(V, "pp", 0, Side.SELL, "0.1")
    ledger.append(ORDER_INTENT, to_payload(intent), ts_ms=clock.now_ms())
    [ack] = await executor(ccxt_venue, ledger, clock).execute([intent])
    assert ack.status is OrderStatus.FILLED
    assert emulator_orders_per_client_id(emulator) == {intent.client_id: 1}
    gets = [r for r in emulator.requests if r.method == "GET" and r.path == "/fapi/v1/order"]
    assert len(gets) >= 2, "looked up (and waited the window) before the first send"
    await assert_ledger_matches_venue(ccxt_venue, ledger)
