"""The emulated venue's account: markets, orders, positions, balance and funding.

Dialect modules (binance.py, bybit.py, deribit.py) parse native requests into calls here and
render the results in the venue's JSON. Market orders fill at once at the mark plus a fixed
half-spread; that is all the contract tests need of a matching engine. Options are priced by
our Black-76 at a vol the test sets per market (test-fixture pricing) and trade as limit
orders against a static book around that mark: immediate-or-cancel fills up to the limit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from bot.options import black76

MS_PER_YEAR = 365 * 86_400_000
_E8 = Decimal("0.00000001")


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
class OptionMarket:
    """One listed option. `symbol` is the venue's name (ETH-28JUN24-3000-C on both Deribit
    and Bybit); `settle` the premium currency (ETH inverse on Deribit, USDC on Bybit)."""

    symbol: str
    base: str
    settle: str
    strike: Decimal
    expiry_ms: int
    call: bool
    vol: float  # Black-76 vol (fraction) the test sets: test-fixture pricing
    inverse: bool
    tick: Decimal
    tick_steps: tuple[tuple[Decimal, Decimal], ...] = ()  # (above_price, tick), Deribit
    qty_step: Decimal = Decimal(1)
    min_qty: Decimal = Decimal(1)
    max_qty: Decimal = Decimal(10000)
    contract_size: Decimal = Decimal(1)
    half_spread: Decimal = Decimal("0.02")  # fraction of the mark per book level
    depth: tuple[Decimal, ...] = (Decimal(5), Decimal(10), Decimal(20))
    band: Decimal = Decimal("0.5")  # limit prices beyond mark x (1 +/- band) are refused
    fee_rate: Decimal = Decimal("0.0003")  # of the underlying per contract
    fee_cap: Decimal = Decimal("0.125")  # of the premium
    quote_greeks: bool = True  # False: the ticker carries no greeks and no IV
    launch_ms: int = 0

    def tick_at(self, price: Decimal) -> Decimal:
        tick = self.tick
        for above, step in self.tick_steps:
            if price > above:
                tick = step
        return tick

    def on_grid(self, price: Decimal, up: bool) -> Decimal:
        tick = self.tick_at(price)
        rounding = ROUND_CEILING if up else ROUND_FLOOR
        return (price / tick).to_integral_value(rounding) * tick


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
    time_in_force: str = "GTC"
    fee: Decimal = Decimal(0)  # options: in the premium currency


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
    options: dict[str, OptionMarket] = field(default_factory=dict)
    option_positions: dict[str, Position] = field(default_factory=dict)
    underlying: dict[str, Decimal] = field(default_factory=dict)  # base -> USD index
    wallets: dict[str, Decimal] = field(default_factory=dict)  # premium currency -> balance
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

    # ---- options -------------------------------------------------------------------------

    def option(self, symbol: str, now_ms: int) -> OptionMarket:
        if symbol not in self.options:
            raise VenueReject("bad_symbol", symbol)
        om = self.options[symbol]
        if now_ms >= om.expiry_ms:
            raise VenueReject("expired", symbol)
        return om

    def option_greeks(self, om: OptionMarket, now_ms: int) -> black76.Greeks:
        """Black-76 per one unit of underlying, USD, black76's units (vega per 1.00 vol,
        theta per year): the dialect renders them in its venue's units."""
        forward = float(self.underlying[om.base])
        t_years = max((om.expiry_ms - now_ms) / MS_PER_YEAR, 0.0)
        return black76.greeks(forward, float(om.strike), t_years, om.vol, om.call)

    def option_mark(self, om: OptionMarket, now_ms: int) -> Decimal:
        """Premium per contract in the premium currency (coin for inverse), 8 decimals."""
        usd = Decimal(repr(self.option_greeks(om, now_ms).price)) * om.contract_size
        coin = usd / self.underlying[om.base] if om.inverse else usd
        return coin.quantize(_E8)

    def option_book(
        self, om: OptionMarket, now_ms: int
    ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """(bids, asks) as (price, contracts), best first: level i at mark x (1 -/+ (i+1) x
        half_spread) on the tick grid."""
        mark = self.option_mark(om, now_ms)
        bids, asks = [], []
        for i, size in enumerate(om.depth):
            offset = om.half_spread * (i + 1)
            bid = om.on_grid(mark * (1 - offset), up=False)
            if bid > 0:
                bids.append((bid, size))
            asks.append((om.on_grid(mark * (1 + offset), up=True), size))
        return bids, asks

    def option_fee(self, om: OptionMarket, price: Decimal, qty: Decimal) -> Decimal:
        """Taker fee: fee_rate of the underlying per contract, capped at fee_cap x premium."""
        per_unit = Decimal(1) if om.inverse else self.underlying[om.base]
        per_contract = min(om.fee_rate * per_unit * om.contract_size, om.fee_cap * price)
        return (per_contract * qty).quantize(_E8)

    def place_option(
        self,
        *,
        symbol: str,
        side: str,
        qty: Decimal,
        price: Decimal,
        time_in_force: str,
        client_id: str,
        now_ms: int,
        unique_client_id: bool = True,
        reduce_only: bool = False,
    ) -> Order:
        """A limit order on an option, validated as the venues do (instrument listed and not
        expired, lot, tick grid, price band, funds); IOC fills against the book up to the
        limit and cancels the rest."""
        om = self.option(symbol, now_ms)
        if unique_client_id and client_id and self.by_client_id(symbol, client_id):
            raise VenueReject("duplicate_client_id", client_id)
        if qty < om.min_qty or qty > om.max_qty or qty % om.qty_step != 0:
            raise VenueReject("bad_quantity", str(qty))
        if price <= 0 or price % om.tick_at(price) != 0:
            raise VenueReject("wrong_tick", f"{price} (tick {om.tick_at(price)})")
        mark = self.option_mark(om, now_ms)
        if price > mark * (1 + om.band):
            raise VenueReject("price_too_high", format(om.on_grid(mark * (1 + om.band), False)))
        if price < mark * (1 - om.band):
            raise VenueReject("price_too_low", format(om.on_grid(mark * (1 - om.band), True)))
        held = self.option_positions.get(symbol, Position()).qty
        signed = qty if side == "BUY" else -qty
        reduces = held != 0 and (held > 0) != (signed > 0) and qty <= abs(held)
        if reduce_only and not reduces:
            raise VenueReject("reduce_only")
        wallet = self.wallets.get(om.settle, Decimal(0))
        need = qty * price + self.option_fee(om, price, qty) if side == "BUY" else qty * mark
        if not reduces and need > wallet:
            raise VenueReject("margin", f"{need} {om.settle} > {wallet}")
        order = Order(
            next(self._ids),
            client_id,
            symbol,
            side,
            qty,
            "LIMIT",
            reduce_only,
            now_ms,
            price=price,
            time_in_force=time_in_force,
        )
        self.orders[order.order_id] = order
        self._fill_option(order, om, now_ms)
        if time_in_force in ("IOC", "FOK") and order.status == "NEW":
            order.status = "CANCELED"
        return order

    def _fill_option(self, order: Order, om: OptionMarket, now_ms: int) -> None:
        bids, asks = self.option_book(om, now_ms)
        buy = order.side == "BUY"
        remaining, cost = order.qty, Decimal(0)
        for level, size in asks if buy else bids:
            if remaining == 0 or (level > order.price if buy else level < order.price):
                break
            take = min(size, remaining)
            remaining -= take
            cost += take * level
        filled = order.qty - remaining
        if filled == 0:
            return
        order.executed = filled
        order.avg_price = (cost / filled).quantize(_E8).normalize()
        order.fee = self.option_fee(om, order.avg_price, filled)
        order.status = "FILLED" if remaining == 0 else "NEW"
        sign = 1 if buy else -1
        self.wallets[om.settle] = self.wallets.get(om.settle, Decimal(0)) - sign * cost - order.fee
        pos = self.option_positions.setdefault(order.symbol, Position())
        total = pos.qty + sign * filled
        if pos.qty == 0 or (pos.qty > 0) == (sign > 0):
            pos.entry = (pos.entry * abs(pos.qty) + cost) / abs(total)
        elif total != 0 and (total > 0) != (pos.qty > 0):
            pos.entry = order.avg_price
        pos.qty = total
        if total == 0:
            pos.entry = Decimal(0)
