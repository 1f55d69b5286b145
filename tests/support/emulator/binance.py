"""Binance USDⓈ-M futures (fapi) in its native JSON: the endpoints ccxt's binanceusdm calls.

Signed requests are checked the way Binance does: HMAC-SHA256 of the query string (GET,
DELETE) or form body (POST) up to `&signature=`, with the key in `X-MBX-APIKEY`.
exchangeInfo carries the real filters of ETHUSDT/BTCUSDT (tick 0.01/0.10, step 0.001,
min notional 20/100 USDT).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from .account import Income, Market, Order, VenueReject

if TYPE_CHECKING:
    from .server import Emulator

_ERRORS: dict[str, tuple[int, int, str]] = {
    "rate_limit": (
        429,
        -1003,
        "Too many requests; current limit of IP(127.0.0.1) is 2400 "
        "requests per minute. Please use the websocket for live updates "
        "to avoid polling the API.",
    ),
    "margin": (400, -2019, "Margin is insufficient."),
    "min_notional": (
        400,
        -4164,
        "Order's notional must be no smaller than 20 (unless you choose reduce only).",
    ),
    "reduce_only": (400, -2022, "ReduceOnly Order is rejected."),
    "duplicate_client_id": (400, -4116, "ClientOrderId is duplicated."),
    "bad_quantity": (400, -1111, "Precision is over the maximum defined for this asset."),
    "bad_symbol": (400, -1121, "Invalid symbol."),
    "not_found": (400, -2013, "Order does not exist."),
    "not_cancelable": (400, -2011, "Unknown order sent."),
    "bad_key": (
        401,
        -2015,
        "Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1",
    ),
    "bad_signature": (400, -1022, "Signature for this request is not valid."),
}

_PUBLIC = {
    "/fapi/v1/exchangeInfo",
    "/fapi/v1/depth",
    "/fapi/v1/premiumIndex",
    "/fapi/v1/time",
    "/fapi/v1/ticker/bookTicker",
    "/fapi/v1/fundingRate",
}


def _s(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _params(request: web.Request, body: str) -> dict[str, str]:
    raw = request.query_string if request.method in ("GET", "DELETE") else body
    params = dict(parse_qsl(raw, keep_blank_values=True))
    params.update(dict(parse_qsl(request.query_string)))
    return params


class Binance:
    def ccxt_id(self) -> str:
        return "binanceusdm"

    def error(self, reason: str, detail: str = "") -> web.Response:
        status, code, msg = _ERRORS.get(reason, (400, -1000, f"An unknown error: {reason}"))
        if reason == "min_notional" and detail:
            msg = msg.replace("20", detail)
        return web.json_response({"code": code, "msg": msg}, status=status)

    def verify(self, emu: Emulator, request: web.Request, body: str) -> web.Response | None:
        if request.path in _PUBLIC:
            return None
        if request.headers.get("X-MBX-APIKEY") != emu.api_key:
            return self.error("bad_key")
        raw = request.query_string if request.method in ("GET", "DELETE") else body
        payload, sep, signature = raw.partition("&signature=")
        expected = hmac.new(emu.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(expected, signature):
            return self.error("bad_signature")
        return None

    def routes(self, emu: Emulator) -> list[web.RouteDef]:
        h = _Handlers(emu)
        return [
            web.get("/fapi/v1/time", h.time),
            web.get("/fapi/v1/exchangeInfo", h.exchange_info),
            web.get("/fapi/v1/premiumIndex", h.premium_index),
            web.get("/fapi/v1/depth", h.depth),
            web.post("/fapi/v1/order", h.new_order),
            web.get("/fapi/v1/order", h.get_order),
            web.delete("/fapi/v1/order", h.cancel_order),
            web.get("/fapi/v1/openOrders", h.open_orders),
            web.get("/fapi/v1/allOrders", h.all_orders),
            web.get("/fapi/v2/positionRisk", h.position_risk),
            web.get("/fapi/v3/positionRisk", h.position_risk),
            web.get("/fapi/v2/account", h.account),
            web.get("/fapi/v3/account", h.account),
            web.get("/fapi/v2/balance", h.balance),
            web.get("/fapi/v1/income", h.income),
            web.get("/fapi/v1/leverageBracket", h.leverage_bracket),
        ]


def _symbol_info(m: Market) -> dict[str, Any]:
    return {
        "symbol": m.symbol,
        "pair": m.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": m.base,
        "quoteAsset": m.quote,
        "marginAsset": m.quote,
        "pricePrecision": 2,
        "quantityPrecision": 3,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": ["Layer-1"],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": "39.86",
                "maxPrice": "306177",
                "tickSize": _s(m.tick),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": _s(m.min_qty),
                "maxQty": _s(m.max_qty),
                "stepSize": _s(m.qty_step),
            },
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": _s(m.min_qty),
                "maxQty": "2000",
                "stepSize": _s(m.qty_step),
            },
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": _s(m.min_notional)},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": [
            "LIMIT",
            "MARKET",
            "STOP",
            "STOP_MARKET",
            "TAKE_PROFIT",
            "TAKE_PROFIT_MARKET",
            "TRAILING_STOP_MARKET",
        ],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
    }


def _order_json(o: Order) -> dict[str, Any]:
    return {
        "orderId": o.order_id,
        "symbol": o.symbol,
        "status": o.status,
        "clientOrderId": o.client_id,
        "price": _s(o.price),
        "avgPrice": _s(o.avg_price),
        "origQty": _s(o.qty),
        "executedQty": _s(o.executed),
        "cumQty": _s(o.executed),
        "cumQuote": _s(o.executed * o.avg_price),
        "timeInForce": "GTC",
        "type": o.order_type,
        "reduceOnly": o.reduce_only,
        "closePosition": False,
        "side": o.side,
        "positionSide": "BOTH",
        "stopPrice": "0",
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "origType": o.order_type,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "EXPIRE_MAKER",
        "goodTillDate": 0,
        "time": o.time_ms,
        "updateTime": o.time_ms,
    }


class _Handlers:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.acct = emu.account

    async def _p(self, request: web.Request) -> dict[str, str]:
        return _params(request, await request.text())

    async def time(self, request: web.Request) -> web.Response:
        return web.json_response({"serverTime": self.emu.clock_ms()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "timezone": "UTC",
                "serverTime": self.emu.clock_ms(),
                "futuresType": "U_MARGINED",
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 2400,
                    }
                ],
                "exchangeFilters": [],
                "assets": [
                    {"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}
                ],
                "symbols": [_symbol_info(m) for m in self.acct.markets.values()],
            }
        )

    def _premium(self, m: Market) -> dict[str, Any]:
        now = self.emu.clock_ms()
        period = 8 * 3600 * 1000
        return {
            "symbol": m.symbol,
            "markPrice": _s(m.mark),
            "indexPrice": _s(m.mark),
            "estimatedSettlePrice": _s(m.mark),
            "lastFundingRate": _s(m.funding_rate),
            "interestRate": "0.00010000",
            "nextFundingTime": (now // period + 1) * period,
            "time": now,
        }

    async def premium_index(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        if symbol:
            return web.json_response(self._premium(self.acct.market(symbol)))
        return web.json_response([self._premium(m) for m in self.acct.markets.values()])

    async def depth(self, request: web.Request) -> web.Response:
        m = self.acct.market(request.query["symbol"])
        limit = int(request.query.get("limit", "20"))
        half = m.mark * m.half_spread_bps / Decimal(10000)
        bids = [[_s((m.mark - half - i * m.tick).quantize(m.tick)), "5.000"] for i in range(limit)]
        asks = [[_s((m.mark + half + i * m.tick).quantize(m.tick)), "5.000"] for i in range(limit)]
        now = self.emu.clock_ms()
        return web.json_response(
            {"lastUpdateId": now, "E": now, "T": now, "bids": bids, "asks": asks}
        )

    async def new_order(self, request: web.Request) -> web.Response:
        p = await self._p(request)
        order = self.acct.place(
            symbol=p["symbol"],
            side=p["side"],
            qty=Decimal(p["quantity"]),
            order_type=p.get("type", "MARKET"),
            reduce_only=p.get("reduceOnly") == "true",
            client_id=p.get("newClientOrderId", ""),
            price=Decimal(p.get("price", "0")),
            now_ms=self.emu.clock_ms(),
        )
        return web.json_response(_order_json(order))

    def _find(self, p: dict[str, str]) -> Order:
        order = None
        if "orderId" in p:
            order = self.acct.orders.get(int(p["orderId"]))
        elif "origClientOrderId" in p:
            order = self.acct.by_client_id(p.get("symbol"), p["origClientOrderId"])
        if order is None:
            raise VenueReject("not_found")
        return order

    async def get_order(self, request: web.Request) -> web.Response:
        return web.json_response(_order_json(self._find(await self._p(request))))

    async def cancel_order(self, request: web.Request) -> web.Response:
        order = self._find(await self._p(request))
        self.acct.cancel(order)
        return web.json_response(_order_json(order))

    async def open_orders(self, request: web.Request) -> web.Response:
        symbol = (await self._p(request)).get("symbol")
        return web.json_response(
            [
                _order_json(o)
                for o in self.acct.orders.values()
                if o.status == "NEW" and symbol in (None, o.symbol)
            ]
        )

    async def all_orders(self, request: web.Request) -> web.Response:
        symbol = (await self._p(request)).get("symbol")
        return web.json_response(
            [_order_json(o) for o in self.acct.orders.values() if symbol in (None, o.symbol)]
        )

    async def position_risk(self, request: web.Request) -> web.Response:
        now = self.emu.clock_ms()
        rows = []
        for symbol, pos in self.acct.positions.items():
            m = self.acct.markets[symbol]
            rows.append(
                {
                    "symbol": symbol,
                    "positionSide": "BOTH",
                    "positionAmt": _s(pos.qty),
                    "entryPrice": _s(pos.entry),
                    "breakEvenPrice": _s(pos.entry),
                    "markPrice": _s(m.mark),
                    "unRealizedProfit": _s((m.mark - pos.entry) * pos.qty),
                    "liquidationPrice": "0",
                    "isolatedMargin": "0",
                    "notional": _s(pos.qty * m.mark),
                    "marginAsset": m.quote,
                    "isolatedWallet": "0",
                    "initialMargin": _s(abs(pos.qty) * m.mark / self.acct.leverage),
                    "maintMargin": "0",
                    "positionInitialMargin": "0",
                    "openOrderInitialMargin": "0",
                    "adl": 0,
                    "bidNotional": "0",
                    "askNotional": "0",
                    "updateTime": now,
                    "leverage": _s(self.acct.leverage),
                    "marginType": "cross",
                    "isAutoAddMargin": "false",
                    "maxNotionalValue": "1000000",
                }
            )
        return web.json_response(rows)

    async def account(self, request: web.Request) -> web.Response:
        bal = _s(self.acct.balance)
        return web.json_response(
            {
                "totalWalletBalance": bal,
                "totalUnrealizedProfit": _s(self.acct.unrealized()),
                "availableBalance": _s(self.acct.available()),
                "maxWithdrawAmount": "0",
                "assets": [
                    {
                        "asset": "USDT",
                        "walletBalance": bal,
                        "availableBalance": _s(self.acct.available()),
                        "marginBalance": bal,
                        "unrealizedProfit": "0",
                    }
                ],
                "positions": [],
            }
        )

    async def balance(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {
                    "asset": "USDT",
                    "balance": _s(self.acct.balance),
                    "availableBalance": _s(self.acct.available()),
                }
            ]
        )

    async def income(self, request: web.Request) -> web.Response:
        p = await self._p(request)
        start = int(p.get("startTime", "0"))
        kind = p.get("incomeType")

        def row(i: Income) -> dict[str, Any]:
            return {
                "symbol": i.symbol,
                "incomeType": i.kind,
                "income": _s(i.amount),
                "asset": i.asset,
                "info": i.kind,
                "time": i.time_ms,
                "tranId": i.tran_id,
                "tradeId": "",
            }

        return web.json_response(
            [
                row(i)
                for i in self.acct.incomes
                if i.time_ms >= start
                and kind in (None, i.kind)
                and p.get("symbol") in (None, i.symbol)
            ]
        )

    async def leverage_bracket(self, request: web.Request) -> web.Response:
        return web.json_response(
            json.loads(
                json.dumps(
                    [
                        {
                            "symbol": s,
                            "brackets": [
                                {
                                    "bracket": 1,
                                    "initialLeverage": 125,
                                    "notionalCap": 50000,
                                    "notionalFloor": 0,
                                    "maintMarginRatio": 0.004,
                                    "cum": 0.0,
                                }
                            ],
                        }
                        for s in self.acct.markets
                    ]
                )
            )
        )
