"""The order lifecycle on the PaperVenue (which writes its own fills to the shared ledger)
and on a PostgreSQL ledger."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from bot.clock import FixedClock
from bot.domain.events import FILL, ORDER_INTENT, to_payload
from bot.domain.orders import OrderAck, OrderIntent, OrderStatus, Side
from bot.errors import VenueUnavailable
from bot.execution import OrderExecutor
from bot.ledger.store import Ledger
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.paper import PaperVenue
from tests.execution.conftest import POLICY
from tests.execution.helpers import (
    EMU_ETH,
    assert_ledger_matches_venue,
    emulator_orders_per_client_id,
    make_ccxt_venue,
    make_intent,
    venue_position,
)
from tests.support.emulator import Emulator, Fault

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


class AckLostVenue:
    """The paper venue whose first `n` acks are lost after it accepted the order:
    a timeout-after-accept, in front of a real venue."""

    def __init__(self, inner: PaperVenue, n: int = 1) -> None:
        self.inner = inner
        self.name = inner.name
        self.lost = n

    async def submit(self, intent: OrderIntent) -> OrderAck:
        ack = await self.inner.submit(intent)
        if self.lost > 0:
            self.lost -= 1
            raise VenueUnavailable("paper: submit timed out (ack lost)")
        return ack

    def __getattr__(self, attr: str) -> object:
        return getattr(self.inner, attr)


async def test_paper_fills_are_recorded_once(
    paper: PaperVenue, ledger: Ledger, clock: FixedClock
) -> None:
    intents = [
        make_intent("paper", "pp1", 0, Side.SELL, "0.5"),
        make_intent("paper", "pp1", 1, Side.SELL, "0.25"),
    ]
    acks = await OrderExecutor(paper, ledger, clock, "r", POLICY).execute(intents)
    assert [a.status for a in acks] == [OrderStatus.FILLED] * 2
    fills = ledger.events([FILL])
    assert len({e.payload["trade_id"] for e in fills}) == len(fills) >= 2
    assert await venue_position(paper) == Decimal("-0.75")
    await assert_ledger_matches_venue(paper, ledger)


async def test_paper_lost_ack_is_found_not_resent(
    paper: PaperVenue, ledger: Ledger, clock: FixedClock
) -> None:
    intent = make_intent("paper", "pp2", 0, Side.BUY, "0.2")
    [ack] = await OrderExecutor(AckLostVenue(paper), ledger, clock, "r", POLICY).execute([intent])  # type: ignore[arg-type]
    assert ack.status is OrderStatus.FILLED
    assert await venue_position(paper) == Decimal("0.2")
    await assert_ledger_matches_venue(paper, ledger)


async def test_paper_margin_and_min_notional_rejections(
    paper: PaperVenue, ledger: Ledger, clock: FixedClock
) -> None:
    intents = [
        make_intent("paper", "pp3", 0, Side.BUY, "0.005"),  # ~11 USDT < 20
        make_intent("paper", "pp3", 1, Side.BUY, "100"),
    ]  # 200k notional > margin
    acks = await OrderExecutor(paper, ledger, clock, "r", POLICY).execute(intents)
    assert [a.status for a in acks] == [OrderStatus.REJECTED] * 2
    assert "notional" in acks[0].info["reason"] and "margin" in acks[1].info["reason"]
    assert await paper.open_orders() == []
    await assert_ledger_matches_venue(paper, ledger)


async def test_paper_resume_completes_an_order_sent_before_a_crash(
    paper: PaperVenue, ledger: Ledger, clock: FixedClock
) -> None:
    intent = make_intent("paper", "pp4", 0, Side.SELL, "0.3")
    ledger.append(ORDER_INTENT, to_payload(intent), ts_ms=clock.now_ms())
    await paper.submit(intent)  # accepted; the process "died" before recording the ack
    [ack] = await OrderExecutor(paper, ledger, clock, "r2", POLICY).resume_pending()
    assert ack.status is OrderStatus.FILLED
    await assert_ledger_matches_venue(paper, ledger)


@pytest.fixture
def pg_ledger() -> Iterator[Ledger]:
    schema = f"exec_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        with Ledger.open(f"{POSTGRES_URL}?options=-csearch_path%3D{schema}") as led:
            yield led
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


@pytest.fixture
async def venue_on_emulator(emulator: Emulator, clock: FixedClock) -> AsyncIterator[CcxtVenue]:
    venue = make_ccxt_venue(emulator, clock, timeout_ms=400)
    yield venue
    await venue.close()


@pytest.mark.postgres
async def test_postgres_ledger_timeout_after_accept_and_5xx(
    venue_on_emulator: CcxtVenue, pg_ledger: Ledger, clock: FixedClock, emulator: Emulator
) -> None:
    emulator.inject(Fault("timeout_after_accept", delay_s=1.0))
    emulator.inject(Fault("http5xx", times=1))
    intents = [
        make_intent("binanceusdm", "pg", 0, Side.SELL, "0.1"),
        make_intent("binanceusdm", "pg", 1, Side.SELL, "0.1"),
    ]
    ex = OrderExecutor(venue_on_emulator, pg_ledger, clock, "pg", POLICY)
    acks = await ex.execute(intents)
    assert [a.status for a in acks] == [OrderStatus.FILLED] * 2
    assert emulator_orders_per_client_id(emulator) == {i.client_id: 1 for i in intents}
    assert emulator.account.position(EMU_ETH).qty == Decimal("-0.2")
    await assert_ledger_matches_venue(venue_on_emulator, pg_ledger)
