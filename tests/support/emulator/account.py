"""The emulated venue's account: markets, orders, positions, balance and funding.

Dialect modules (binance.py, bybit.py, okx.py, hyperliquid.py, deribit.py) parse native requests
into calls here and render the results in the venue's JSON. Market orders fill at once at the
mark plus a fixed half-spread (optionally in two trades, `Market.split_fills`); that is all the
contract tests need of a matching engine. Every execution is a `Trade` (fee, fee currency,
realised PnL), funding and fees are `Income` rows (the venue's account history), and the
account knows what real venues add around trading: contract sizes (OKX 0.1 ETH), inverse
perps counted in USD (Deribit), per-symbol leverage and margin mode, one-way or hedge
position mode, liquidations and ADL (`force_close`), and trades made behind the bot's back.
Options are priced by our Black-76 at a vol the test sets per market (test-fixture pricing)
and trade as limit orders against a static book around that mark: immediate-or-cancel fills
up to the limit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

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
    contract_size: Decimal = Decimal(1)  # base per contract; inverse: USD per contract
    inverse: bool = False  # quantities are USD contracts, margin and PnL in the base coin
    funding_period_ms: int = 8 * 3_600_000
    split_fills: bool = False  # market orders of >= 2 lots fill in two trades, one tick apart
    venue_symbol: str = ""  # the venue's own name when it differs from `symbol` (ETH-USDT-SWAP)

    @property
    def settle(self) -> str:
        return self.base if self.inverse else self.quote

    def notional(self, qty: Decimal, price: Decimal) -> Decimal:
        """USD value of `qty` contracts at `price`."""
        return abs(qty) * self.contract_size * (1 if self.inverse else price)

    def pnl(self, qty: Decimal, entry: Decimal, price: Decimal) -> Decimal:
        """PnL of `qty` signed contracts from `entry` to `price`, in the settle currency."""
        if qty == 0 or entry == 0:
            return Decimal(0)
        if self.inverse:
            return qty * self.contract_size * (1 / entry - 1 / price)
        return qty * self.contract_size * (price - entry)


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
    fee: Decimal = Decimal(0)  # in the settle (options: premium) currency, paid > 0
    position_side: str = "BOTH"  # hedge mode: LONG | SHORT
    kind: str = "trade"  # trade | liquidation | adl
    update_ms: int = 0


@dataclass
class Position:
    qty: Decimal = Decimal(0)  # signed base units
    entry: Decimal = Decimal(0)


@dataclass
class Trade:
    """One execution, as a venue's trades endpoint lists it. `fee` > 0 is paid."""

    trade_id: int
    order_id: int
    client_id: str
    symbol: str
    side: str  # BUY | SELL
    qty: Decimal  # contracts
    price: Decimal
    fee: Decimal
    fee_asset: str
    realized_pnl: Decimal
    time_ms: int
    maker: bool = False
    kind: str = "trade"  # trade | liquidation | adl
    position_side: str = "BOTH"
    closed_qty: Decimal = Decimal(0)  # of `qty`, what closed a held position (closedSize)


@dataclass
class Liquidation:
    """A forced close: the venue liquidated (or auto-deleveraged) part of a position."""

    order_id: int
    symbol: str
    side: str  # the side of the closing order
    qty: Decimal
    price: Decimal
    time_ms: int
    kind: str  # liquidation | adl


@dataclass
class Delivery:
    """An option position settled at expiry: cash `intrinsic` per contract at the delivery
    (index) price, `fee` charged, `pnl` realised against the entry (the venue's delivery RPL)."""

    symbol: str
    qty: Decimal  # signed contracts held at expiry
    entry: Decimal
    strike: Decimal
    price: Decimal  # delivery price (the underlying index)
    intrinsic: Decimal  # per contract, in the premium currency
    fee: Decimal
    pnl: Decimal
    time_ms: int


