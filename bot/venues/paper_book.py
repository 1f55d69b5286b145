"""The paper venue's pure arithmetic: walking a book, and a position's entry and realised PnL.

Linear (USD-margined) contracts: base = contracts * contract_size, PnL and fees in the
settle currency, which the paper account counts as USD. Options keep the same position
record (contracts and average premium); their premium moves cash (`paper_options`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.market import BookLevel, OrderBook
from bot.domain.orders import Side

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class BookWalk:
    """What a market order took from the book: (price, contracts) per level consumed."""

    takes: tuple[tuple[Decimal, Decimal], ...]

    @property
    def filled(self) -> Decimal:
        return sum((q for _, q in self.takes), ZERO)

    @property
    def average_price(self) -> Decimal | None:
        filled = self.filled
        if filled == 0:
            return None
        return sum((p * q for p, q in self.takes), ZERO) / filled


def walk_book(
    book: OrderBook, side: Side, amount: Decimal, limit: Decimal | None = None
) -> BookWalk:
    """Consume levels from the best price outward until `amount` contracts, the book's end,
    or (with `limit`) the first level priced beyond the limit (above it to buy, below to sell).
    """
    levels: tuple[BookLevel, ...] = book.asks if side is Side.BUY else book.bids
    takes = []
    remaining = amount
    for level in levels:
        if remaining <= 0:
            break
        if limit is not None and (level.price > limit if side is Side.BUY else level.price < limit):
            break
        take = min(remaining, level.amount)
        if take > 0:
            takes.append((level.price, take))
            remaining -= take
    return BookWalk(tuple(takes))


@dataclass(frozen=True, slots=True)
class PaperPosition:
    """Signed contracts and the average entry price of what is open."""

    contracts: Decimal = ZERO
    entry: Decimal = ZERO

    def reduces(self, signed: Decimal) -> bool:
        """True if an order of `signed` contracts only reduces this position (never flips)."""
        return (
            self.contracts != 0
            and (self.contracts > 0) != (signed > 0)
            and abs(signed) <= abs(self.contracts)
        )

    def apply(
        self, signed: Decimal, price: Decimal, contract_size: Decimal
    ) -> tuple[PaperPosition, Decimal]:
        """The position after trading `signed` contracts at `price`, and the realised PnL."""
        if self.contracts == 0 or (self.contracts > 0) == (signed > 0):
            total = self.contracts + signed
            entry = (self.entry * abs(self.contracts) + price * abs(signed)) / abs(total)
            return PaperPosition(total, entry), ZERO
        closed = min(abs(signed), abs(self.contracts))
        direction = 1 if self.contracts > 0 else -1
        pnl = (price - self.entry) * closed * contract_size * direction
        total = self.contracts + signed
        if total == 0:
            return PaperPosition(), pnl
        entry = self.entry if (total > 0) == (self.contracts > 0) else price
        return PaperPosition(total, entry), pnl
