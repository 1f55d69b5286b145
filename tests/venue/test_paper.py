"""PaperVenue specifics: book walking, fees, funding arithmetic, and restart from what the
engine recorded (the paper venue itself writes nothing)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import ETH

from bot.clock import FixedClock
from bot.domain.orders import OrderIntent, OrderStatus, Side
from bot.errors import InputError, Rejected
from bot.execution import OrderExecutor
from bot.execution.account_sync import AccountSync
from bot.ledger.store import Ledger
from bot.venues.paper import PaperVenue
from bot.venues.profiles import PROFILES
from bot.venues.replay_market import ReplayMarketData


def order(cid: str, side: Side, amount: str, reduce_only: bool = False) -> OrderIntent:
    return OrderIntent(
        "p",
        0,
        "paper",
        ETH,
        side,
        Decimal(amount),
        Decimal(amount),
        reduce_only,
        cid,
        "test",
        Decimal(3000),
    )


async def test_market_order_walks_the_book_and_cancels_the_rest(
    replay: ReplayMarketData, clock: FixedClock
) -> None:
    replay.levels, replay.level_amount = 3, Decimal(1)  # 3 ETH of asks in all
    venue = PaperVenue("paper", replay, None, clock)
    book = await replay.order_book(ETH)
    ack = await venue.submit(order("a" * 32, Side.BUY, "4"))
    assert ack.status is OrderStatus.CANCELED and ack.filled == 3
    assert [f.price for f in ack.fills] == [lvl.price for lvl in book.asks]
    assert ack.average_price == sum(lvl.price for lvl in book.asks) / 3
    assert ack.fee == sum(f.amount * f.price for f in ack.fills) * Decimal("0.0005")
    assert venue.balance_usd == Decimal(10000) - ack.fee
    [pos] = await venue.positions()
    assert pos.contracts == 3


async def test_round_trip_realises_the_spread_and_fees(
    replay: ReplayMarketData, clock: FixedClock
) -> None:
    venue = PaperVenue("paper", replay, None, clock)
    buy = await venue.submit(order("b" * 32, Side.BUY, "1"))
    sell = await venue.submit(order("c" * 32, Side.SELL, "1", reduce_only=True))
    assert buy.average_price is not None and sell.average_price is not None
    pnl = sell.average_price - buy.average_price
    assert venue.balance_usd == Decimal(10000) + pnl - buy.fee - sell.fee
    assert await venue.positions() == []


async def test_funding_is_minus_base_times_mark_times_rate(
    replay: ReplayMarketData, clock: FixedClock
) -> None:
    venue = PaperVenue("paper", replay, None, clock)
    await venue.submit(order("d" * 32, Side.SELL, "2"))
    start = venue.balance_usd
    clock.advance(16 * 3600)  # two funding times pass
    payments = await venue.funding_payments(0)
    assert len(payments) == 2
    mark = replay.mark(ETH)
    assert all(p.amount == 2 * mark * Decimal("0.0001") for p in payments)  # shorts receive
    assert all(p.ts_ms % (8 * 3600 * 1000) == 0 for p in payments)
    assert venue.balance_usd == start + sum(p.amount for p in payments)


async def test_insufficient_margin_is_rejected(replay: ReplayMarketData, clock: FixedClock) -> None:
    venue = PaperVenue("paper", replay, None, clock, Decimal(100))
    replay.level_amount = Decimal(100)
    with pytest.raises(Rejected, match="margin"):
        await venue.submit(order("e" * 32, Side.BUY, "1"))  # 3000 USD at 10x needs 300


async def test_a_restarted_paper_venue_continues_from_the_ledger(
    replay: ReplayMarketData, clock: FixedClock, ledger: Ledger
) -> None:
    first = PaperVenue("paper", replay, ledger, clock)
    sync = AccountSync(first, ledger, clock, "r1", start_ms=0)
    [ack] = await OrderExecutor(first, ledger, clock, "r1").execute(
        [order("1" * 32, Side.BUY, "0.5")]
    )
    clock.advance(8 * 3600)
    written = await sync.poll([ETH])
    paid = await first.funding_payments(0)
    assert len(paid) == 1 and list(written.funding) == paid
    balance = first.balance_usd
    again = await PaperVenue.restore("paper", replay, ledger, clock)
    assert again.balance_usd == balance
    assert await again.positions() == await first.positions()
    assert await again.order_by_client_id(ETH, "1" * 32) == ack
    assert await again.funding_payments(0) == paid
    with pytest.raises(Rejected, match="already used"):  # the same intent is never filled twice
        await again.submit(order("1" * 32, Side.BUY, "0.5"))
    fills = [e for e in ledger.events(["fill"]) if e.payload["client_id"] == "1" * 32]
    assert len(fills) == len(ack.fills)
    other = PaperVenue("paper-b", replay, ledger, clock)  # another paper account: its own state
    assert await other.positions() == []


async def test_the_paper_venue_writes_nothing_to_the_ledger(
    replay: ReplayMarketData, clock: FixedClock, ledger: Ledger
) -> None:
    venue = PaperVenue("paper", replay, ledger, clock)
    await venue.submit(order("2" * 32, Side.SELL, "0.3"))
    clock.advance(8 * 3600)
    assert len(await venue.funding_payments(0)) == 1
    assert ledger.events() == []
    again = PaperVenue("paper", replay, ledger, clock)  # nothing recorded: it never happened
    assert await again.positions() == []


def test_client_ids_per_venue_profile() -> None:
    base = "0123456789abcdef0123456789abcdef"
    forms = {name: p.client_id.validate(name, base) for name, p in PROFILES.items()}
    assert forms == {
        "binanceusdm": base,
        "bybit": base,
        "okx": base,
        "hyperliquid": "0x" + base,
        "deribit": base,
    }
    assert PROFILES["hyperliquid"].client_id.from_venue("0x" + base) == base
    with pytest.raises(InputError, match="clOrdId"):
        PROFILES["okx"].client_id.validate("okx", "not-hex-" + base)
