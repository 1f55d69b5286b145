"""PaperVenue: the same Venue port as a real exchange, filled against a market-data book.

Market orders walk the book of `market` (a live venue's public book or a replayed one):
levels are consumed from the best price outward; if the book runs out the order fills
partially and the remainder is canceled (status `canceled`, `filled` < `amount`). The taker
fee of the instrument is charged on the notional. Funding settles at every funding time
(8 h: 00/08/16 UTC, or the venue's period) from the quote's rate and mark: payment =
-position_base * mark * rate.

Like a real venue it reports what happened as account events (`fills`, `funding_payments`,
`settlements`) and writes nothing: the engine records them. On start the account is rebuilt
from those records (`paper_restore`), so a restart continues where the last run stopped.
Perps: linear (USD-margined) only; one-way position mode, cross margin, a leverage per
symbol (default `leverage`).

Options (instrument kind OPTION): limit immediate-or-cancel orders fill against the option
book up to the limit price; what is beyond it is canceled (nothing within it: canceled with
the best price in the reason). The premium per contract moves cash in the premium currency
(USD-like currencies are the USD balance, ETH for inverse options is held beside it) with
Deribit's taker fee (`paper_options.option_fee`). On the first call at or after an option's
expiry it is cash-settled against the underlying's price then: payout into cash, position
removed, and an `OptionSettlement` among its account events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from bot.domain.account import AccountState, Liquidation, SymbolSetup
from bot.domain.events import OptionSettlement
from bot.domain.market import Instrument, InstrumentKind
from bot.domain.orders import (
    Fill,
    FundingPayment,
    HedgePosition,
    OrderAck,
    OrderIntent,
    OrderStatus,
    Side,
)
from bot.errors import ConfigError, InsufficientFunds, Rejected
from bot.ports import Clock, LedgerReader, MarketData
from bot.venues.paper_book import BookWalk, PaperPosition, walk_book
from bot.venues.paper_options import (
    check_option_order,
    ioc_reason,
    option_fee,
    settlement,
    short_margin_usd,
    to_usd,
)
from bot.venues.paper_restore import restore
from bot.venues.paper_state import PaperAccount
from bot.venues.replay_market import FUNDING_PERIOD_MS

BOOK_DEPTH = 100


class PaperVenue:
    """A simulated account, rebuilt from `ledger` (read only) on first use."""

    def __init__(
        self,
        name: str,
        market: MarketData,
        ledger: LedgerReader | None,
        clock: Clock,
        starting_balance_usd: Decimal = Decimal(10000),
        *,
        leverage: Decimal = Decimal(10),
        price_symbols: Mapping[str, str] | None = None,
        option_fee_cap: Decimal = Decimal("0.125"),
        funding_period_ms: int = FUNDING_PERIOD_MS,
    ) -> None:
        self.name = name
        self._market = market
        self._ledger = ledger
        self._clock = clock
        self._start_balance = starting_balance_usd
        self._leverage = leverage
        self._leverages: dict[str, Decimal] = {}
        self._price_symbols = dict(price_symbols or {})  # asset -> symbol that prices it
        self._fee_cap = option_fee_cap
        self._funding_period_ms = funding_period_ms
        self._instruments: dict[str, Instrument] = {}
        self._account: PaperAccount | None = None

    @classmethod
    async def restore(
        cls, name: str, market: MarketData, ledger: LedgerReader, clock: Clock, **kw: Any
    ) -> PaperVenue:
        """The paper venue `name` as the ledger last recorded it (fresh if it never ran)."""
        venue = cls(name, market, ledger, clock, **kw)
        await venue._acct()
        return venue

    async def _acct(self) -> PaperAccount:
        if self._account is None:
            now = self._clock.now_ms()
            if self._ledger is None:
                self._account = PaperAccount(self._start_balance, now)
            else:
                self._account = await restore(
                    self.name, self._ledger, self._start_balance, now, self._instrument
                )
        return self._account

    @property
    def _a(self) -> PaperAccount:
        assert self._account is not None, "paper venue used before its account was loaded"
        return self._account

    @property
    def balance_usd(self) -> Decimal:
        return self._a.balance

    @property
    def cash(self) -> Mapping[str, Decimal]:
        """Cash per currency: "USD" (the balance) and coins such as ETH (option premiums)."""
        return {"USD": self._a.balance, **self._a.cash}

    async def _instrument(self, symbol: str) -> Instrument:
        if symbol not in self._instruments:
            inst = (await self._market.instruments([symbol]))[symbol]
            if inst.inverse and inst.kind is InstrumentKind.PERP:
                raise ConfigError(
                    f"paper venue {self.name}: {symbol} is inverse; the paper "
                    "venue models linear (USD-margined) perps only"
                )
            # The market data names its own venue; orders for it are placed here.
            self._instruments[symbol] = replace(inst, venue=self.name)
        return self._instruments[symbol]

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        return {s: await self._instrument(s) for s in symbols}

    async def _marks(self, symbols: Sequence[str]) -> Mapping[str, Decimal]:
        if not symbols:
            return {}
        snap = await self._market.snapshot(list(symbols))
        return {s: q.mark for s, q in snap.quotes.items()}

    async def _held(self) -> dict[str, tuple[PaperPosition, Instrument]]:
        acct = await self._acct()
        return {
            s: (p, await self._instrument(s)) for s, p in acct.positions.items() if p.contracts != 0
        }

    async def positions(self) -> list[HedgePosition]:
        """Perps and options held. An option's `entry_price` is its average premium per
        contract (premium currency) and its `unrealized_pnl` is in USD."""
        await self._settle()
        held = await self._held()
        snap = await self._market.snapshot(list(held)) if held else None
        out = []
        for symbol, (pos, inst) in held.items():
            assert snap is not None
            quote = snap.quotes[symbol]
            pnl = (quote.mark - pos.entry) * pos.contracts * inst.contract_size
            if inst.kind is InstrumentKind.OPTION:
                pnl = to_usd(pnl, inst, quote.underlying or snap.price(inst.asset))
            out.append(
                HedgePosition(
                    venue=self.name,
                    symbol=symbol,
                    asset=inst.asset,
                    contracts=pos.contracts,
                    size_base=pos.contracts * inst.contract_size,
                    entry_price=pos.entry,
                    unrealized_pnl=pnl,
                )
            )
        return out

    async def _check(self, intent: OrderIntent, inst: Instrument, signed: Decimal) -> None:
        label = f"paper {self.name}: order {intent.client_id}"
        if intent.client_id in self._a.orders:
            raise Rejected(f"{label}: client order id already used")
        if intent.order_type != "market":
            raise Rejected(f"{label}: only market orders are simulated")
        pos = self._a.positions.get(intent.symbol, PaperPosition())
        reduces = pos.reduces(signed)
        if intent.reduce_only and not reduces:
            raise Rejected(f"{label}: reduce-only order would open or increase a position")
        mark = (await self._marks([intent.symbol]))[intent.symbol]
        if intent.amount <= 0 or intent.amount < inst.min_amount:
            raise Rejected(f"{label}: amount {intent.amount} below minimum {inst.min_amount}")
        notional = intent.amount * inst.contract_size * mark
        if not reduces and notional < inst.min_cost:
            raise Rejected(f"{label}: notional {notional:.2f} below minimum {inst.min_cost}")
        if not reduces and await self._margin_needed(intent.symbol, signed, mark) > (
            await self._equity()
        ):
            raise InsufficientFunds(f"{label}: insufficient margin for {notional:.2f} notional")

    def _leverage_of(self, symbol: str) -> Decimal:
        return self._leverages.get(symbol, self._leverage)

    async def _margin_needed(
        self, symbol: str = "", signed: Decimal = Decimal(0), mark: Decimal = Decimal(0)
    ) -> Decimal:
        """Perp margin at each symbol's leverage after trading `signed` contracts of `symbol`
        at `mark`, plus the margin of short options held (USD)."""
        total = Decimal(0)
        opened = symbol != "" and symbol not in self._a.positions
        for s, (p, inst) in (await self._held()).items():
            if inst.kind is InstrumentKind.OPTION:
                if p.contracts < 0:
                    quote = (await self._market.snapshot([s])).quotes[s]
                    under = quote.underlying or await self._asset_price(inst.asset)
                    total += short_margin_usd(inst, p.contracts, quote.mark, under)
                continue
            contracts = p.contracts + (signed if s == symbol else 0)
            price = mark if s == symbol else p.entry
            total += abs(contracts) * inst.contract_size * price / self._leverage_of(s)
        if opened:
            inst = await self._instrument(symbol)
            total += abs(signed) * inst.contract_size * mark / self._leverage_of(symbol)
        return total

    async def _asset_price(self, asset: str) -> Decimal:
        """USD price of `asset` (to value coin cash): from its configured price symbol, else
        from any instrument of the asset this venue knows."""
        known = [s for s, i in self._instruments.items() if i.asset == asset]
        symbol = self._price_symbols.get(asset) or next(iter(known), None)
        if symbol is None:
            raise ConfigError(
                f"paper venue {self.name}: no market prices {asset}; pass price_symbols"
            )
        return (await self._market.snapshot([symbol])).price(asset)

    async def _equity(self) -> Decimal:
        """USD balance + coin cash + perp unrealised PnL + option value, in USD."""
        total = self._a.balance
        for currency, amount in self._a.cash.items():
            if amount != 0:
                total += amount * await self._asset_price(currency)
        held = await self._held()
        snap = await self._market.snapshot(list(held)) if held else None
        for s, (p, inst) in held.items():
            assert snap is not None
            quote = snap.quotes[s]
            if inst.kind is InstrumentKind.OPTION:
                value = quote.mark * p.contracts
                total += to_usd(value, inst, quote.underlying or snap.price(inst.asset))
            else:
                total += (quote.mark - p.entry) * p.contracts * inst.contract_size
        return total

    async def submit(self, intent: OrderIntent) -> OrderAck:
        await self._settle()
        inst = await self._instrument(intent.symbol)
        if inst.kind is InstrumentKind.OPTION:
            return await self._submit_option(intent, inst)
        signed = intent.amount if intent.side is Side.BUY else -intent.amount
        await self._check(intent, inst, signed)
        book = await self._market.order_book(intent.symbol, BOOK_DEPTH)
        walk = walk_book(book, intent.side, intent.amount)
        fees = [qty * inst.contract_size * price * inst.taker_fee for price, qty in walk.takes]
        return self._finish(intent, inst, walk, fees, "book exhausted; remainder canceled")

    def _finish(
        self,
        intent: OrderIntent,
        inst: Instrument,
        walk: BookWalk,
        fees: Sequence[Decimal],
        unfilled: str,
    ) -> OrderAck:
        """Book every level taken as a fill and answer the order's ack."""
        now = self._clock.now_ms()
        order_id = f"paper-{self._a.next_order_id}"
        self._a.next_order_id += 1
        fills = [
            Fill(
                intent.client_id,
                order_id,
                f"{order_id}-{i}",
                intent.symbol,
                intent.side,
                qty,
                price,
                fee,
                inst.settle,
                now,
                self.name,
                qty * inst.contract_size,
            )
            for i, ((price, qty), fee) in enumerate(zip(walk.takes, fees, strict=True))
        ]
        for f in fills:
            self._a.apply_fill(f, inst)
        done = walk.filled == intent.amount
        ack = OrderAck(
            client_id=intent.client_id,
            venue_order_id=order_id,
            symbol=intent.symbol,
            side=intent.side,
            status=OrderStatus.FILLED if done else OrderStatus.CANCELED,
            amount=intent.amount,
            filled=walk.filled,
            average_price=walk.average_price,
            fee=sum(fees, Decimal(0)),
            fee_currency=inst.settle,
            fills=tuple(fills),
            ts_ms=now,
            info={} if done else {"canceled": unfilled},
        )
        self._a.orders[intent.client_id] = ack
        return ack

    async def _submit_option(self, intent: OrderIntent, inst: Instrument) -> OrderAck:
        """Limit IOC against the option book: fill up to the limit, cancel the rest."""
        signed = intent.amount if intent.side is Side.BUY else -intent.amount
        pos = self._a.positions.get(intent.symbol, PaperPosition())
        label = f"paper {self.name}: order {intent.client_id}"
        if intent.client_id in self._a.orders:
            raise Rejected(f"{label}: client order id already used")
        check_option_order(label, intent, inst, pos, self._clock.now_ms())
        book = await self._market.order_book(intent.symbol, BOOK_DEPTH)
        walk = walk_book(book, intent.side, intent.amount, intent.limit_price)
        quote = (await self._market.snapshot([intent.symbol])).quotes[intent.symbol]
        under = quote.underlying or await self._asset_price(inst.asset)
        fees = [option_fee(inst, qty, price, under, self._fee_cap) for price, qty in walk.takes]
        await self._check_option_funds(intent, inst, signed, walk, fees, quote.mark, under)
        return self._finish(intent, inst, walk, fees, ioc_reason(intent, book, walk))

    async def _check_option_funds(
        self,
        intent: OrderIntent,
        inst: Instrument,
        signed: Decimal,
        walk: BookWalk,
        fees: Sequence[Decimal],
        mark: Decimal,
        under: Decimal,
    ) -> None:
        """Premium and fees (buys), or the margin of a new short (sells), within free equity."""
        held = self._a.positions.get(intent.symbol, PaperPosition()).contracts
        filled = walk.filled if signed > 0 else -walk.filled
        new_short = max(-(held + filled), Decimal(0)) - max(-held, Decimal(0))
        premium = sum((p * q for p, q in walk.takes), Decimal(0))
        if signed > 0:
            need = to_usd(premium + sum(fees, Decimal(0)), inst, under)
        elif new_short > 0:
            need = short_margin_usd(inst, new_short, mark, under)
        else:
            return
        free = await self._equity() - await self._margin_needed()
        if need > free:
            raise InsufficientFunds(
                f"paper {self.name}: order {intent.client_id}: insufficient funds, needs "
                f"{need:.2f} USD, {free:.2f} USD free"
            )

    async def order_by_client_id(self, symbol: str, client_id: str) -> OrderAck | None:
        ack = (await self._acct()).orders.get(client_id)
        return ack if ack is not None and ack.symbol == symbol else None

    async def open_orders(self, symbol: str | None = None) -> list[OrderAck]:
        orders = (await self._acct()).orders.values()
        return [a for a in orders if not a.status.final and symbol in (None, a.symbol)]

    async def cancel(self, symbol: str, client_id: str) -> None:
        """Market orders finish at once, so there is never anything left to cancel."""

    async def fills(self, symbols: Sequence[str], since_ms: int) -> list[Fill]:
        acct = await self._acct()
        return [
            f for f in acct.fills if f.ts_ms >= since_ms and (not symbols or f.symbol in symbols)
        ]

    async def funding_payments(
        self, since_ms: int, symbols: Sequence[str] = ()
    ) -> list[FundingPayment]:
        await self._settle()
        return [p for p in self._a.funding if p.ts_ms >= since_ms]

    async def settlements(
        self, since_ms: int, symbols: Sequence[str] = ()
    ) -> list[OptionSettlement]:
        await self._settle()
        return list(self._a.settled)

    async def liquidations(self, since_ms: int, symbols: Sequence[str] = ()) -> list[Liquidation]:
        """The paper venue halts on margin through the risk guards; it never liquidates."""
        return []

    async def account_state(self, symbols: Sequence[str]) -> AccountState:
        acct = await self._acct()
        return AccountState(
            venue=self.name,
            position_mode="one_way",
            balances=dict(self.cash),
            free={"USD": await self._equity() - await self._margin_needed()},
            symbols=tuple(SymbolSetup(s, self._leverage_of(s), "cross") for s in symbols),
            ts_ms=self._clock.now_ms(),
            notes=(f"paper account, {len(acct.fills)} fills",),
        )

    async def configure(
        self, symbol: str, leverage: Decimal | None, margin_mode: str | None
    ) -> None:
        if margin_mode not in (None, "cross"):
            raise ConfigError(
                f"venue.margin_mode: the paper venue {self.name} models cross margin only"
            )
        if leverage is not None:
            self._leverages[symbol] = leverage

    async def _settle(self) -> None:
        await self._acct()
        await self._settle_expired()
        await self._settle_funding()

    async def _settle_expired(self) -> None:
        """Cash-settle every option held at or past its expiry, at the underlying's price."""
        now = self._clock.now_ms()
        for _, (pos, inst) in (await self._held()).items():
            if inst.kind is not InstrumentKind.OPTION or (inst.expiry_ms or 0) > now:
                continue
            price = await self._asset_price(inst.asset)
            self._a.apply_settlement(settlement(self.name, inst, pos.contracts, price))

    async def _settle_funding(self) -> None:
        """Pay or receive funding for every funding time passed since the last settlement."""
        now = self._clock.now_ms()
        period = self._funding_period_ms
        t = (self._a.funded_until_ms // period + 1) * period
        while t <= now:
            await self._pay_funding(t)
            t += period
        if self._a.funded_until_ms < now:
            self._a.funded_until_ms = now

    async def _pay_funding(self, ts_ms: int) -> None:
        held = [s for s, (_, i) in (await self._held()).items() if i.kind is InstrumentKind.PERP]
        if not held:
            return
        snap = await self._market.snapshot(held)
        for symbol in held:
            quote, inst = snap.quotes[symbol], await self._instrument(symbol)
            rate = quote.funding_rate or Decimal(0)
            base = self._a.positions[symbol].contracts * inst.contract_size
            self._a.apply_funding(
                FundingPayment(
                    self.name,
                    symbol,
                    -base * quote.mark * rate,
                    inst.settle,
                    rate,
                    ts_ms,
                    f"{self.name}-{symbol}-{ts_ms}",
                )
            )

    async def close(self) -> None:
        """Nothing to release: the ledger belongs to the caller."""
