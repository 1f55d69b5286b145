"""Bybit v5 (unified trading account, category=linear and option) in its native JSON: the
endpoints ccxt's bybit calls to load markets, trade, look orders up and read positions and
funding. Options (USDC-settled, `ETH-28JUN24-3000-C`) carry Bybit's ETH option filters (tick
0.1 USDC, qty step 0.1); their tickers quote `delta gamma vega theta` per coin in USD (vega
per vol point, theta per day) and `markIv` as a fraction, 8 decimals, as Bybit does.
`/v5/market/tickers?category=option` without a symbol lists every option of `baseCoin`
(BTC when not given, as on Bybit).

Every answer is HTTP 200 with `{"retCode", "retMsg", "result", "retExtInfo", "time"}`;
errors are non-zero retCodes. Signed requests are checked the way Bybit does:
X-BAPI-SIGN = hex HMAC-SHA256(secret, timestamp + api_key + recv_window + (query string
for GET | raw JSON body for POST)), wrong key -> 10003, wrong signature -> 10004.
Instruments carry Bybit's real ETHUSDT/BTCUSDT filters (qtyStep 0.01/0.001, tickSize
0.01/0.10, minNotionalValue 5 USDT). Order ids are UUID strings, as on Bybit derivatives.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .account import Income, Market, OptionMarket, Order, VenueReject

if TYPE_CHECKING:
    from .server import Emulator

_ERRORS: dict[str, tuple[int, str]] = {
    "rate_limit": (10006, "Too many visits. Exceeded the API Rate Limit."),
    "margin": (110007, "ab not enough for new order"),
    "min_notional": (110094, "Order does not meet minimum order value 5USDT"),
    "reduce_only": (110017, "Reduce-only rule not satisfied"),
    "duplicate_client_id": (110072, "OrderLinkedID is duplicate"),
    "bad_quantity": (10001, "Qty invalid"),
    "bad_symbol": (10001, "params error: symbol invalid"),
    "not_found": (110001, "order not exists or too late to cancel"),
    "not_cancelable": (110001, "order not exists or too late to cancel"),
    "bad_key": (10003, "API key is invalid."),
    "bad_signature": (10004, "error sign! origin_string[{}]"),
    "expired": (10001, "params error: symbol invalid"),
    "price_too_high": (110003, "Order price is out of permissible range"),
    "price_too_low": (110003, "Order price is out of permissible range"),
    "wrong_tick": (10001, "params error: price invalid"),
}
_E8 = Decimal("0.00000001")
_SIDE = {"Buy": "BUY", "Sell": "SELL"}
_STATUS = {"NEW": "New", "FILLED": "Filled", "CANCELED": "Cancelled"}
_TIF = {"IOC": "IOC", "FOK": "FOK", "GTC": "GTC", "PostOnly": "GTC"}


def bybit_markets() -> dict[str, Market]:
    """ETHUSDT and BTCUSDT linear perps with Bybit's real lot/price filters."""
    return {
        "ETHUSDT": Market(
            "ETHUSDT",
            "ETH",
            "USDT",
            Decimal("3000.00"),
            qty_step=Decimal("0.01"),
            min_qty=Decimal("0.01"),
            max_qty=Decimal(7240),
            min_notional=Decimal(5),
        ),
        "BTCUSDT": Market(
            "BTCUSDT",
            "BTC",
            "USDT",
            Decimal("60000.0"),
            tick=Decimal("0.10"),
            max_qty=Decimal(1190),
            min_notional=Decimal(5),
        ),
    }


def _s(value: Decimal) -> str:
    return format(value, "f")


def order_uuid(order_id: int) -> str:
    """Bybit derivatives order ids are UUID strings; ours encode the account's int id."""
    return str(uuid.UUID(int=order_id))