@dataclass
class Income:
    tran_id: int
    symbol: str
    kind: str  # FUNDING_FEE | COMMISSION | REALIZED_PNL
    amount: Decimal
    asset: str
    time_ms: int
    rate: Decimal = Decimal(0)
    trade_id: int = 0


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
    wallets: dict[str, Decimal] = field(default_factory=dict)  # coin -> balance (inverse, options)
    trades: list[Trade] = field(default_factory=list)
    liquidations: list[Liquidation] = field(default_factory=list)
    position_mode: str = "one_way"  # one_way | hedge
    leverages: dict[str, Decimal] = field(default_factory=dict)  # symbol -> leverage
    margin_modes: dict[str, str] = field(default_factory=dict)  # symbol -> cross | isolated
    hedge_positions: dict[tuple[str, str], Position] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    # the precision the venue books money in (fees, realised PnL, funding): Hyperliquid 1e-6
    # USDC, Binance 1e-8; None keeps exact amounts
    book_quantum: Decimal | None = None
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

    def position(self, symbol: str, position_side: str = "BOTH") -> Position:
        """The one-way position of `symbol`, or one side of it in hedge mode (SHORT < 0)."""
        if position_side in ("LONG", "SHORT"):
            return self.hedge_positions.setdefault((symbol, position_side), Position())
        return self.positions.setdefault(symbol, Position())

    def net_position(self, symbol: str) -> Decimal:
        """Signed contracts of `symbol`, both hedge-mode sides netted."""
        sides = (self.hedge_positions.get((symbol, s), Position()).qty for s in ("LONG", "SHORT"))
        return self.positions.get(symbol, Position()).qty + sum(sides, Decimal(0))

    def leverage_of(self, symbol: str) -> Decimal:
        return self.leverages.get(symbol, self.leverage)

    def margin_mode_of(self, symbol: str) -> str:
        return self.margin_modes.get(symbol, "cross")

    def set_position_mode(self, mode: str) -> None:
        """one_way | hedge; refused while any position or open order exists, as venues do."""
        if mode not in ("one_way", "hedge"):
            raise VenueReject("bad_param", mode)
        busy = any(p.qty for p in self.positions.values()) or any(
            p.qty for p in self.hedge_positions.values()
        )
        if mode != self.position_mode and (
            busy or any(o.status == "NEW" for o in self.orders.values())
        ):
            raise VenueReject("position_mode_busy", mode)
        self.position_mode = mode

    def set_leverage(self, symbol: str, leverage: Decimal) -> None:
        self.market(symbol)
        if not Decimal(1) <= leverage <= Decimal(125):
            raise VenueReject("bad_leverage", str(leverage))
        self.leverages[symbol] = leverage

    def set_margin_mode(self, symbol: str, mode: str) -> None:
        self.market(symbol)
        if mode not in ("cross", "isolated"):
            raise VenueReject("bad_param", mode)
        if mode != self.margin_mode_of(symbol) and self.net_position(symbol) != 0:
            raise VenueReject("margin_mode_busy", mode)
        self.margin_modes[symbol] = mode

    def trades_of(self, order: Order) -> list[Trade]:
        return [t for t in self.trades if t.order_id == order.order_id]

    def coin_balance(self, currency: str) -> Decimal:
        return (
            self.balance
            if currency in ("USDT", "USDC", "USD")
            else self.wallets.get(currency, Decimal(0))
        )

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
        time_in_force: str = "GTC",
        position_side: str = "BOTH",
        kind: str = "trade",
    ) -> Order:
        """Validate like the venue does, then store and (market or marketable IOC) fill.

        One-way mode takes `position_side` BOTH; hedge mode needs LONG or SHORT (a SELL on
        LONG or a BUY on SHORT reduces). `qty` is in contracts."""
        market = self.market(symbol)
        if client_id and self.by_client_id(symbol, client_id) is not None:
            raise VenueReject("duplicate_client_id", client_id)
        if qty < market.min_qty or qty % market.qty_step != 0 or qty > market.max_qty:
            raise VenueReject("bad_quantity", str(qty))
        hedge = self.position_mode == "hedge"
        if hedge != (position_side in ("LONG", "SHORT")):
            raise VenueReject("position_side", position_side)
        pos = self.position(symbol, position_side)
        signed = qty if side == "BUY" else -qty
        if hedge:
            reduces = (position_side == "LONG") == (side == "SELL") and qty <= abs(pos.qty)
            opens_wrong_way = not reduces and (position_side == "LONG") != (side == "BUY")
            if opens_wrong_way:
                raise VenueReject("reduce_only")
        else:
            reduces = pos.qty != 0 and (pos.qty > 0) != (signed > 0) and qty <= abs(pos.qty)
        if reduce_only and not reduces:
            raise VenueReject("reduce_only")
        fill_price = self._fill_price(market, side)
        if order_type == "LIMIT" and price <= 0:
            raise VenueReject("bad_price", str(price))
        if not reduces and market.notional(qty, market.mark) < market.min_notional:
            raise VenueReject("min_notional", str(market.min_notional))
        if not reduces and self._margin(market, qty) > self.available_in(market.settle):
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
            time_in_force=time_in_force,
            position_side=position_side,
            kind=kind,
            update_ms=now_ms,
        )
        self.orders[order.order_id] = order
        crosses = price >= fill_price if side == "BUY" else price <= fill_price
        if order_type == "MARKET" or (order_type == "LIMIT" and crosses):
            self._fill(order, market, now_ms, fill_price)
        elif time_in_force in ("IOC", "FOK"):
            order.status = "CANCELED"
        return order

    def _fill_price(self, market: Market, side: str) -> Decimal:
        sign = 1 if side == "BUY" else -1
        price = market.mark * (1 + sign * market.half_spread_bps / Decimal(10000))
        return price.quantize(market.tick)

    def _margin(self, market: Market, qty: Decimal) -> Decimal:
        """Initial margin of `qty` contracts, in the market's settle currency."""
        usd = market.notional(qty, market.mark) / self.leverage_of(market.symbol)
        return usd / market.mark if market.inverse else usd

    def _positions(self) -> list[tuple[str, Position]]:
        return [*self.positions.items(), *((k[0], p) for k, p in self.hedge_positions.items())]

    def available_in(self, currency: str) -> Decimal:
        """Free margin in `currency`: balance + unrealised PnL - initial margin in use."""
        total = self.coin_balance(currency)
        for symbol, pos in self._positions():
            m = self.markets[symbol]
            if m.settle == currency and pos.qty:
                total += m.pnl(pos.qty, pos.entry, m.mark) - self._margin(m, pos.qty)
        return total

    def available(self) -> Decimal:
        return self.available_in(
            "USDT" if any(m.quote == "USDT" for m in self.markets.values()) else "USDC"
        )

    def unrealized(self, currency: str | None = None) -> Decimal:
        return sum(
            (
                self.markets[s].pnl(p.qty, p.entry, self.markets[s].mark)
                for s, p in self._positions()
                if currency in (None, self.markets[s].settle)
            ),
            Decimal(0),
        )

    def _fill(self, order: Order, market: Market, now_ms: int, price: Decimal) -> None:
        """Execute the whole order at `price` (two trades, one tick apart, when the market
        splits fills): position, realised PnL and fee per trade, as the venue books them."""
        lots = order.qty / market.qty_step
        if market.split_fills and lots >= 2:
            first = (lots // 2) * market.qty_step
            sign = 1 if order.side == "BUY" else -1
            parts = [(first, price), (order.qty - first, price + sign * market.tick)]
        else:
            parts = [(order.qty, price)]
        cost = Decimal(0)
        for qty, px in parts:
            self._trade(order, market, qty, px, now_ms)
            cost += qty * px
        order.status, order.executed = "FILLED", order.qty
        order.avg_price = cost / order.qty
        order.update_ms = now_ms

    def _trade(
        self, order: Order, market: Market, qty: Decimal, price: Decimal, now_ms: int
    ) -> None:
        pos = self.position(order.symbol, order.position_side)
        signed = qty if order.side == "BUY" else -qty
        pnl = closed = Decimal(0)
        if pos.qty == 0 or (pos.qty > 0) == (signed > 0):
            total = pos.qty + signed
            if market.inverse:  # the average entry of an inverse position is harmonic
                pos.entry = (
                    abs(total) / (abs(pos.qty) / pos.entry + qty / price) if pos.qty else price
                )
            else:
                pos.entry = (pos.entry * abs(pos.qty) + price * qty) / abs(total)
            pos.qty = total
        else:
            closed = min(abs(signed), abs(pos.qty))
            pnl = market.pnl(closed if pos.qty > 0 else -closed, pos.entry, price)
            pos.qty += signed
            if pos.qty == 0:
                pos.entry = Decimal(0)
            elif (pos.qty > 0) == (signed > 0):
                pos.entry = price
        fee = market.notional(qty, price) * self.taker_fee
        if market.inverse:
            fee = fee / price
        fee, pnl = self._booked(fee), self._booked(pnl)
        trade = Trade(
            next(self._ids),
            order.order_id,
            order.client_id,
            order.symbol,
            order.side,
            qty,
            price,
            fee,
            market.settle,
            pnl,
            now_ms,
            kind=order.kind,
            position_side=order.position_side,
            closed_qty=closed,
        )
        self.trades.append(trade)
        order.fee += fee
        if pnl:
            self._income(order.symbol, "REALIZED_PNL", pnl, now_ms, trade_id=trade.trade_id)
        self._income(order.symbol, "COMMISSION", -fee, now_ms, trade_id=trade.trade_id)

    def _booked(self, amount: Decimal) -> Decimal:
        """`amount` as the venue books it (rounded half-even to `book_quantum`)."""
        if self.book_quantum is None:
            return amount
        return amount.quantize(self.book_quantum, ROUND_HALF_EVEN)

    def _income(
        self,
        symbol: str,
        kind: str,
        amount: Decimal,
        now_ms: int,
        rate: Decimal = Decimal(0),
        trade_id: int = 0,
    ) -> None:
        market = self.markets[symbol]
        if market.inverse:
            self.wallets[market.settle] = self.wallets.get(market.settle, Decimal(0)) + amount
        else:
            self.balance += amount
        self.incomes.append(
            Income(next(self._ids), symbol, kind, amount, market.settle, now_ms, rate, trade_id)
        )

    def cancel(self, order: Order) -> None:
        if order.status != "NEW":
            raise VenueReject("not_cancelable", str(order.order_id))
        order.status = "CANCELED"

    def settle_funding(self, now_ms: int) -> None:
        """Pay funding on every open position at its market's rate: longs pay when rate > 0.
        Linear: qty x contract x mark x rate in the quote; inverse: USD x rate / mark in coin."""
        for symbol, pos in self._positions():
            if pos.qty != 0:
                market = self.markets[symbol]
                value = market.notional(pos.qty, market.mark)
                if market.inverse:
                    value = value / market.mark
                amount = -(1 if pos.qty > 0 else -1) * value * market.funding_rate
                amount = self._booked(amount)
                self._income(symbol, "FUNDING_FEE", amount, now_ms, market.funding_rate)

    def force_close(
        self,
        symbol: str,
        now_ms: int,
        *,
        kind: str = "liquidation",
        qty: Decimal | None = None,
        price: Decimal | None = None,
        client_id: str = "",
    ) -> Order:
        """The venue closes (part of) a position itself: a liquidation or an ADL. The order
        and its trade are the venue's, not the bot's; `liquidations` records it."""
        pos = self.position(symbol)
        if pos.qty == 0:
            raise VenueReject("reduce_only")
        amount = abs(pos.qty) if qty is None else qty
        side = "SELL" if pos.qty > 0 else "BUY"
        market = self.market(symbol)
        order = Order(
            next(self._ids),
            client_id,
            symbol,
            side,
            amount,
            "MARKET",
            True,
            now_ms,
            kind=kind,
            update_ms=now_ms,
        )
        self.orders[order.order_id] = order
        self._fill(order, market, now_ms, price if price is not None else market.mark)
        self.liquidations.append(
            Liquidation(order.order_id, symbol, side, amount, order.avg_price, now_ms, kind)
        )
        return order

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

    def deliver_options(
        self, now_ms: int, fee_rate: Decimal = Decimal("0.00015")
    ) -> list[Delivery]:
        """Settle every option position whose expiry has passed, as Bybit and Deribit do: cash
        the intrinsic value at the index (the delivery price) to the holder, from the writer;
        the fee, fee_rate of the underlying per contract capped at fee_cap x the option's
        value, is charged only in the money. The positions close; `deliveries` records them."""
        done = []
        for symbol, pos in self.option_positions.items():
            om = self.options[symbol]
            if pos.qty == 0 or om.expiry_ms > now_ms:
                continue
            index = self.underlying[om.base]
            usd = max(index - om.strike if om.call else om.strike - index, Decimal(0))
            intrinsic = (usd / index if om.inverse else usd) * om.contract_size
            per_unit = Decimal(1) if om.inverse else index
            fee = min(fee_rate * per_unit * om.contract_size, om.fee_cap * intrinsic)
            fee = (fee * abs(pos.qty)).quantize(_E8)
            pnl = (intrinsic - pos.entry) * pos.qty - fee
            self.wallets[om.settle] = (
                self.wallets.get(om.settle, Decimal(0)) + intrinsic * pos.qty - fee
            )
            done.append(
                Delivery(symbol, pos.qty, pos.entry, om.strike, index, intrinsic, fee, pnl, now_ms)
            )
            pos.qty, pos.entry = Decimal(0), Decimal(0)
        self.deliveries += done
        return done

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
