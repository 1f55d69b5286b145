"""`Venue` over ccxt.async_support: one real exchange account, described by its profile.

Every per-exchange fact (client-id parameter and form, order lookup, where fills, fees,
funding, settlements and liquidations come from, amount units, account set-up calls, error
codes) is in `bot.venues.profiles`; this module reads the profile and never branches on
the exchange's name. Symbols are ccxt unified symbols (`ETH/USDT:USDT`, `ETH/USD:ETH`,
`ETH/USD:ETH-240628-3000-C`). Amounts are venue contracts (1 USD for inverse perps that
count in USD). Option orders are limit immediate-or-cancel. Client ids in and out of this
class are ours (32 hex); the profile maps them to the venue's form. Every ccxt error leaves
as a bot error (see errors_map) with secrets scrubbed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import ccxt
import ccxt.async_support as ccxt_async
from pydantic import SecretStr

from bot.domain.account import AccountState, Liquidation, PositionMode
from bot.domain.events import OptionSettlement
from bot.domain.market import Instrument
from bot.domain.orders import Fill, FundingPayment, HedgePosition, OrderAck, OrderIntent, Side
from bot.errors import ConfigError, InputError, VenueUnavailable
from bot.ports import Clock
from bot.secrets import register
from bot.venues import ccxt_account
from bot.venues.ccxt_options import is_option, option_instrument, tick_price
from bot.venues.ccxt_parse import instrument, order_ack, position
from bot.venues.errors_map import ccxt_errors, install_log_redaction
from bot.venues.profiles import VenueProfile, profile

Mode = Literal["testnet", "live"]


def _secret(value: SecretStr | str | None) -> str | None:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


class CcxtVenue:
    """A real exchange account. `mode="live"` needs the profile's credentials and
    `confirm_live=True`. `position_mode` and `margin_mode` are what orders assume (hedge
    mode orders name their side; OKX orders repeat the margin mode)."""

    def __init__(
        self,
        exchange_id: str,
        *,
        api_key: SecretStr | None = None,
        secret: SecretStr | None = None,
        password: SecretStr | None = None,
        wallet_address: str | None = None,
        private_key: SecretStr | None = None,
        mode: Mode,
        clock: Clock,
        urls_override: Mapping[str, Any] | None = None,
        demo: bool = False,
        confirm_live: bool = False,
        timeout_ms: int = 10_000,
        enable_rate_limit: bool = True,
        options: Mapping[str, Any] | None = None,
        position_mode: PositionMode = "one_way",
        margin_mode: str = "cross",
        venue_profile: VenueProfile | None = None,
    ) -> None:
        if mode not in ("testnet", "live"):
            raise ConfigError(
                f"venue {exchange_id}: mode must be 'testnet' or 'live', not {mode!r}"
            )
        self.profile = venue_profile or profile(exchange_id)
        creds = {
            "apiKey": _secret(api_key),
            "secret": _secret(secret),
            "password": _secret(password),
            "walletAddress": wallet_address,
            "privateKey": _secret(private_key),
        }
        register(*(v for k, v in creds.items() if v and k != "walletAddress"))
        install_log_redaction()
        missing = [c for c in self.profile.credentials if not creds.get(c)]
        if mode == "live" and missing:
            raise ConfigError(
                f"venue {exchange_id}: live mode needs {self.profile.credential_fields()}"
            )
        if mode == "live" and not confirm_live:
            raise ConfigError(
                f"venue {exchange_id}: live trading refused; set confirm_live = true at the top "
                "of the config (LPHEDGE_CONFIRM_LIVE=true) or pass --confirm-live to trade real "
                "money"
            )
        if demo and not self.profile.demo_trading:
            raise ConfigError(f"venue.demo: {exchange_id} has no demo trading; use testnet mode")
        config: dict[str, Any] = {
            "enableRateLimit": enable_rate_limit,
            "timeout": timeout_ms,
            "options": {
                "defaultType": "swap",
                "fetchCurrencies": False,
                "fetchOpenOrders": {"warnWithoutSymbol": False},
                "warnOnFetchOpenOrdersWithoutSymbol": False,
                **self.profile.ccxt_options,
                **(options or {}),
            },
        }
        config.update({k: v for k, v in creds.items() if v and k in self.profile.credentials})
        self.name = exchange_id
        self.exchange_id = exchange_id
        self.position_mode: PositionMode = position_mode
        self.margin_mode = margin_mode
        self._clock = clock
        self._ex: Any = getattr(ccxt_async, self.profile.ccxt_id)(config)
        if mode == "testnet":
            if demo:
                self._ex.enable_demo_trading(True)
            else:
                self._ex.set_sandbox_mode(True)
        if urls_override is not None:
            self._ex.urls["api"] = dict(urls_override)

    async def _markets(self) -> Mapping[str, Any]:
        with self._errors("load markets"):
            markets: Mapping[str, Any] = await self._ex.load_markets()
        return markets

    async def _market(self, symbol: str) -> Mapping[str, Any]:
        markets = await self._markets()
        if symbol not in markets:
            raise ConfigError(
                f"venue {self.name}: no market {symbol!r}; use a ccxt unified "
                "symbol such as ETH/USDT:USDT"
            )
        market: Mapping[str, Any] = markets[symbol]
        return market

    def _errors(self, action: str) -> Any:
        return ccxt_errors(
            f"{self.name}: {action}", self.profile.error_codes, self.profile.auth_error_words
        )

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        result = {}
        mode = self._ex.precisionMode
        for symbol in symbols:
            market = await self._market(symbol)
            if is_option(market):
                result[symbol] = option_instrument(self.name, market, mode)
            else:
                result[symbol] = instrument(
                    self.name, market, mode, self.profile.usd_amount_inverse
                )
        return result

    async def positions(self) -> list[HedgePosition]:
        """Perp and option positions, both hedge-mode sides netted per symbol."""
        markets = await self._markets()
        with self._errors("fetch positions"):
            raw = list(await self._ex.fetch_positions())
            extra = self.profile.option_position_params
            if extra is not None and any(is_option(m) for m in markets.values()):
                raw += await self._ex.fetch_positions(None, dict(extra))
        usd = self.profile.usd_amount_inverse
        rows = [position(self.name, p, markets.get(p.get("symbol"), {}), usd) for p in raw]
        net: dict[str, HedgePosition] = {}
        for p in rows:
            have = net.get(p.symbol)
            net[p.symbol] = p if have is None else _add(have, p)
        return [p for p in net.values() if p.contracts != 0]

    def _order_params(self, intent: OrderIntent, market: Mapping[str, Any]) -> dict[str, Any]:
        rule = self.profile.client_id
        params: dict[str, Any] = {rule.param: rule.validate(self.name, intent.client_id)}
        params.update(self.profile.order_params(self.margin_mode))
        hedge = self.profile.account.hedge
        if self.position_mode == "hedge" and hedge is not None and not is_option(market):
            long = (intent.side is Side.BUY) != intent.reduce_only
            params[hedge.param] = hedge.long if long else hedge.short
            if intent.reduce_only and hedge.reduce_only_allowed:
                params["reduceOnly"] = True
        elif intent.reduce_only:
            params["reduceOnly"] = True
        if is_option(market) and intent.order_type == "limit":
            params["timeInForce"] = "IOC"
        if intent.order_type == "market" and self.profile.market_order_slippage is not None:
            params["slippage"] = str(self.profile.market_order_slippage)
        return params

    def _price(self, intent: OrderIntent, market: Mapping[str, Any]) -> float | None:
        """Limit orders at their limit (options: snapped to the venue's tick grid, never past
        the limit); market orders carry the decision price where the venue needs a bound."""
        if intent.order_type == "limit":
            if intent.limit_price is None:
                raise InputError(
                    f"order {intent.client_id} on {intent.symbol}: limit order without limit_price"
                )
            limit = intent.limit_price
            if is_option(market):
                limit = tick_price(market, limit, intent.side)
            return float(limit)
        if self.profile.market_order_slippage is not None:
            return float(intent.decision_price)
        return None

    async def submit(self, intent: OrderIntent) -> OrderAck:
        market = await self._market(intent.symbol)
        params = self._order_params(intent, market)
        action = (
            f"submit {intent.side.value} {intent.amount} {intent.symbol} "
            f"(client id {intent.client_id})"
        )
        with self._errors(action):
            raw = await self._ex.create_order(
                intent.symbol,
                intent.order_type,
                intent.side.value,
                float(intent.amount),
                self._price(intent, market),
                params,
            )
        ack = order_ack(raw, intent.client_id, intent.symbol, intent.side, intent.amount)
        if self.profile.terse_ack and raw.get("status") is None:
            try:  # the order is accepted; its fill state comes from a lookup
                found = await self.order_by_client_id(intent.symbol, intent.client_id)
            except VenueUnavailable:
                found = None
            return found or ack
        return ack

    async def order_by_client_id(self, symbol: str, client_id: str) -> OrderAck | None:
        market = await self._market(symbol)
        venue_id = self.profile.client_id.to_venue(client_id)
        raws = await self._lookup(market, venue_id)
        mine = [r for r in raws if r.get("symbol") == symbol and self._matches(r, venue_id)]
        if not mine:
            return None
        newest = max(mine, key=lambda r: int(r.get("timestamp") or 0))
        return order_ack(newest, client_id, symbol)

    async def _lookup(self, market: Mapping[str, Any], venue_id: str) -> list[dict[str, Any]]:
        """Raw ccxt orders that may carry `venue_id`, the way the profile says to find them."""
        p, symbol = self.profile, market["symbol"]
        with self._errors(f"look up order {venue_id} on {symbol}"):
            if p.lookup_hook is not None:
                return list(await p.lookup_hook(self._ex, market, venue_id))
            if p.lookup_param:
                try:
                    return [await self._ex.fetch_order(None, symbol, {p.lookup_param: venue_id})]
                except ccxt.OrderNotFound:
                    return []
            extra = dict(p.scan_params(venue_id))
            raws = list(await self._ex.fetch_open_orders(symbol, None, None, extra))
            # A closed-orders call that lists only filled orders would miss an IOC cancelled
            # unfilled (or partly filled): it would look lost and be resent.
            if self._ex.has.get("fetchCanceledAndClosedOrders"):
                raws += await self._ex.fetch_canceled_and_closed_orders(symbol, None, None, extra)
            elif self._ex.has.get("fetchClosedOrders"):
                raws += await self._ex.fetch_closed_orders(symbol, None, None, extra)
            return raws

    def _matches(self, raw: Mapping[str, Any], venue_id: str) -> bool:
        info = raw.get("info") or {}
        trade_field = self.profile.client_id.trade_field or self.profile.client_id.param
        return venue_id in (raw.get("clientOrderId"), info.get(trade_field))

    def _client_id(self, raw: Mapping[str, Any]) -> str:
        info = raw.get("info") or {}
        field = self.profile.client_id.trade_field or self.profile.client_id.param
        return self.profile.client_id.from_venue(raw.get("clientOrderId") or info.get(field))

    async def open_orders(self, symbol: str | None = None) -> list[OrderAck]:
        with self._errors("fetch open orders"):
            raws = await self._ex.fetch_open_orders(symbol)
        return [order_ack(r, self._client_id(r), r["symbol"]) for r in raws]

    async def cancel(self, symbol: str, client_id: str) -> None:
        ack = await self.order_by_client_id(symbol, client_id)
        if ack is None or ack.status.final:
            return
        with self._errors(f"cancel {client_id} on {symbol}"):
            await self._ex.cancel_order(ack.venue_order_id, symbol)

    async def fills(self, symbols: Sequence[str], since_ms: int) -> list[Fill]:
        """Executions since `since_ms` (venue time) with their fees and trade ids, ours and
        not (a manual trade, a liquidation), from the venue's trades endpoint."""
        return await ccxt_account.fills(self._reader(), symbols, since_ms)

    async def funding_payments(
        self, since_ms: int, symbols: Sequence[str] = ()
    ) -> list[FundingPayment]:
        return await ccxt_account.funding(self._reader(), symbols, since_ms)

    async def settlements(
        self, since_ms: int, symbols: Sequence[str] = ()
    ) -> list[OptionSettlement]:
        return await ccxt_account.settlements(self._reader(), symbols, since_ms)

    async def liquidations(self, since_ms: int, symbols: Sequence[str] = ()) -> list[Liquidation]:
        return await ccxt_account.liquidations(self._reader(), symbols, since_ms)

    async def account_state(self, symbols: Sequence[str]) -> AccountState:
        return await ccxt_account.account_state(self._reader(), symbols)

    async def configure(
        self, symbol: str, leverage: Decimal | None, margin_mode: str | None
    ) -> None:
        """Set `symbol`'s leverage and margin mode (where the API lets us; ConfigError
        naming the field where it does not). "Already so" answers count as done."""
        await ccxt_account.configure(self._reader(), symbol, leverage, margin_mode)

    def _reader(self) -> ccxt_account.Reader:
        return ccxt_account.Reader(self.name, self._ex, self.profile, self._clock, self._markets)

    async def close(self) -> None:
        await self._ex.close()


def _add(a: HedgePosition, b: HedgePosition) -> HedgePosition:
    """Two rows of one symbol (hedge mode's LONG and SHORT sides) as one net position."""
    return HedgePosition(
        venue=a.venue,
        symbol=a.symbol,
        asset=a.asset,
        contracts=a.contracts + b.contracts,
        size_base=a.size_base + b.size_base,
        entry_price=a.entry_price if a.contracts else b.entry_price,
        unrealized_pnl=(a.unrealized_pnl or Decimal(0)) + (b.unrealized_pnl or Decimal(0)),
        liquidation_price=a.liquidation_price or b.liquidation_price,
    )


__all__ = ["CcxtVenue", "Side"]