class Bybit:
    """The dialect. `recorded` maps option symbols to /v5/market/tickers rows to serve as they
    are (real venue examples); everything else is computed from the account."""

    def __init__(self, recorded: dict[str, dict[str, Any]] | None = None) -> None:
        self.recorded = dict(recorded or {})
        self._emu: Emulator | None = None

    def ccxt_id(self) -> str:
        return "bybit"

    def envelope(self, result: Any, code: int = 0, msg: str = "OK") -> web.Response:
        return web.json_response(
            {
                "retCode": code,
                "retMsg": msg,
                "result": result,
                "retExtInfo": {},
                "time": self._emu.clock_ms() if self._emu else _now_ms(),
            }
        )

    def error(self, reason: str, detail: str = "") -> web.Response:
        code, msg = _ERRORS.get(reason, (10016, f"System error: {reason}"))
        if reason == "bad_signature":
            msg = msg.format(detail)
        return self.envelope({}, code, msg)

    def verify(self, emu: Emulator, request: web.Request, body: str) -> web.Response | None:
        if request.path.startswith("/v5/market/"):
            return None
        h = request.headers
        if h.get("X-BAPI-API-KEY") != emu.api_key:
            return self.error("bad_key")
        payload = request.query_string if request.method == "GET" else body
        origin = (
            h.get("X-BAPI-TIMESTAMP", "") + emu.api_key + h.get("X-BAPI-RECV-WINDOW", "") + payload
        )
        expected = hmac.new(emu.secret.encode(), origin.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, h.get("X-BAPI-SIGN", "")):
            return self.error("bad_signature", origin)
        return None

    def routes(self, emu: Emulator) -> list[web.RouteDef]:
        self._emu = emu
        h = _Handlers(emu, self)
        o = _Options(emu, self)
        return [
            web.get("/v5/market/time", h.time),
            web.get("/v5/market/instruments-info", h.instruments),
            web.get("/v5/market/tickers", h.tickers),
            web.get("/v5/market/orderbook", o.orderbook),
            web.get("/v5/asset/coin/query-info", h.coin_info),
            web.get("/v5/user/query-api", h.query_api),
            web.get("/v5/account/info", h.account_info),
            web.post("/v5/order/create", h.create),
            web.post("/v5/order/cancel", h.cancel),
            web.get("/v5/order/realtime", h.realtime),
            web.get("/v5/order/history", h.history),
            web.get("/v5/position/list", h.positions),
            web.get("/v5/account/wallet-balance", h.wallet_balance),
            web.get("/v5/execution/list", h.executions),
        ]


def _now_ms() -> int:
    import time

    return time.time_ns() // 1_000_000


