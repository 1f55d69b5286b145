"""PaperVenue: the same Venue port as a real exchange, filled against a market-data book.

Market orders walk the book of `market` (a live venue's public book or a replayed one):
levels are consumed from the best price outward; if the book runs out the order fills
partially and the remainder is canceled (status `canceled`, `filled` < `amount`). The taker
fee of the instrument is charged on the notional. Funding settles at every 8 h funding time
(00/08/16 UTC) from the quote's rate and mark: payment = -position_base * mark * rate.

Every change is appended to the ledger with the account state after it, in one event
(`paper_journal`), so a new PaperVenue on the same ledger continues where the last one
stopped. Perps: linear (USD-margined) only.

Options (instrument kind OPTION): limit immediate-or-cancel orders fill against the option
book up to the limit price; what is beyond it is canceled (nothing within it: canceled with
the best price in the reason). The premium per contract moves cash in the premium currency
(USD-like currencies are the USD balance, ETH for inverse options is held beside it) with
Deribit's taker fee (`paper_options.option_fee`). On the first call at or after an option's
expiry it is cash-settled against the underlying's price then: payout into cash, position
removed, one "option_settlement" event (an `OptionSettlement` with the state).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from bot.domain import events as ev
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
from bot.errors import ConfigError, Rejected
from bot.ports import Clock, MarketData
from bot.venues.paper_book import BookWalk, PaperPosition, walk_book
from bot.venues.paper_journal import PaperJournal, PaperLedger
from bot.venues.paper_options import (
    USD_LIKE,
    check_option_order,
    ioc_reason,
    option_fee,
    option_payout,
    settlement,
    short_margin_usd,
    to_usd,
)
from bot.venues.paper_state import PaperAccount, ack_to_json, funding_to_json
from bot.venues.replay_market import FUNDING_PERIOD_MS

BOOK_DEPTH = 100


class PaperVenue:
    """A simulated account. State is restored from `ledger` on construction."""

    def __init__(
        self,
        name: str,
        market: MarketData,
        ledger: PaperLedger | None,
        clock: Clock,
        starting_balance_usd: Decimal = Decimal(10000),
        *,
        leverage: Decimal = Decimal(10),
        run_id: str | None = None,
        price_symbols: Mapping[str, str] | None = None,
        option_fee_cap: Decimal = Decimal("0.125"),
    ) -> None:
        self.name = name
        self._market = market
        self._journal = PaperJournal(name, ledger, clock, run_id)
        self._clock = clock
        self._leverage = leverage
        self._price_symbols = dict(price_symbols or {})  # asset -> symbol that prices it
        self._fee_cap = option_fee_cap
        self._instruments: dict[str, Instrument] = {}
        restored = self._journal.load()
        self._orders: dict[str, OrderAck] = restored.orders
        self._funding: list[FundingPayment] = restored.funding
        self._account = restored.account or PaperAccount(starting_balance_usd, clock.now_ms())
        if restored.account is None:
            self._record("paper_state", {})

    @classmethod
    async def restore(
        cls, name: str, market: MarketData, ledger: PaperLedger, clock: Clock, **kw: Any
    ) -> PaperVenue:
        """The paper venue `name` as the ledger last saw it (a fresh one if it never ran)."""
        return cls(name, market, ledger, clock, **kw)

    @property
    def balance_usd(self) -> Decimal:
        return self._account.balance

    @property
    def cash(self) -> Mapping[str, Decimal]:
        """Cash per currency: "USD" (the balance) and coins such as ETH (option premiums)."""
        return {"USD": self._account.balance, **self._account.cash}

    def _credit(self, currency: str, amount: Decimal) -> None:
        if currency in USD_LIKE:
            self._account.balance += amount
        else:
            self._account.cash[currency] = self._account.cash.get(currency, Decimal(0)) + amount

    def _record(self, kind: str, extra: Mapping[str, Any]) -> None:
        self._journal.record(kind, extra, self._account)

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
        return {
            s: (p, await self._instrument(s))
            for s, p in self._account.positions.items()
            if p.contracts != 0
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
        if intent.client_id in self._orders:
            raise Rejected(f"{label}: client order id already used")
        if intent.order_type != "market":
            raise Rejected(f"{label}: only market orders are simulated")
        pos = self._account.positions.get(intent.symbol, PaperPosition())
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
            raise Rejected(f"{label}: insufficient margin for {notional:.2f} notional")

    async def _margin_needed(
        self, symbol: str = "", signed: Decimal = Decimal(0), mark: Decimal = Decimal(0)
    ) -> Decimal:
        """Perp margin at `leverage` after trading `signed` contracts of `symbol` at `mark`,
        plus the margin of short options held (USD)."""
        total = Decimal(0)
        opened = symbol != "" and symbol not in self._account.positions
        for s, (p, inst) in (await self._held()).items():
            if inst.kind is InstrumentKind.OPTION:
                if p.contracts < 0:
                    quote = (await self._market.snapshot([s])).quotes[s]
                    under = quote.underlying or await self._asset_price(inst.asset)
                    total += short_margin_usd(inst, p.contracts, quote.mark, under)
                continue
            contracts = p.contracts + (signed if s == symbol else 0)
            price = mark if s == symbol else p.entry
            total += abs(contracts) * inst.contract_size * price / self._leverage
        if opened:
            inst = await self._instrument(symbol)
            total += abs(signed) * inst.contract_size * mark / self._leverage
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
        total = self._account.balance
        for currency, amount in self._account.cash.items():
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
        for (price, qty), fee in zip(walk.takes, fees, strict=True):
            self._trade(intent.symbol, qty if intent.side is Side.BUY else -qty, price, fee, inst)
        return self._finish(intent, inst, walk, fees, "book exhausted; remainder canceled")

    def _finish(
        self,
        intent: OrderIntent,
        inst: Instrument,
        walk: BookWalk,
        fees: Sequence[Decimal],
        unfilled: str,
    ) -> OrderAck:
        """The ack of a filled (or partly filled, rest canceled) order; recorded."""
        now = self._clock.now_ms()
        order_id = f"paper-{self._account.next_order_id}"
        self._account.next_order_id += 1
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
            )
            for i, ((price, qty), fee) in enumerate(zip(walk.takes, fees, strict=True))
        ]
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
        self._orders[intent.client_id] = ack
        self._record("paper_state", {"order": ack_to_json(ack)})
        self._journal.record_fills(fills)
        return ack

    async def _submit_option(self, intent: OrderIntent, inst: Instrument) -> OrderAck:
        """Limit IOC against the option book: fill up to the limit, cancel the rest."""
        signed = intent.amount if intent.side is Side.BUY else -intent.amount
        pos = self._account.positions.get(intent.symbol, PaperPosition())
        label = f"paper {self.name}: order {intent.client_id}"
        if intent.client_id in self._orders:
            raise Rejected(f"{label}: client order id already used")
        check_option_order(label, intent, inst, pos, self._clock.now_ms())
        book = await self._market.order_book(intent.symbol, BOOK_DEPTH)
        walk = walk_book(book, intent.side, intent.amount, intent.limit_price)
        quote = (await self._market.snapshot([intent.symbol])).quotes[intent.symbol]
        under = quote.underlying or await self._asset_price(inst.asset)
        fees = [option_fee(inst, qty, price, under, self._fee_cap) for price, qty in walk.takes]
        await self._check_option_funds(intent, inst, signed, walk, fees, quote.mark, under)
        for (price, qty), fee in zip(walk.takes, fees, strict=True):
            q = qty if intent.side is Side.BUY else -qty
            pos = self._account.positions.get(intent.symbol, PaperPosition())
            self._account.positions[intent.symbol] = pos.apply(q, price, inst.contract_size)[0]
            self._credit(inst.settle, -q * price - fee)
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
        held = self._account.positions.get(intent.symbol, PaperPosition()).contracts
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
            raise Rejected(
                f"paper {self.name}: order {intent.client_id}: insufficient funds, needs "
                f"{need:.2f} USD, {free:.2f} USD free"
            )

    def _trade(
        self, symbol: str, signed: Decimal, price: Decimal, fee: Decimal, inst: Instrument
    ) -> None:
        pos = self._account.positions.get(symbol, PaperPosition())
        new_pos, pnl = pos.apply(signed, price, inst.contract_size)
        self._account.positions[symbol] = new_pos
        self._account.balance += pnl - fee

    async def order_by_client_id(self, symbol: str, client_id: str) -> OrderAck | None:
        ack = self._orders.get(client_id)
        return ack if ack is not None and ack.symbol == symbol else None

    async def open_orders(self, symbol: str | None = None) -> list[OrderAck]:
        return [
            a for a in self._orders.values() if not a.status.final and symbol in (None, a.symbol)
        ]

    async def cancel(self, symbol: str, client_id: str) -> None:
        """Market orders finish at once, so there is never anything left to cancel."""

    async def funding_payments(self, since_ms: int) -> list[FundingPayment]:
        await self._settle()
        return [p for p in self._funding if p.ts_ms >= since_ms]

    async def _settle(self) -> None:
        await self._settle_expired()
        await self._settle_funding()

    async def _settle_expired(self) -> None:
        """Cash-settle every option held at or past its expiry, at the underlying's price."""
        now = self._clock.now_ms()
        for symbol, (pos, inst) in (await self._held()).items():
            if inst.kind is not InstrumentKind.OPTION or (inst.expiry_ms or 0) > now:
                continue
            price = await self._asset_price(inst.asset)
            self._credit(inst.settle, option_payout(inst, pos.contracts, price))
            del self._account.positions[symbol]
            settled = settlement(self.name, inst, pos.contracts, price)
            self._record(ev.OPTION_SETTLEMENT, ev.to_payload(settled))

    async def _settle_funding(self) -> None:
        """Pay or receive funding for every funding time passed since the last settlement."""
        now = self._clock.now_ms()
        t = (self._account.funded_until_ms // FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS
        while t <= now:
            await self._pay_funding(t)
            t += FUNDING_PERIOD_MS
        if self._account.funded_until_ms < now:
            self._account.funded_until_ms = now

    async def _pay_funding(self, ts_ms: int) -> None:
        held = [s for s, (_, i) in (await self._held()).items() if i.kind is InstrumentKind.PERP]
        if not held:
            return
        snap = await self._market.snapshot(held)
        for symbol in held:
            quote, inst = snap.quotes[symbol], await self._instrument(symbol)
            rate = quote.funding_rate or Decimal(0)
            base = self._account.positions[symbol].contracts * inst.contract_size
            payment = FundingPayment(
                self.name,
                symbol,
                -base * quote.mark * rate,
                inst.settle,
                rate,
                ts_ms,
                f"{self.name}-{symbol}-{ts_ms}",
            )
            self._account.balance += payment.amount
            self._account.funded_until_ms = ts_ms
            self._funding.append(payment)
            self._record("funding", funding_to_json(payment))

    async def close(self) -> None:
        """Nothing to release: the ledger belongs to the caller."""
