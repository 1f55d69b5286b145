"""CcxtVenue("bybit") against the Bybit v5 emulator: what goes on the wire (orderLinkId,
category=linear, reduceOnly, the v5 HMAC signature), and each fault in its bot.errors branch,
including a timeout after the venue accepted that a lookup by orderLinkId recovers."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest
from conftest import API_KEY, API_SECRET, ETH, bybit_emulator, make_ccxt_venue

from bot.domain.orders import OrderIntent, OrderStatus, Side
from bot.errors import NeedsOperator, Rejected, VenueUnavailable
from bot.venues.ccxt_venue import CcxtVenue
from tests.support.emulator import Emulator, Fault

CREATE = "/v5/order/create"


def order(
    client_id: str, side: Side = Side.BUY, amount: str = "0.1", *, reduce: bool = False
) -> OrderIntent:
    return OrderIntent(
        plan_id="p",
        leg=0,
        venue="bybit",
        symbol=ETH,
        side=side,
        amount=Decimal(amount),
        amount_base=Decimal(amount),
        reduce_only=reduce,
        client_id=client_id,
        reason="bybit test",
        decision_price=Decimal(3000),
    )


def orders_with(emu: Emulator, client_id: str) -> int:
    return sum(1 for o in emu.account.orders.values() if o.client_id == client_id)


@pytest.fixture
async def bybit() -> AsyncIterator[Emulator]:
    async with bybit_emulator() as emu:
        yield emu


@pytest.fixture
async def venue(bybit: Emulator) -> AsyncIterator[CcxtVenue]:
    v = make_ccxt_venue(bybit)
    yield v
    await v.close()


async def test_submit_sends_order_link_id_on_linear_and_reads_the_fill(
    bybit: Emulator, venue: CcxtVenue
) -> None:
    ack = await venue.submit(order("1" * 32))
    [post] = [r for r in bybit.requests if r.path == CREATE]
    body = json.loads(post.body)
    assert body["category"] == "linear" and body["symbol"] == "ETHUSDT"
    assert body["orderLinkId"] == "1" * 32
    assert body["side"] == "Buy" and body["orderType"] == "Market" and body["qty"] == "0.1"
    # v5's create answer is only {orderId, orderLinkId}: the fill comes from the lookup
    assert ack.status is OrderStatus.FILLED and ack.filled == Decimal("0.1")
    assert ack.client_id == "1" * 32 and len(ack.venue_order_id) == 36  # a UUID
    assert ack.average_price == Decimal("3000.30")  # mark + 1 bp, on the 0.01 tick
    found = await venue.order_by_client_id(ETH, "1" * 32)
    assert found is not None and found.venue_order_id == ack.venue_order_id


async def test_positions_carry_the_sign_and_reduce_only_never_flips(
    bybit: Emulator, venue: CcxtVenue
) -> None:
    await venue.submit(order("2" * 32, Side.SELL, "0.3"))
    [pos] = await venue.positions()
    assert pos.contracts == Decimal("-0.3") and pos.size_base == Decimal("-0.3")
    assert pos.entry_price == Decimal("2999.70")
    ack = await venue.submit(order("3" * 32, Side.BUY, "0.1", reduce=True))
    assert ack.status is OrderStatus.FILLED
    [body] = [json.loads(r.body) for r in bybit.requests if '"reduceOnly":true' in r.body]
    assert body["orderLinkId"] == "3" * 32
    with pytest.raises(Rejected, match="110017"):
        await venue.submit(order("4" * 32, Side.BUY, "0.5", reduce=True))
    [pos] = await venue.positions()
    assert pos.contracts == Decimal("-0.2")


async def test_rate_limit_is_retryable_and_nothing_was_placed(
    bybit: Emulator, venue: CcxtVenue
) -> None:
    await venue.instruments([ETH])
    bybit.inject(Fault("http429", path=CREATE))
    with pytest.raises(VenueUnavailable, match="10006"):
        await venue.submit(order("5" * 32))
    assert orders_with(bybit, "5" * 32) == 0
    assert await venue.order_by_client_id(ETH, "5" * 32) is None
    assert (await venue.submit(order("5" * 32))).status is OrderStatus.FILLED


async def test_insufficient_balance_is_rejected(bybit: Emulator, venue: CcxtVenue) -> None:
    bybit.account.balance = Decimal(10)  # 10 USDT cannot margin 30 ETH at 20x
    with pytest.raises(Rejected, match="110007"):
        await venue.submit(order("6" * 32, amount="30"))
    assert bybit.account.orders == {}


async def test_below_min_order_value_is_rejected(bybit: Emulator, venue: CcxtVenue) -> None:
    bybit.account.markets["ETHUSDT"].mark = Decimal(300)  # 0.01 ETH = 3 USDT < 5
    with pytest.raises(Rejected, match="110094"):
        await venue.submit(order("7" * 32, amount="0.01"))
    assert bybit.account.orders == {}


async def test_timeout_after_accept_then_lookup_finds_exactly_one(bybit: Emulator) -> None:
    venue = make_ccxt_venue(bybit, timeout_ms=300)
    try:
        await venue.instruments([ETH])
        bybit.inject(Fault("timeout_after_accept", path=CREATE, delay_s=1.0))
        with pytest.raises(VenueUnavailable):
            await venue.submit(order("8" * 32))
        found = await venue.order_by_client_id(ETH, "8" * 32)
        assert found is not None and found.status is OrderStatus.FILLED
        assert orders_with(bybit, "8" * 32) == 1
        assert sum(1 for r in bybit.requests if r.path == CREATE) == 1
    finally:
        await venue.close()


async def test_bad_signature_is_rejected_with_10004(bybit: Emulator) -> None:
    venue = make_ccxt_venue(bybit, secret="wrong-" + API_SECRET)
    try:
        with pytest.raises(NeedsOperator, match="10004"):
            await venue.positions()
    finally:
        await venue.close()
    assert bybit.account.orders == {}


def _sign(secret: str, ts: str, window: str, payload: str) -> str:
    origin = ts + API_KEY + window + payload
    return hmac.new(secret.encode(), origin.encode(), hashlib.sha256).hexdigest()


async def test_signature_covers_the_body(bybit: Emulator) -> None:
    """The emulator's check is Bybit's formula: a body altered after signing is refused."""
    body = '{"category":"linear","symbol":"ETHUSDT","side":"Buy","orderType":"Market","qty":"0.1"}'
    ts, window = "1700000000000", "5000"
    headers = {
        "X-BAPI-API-KEY": API_KEY,
        "X-BAPI-TIMESTAMP": ts,
        "X-BAPI-RECV-WINDOW": window,
        "X-BAPI-SIGN": _sign(API_SECRET, ts, window, body),
        "Content-Type": "application/json",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(bybit.base_url + CREATE, data=body, headers=headers) as resp:
            assert (await resp.json())["retCode"] == 0
        tampered = body.replace("0.1", "1.0")
        async with http.post(bybit.base_url + CREATE, data=tampered, headers=headers) as resp:
            answer = await resp.json()
    assert resp.status == 200 and answer["retCode"] == 10004
    assert len(bybit.account.orders) == 1


async def test_funding_paid_by_a_long_is_negative(bybit: Emulator, venue: CcxtVenue) -> None:
    await venue.submit(order("9" * 32, amount="1"))
    bybit.account.settle_funding(bybit.clock_ms())
    [payment] = await venue.funding_payments(0)
    # Bybit's execFee is +0.3 (paid); the bot's sign is the account's: -0.3 USDT
    assert payment.amount == Decimal("-0.3") and payment.rate == Decimal("0.0001")
    assert payment.currency == "USDT"
