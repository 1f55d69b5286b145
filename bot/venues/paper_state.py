"""The paper account: balance, coin cash, positions, and what it reports as account events.

Pure bookkeeping. `apply_fill`, `apply_funding` and `apply_settlement` are the only ways the
account changes, used both while trading and when the account is rebuilt from the ledger's
events on restart (`paper_restore`), so the two can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain.events import OptionSettlement
from bot.domain.market import Instrument, InstrumentKind
from bot.domain.orders import Fill, FundingPayment, OrderAck, Side
from bot.venues.paper_book import PaperPosition
from bot.venues.paper_options import USD_LIKE


@dataclass
class PaperAccount:
    """Balance (USD), cash in other currencies (ETH premiums of inverse options), positions
    per symbol (perps and options), how far funding is settled (ms), and the account events
    it has produced: fills, funding payments and option settlements."""

    balance: Decimal
    funded_until_ms: int
    positions: dict[str, PaperPosition] = field(default_factory=dict)
    next_order_id: int = 1
    cash: dict[str, Decimal] = field(default_factory=dict)
    orders: dict[str, OrderAck] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    funding: list[FundingPayment] = field(default_factory=list)
    settled: list[OptionSettlement] = field(default_factory=list)

    def credit(self, currency: str, amount: Decimal) -> None:
        if currency in USD_LIKE:
            self.balance += amount
        else:
            self.cash[currency] = self.cash.get(currency, Decimal(0)) + amount

    def apply_fill(self, fill: Fill, inst: Instrument) -> None:
        """A perp fill realises PnL and pays its fee; an option fill moves the premium."""
        signed = fill.amount if fill.side is Side.BUY else -fill.amount
        pos = self.positions.get(fill.symbol, PaperPosition())
        new_pos, pnl = pos.apply(signed, fill.price, inst.contract_size)
        self.positions[fill.symbol] = new_pos
        if inst.kind is InstrumentKind.OPTION:
            self.credit(inst.settle, -signed * fill.price - fill.fee)
        else:
            self.balance += pnl - fill.fee
        self.fills.append(fill)
        number = fill.venue_order_id.removeprefix("paper-")
        if number.isdigit():
            self.next_order_id = max(self.next_order_id, int(number) + 1)

    def apply_funding(self, payment: FundingPayment) -> None:
        self.balance += payment.amount
        self.funding.append(payment)
        self.funded_until_ms = max(self.funded_until_ms, payment.ts_ms)

    def apply_settlement(self, settled: OptionSettlement) -> None:
        self.credit(settled.currency, settled.payout)
        self.positions.pop(settled.symbol, None)
        self.settled.append(settled)
