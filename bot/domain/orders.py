"""Decisions as data: hedge targets, order intents and what venues answer.

An `OrderIntent` is a value that can be logged before it is sent, replayed and tested.
Signed quantities: positive = long, negative = short, in units of the base asset
(`_base`) or in venue contracts (`contracts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderStatus(StrEnum):
    PENDING = "pending"  # intent recorded, not yet acknowledged
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self in (
            OrderStatus.FILLED,
            OrderStatus.CANCELED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        )


@dataclass(frozen=True, slots=True)
class HedgePosition:
    """A position held on a venue. `contracts` signed; `size_base` signed, in the asset."""

    venue: str
    symbol: str
    asset: str
    contracts: Decimal
    size_base: Decimal
    entry_price: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    liquidation_price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class HedgeTarget:
    """Where a strategy wants the hedge of one asset: a signed base quantity on an instrument.

    `target_base` is the desired total hedge (e.g. -1.5 ETH short). `reason` is shown to
    the trader and stored in the ledger.
    """

    asset: str
    symbol: str
    target_base: Decimal
    reason: str
    act: bool = True


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """One order the planner wants placed, before any venue has seen it.

    `amount` is in venue contracts (already rounded to the market's step);
    `amount_base` the same in base units. `client_id` is deterministic per plan, leg
    and attempt so a retry after a crash finds, not duplicates, the order.
    """

    plan_id: str
    leg: int
    venue: str
    symbol: str
    side: Side
    amount: Decimal
    amount_base: Decimal
    reduce_only: bool
    client_id: str
    reason: str
    decision_price: Decimal
    order_type: str = "market"
    limit_price: Decimal | None = None
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class SkippedLeg:
    """A leg the planner did not turn into an order, and why (below min amount, ...)."""

    asset: str
    symbol: str
    wanted_base: Decimal
    reason: str


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. `fee` is in `fee_currency` (USDT, ETH, ...). `amount` in contracts;
    `amount_base` the same in the asset (contracts x contract size; USD / price for inverse
    perps counted in USD), where the venue adapter knows it: a fill not placed by the bot has
    no intent to take the ratio from."""

    client_id: str
    venue_order_id: str
    trade_id: str
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    ts_ms: int
    venue: str = ""
    amount_base: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderAck:
    """What the venue says of an order now."""

    client_id: str
    venue_order_id: str
    symbol: str
    side: Side
    status: OrderStatus
    amount: Decimal
    filled: Decimal
    average_price: Decimal | None
    fee: Decimal = Decimal(0)
    fee_currency: str = ""
    fills: tuple[Fill, ...] = ()
    ts_ms: int = 0
    info: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """Funding paid (negative) or received (positive), in `currency`."""

    venue: str
    symbol: str
    amount: Decimal
    currency: str
    rate: Decimal
    ts_ms: int
    payment_id: str


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One appended ledger row: a kind, its JSON payload and its place in the hash chain."""

    seq: int
    ts_ms: int
    run_id: str | None
    kind: str
    payload: Mapping[str, object]
    hash: str = ""