def _instrument(m: Market) -> dict[str, Any]:
    return {
        "symbol": m.symbol,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": m.base,
        "quoteCoin": m.quote,
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": str(len(_s(m.tick).partition(".")[2])),
        "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
        "priceFilter": {"minPrice": _s(m.tick), "maxPrice": "1999999.80", "tickSize": _s(m.tick)},
        "lotSizeFilter": {
            "maxOrderQty": _s(m.max_qty),
            "minOrderQty": _s(m.min_qty),
            "qtyStep": _s(m.qty_step),
            "postOnlyMaxOrderQty": _s(m.max_qty),
            "maxMktOrderQty": _s(m.max_qty / 10),
            "minNotionalValue": _s(m.min_notional),
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": m.quote,
        "copyTrading": "both",
        "upperFundingRate": "0.005",
        "lowerFundingRate": "-0.005",
        "isPreListing": False,
        "preListingInfo": None,
    }


def _order_status(o: Order) -> str:
    if o.status == "CANCELED" and o.executed > 0:
        return "PartiallyFilledCanceled"
    if o.status == "NEW" and o.executed > 0:
        return "PartiallyFilled"
    return _STATUS[o.status]


def _order_json(
    o: Order, fee_rate: Decimal, option: bool = False, settle: str = "USDT"
) -> dict[str, Any]:
    """One order as v5 lists it; an option's fee is its own (USDC), a perp's fee_rate x value.
    `cumFeeDetail` (fee per coin) is where ccxt 4.5 reads the fee from."""
    value = o.executed * o.avg_price
    fee = o.fee if option else value * fee_rate
    leaves = o.qty - o.executed if o.status == "NEW" else Decimal(0)
    return {
        "orderId": order_uuid(o.order_id),
        "orderLinkId": o.client_id,
        "blockTradeId": "",
        "symbol": o.symbol,
        "price": _s(o.price),
        "qty": _s(o.qty),
        "side": "Buy" if o.side == "BUY" else "Sell",
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": _order_status(o),
        "cancelType": "CancelByUser" if o.status == "CANCELED" else "UNKNOWN",
        "rejectReason": "EC_NoError",
        "avgPrice": _s(o.avg_price) if o.executed else "",
        "leavesQty": _s(leaves),
        "leavesValue": _s(leaves * o.price),
        "cumExecQty": _s(o.executed),
        "cumExecValue": _s(value),
        "cumExecFee": _s(fee),
        "cumFeeDetail": {settle: _s(fee)} if fee else {},
        "timeInForce": "IOC" if o.order_type == "MARKET" else o.time_in_force,
        "orderType": o.order_type.capitalize(),
        "stopOrderType": "",
        "orderIv": "",
        "triggerPrice": "",
        "takeProfit": "",
        "stopLoss": "",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": 0,
        "triggerBy": "",
        "lastPriceOnCreated": "",
        "reduceOnly": o.reduce_only,
        "closeOnTrigger": False,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": "",
        "tpLimitPrice": "",
        "slLimitPrice": "",
        "placeType": "",
        "createdTime": str(o.time_ms),
        "updatedTime": str(o.time_ms),
    }


class _Handlers:
    def __init__(self, emu: Emulator, dialect: Bybit) -> None:
        self.emu = emu
        self.acct = emu.account
        self.dialect = dialect
        self.ok = dialect.envelope

    def _page(self, category: str, rows: list[dict[str, Any]]) -> web.Response:
        return self.ok({"category": category, "list": rows, "nextPageCursor": ""})

    async def time(self, request: web.Request) -> web.Response:
        now = self.emu.clock_ms()
        return self.ok({"timeSecond": str(now // 1000), "timeNano": str(now * 1_000_000)})

    async def instruments(self, request: web.Request) -> web.Response:
        q = request.query
        category = q.get("category", "")
        linear = category == "linear" and q.get("status", "Trading") == "Trading"
        rows = [_instrument(m) for m in self.acct.markets.values()] if linear else []
        if category == "option":
            rows = [
                _option_instrument(om)
                for om in self.acct.options.values()
                if q.get("baseCoin") in (None, om.base) and om.expiry_ms > self.emu.clock_ms()
            ]
        if "cursor" in q:  # one page holds everything
            rows = []
        symbol = q.get("symbol")
        return self._page(category, [r for r in rows if symbol in (None, r["symbol"])])

    async def tickers(self, request: web.Request) -> web.Response:
        if request.query.get("category") == "option":
            return await _Options(self.emu, self.dialect).tickers(request)
        symbol = request.query.get("symbol")
        rows = []
        for m in self.acct.markets.values():
            if symbol in (None, m.symbol):
                half = m.mark * m.half_spread_bps / Decimal(10000)
                rows.append(
                    {
                        "symbol": m.symbol,
                        "lastPrice": _s(m.mark),
                        "markPrice": _s(m.mark),
                        "indexPrice": _s(m.mark),
                        "bid1Price": _s((m.mark - half).quantize(m.tick)),
                        "bid1Size": "5",
                        "ask1Price": _s((m.mark + half).quantize(m.tick)),
                        "ask1Size": "5",
                        "fundingRate": _s(m.funding_rate),
                        "nextFundingTime": str(
                            (self.emu.clock_ms() // 28_800_000 + 1) * 28_800_000
                        ),
                    }
                )
        return self._page(request.query.get("category", "linear"), rows)

    async def coin_info(self, request: web.Request) -> web.Response:
        """ccxt's load_markets calls this whenever keys are set (fetchCurrencies)."""
        coins = sorted({c for m in self.acct.markets.values() for c in (m.base, m.quote)})
        rows = [
            {
                "name": c,
                "coin": c,
                "remainAmount": "150000",
                "chains": [
                    {
                        "chainType": "ERC20",
                        "confirmation": "6",
                        "withdrawFee": "1.5",
                        "depositMin": "0",
                        "withdrawMin": "2",
                        "chain": "ETH",
                        "chainDeposit": "1",
                        "chainWithdraw": "1",
                        "minAccuracy": "8" if c != "USDT" else "4",
                        "withdrawPercentageFee": "0",
                        "contractAddress": "",
                    }
                ],
            }
            for c in coins
        ]
        return self.ok({"rows": rows})

    async def query_api(self, request: web.Request) -> web.Response:
        return self.ok(
            {
                "id": "13770661",
                "note": "lphedge-emulator",
                "apiKey": self.emu.api_key,
                "readOnly": 0,
                "secret": "",
                "permissions": {"ContractTrade": ["Order", "Position"], "Wallet": []},
                "ips": ["*"],
                "type": 1,
                "unified": 0,
                "uta": 1,
                "userID": 24600000,
                "isMaster": True,
            }
        )

    async def account_info(self, request: web.Request) -> web.Response:
        return self.ok(
            {
                "marginMode": "REGULAR_MARGIN",
                "updatedTime": "1697078946000",
                "unifiedMarginStatus": 6,
                "dcpStatus": "OFF",
                "timeWindow": 10,
                "smpGroup": 0,
                "isMasterTrader": False,
                "spotHedgingStatus": "OFF",
            }
        )

    async def create(self, request: web.Request) -> web.Response:
        p: dict[str, Any] = json.loads(await request.text() or "{}")
        if p.get("category") == "option":
            return _Options(self.emu, self.dialect).create(p)
        if p.get("category") != "linear":
            raise VenueReject("bad_symbol", str(p.get("category")))
        order = self.acct.place(
            symbol=str(p.get("symbol")),
            side=_SIDE[str(p.get("side"))],
            qty=Decimal(str(p.get("qty"))),
            order_type=str(p.get("orderType", "Market")).upper(),
            reduce_only=bool(p.get("reduceOnly")),
            client_id=str(p.get("orderLinkId", "")),
            price=Decimal(str(p.get("price", "0"))),
            now_ms=self.emu.clock_ms(),
        )
        return self.ok({"orderId": order_uuid(order.order_id), "orderLinkId": order.client_id})

    async def cancel(self, request: web.Request) -> web.Response:
        p: dict[str, Any] = json.loads(await request.text() or "{}")
        found = self._select(p, None)
        if not found:
            raise VenueReject("not_found")
        self.acct.cancel(found[0])
        return self.ok(
            {"orderId": order_uuid(found[0].order_id), "orderLinkId": found[0].client_id}
        )

    def _select(self, q: Any, final: bool | None) -> list[Order]:
        """Orders matching symbol/orderId/orderLinkId/orderStatus; `final` picks open or closed."""
        out = []
        option = q.get("category") == "option"
        for o in sorted(self.acct.orders.values(), key=lambda o: -o.order_id):
            if (
                (o.symbol in self.acct.options) == option
                and q.get("symbol") in (None, o.symbol)
                and q.get("orderId") in (None, order_uuid(o.order_id))
                and q.get("orderLinkId") in (None, o.client_id)
                and q.get("orderStatus") in (None, _order_status(o))
                and (final is None or (o.status != "NEW") == final)
            ):
                out.append(o)
        return out

    def _orders(self, request: web.Request, final: bool) -> web.Response:
        fee = self.acct.taker_fee
        options = self.acct.options
        rows = []
        for o in self._select(request.query, final):
            om = options.get(o.symbol)
            rows.append(_order_json(o, fee, om is not None, om.settle if om else "USDT"))
        return self._page(request.query.get("category", "linear"), rows)

    async def realtime(self, request: web.Request) -> web.Response:
        # openOnly=0 (the default): active orders only, as on a unified account.
        return self._orders(request, final=False)

    async def history(self, request: web.Request) -> web.Response:
        return self._orders(request, final=True)

    async def positions(self, request: web.Request) -> web.Response:
        if request.query.get("category") == "option":
            return _Options(self.emu, self.dialect).positions(request)
        symbol = request.query.get("symbol")
        rows = []
        for sym, pos in self.acct.positions.items():
            if symbol not in (None, sym) or (symbol is None and pos.qty == 0):
                continue
            rows.append(self._position(sym, pos.qty, pos.entry))
        return self._page("linear", rows)

    def _position(self, symbol: str, qty: Decimal, entry: Decimal) -> dict[str, Any]:
        m = self.acct.markets[symbol]
        side = "Buy" if qty > 0 else "Sell" if qty < 0 else ""
        now = str(self.emu.clock_ms())
        return {
            "positionIdx": 0,
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": symbol,
            "side": side,
            "size": _s(abs(qty)),
            "avgPrice": _s(entry),
            "positionValue": _s(abs(qty) * entry),
            "tradeMode": 0,
            "positionStatus": "Normal",
            "autoAddMargin": 0,
            "adlRankIndicator": 2 if qty else 0,
            "leverage": _s(self.acct.leverage),
            "positionBalance": _s(abs(qty) * entry / self.acct.leverage),
            "markPrice": _s(m.mark),
            "liqPrice": "",
            "bustPrice": "",
            "positionMM": "0",
            "positionIM": _s(abs(qty) * m.mark / self.acct.leverage),
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "sessionAvgPrice": "",
            "unrealisedPnl": _s((m.mark - entry) * qty),
            "curRealisedPnl": "0",
            "cumRealisedPnl": "0",
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "createdTime": now,
            "updatedTime": now,
            "seq": 5723621632,
        }

    async def wallet_balance(self, request: web.Request) -> web.Response:
        bal, avail = self.acct.balance, self.acct.available()
        coin = {
            "coin": "USDT",
            "equity": _s(bal + self.acct.unrealized()),
            "walletBalance": _s(bal),
            "unrealisedPnl": _s(self.acct.unrealized()),
            "locked": "0",
            "totalPositionIM": _s(bal + self.acct.unrealized() - avail),
            "totalOrderIM": "0",
            "availableToWithdraw": "",
            "borrowAmount": "0",
            "accruedInterest": "0",
            "usdValue": _s(bal),
        }
        return self.ok(
            {
                "list": [
                    {
                        "accountType": request.query.get("accountType", "UNIFIED"),
                        "totalEquity": coin["equity"],
                        "totalWalletBalance": coin["walletBalance"],
                        "totalAvailableBalance": _s(avail),
                        "coin": [coin],
                    }
                ]
            }
        )

    async def executions(self, request: web.Request) -> web.Response:
        """Only funding executions are kept: execFee > 0 is paid by the account (Bybit's sign)."""
        q = request.query
        start = int(q.get("startTime", "0"))
        rows = [
            self._funding_row(i)
            for i in self.acct.incomes
            if i.kind == "FUNDING_FEE"
            and q.get("execType") in (None, "Funding")
            and i.time_ms >= start
            and q.get("symbol") in (None, i.symbol)
        ]
        return self._page(q.get("category", "linear"), rows)

    def _funding_row(self, i: Income) -> dict[str, Any]:
        m = self.acct.markets[i.symbol]
        value = abs(i.amount / i.rate) if i.rate else Decimal(0)
        return {
            "symbol": i.symbol,
            "orderType": "UNKNOWN",
            "underlyingPrice": "",
            "orderLinkId": "",
            "orderId": str(uuid.UUID(int=i.tran_id)),
            "stopOrderType": "UNKNOWN",
            "execTime": str(i.time_ms),
            "feeCurrency": "",
            "createType": "",
            "feeRate": _s(i.rate),
            "tradeIv": "",
            "blockTradeId": "",
            "markPrice": _s(m.mark),
            "execPrice": _s(m.mark),
            "markIv": "",
            "orderQty": "0",
            "orderPrice": "0",
            "execValue": _s(value),
            "closedSize": "0",
            "execType": "Funding",
            "seq": str(i.tran_id),
            "side": "Buy" if i.amount * i.rate < 0 else "Sell",
            "indexPrice": "",
            "leavesQty": "0",
            "isMaker": False,
            "execFee": _s(-i.amount),
            "execId": str(uuid.UUID(int=i.tran_id + (1 << 64))),
            "marketUnit": "",
            "execQty": _s(value / m.mark) if m.mark else "0",
        }


def _e8(value: float) -> str:
    return _s(Decimal(repr(value)).quantize(_E8))


def _option_instrument(om: OptionMarket) -> dict[str, Any]:
    return {
        "symbol": om.symbol,
        "status": "Trading",
        "baseCoin": om.base,
        "quoteCoin": "USD",
        "settleCoin": om.settle,
        "optionsType": "Call" if om.call else "Put",
        "launchTime": str(om.launch_ms),
        "deliveryTime": str(om.expiry_ms),
        "deliveryFeeRate": "0.00015",
        "priceFilter": {"minPrice": _s(om.tick), "maxPrice": "10000000", "tickSize": _s(om.tick)},
        "lotSizeFilter": {
            "maxOrderQty": _s(om.max_qty),
            "minOrderQty": _s(om.min_qty),
            "qtyStep": _s(om.qty_step),
        },
        "displayName": "",
    }


class _Options:
    """category=option: tickers with greeks, the book, IOC limit orders and positions."""

    def __init__(self, emu: Emulator, dialect: Bybit) -> None:
        self.emu = emu
        self.acct = emu.account
        self.dialect = dialect
        self.ok = dialect.envelope

    def _page(self, rows: list[dict[str, Any]]) -> web.Response:
        return self.ok({"category": "option", "list": rows, "nextPageCursor": ""})

    def _ticker(self, om: OptionMarket) -> dict[str, Any]:
        now = self.emu.clock_ms()
        index = self.acct.underlying[om.base]
        mark = self.acct.option_mark(om, now)
        bids, asks = self.acct.option_book(om, now)
        g = self.acct.option_greeks(om, now)
        quoted = om.quote_greeks
        iv = _e8(om.vol) if quoted else ""
        return {
            "symbol": om.symbol,
            "bid1Price": _s(bids[0][0]) if bids else "0",
            "bid1Size": _s(bids[0][1]) if bids else "0",
            "bid1Iv": iv,
            "ask1Price": _s(asks[0][0]),
            "ask1Size": _s(asks[0][1]),
            "ask1Iv": iv,
            "lastPrice": "0",
            "highPrice24h": "0",
            "lowPrice24h": "0",
            "markPrice": _s(mark),
            "indexPrice": _s(index),
            "markIv": iv,
            "underlyingPrice": _s(index),
            "openInterest": "0",
            "turnover24h": "0",
            "volume24h": "0",
            "totalVolume": "0",
            "totalTurnover": "0",
            "delta": _e8(g.delta) if quoted else "",
            "gamma": _e8(g.gamma) if quoted else "",
            "vega": _e8(g.vega / 100) if quoted else "",
            "theta": _e8(g.theta / 365) if quoted else "",
            "predictedDeliveryPrice": "0",
            "change24h": "0",
        }

    async def tickers(self, request: web.Request) -> web.Response:
        q = request.query
        symbol = q.get("symbol")
        if symbol in self.dialect.recorded:
            return self._page([self.dialect.recorded[symbol]])
        if symbol is not None:
            if symbol not in self.acct.options:
                raise VenueReject("bad_symbol", symbol)
            return self._page([self._ticker(self.acct.options[symbol])])
        # Every listed option of one base; Bybit answers BTC's when baseCoin is not given.
        base, now = q.get("baseCoin", "BTC"), self.emu.clock_ms()
        rows = [
            self.dialect.recorded.get(om.symbol) or self._ticker(om)
            for om in self.acct.options.values()
            if om.base == base and om.expiry_ms > now
        ]
        return self._page(rows)

    async def orderbook(self, request: web.Request) -> web.Response:
        q = request.query
        symbol = str(q.get("symbol"))
        if q.get("category") != "option" or symbol not in self.acct.options:
            raise VenueReject("bad_symbol", symbol)
        now = self.emu.clock_ms()
        bids, asks = self.acct.option_book(self.acct.options[symbol], now)
        limit = int(q.get("limit", "25"))
        return self.ok(
            {
                "s": symbol,
                "b": [[_s(p), _s(a)] for p, a in bids[:limit]],
                "a": [[_s(p), _s(a)] for p, a in asks[:limit]],
                "ts": now,
                "u": 1,
                "seq": 1,
                "cts": now,
            }
        )

    def create(self, p: dict[str, Any]) -> web.Response:
        if not p.get("orderLinkId"):
            raise VenueReject("bad_quantity", "orderLinkId is required for options")
        order = self.acct.place_option(
            symbol=str(p.get("symbol")),
            side=_SIDE[str(p.get("side"))],
            qty=Decimal(str(p.get("qty"))),
            price=Decimal(str(p.get("price", "0"))),
            time_in_force=_TIF.get(str(p.get("timeInForce", "GTC")), "GTC"),
            client_id=str(p.get("orderLinkId")),
            now_ms=self.emu.clock_ms(),
            reduce_only=bool(p.get("reduceOnly")),
        )
        return self.ok({"orderId": order_uuid(order.order_id), "orderLinkId": order.client_id})

    def positions(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol")
        now = self.emu.clock_ms()
        rows = []
        for sym, pos in self.acct.option_positions.items():
            if pos.qty == 0 or symbol not in (None, sym):
                continue
            om = self.acct.options[sym]
            mark = self.acct.option_mark(om, now)
            rows.append(
                {
                    "positionIdx": 0,
                    "riskId": 0,
                    "riskLimitValue": "",
                    "symbol": sym,
                    "side": "Buy" if pos.qty > 0 else "Sell",
                    "size": _s(abs(pos.qty)),
                    "avgPrice": _s(pos.entry),
                    "positionValue": _s(abs(pos.qty) * mark),
                    "tradeMode": 0,
                    "positionStatus": "Normal",
                    "autoAddMargin": 0,
                    "adlRankIndicator": 0,
                    "leverage": "",
                    "positionBalance": "",
                    "markPrice": _s(mark),
                    "liqPrice": "",
                    "bustPrice": "",
                    "positionMM": "0" if pos.qty > 0 else _s(-pos.qty * mark),
                    "positionIM": "0" if pos.qty > 0 else _s(-pos.qty * mark),
                    "tpslMode": "",
                    "takeProfit": "",
                    "stopLoss": "",
                    "trailingStop": "",
                    "unrealisedPnl": _s((mark - pos.entry) * pos.qty),
                    "curRealisedPnl": "0",
                    "cumRealisedPnl": "0",
                    "createdTime": str(now),
                    "updatedTime": str(now),
                    "seq": 1,
                }
            )
        return self._page(rows)
