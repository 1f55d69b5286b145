"""`Venue` over ccxt.async_support: linear perps on Binance USDⓈ-M, Bybit, OKX, Hyperliquid,
and Deribit inverse perps, through ccxt's unified API; options on Deribit (inverse, premium in
the coin) and Bybit (USDC-settled).

Symbols are ccxt unified symbols (`ETH/USDT:USDT`, `BTC/USD:BTC`, `ETH/USD:ETH-240628-3000-C`).
Amounts are contracts. Option orders are limit immediate-or-cancel at the intent's
`limit_price` (premium per contract in the premium currency). Every ccxt error leaves as a
bot error (see errors_map) with secrets scrubbed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

import ccxt
import ccxt.async_support as ccxt_async
from pydantic import SecretStr

from bot.domain.market import Instrument
from bot.domain.orders import FundingPayment, HedgePosition, OrderAck, OrderIntent, Side
from bot.errors import ConfigError, InputError, VenueUnavailable
from bot.ports import Clock
from bot.secrets import register
from bot.venues.ccxt_options import any_instrument, is_option, tick_price
from bot.venues.ccxt_parse import funding_payment, order_ack, position
from bot.venues.client_ids import validate_client_id
from bot.venues.errors_map import ccxt_errors, install_log_redaction

Mode = Literal["testnet", "live"]

# The venue's own parameter for the client order id (ccxt's unified `clientOrderId` maps to
# most; Deribit takes `label`).
_CLIENT_ID_PARAM = {
    "binance": "newClientOrderId",
    "binanceusdm": "newClientOrderId",
    "bybit": "orderLinkId",
    "okx": "clOrdId",
    "deribit": "label",
    "hyperliquid": "clientOrderId",
}
# Venues whose fetchOrder takes the client id; the rest are scanned (open + closed orders).
_FETCH_BY_CLIENT_ID = {
    "binance": "origClientOrderId",
    "binanceusdm": "origClientOrderId",
    "okx": "clOrdId",
    "hyperliquid": "clientOrderId",
}
_SCAN_PARAM = {"bybit": "orderLinkId"}
# Venues that look an order up by its client id in one call: Deribit's get_order_state_by_label
# (labels are not unique there, so the newest order of that instrument wins).
_BY_LABEL = {"deribit"}
# Venues whose default position query leaves options out: the extra query that returns them.
_OPTION_POSITIONS = {"bybit": {"type": "option"}}
# Venues whose create-order answer is only {orderId, orderLinkId}: look the order up after.
_TERSE_ACK = {"bybit"}
# Venues whose funding amount is positive when the account pays (Bybit's execFee).
_FUNDING_PAID_POSITIVE = {"bybit"}
HYPERLIQUID_SLIPPAGE = Decimal("0.05")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


class CcxtVenue:
    """A real exchange account. `mode="live"` needs keys and `confirm_live=True`."""

    def __init__(
        self,
        exchange_id: str,
        *,
        api_key: SecretStr | None,
        secret: SecretStr | None,
        password: SecretStr | None = None,
        mode: Mode,
        clock: Clock,
        urls_override: Mapping[str, Any] | None = None,
        demo: bool = False,
        confirm_live: bool = False,
        timeout_ms: int = 10_000,
        enable_rate_limit: bool = True,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        key, sec, pwd = _secret(api_key), _secret(secret), _secret(password)
        register(key, sec, pwd)
        install_log_redaction()
        if mode == "live" and not (key and sec):
            raise ConfigError(
                f"venue {exchange_id}: live mode needs venue.api_key and venue.secret"
            )
        if mode == "live" and not confirm_live:
            raise ConfigError(
                f"venue {exchange_id}: live trading refused; set venue.confirm_live = true "
                "(LPHEDGE_VENUE__CONFIRM_LIVE=true) to trade real money"
            )
        if mode not in ("testnet", "live"):
            raise ConfigError(
                f"venue {exchange_id}: mode must be 'testnet' or 'live', not {mode!r}"
            )
        if not hasattr(ccxt_async, exchange_id):
            raise ConfigError(f"venue.exchange {exchange_id!r} is not a ccxt exchange id")
        config: dict[str, Any] = {
            "enableRateLimit": enable_rate_limit,
            "timeout": timeout_ms,
            "options": {
                "defaultType": "swap",
                "fetchCurrencies": False,
                "fetchOpenOrders": {"warnWithoutSymbol": False},
                "warnOnFetchOpenOrdersWithoutSymbol": False,
                **(options or {}),
            },
        }
        for field, value in (("apiKey", key), ("secret", sec), ("password", pwd)):
            if value:
                config[field] = value
        self.name = exchange_id
        self.exchange_id = exchange_id
        self._clock = clock
        self._ex: Any = getattr(ccxt_async, exchange_id)(config)
        if mode == "testnet":
            if demo:
                self._ex.enable_demo_trading(True)
            else:
                self._ex.set_sandbox_mode(True)
        if urls_override is not None:
            self._ex.urls["api"] = dict(urls_override)

    async def _markets(self) -> Mapping[str, Any]:
        with ccxt_errors(f"{self.name}: load markets"):
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

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        result = {}
        for symbol in symbols:
            market = await self._market(symbol)
            result[symbol] = any_instrument(self.name, market, self._ex.precisionMode)
        return result

    async def positions(self) -> list[HedgePosition]:
        """Perp and option positions (Deribit's get_positions returns both kinds in every
        currency; Bybit needs a second query with category=option once options are listed)."""
        markets = await self._markets()
        with ccxt_errors(f"{self.name}: fetch positions"):
            raw = list(await self._ex.fetch_positions())
            extra = _OPTION_POSITIONS.get(self.exchange_id)
            if extra is not None and any(is_option(m) for m in markets.values()):
                raw += await self._ex.fetch_positions(None, dict(extra))
        out = [position(self.name, p, markets.get(p.get("symbol"), {})) for p in raw]
        return [p for p in out if p.contracts != 0]

    def _order_params(self, intent: OrderIntent, market: Mapping[str, Any]) -> dict[str, Any]:
        validate_client_id(self.exchange_id, intent.client_id)
        params: dict[str, Any] = {
            _CLIENT_ID_PARAM.get(self.exchange_id, "clientOrderId"): intent.client_id
        }
        if intent.reduce_only:
            params["reduceOnly"] = True
        if is_option(market) and intent.order_type == "limit":
            params["timeInForce"] = "IOC"
        return params

    def _price(self, intent: OrderIntent, market: Mapping[str, Any]) -> float | None:
        """Limit orders at their limit (options: snapped to the venue's tick grid, never past
        the limit); Hyperliquid has no true market orders: ccxt needs a price it bounds."""
        if intent.order_type == "limit":
            if intent.limit_price is None:
                raise InputError(
                    f"order {intent.client_id} on {intent.symbol}: limit order without limit_price"
                )
            limit = intent.limit_price
            if is_option(market):
                limit = tick_price(market, limit, intent.side)
            return float(limit)
        if self.exchange_id == "hyperliquid":
            return float(intent.decision_price)
        return None

    async def submit(self, intent: OrderIntent) -> OrderAck:
        market = await self._market(intent.symbol)
        params = self._order_params(intent, market)
        if self.exchange_id == "hyperliquid" and intent.order_type == "market":
            params["slippage"] = str(HYPERLIQUID_SLIPPAGE)
        action = (
            f"{self.name}: submit {intent.side.value} {intent.amount} {intent.symbol} "
            f"(client id {intent.client_id})"
        )
        with ccxt_errors(action):
            raw = await self._ex.create_order(
                intent.symbol,
                intent.order_type,
                intent.side.value,
                float(intent.amount),
                self._price(intent, market),
                params,
            )
        ack = order_ack(raw, intent.client_id, intent.symbol, intent.side, intent.amount)
        if self.exchange_id in _TERSE_ACK and raw.get("status") is None:
            try:  # the order is accepted; its fill state comes from a lookup
                found = await self.order_by_client_id(intent.symbol, intent.client_id)
            except VenueUnavailable:
                found = None
            return found or ack
        return ack

    async def order_by_client_id(self, symbol: str, client_id: str) -> OrderAck | None:
        market = await self._market(symbol)
        if self.exchange_id in _BY_LABEL:
            return await self._by_label(market, client_id)
        key = _FETCH_BY_CLIENT_ID.get(self.exchange_id)
        if key is not None:
            with ccxt_errors(f"{self.name}: fetch order {client_id} on {symbol}"):
                try:
                    raw = await self._ex.fetch_order(None, symbol, {key: client_id})
                except ccxt.OrderNotFound:
                    return None
            return order_ack(raw, client_id, symbol)
        for found in await self._scan(symbol, client_id):
            return found
        return None

    async def _by_label(self, market: Mapping[str, Any], client_id: str) -> OrderAck | None:
        symbol = market["symbol"]
        with ccxt_errors(f"{self.name}: fetch order by label {client_id} on {symbol}"):
            response = await self._ex.privateGetGetOrderStateByLabel(
                {"currency": market.get("settleId") or market["baseId"], "label": client_id}
            )
            raws = self._ex.parse_orders(response.get("result") or [], market)
        mine = [r for r in raws if r.get("symbol") == symbol and _matches(r, client_id)]
        if not mine:
            return None
        newest = max(mine, key=lambda r: int(r.get("timestamp") or 0))
        return order_ack(newest, client_id, symbol)

    async def _scan(self, symbol: str, client_id: str) -> list[OrderAck]:
        extra = (
            {_SCAN_PARAM[self.exchange_id]: client_id} if self.exchange_id in _SCAN_PARAM else {}
        )
        with ccxt_errors(f"{self.name}: scan orders for {client_id} on {symbol}"):
            raws = list(await self._ex.fetch_open_orders(symbol, None, None, extra))
            # Bybit's fetchClosedOrders asks for orderStatus=Filled only: an IOC that was
            # cancelled unfilled (or partly filled) would look lost and be resent.
            if self._ex.has.get("fetchCanceledAndClosedOrders"):
                raws += await self._ex.fetch_canceled_and_closed_orders(symbol, None, None, extra)
            elif self._ex.has.get("fetchClosedOrders"):
                raws += await self._ex.fetch_closed_orders(symbol, None, None, extra)
        return [order_ack(r, client_id, symbol) for r in raws if _matches(r, client_id)]

    async def open_orders(self, symbol: str | None = None) -> list[OrderAck]:
        with ccxt_errors(f"{self.name}: fetch open orders"):
            raws = await self._ex.fetch_open_orders(symbol)
        return [order_ack(r, r.get("clientOrderId") or "", r["symbol"]) for r in raws]

    async def cancel(self, symbol: str, client_id: str) -> None:
        ack = await self.order_by_client_id(symbol, client_id)
        if ack is None or ack.status.final:
            return
        with ccxt_errors(f"{self.name}: cancel {client_id} on {symbol}"):
            await self._ex.cancel_order(ack.venue_order_id, symbol)

    async def funding_payments(self, since_ms: int) -> list[FundingPayment]:
        markets = await self._markets()
        with ccxt_errors(f"{self.name}: fetch funding history"):
            raws = await self._ex.fetch_funding_history(None, since_ms)
        sign = -1 if self.exchange_id in _FUNDING_PAID_POSITIVE else 1
        return [funding_payment(self.name, r, markets.get(r.get("symbol"), {}), sign) for r in raws]

    async def close(self) -> None:
        await self._ex.close()


def _matches(raw: Mapping[str, Any], client_id: str) -> bool:
    info = raw.get("info") or {}
    return client_id in (raw.get("clientOrderId"), info.get("label"), info.get("cloid"))


__all__ = ["CcxtVenue", "Side"]
