"""One contract suite for every Venue: PaperVenue and CcxtVenue against the emulator."""

from __future__ import annotations

from decimal import Decimal
from itertools import count

import pytest
from conftest import Harness

from bot.domain.orders import OrderIntent, OrderStatus, Side
from bot.errors import Rejected

_ids = count(1)


def intent(h: Harness, side: Side, amount: str, *, reduce_only: bool = False) -> OrderIntent:
    n = next(_ids)
    return OrderIntent(
        plan_id=f"plan{n}",
        leg=0,
        venue=h.venue.name,
        symbol=h.symbol,
        side=side,
        amount=Decimal(amount),
        amount_base=Decimal(amount),
        reduce_only=reduce_only,
        client_id=f"{n:032x}",
        reason="contract test",
        decision_price=Decimal(3000),
    )


async def position_of(h: Harness) -> Decimal:
    return sum((p.contracts for p in await h.venue.positions() if p.symbol == h.symbol), Decimal(0))


async def test_instruments_describe_eth_perp(harness: Harness) -> None:
    inst = (await harness.venue.instruments([harness.symbol]))[harness.symbol]
    assert inst.asset == "ETH"
    assert inst.settle == "USDT"
    assert not inst.inverse
    assert inst.contract_size == 1
    assert inst.amount_step == harness.amount_step
    assert inst.min_amount == harness.amount_step
    assert inst.min_cost == harness.min_cost
    assert 0 < inst.taker_fee < Decimal("0.01")


async def test_buy_fills_and_opens_a_long(harness: Harness) -> None:
    ack = await harness.venue.submit(intent(harness, Side.BUY, "0.1"))
    assert ack.status is OrderStatus.FILLED
    assert ack.filled == Decimal("0.1")
    assert ack.average_price is not None and ack.average_price > 0
    assert ack.side is Side.BUY
    [pos] = await harness.venue.positions()
    assert pos.contracts == Decimal("0.1")
    assert pos.size_base == Decimal("0.1")
    assert pos.asset == "ETH"


async def test_sell_makes_the_position_negative(harness: Harness) -> None:
    await harness.venue.submit(intent(harness, Side.SELL, "0.2"))
    [pos] = await harness.venue.positions()
    assert pos.contracts == Decimal("-0.2")
    assert pos.size_base == Decimal("-0.2")


async def test_reduce_only_reduces_and_never_opens(harness: Harness) -> None:
    with pytest.raises(Rejected):
        await harness.venue.submit(intent(harness, Side.SELL, "0.05", reduce_only=True))
    assert await position_of(harness) == 0
    await harness.venue.submit(intent(harness, Side.BUY, "0.1"))
    ack = await harness.venue.submit(intent(harness, Side.SELL, "0.04", reduce_only=True))
    assert ack.status is OrderStatus.FILLED
    assert await position_of(harness) == Decimal("0.06")
    with pytest.raises(Rejected):  # would flip the long into a short
        await harness.venue.submit(intent(harness, Side.SELL, "0.1", reduce_only=True))
    assert await position_of(harness) == Decimal("0.06")


async def test_order_by_client_id_finds_the_order(harness: Harness) -> None:
    sent = intent(harness, Side.BUY, "0.02")
    ack = await harness.venue.submit(sent)
    found = await harness.venue.order_by_client_id(harness.symbol, sent.client_id)
    assert found is not None
    assert found.client_id == sent.client_id
    assert found.venue_order_id == ack.venue_order_id
    assert found.status is OrderStatus.FILLED
    assert found.filled == Decimal("0.02")


async def test_unknown_client_id_is_none(harness: Harness) -> None:
    assert await harness.venue.order_by_client_id(harness.symbol, "f" * 32) is None


async def test_market_orders_leave_no_open_orders(harness: Harness) -> None:
    await harness.venue.submit(intent(harness, Side.BUY, "0.01"))
    assert await harness.venue.open_orders() == []
    assert await harness.venue.open_orders(harness.symbol) == []


async def test_below_min_notional_is_rejected(harness: Harness) -> None:
    with pytest.raises(Rejected, match=harness.too_small_match):
        await harness.venue.submit(intent(harness, Side.BUY, harness.too_small))  # ~15 USDT
    assert await harness.venue.positions() == []


async def test_a_long_pays_positive_funding(harness: Harness) -> None:
    await harness.venue.submit(intent(harness, Side.BUY, "0.5"))
    assert await harness.venue.funding_payments(0) == []
    harness.settle_funding()
    [payment] = await harness.venue.funding_payments(0)
    assert payment.symbol == harness.symbol
    assert payment.currency == "USDT"
    assert payment.amount < 0  # rate 0.0001 > 0: longs pay
    # |payment| = base * mark * rate: 0.5 ETH * ~3000 * 0.0001 ~ 0.15 USDT
    assert Decimal("0.1") < -payment.amount < Decimal("0.2")
