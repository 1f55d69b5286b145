"""The emulated venue's account: markets, orders, positions, balance and funding.

Dialect modules (binance.py, bybit.py) parse native requests into calls here and render
the results in the venue's JSON. Market orders fill at once at the mark plus a fixed
half-spread; that is all the contract tests need of a matching engine.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal


class VenueReject(Exception):
    """A venue-side rejection; `reason` is a key the dialect maps to its own error code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Market:
    """One perp market. Quantities in base units (contract size 1 on Binance/Bybit)."""

    symbol: str
    base: str
    quote: str
    mark: Decimal
    qty_step: Decimal = Decimal("0.001")
    min_qty: Decimal = Decimal("0.001")
    max_qty: Decimal = Decimal(10000)
    tick: Decimal = Decimal("0.01")
    min_notional: Decimal = Decimal(20)
    funding_rate: Decimal = Decimal("0.0001")
    half_spread_bps: Decimal = Decimal(1)


@dataclass
class Order:
    order_id: int
    client_id: str
    symbol: str
    side: str  # "BUY" | "SELL"
    qty: Decimal
    order_type: str
    reduce_only: bool
    time_ms: int
    status: str = "NEW"  # NEW | FILLED | CANCELED
    executed: Decimal = Decimal(0)
    avg_price: Decimal = Decimal(0)
    price: Decimal = Decimal(0)


@dataclass
class Position:
    qty: Decimal = Decimal(0)  # signed base units
    entry: Decimal = Decimal(0)


@dataclass
class Income:
    tran_id: int
    symbol: str
    kind: str  # FUNDING_FEE | COMMISSION | REALIZED_PNL
    amount: Decimal
    asset: str
    time_ms: int
    rate: Decimal = Decimal(0)


@dataclass
class Account:
    markets: dict[str, Market]
    balance: Decimal = Decimal(10000)
    leverage: Decimal = Decimal(20)
    taker_fee: Decimal = Decimal("0.0005")
    orders: dict[int, Order] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    incomes: list[Income] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(8389765))

    def market(self, symbol: str) -> Market:
        if symbol not in self.markets:
            raise VenueReject("bad_symbol", symbol)
        return self.markets[symbol]

    def by_client_id(self, symbol: str | None, client_id: str) -> Order | None:
        for order in self.orders.values():
            if order.client_id == client_id and symbol in (None, order.symbol):
                return order
        return None

    def position(self, symbol: str) -> Position:
        return self.positions.setdefault(symbol, Position())

    def place(
        self,
        *,
        symbol: str,
        side: str,
        qty: Decimal,
        order_type: str,
        reduce_only: bool,
        client_id: str,
        price: Decimal,
        now_ms: int,
    ) -> Order:
        """Validate like the venue does, then store and (for market orders) fill."""
        market = self.market(symbol)
        if client_id and self.by_client_id(symbol, client_id) is not None:
            raise VenueReject("duplicate_client_id", client_id)
        if qty < market.min_qty or qty % market.qty_step != 0:
            raise VenueReject("bad_quantity", str(qty))
        pos = self.position(symbol)
        signed = qty if side == "BUY" else -qty
        reduces = pos.qty != 0 and (pos.qty > 0) != (signed > 0) and qty <= abs(pos.qty)
        if reduce_only and not reduces:
            raise VenueReject("reduce_only")
        if not reduce_only and qty * market.mark < market.min_notional:
            raise VenueReject("min_notional", str(market.min_notional))
        if not reduces and qty * market.mark / self.leverage > self.available():
            raise VenueReject("margin")
        order = Order(
            next(self._ids),
            client_id,
            symbol,
            side,
            qty,
            order_type,
            reduce_only,
            now_ms,
            price=price,
        )
        self.orders[order.order_id] = order
        if order_type == "MARKET":
            self._fill(order, market, now_ms)
        return order

    def available(self) -> Decimal:
        used = sum(
            (abs(p.qty) * self.markets[s].mark / self.leverage for s, p in self.positions.items()),
            Decimal(0),
        )
        return self.balance + self.unrealized() - used

    def unrealized(self) -> Decimal:
        return sum(
            ((self.markets[s].mark - p.entry) * p.qty for s, p in self.positions.items()),
            Decimal(0),
        )

    def _fill(self, order: Order, market: Market, now_ms: int) -> None:
        sign = 1 if order.side == "BUY" else -1
        price = market.mark * (1 + sign * market.half_spread_bps / Decimal(10000))
        price = price.quantize(market.tick)
        order.status, order.executed, order.avg_price = "FILLED", order.qty, price
        pos = self.position(order.symbol)
        signed = sign * order.qty
        if pos.qty == 0 or (pos.qty > 0) == (signed > 0):
            total = pos.qty + signed
            pos.entry = (pos.entry * abs(pos.qty) + price * order.qty) / abs(total)
            pos.qty = total
        else:
            closed = min(abs(signed), abs(pos.qty))
            pnl = (price - pos.entry) * closed * (1 if pos.qty > 0 else -1)
            self._income(order.symbol, "REALIZED_PNL", pnl, now_ms)
            pos.qty += signed
            if pos.qty == 0:
                pos.entry = Decimal(0)
            elif (pos.qty > 0) == (signed > 0):
                pos.entry = price
        self._income(order.symbol, "COMMISSION", -order.qty * price * self.taker_fee, now_ms)

    def _income(
        self, symbol: str, kind: str, amount: Decimal, now_ms: int, rate: Decimal = Decimal(0)
    ) -> None:
        self.balance += amount
        market = self.markets[symbol]
        self.incomes.append(
            Income(next(self._ids), symbol, kind, amount, market.quote, now_ms, rate)
        )

    def cancel(self, order: Order) -> None:
        if order.status != "NEW":
            raise VenueReject("not_cancelable", str(order.order_id))
        order.status = "CANCELED"

    def settle_funding(self, now_ms: int) -> None:
        """Pay funding on every open position at its market's rate: longs pay when rate > 0."""
        for symbol, pos in self.positions.items():
            if pos.qty != 0:
                market = self.markets[symbol]
                amount = -pos.qty * market.mark * market.funding_rate
                self._income(symbol, "FUNDING_FEE", amount, now_ms, market.funding_rate)
