"""CcxtMarketData against the emulator's public endpoints, and a PaperVenue filling on it."""

from __future__ import annotations

from decimal import Decimal

import ccxt.async_support as ccxt_async
from conftest import ETH

from bot.clock import FixedClock
from bot.domain.orders import OrderIntent, OrderStatus, Side
from bot.venues.ccxt_market import CcxtMarketData
from bot.venues.paper import PaperVenue
from tests.support.emulator import Emulator


async def test_marks_funding_and_book_from_the_venue(emulator: Emulator) -> None:
    urls = emulator.ccxt_urls(ccxt_async.binanceusdm().urls["api"])
    market = CcxtMarketData(
        "binanceusdm", clock=FixedClock(), urls_override=urls, enable_rate_limit=False
    )
    try:
        snap = await market.snapshot([ETH])
        quote = snap.quotes[ETH]
        assert quote.mark == Decimal(3000) and snap.prices["ETH"] == Decimal(3000)
        assert quote.funding_rate == Decimal("0.0001")
        assert quote.next_funding_ms and quote.next_funding_ms % (8 * 3600 * 1000) == 0
        book = await market.order_book(ETH, 5)
        assert len(book.bids) == len(book.asks) == 5
        assert book.bids[0].price < quote.mark < book.asks[0].price
        paper = PaperVenue("paper", market, None, FixedClock())
        ack = await paper.submit(
            OrderIntent(
                "p",
                0,
                "paper",
                ETH,
                Side.BUY,
                Decimal(1),
                Decimal(1),
                False,
                "9" * 32,
                "t",
                Decimal(3000),
            )
        )
        assert ack.status is OrderStatus.FILLED and ack.average_price == book.asks[0].price
    finally:
        await market.close()
