"""A paper bot on a dev chain whose venue marks ETH at the chain's own pool price, at a
clock just past the chain's last block (so the chain is fresh to the bot's guards)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot import exposure, wiring
from bot.clock import FixedClock
from bot.config import Settings
from bot.devchain.deploy import DevChain
from bot.domain.lp import ChainSnapshot
from bot.domain.market import BINANCE_ETHUSDT
from bot.venues.replay_market import PricePoint, ReplayMarketData


@dataclass
class PaperStart:
    snap: ChainSnapshot  # the positions as the bot will read them
    price: Decimal  # ETH in USD at the first USD-quoted pool read
    clock: FixedClock  # 2 s after the chain's latest block

    def market(self) -> ReplayMarketData:
        """ETHUSDT marked at `price`, 500 ETH a book level, on `clock`."""
        symbol = BINANCE_ETHUSDT.symbol
        return ReplayMarketData(
            {symbol: [PricePoint(0, self.price)]},
            {symbol: BINANCE_ETHUSDT},
            self.clock,
            level_amount=Decimal(500),
        )


async def paper_start(s: Settings, chain: DevChain) -> PaperStart:
    async with wiring.position_source(s) as source:
        snap = await source.read()
    book = exposure.book(snap, wiring.asset_map(s))
    price = next(e.price for e in book.positions if e.quote == "USD")
    ts = int(chain.w3.eth.get_block("latest")["timestamp"])
    return PaperStart(snap, price, FixedClock((ts + 2) * 1000))
