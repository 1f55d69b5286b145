"""CcxtVenue under injected faults: each error lands in the right branch of bot.errors, and
a timeout after the venue accepted leaves exactly one order that a lookup by client id finds."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from conftest import API_KEY, API_SECRET, ETH, make_ccxt_venue
from pydantic import SecretStr

from bot.clock import FixedClock
from bot.domain.orders import OrderIntent, OrderStatus, Side
from bot.errors import ConfigError, LphedgeError, NeedsOperator, Rejected, VenueUnavailable
from bot.venues.ccxt_venue import CcxtVenue
from tests.support.emulator import Emulator, Fault


def buy(client_id: str, amount: str = "0.1") -> OrderIntent:
    return OrderIntent(
        plan_id="p",
        leg=0,
        venue="binanceusdm",
        symbol=ETH,
        side=Side.BUY,
        amount=Decimal(amount),
        amount_base=Decimal(amount),
        reduce_only=False,
        client_id=client_id,
        reason="fault test",
        decision_price=Decimal(3000),
    )


def orders_with(emu: Emulator, client_id: str) -> int:
    return sum(1 for o in emu.account.orders.values() if o.client_id == client_id)


@pytest.mark.parametrize("kind", ["http429", "http5xx"])
async def test_rate_limit_and_5xx_are_retryable(
    emulator: Emulator, ccxt_venue: CcxtVenue, kind: str
) -> None:
    await ccxt_venue.instruments([ETH])
    emulator.inject(Fault(kind))  # type: ignore[arg-type]
    with pytest.raises(VenueUnavailable):
        await ccxt_venue.submit(buy("a" * 32))
    assert orders_with(emulator, "a" * 32) == 0
    assert await ccxt_venue.order_by_client_id(ETH, "a" * 32) is None
    ack = await ccxt_venue.submit(buy("a" * 32))  # the same intent, once the venue is back
    assert ack.status is OrderStatus.FILLED
    assert orders_with(emulator, "a" * 32) == 1


async def test_insufficient_margin_is_rejected_with_the_venue_message(
    emulator: Emulator, ccxt_venue: CcxtVenue
) -> None:
    emulator.inject(Fault("margin"))
    with pytest.raises(Rejected, match="Margin is insufficient"):
        await ccxt_venue.submit(buy("b" * 32))
    emulator.account.balance = Decimal(10)  # and for real: 10 USDT cannot carry 30 ETH
    with pytest.raises(Rejected, match="-2019"):
        await ccxt_venue.submit(buy("c" * 32, "30"))
    assert emulator.account.orders == {}


async def test_min_notional_is_rejected(emulator: Emulator, ccxt_venue: CcxtVenue) -> None:
    emulator.inject(Fault("min_notional"))
    with pytest.raises(Rejected, match="-4164"):
        await ccxt_venue.submit(buy("d" * 32))
    assert emulator.account.orders == {}


async def test_timeout_after_accept_then_lookup_finds_exactly_one(emulator: Emulator) -> None:
    venue = make_ccxt_venue(emulator, timeout_ms=300)
    try:
        await venue.instruments([ETH])
        emulator.inject(Fault("timeout_after_accept", delay_s=1.0))
        with pytest.raises(VenueUnavailable):
            await venue.submit(buy("e" * 32))
        found = await venue.order_by_client_id(ETH, "e" * 32)
        assert found is not None and found.status is OrderStatus.FILLED
        assert orders_with(emulator, "e" * 32) == 1
        posts = [r for r in emulator.requests if r.method == "POST"]
        assert len(posts) == 1  # recovery looked the order up; it never resent
    finally:
        await venue.close()


async def test_bad_signature_needs_an_operator(emulator: Emulator) -> None:
    venue = make_ccxt_venue(emulator, secret="wrong-" + API_SECRET)
    try:
        with pytest.raises(NeedsOperator, match="API key"):
            await venue.positions()
    finally:
        await venue.close()


async def test_live_mode_refuses_without_confirmation() -> None:
    with pytest.raises(ConfigError, match="set confirm_live = true at the top") as refused:
        CcxtVenue(
            "binanceusdm",
            api_key=SecretStr(API_KEY),
            secret=SecretStr(API_SECRET),
            mode="live",
            clock=FixedClock(),
        )
    assert "venue.confirm_live" not in str(refused.value)  # the field is top-level
    with pytest.raises(ConfigError, match="api_key"):
        CcxtVenue(
            "binanceusdm",
            api_key=None,
            secret=None,
            mode="live",
            clock=FixedClock(),
            confirm_live=True,
        )
    with pytest.raises(ConfigError, match=r"venue\.wallet_address, venue\.private_key"):
        CcxtVenue("hyperliquid", mode="live", clock=FixedClock(), confirm_live=True)


async def test_secrets_never_leave(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    venue = make_ccxt_venue(emulator, timeout_ms=300)
    errors: list[str] = []
    try:
        venue._ex.verbose = False
        for fault in (Fault("http429"), Fault("margin"), Fault("timeout_after_accept", delay_s=1)):
            emulator.inject(fault)
            try:
                await venue.submit(buy("f" * 32))
            except LphedgeError as exc:
                errors.append(f"{exc!s} {exc!r} {exc.__cause__!r} {exc.__context__!r}")
        bad = make_ccxt_venue(emulator, secret=API_SECRET[::-1])
        try:
            await bad.positions()
        except LphedgeError as exc:
            errors.append(f"{exc!s} {exc!r}")
        finally:
            await bad.close()
    finally:
        await venue.close()
    assert len(errors) == 4
    ours = "\n".join(errors) + caplog.text
    assert API_KEY not in ours and API_SECRET not in ours
    for req in emulator.requests:
        wire = f"{req.path}?{req.query} {req.body} {req.headers}"
        assert API_SECRET not in wire
        assert API_KEY not in wire.replace(f"'X-MBX-APIKEY': '{API_KEY}'", "")
