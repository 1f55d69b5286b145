"""Helpers for the execution tests: intents, venues on the emulator and ledger checks."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import ccxt.async_support as ccxt_async
from pydantic import SecretStr

from bot.clock import FixedClock
from bot.domain.events import ORDER_INTENT, ORDER_UPDATE, from_payload
from bot.domain.orders import OrderAck, OrderIntent, Side
from bot.execution import ledger_positions
from bot.hedge.planner import client_id
from bot.ledger.store import Ledger
from bot.ports import Venue
from bot.venues.ccxt_venue import CcxtVenue
from tests.support.emulator import Emulator

API_KEY = "xK3yExecTestApiKey0123456789abcdefAPIKEY"
API_SECRET = "sEcExecTestSecret9876543210fedcbaSECRETz"
ETH = "ETH/USDT:USDT"
EMU_ETH = "ETHUSDT"


def make_intent(
    venue: str,
    plan_id: str,
    leg: int,
    side: Side,
    amount: str,
    *,
    price: str = "3000",
    reduce_only: bool = False,
) -> OrderIntent:
    return OrderIntent(
        plan_id=plan_id,
        leg=leg,
        venue=venue,
        symbol=ETH,
        side=side,
        amount=Decimal(amount),
        amount_base=Decimal(amount),
        reduce_only=reduce_only,
        client_id=client_id(plan_id, leg),
        reason="execution test",
        decision_price=Decimal(price),
    )


def make_ccxt_venue(emu: Emulator, clock: FixedClock, *, timeout_ms: int = 2000) -> CcxtVenue:
    """A real ccxt binanceusdm object whose URLs point at the emulator."""
    return CcxtVenue(
        "binanceusdm",
        api_key=SecretStr(API_KEY),
        secret=SecretStr(API_SECRET),
        mode="testnet",
        clock=clock,
        urls_override=emu.ccxt_urls(ccxt_async.binanceusdm().urls["api"]),
        timeout_ms=timeout_ms,
        enable_rate_limit=False,
    )


def emulator_orders_per_client_id(emu: Emulator) -> Counter[str]:
    return Counter(o.client_id for o in emu.account.orders.values())


def last_updates(ledger: Ledger) -> dict[str, OrderAck]:
    out: dict[str, OrderAck] = {}
    for event in ledger.events([ORDER_UPDATE]):
        ack = from_payload(OrderAck, event.payload)
        out[ack.client_id] = ack
    return out


def ledger_intents(ledger: Ledger) -> list[OrderIntent]:
    return [from_payload(OrderIntent, e.payload) for e in ledger.events([ORDER_INTENT])]


async def venue_position(venue: Venue, symbol: str = ETH) -> Decimal:
    return sum((p.contracts for p in await venue.positions() if p.symbol == symbol), Decimal(0))


async def assert_ledger_matches_venue(venue: Venue, ledger: Ledger) -> None:
    """Every intent has exactly one final status, the venue agrees with it, fills sum to
    the venue's position and the hash chain verifies."""
    updates = last_updates(ledger)
    for intent in ledger_intents(ledger):
        ack = updates[intent.client_id]
        assert ack.status.final, f"{intent.client_id} left {ack.status}"
        on_venue = await venue.order_by_client_id(intent.symbol, intent.client_id)
        if on_venue is None:
            assert ack.venue_order_id == "", f"{intent.client_id} recorded but not on venue"
        else:
            assert (on_venue.status, on_venue.filled) == (ack.status, ack.filled)
    fills = ledger_positions(ledger, venue.name).get(ETH, Decimal(0))
    assert fills == await venue_position(venue)
    assert ledger.verify().ok
