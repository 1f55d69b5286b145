"""One contract suite for every Venue: the paper venue and CcxtVenue on each venue emulator
(Binance USD-M, Bybit v5, OKX v5, Hyperliquid, Deribit), each a real ccxt object signing
and parsing the venue's own JSON. Orders, lookup by client id, reduce-only, fills with fees
and trade ids from the trades endpoint, funding, positions, account state and set-up, trades
by hand and forced closes as account events; and each venue's faults (rate limit, 5xx, a
timeout after the venue accepted, a wrong key) in their branch of the error tree."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from conftest import Harness, ccxt_harness
from pydantic import SecretStr

from bot.clock import FixedClock
from bot.domain.orders import OrderIntent, OrderStatus, Side
from bot.errors import (
    ConfigError,
    InputError,
    InsufficientFunds,
    NeedsOperator,
    Rejected,
    VenueUnavailable,
)
from tests.support import venues
from tests.support.emulator import Fault

_ids = count(1)


def intent(h: Harness, side: Side, contracts: Decimal, *, reduce_only: bool = False) -> OrderIntent:
    n = next(_ids)
    return OrderIntent(
        plan_id=f"plan{n}",
        leg=0,
        venue=h.venue.name,
        symbol=h.symbol,
        side=side,
        amount=contracts,
        amount_base=contracts,
        reduce_only=reduce_only,
        client_id=f"{n:032x}",
        reason="contract test",
        decision_price=h.mark(),
    )


async def position_of(h: Harness) -> Decimal:
    return sum((p.contracts for p in await h.venue.positions() if p.symbol == h.symbol), Decimal(0))


async def test_instruments_describe_the_eth_perp(harness: Harness) -> None:
    inst = (await harness.venue.instruments([harness.symbol]))[harness.symbol]
    assert (inst.asset, inst.settle, inst.inverse) == ("ETH", harness.settle, harness.inverse)
    assert inst.contract_size == harness.contract_base
    assert inst.amount_step == inst.min_amount == harness.lot
    assert 0 < inst.taker_fee < Decimal("0.01")


async def test_buy_fills_and_opens_a_long(harness: Harness) -> None:
    n = harness.contracts("0.2")
    ack = await harness.venue.submit(intent(harness, Side.BUY, n))
    assert (ack.status, ack.filled, ack.side) == (OrderStatus.FILLED, n, Side.BUY)
    assert ack.average_price is not None and ack.average_price > 0
    [pos] = await harness.venue.positions()
    assert (pos.contracts, pos.asset) == (n, "ETH")
    want = (
        n * harness.contract_base / pos.entry_price
        if harness.inverse
        else n * harness.contract_base
    )  # type: ignore[operator]
    assert abs(pos.size_base - want) < Decimal("0.01")


async def test_sell_makes_the_position_negative(harness: Harness) -> None:
    n = harness.contracts("0.2")
    await harness.venue.submit(intent(harness, Side.SELL, n))
    [pos] = await harness.venue.positions()
    assert pos.contracts == -n and pos.size_base < 0


async def test_reduce_only_reduces_and_never_opens_or_flips(harness: Harness) -> None:
    n = harness.contracts("0.2")
    with pytest.raises(Rejected):
        await harness.venue.submit(intent(harness, Side.SELL, n, reduce_only=True))
    assert await position_of(harness) == 0
    await harness.venue.submit(intent(harness, Side.BUY, n))
    part = harness.contracts("0.1")
    ack = await harness.venue.submit(intent(harness, Side.SELL, part, reduce_only=True))
    assert ack.status is OrderStatus.FILLED
    assert await position_of(harness) == n - part
    with pytest.raises(Rejected):  # would flip the long into a short
        await harness.venue.submit(intent(harness, Side.SELL, n, reduce_only=True))
    assert await position_of(harness) == n - part


async def test_order_by_client_id_finds_the_order(harness: Harness) -> None:
    sent = intent(harness, Side.BUY, harness.contracts("0.05"))
    ack = await harness.venue.submit(sent)
    found = await harness.venue.order_by_client_id(harness.symbol, sent.client_id)
    assert found is not None
    assert (found.client_id, found.venue_order_id) == (sent.client_id, ack.venue_order_id)
    assert (found.status, found.filled) == (OrderStatus.FILLED, sent.amount)


async def test_unknown_client_id_is_none(harness: Harness) -> None:
    assert await harness.venue.order_by_client_id(harness.symbol, "f" * 32) is None


async def test_market_orders_leave_no_open_orders(harness: Harness) -> None:
    await harness.venue.submit(intent(harness, Side.BUY, harness.contracts("0.05")))
    assert await harness.venue.open_orders() == []
    assert await harness.venue.open_orders(harness.symbol) == []


async def test_an_amount_below_the_venue_minimum_is_refused(harness: Harness) -> None:
    with pytest.raises((Rejected, InputError)):
        await harness.venue.submit(intent(harness, Side.BUY, harness.lot / 2))
    assert await harness.venue.positions() == []


async def test_more_than_the_margin_carries_is_insufficient_funds(harness: Harness) -> None:
    with pytest.raises(InsufficientFunds):  # 20,000 USD of margin, 1,000 ETH of perp
        await harness.venue.submit(intent(harness, Side.BUY, harness.contracts("1000")))
    assert await harness.venue.positions() == []


async def test_fills_carry_fees_and_trade_ids_from_the_trades_endpoint(harness: Harness) -> None:
    sent = intent(harness, Side.BUY, harness.contracts("0.3"))
    ack = await harness.venue.submit(sent)
    fills = [
        f
        for f in await harness.venue.fills([harness.symbol], 0)
        if f.venue_order_id == ack.venue_order_id
    ]
    assert fills and sum(f.amount for f in fills) == sent.amount
    assert len({f.trade_id for f in fills}) == len(fills) and all(f.trade_id for f in fills)
    assert all(f.fee > 0 and f.fee_currency == harness.settle for f in fills)
    assert all(f.client_id in (sent.client_id, "") and f.side is Side.BUY for f in fills)
    assert all(f.venue == harness.venue.name for f in fills)
    again = await harness.venue.fills([harness.symbol], 0)
    assert {f.trade_id for f in fills} <= {f.trade_id for f in again}  # the same ids each time


async def test_a_long_pays_positive_funding_once_per_funding_time(harness: Harness) -> None:
    await harness.venue.submit(intent(harness, Side.BUY, harness.contracts("0.5")))
    assert await harness.venue.funding_payments(0, [harness.symbol]) == []
    harness.settle_funding()
    [payment] = await harness.venue.funding_payments(0, [harness.symbol])
    assert (payment.symbol, payment.currency) == (harness.symbol, harness.settle)
    assert payment.amount < 0 and payment.payment_id  # rate > 0: longs pay
    usd = -payment.amount * (harness.mark() if harness.inverse else 1)
    assert Decimal("0.001") < usd < Decimal("1")  # 0.5 ETH x ~3000 x a small rate
    harness.settle_funding()
    second = await harness.venue.funding_payments(0, [harness.symbol])
    assert len(second) == 2 and len({p.payment_id for p in second}) == 2


async def test_a_trade_by_hand_is_an_execution_too(harness: Harness) -> None:
    await harness.trade_by_hand("sell", harness.contracts("0.2"))
    assert await position_of(harness) == -harness.contracts("0.2")
    [fill] = await harness.venue.fills([harness.symbol], 0)
    assert fill.side is Side.SELL and fill.amount == harness.contracts("0.2") and fill.fee > 0


async def test_a_forced_close_is_reported(harness: Harness) -> None:
    if harness.force_close is None:  # the paper venue never liquidates
        assert await harness.venue.liquidations(0, [harness.symbol]) == []
        return
    await harness.venue.submit(intent(harness, Side.SELL, harness.contracts("0.4")))
    harness.force_close()
    assert await position_of(harness) == 0
    fills = await harness.venue.fills([harness.symbol], 0)
    assert [f.side for f in fills] == [Side.SELL, Side.BUY]
    assert fills[1].client_id == ""  # the venue's order, not ours
    forced = await harness.venue.liquidations(0, [harness.symbol])
    if harness.reports_liquidations:
        [one] = forced
        assert (one.symbol, one.contracts, one.kind) == (
            harness.symbol,
            harness.contracts("0.4"),
            "liquidation",
        )
    else:
        assert forced == []  # seen as an execution without our client id, and as drift


async def test_account_state_is_one_way_with_a_balance(harness: Harness) -> None:
    state = await harness.venue.account_state([harness.symbol])
    assert state.venue == harness.venue.name and state.position_mode == "one_way"
    assert any(v > 0 for v in state.balances.values())
    assert [s.symbol for s in state.symbols] == [harness.symbol]


async def test_leverage_is_set_where_the_venue_lets_an_api_key(harness: Harness) -> None:
    if not harness.leverage_settable:
        with pytest.raises(ConfigError, match=r"venue\.leverage"):
            await harness.venue.configure(harness.symbol, Decimal(4), None)
        return
    await harness.venue.configure(harness.symbol, Decimal(4), "cross")
    await harness.venue.submit(intent(harness, Side.BUY, harness.contracts("0.1")))
    [setup] = (await harness.venue.account_state([harness.symbol])).symbols
    assert setup.leverage == 4


# ---- the venue's faults, on every ccxt venue: each in its branch of our error tree --------


@pytest.fixture(params=venues.VENUES)
async def rig(request: pytest.FixtureRequest, clock: FixedClock) -> AsyncIterator[Harness]:
    async with venues.emulator(request.param, clock, balance=Decimal(20000)) as emu:
        venue = venues.ccxt_venue(emu, clock, timeout_ms=10_000)
        await venue.instruments([venues.SPECS[request.param].symbol])
        # the faults below time out fast; loading markets on a busy machine need not
        venue._ex.timeout = 500
        yield ccxt_harness(emu, venue, clock)
        await venue.close()


def _fault(h: Harness, kind: str, **kw: Any) -> Fault:
    spec = venues.SPECS[h.name]
    paths = (spec.order_path.replace("/buy", "/sell"),)
    return Fault(kind, spec.order_method, spec.order_path, also=paths, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["http429", "http5xx"])
async def test_rate_limits_and_5xx_are_venue_unavailable_and_send_nothing(
    rig: Harness, kind: str
) -> None:
    assert rig.emu is not None
    rig.emu.inject(_fault(rig, kind))
    sent = intent(rig, Side.BUY, rig.contracts("0.1"))
    with pytest.raises(VenueUnavailable):
        await rig.venue.submit(sent)
    assert await rig.venue.order_by_client_id(rig.symbol, sent.client_id) is None


async def test_a_timeout_after_accept_is_unavailable_and_the_order_is_found_once(
    rig: Harness,
) -> None:
    assert rig.emu is not None
    rig.emu.inject(_fault(rig, "timeout_after_accept", delay_s=1.0))
    sent = intent(rig, Side.SELL, rig.contracts("0.1"))
    with pytest.raises(VenueUnavailable):
        await rig.venue.submit(sent)
    found = await rig.venue.order_by_client_id(rig.symbol, sent.client_id)
    assert found is not None and found.filled == sent.amount
    assert len(rig.emu.account.orders) == 1


async def test_a_wrong_secret_needs_an_operator(rig: Harness, clock: FixedClock) -> None:
    assert rig.emu is not None
    wrong = "0x" + "1" * 64 if rig.name == "hyperliquid" else "wrong-" + venues.API_SECRET
    venue = venues.ccxt_venue(rig.emu, clock, **_secret(rig.name, wrong))
    try:
        with pytest.raises(NeedsOperator):
            await venue.submit(intent(rig, Side.BUY, rig.contracts("0.1")))
    finally:
        await venue.close()
    assert rig.emu.account.orders == {}


def _secret(name: str, value: str) -> dict[str, Any]:
    key = "private_key" if name == "hyperliquid" else "secret"
    return {key: SecretStr(value)}


async def test_an_unknown_symbol_names_the_fix(rig: Harness) -> None:
    bad = OrderIntent(
        "p",
        0,
        rig.name,
        "DOGE/USDT:USDT",
        Side.BUY,
        Decimal(1),
        Decimal(1),
        False,
        "d" * 32,
        "t",
        Decimal(1),
    )
    with pytest.raises(ConfigError, match="unified"):
        await rig.venue.submit(bad)
