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

Account history lives in `/v5/execution/list` as on Bybit: Trade, BustTrade (liquidation),
AdlTrade and Funding executions, newest first, execFee > 0 paid, cursor-paged
(`nextPageCursor`, 50 rows, at most 100) within a 7-day window; option deliveries in
`/v5/asset/delivery-record`. Set-up: leverage per symbol (buy = sell, 110043 when unchanged),
position mode (0 one-way, 3 hedge: positionIdx 1 / 2), and margin mode account-wide through
`/v5/account/set-margin-mode`, since this account is a unified one (UTA 2.0, where the
position's `tradeMode` is deprecated and always 0).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .account import Delivery, Income, Market, OptionMarket, Order, Position, Trade, VenueReject

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
    "position_side": (10001, "position idx not match position mode"),
    "bad_param": (10001, "params error: {}"),
    "interval": (
        10001,
        "params error: The time range between startTime and endTime exceeds 7 days",
    ),
    "bad_leverage": (110013, "Due to risk limit, cannot set leverage"),
    "leverage_same": (110043, "leverage not modified"),
    "position_mode_same": (110025, "Position mode is not modified"),
    "position_mode_busy": (
        110024,
        "You have existing positions, so position mode cannot be switched",
    ),
    "position_mode_orders": (110028, "You have open orders, so position mode cannot be switched"),
    "unified_forbidden": (100028, "unified account is forbidden"),
}
WEEK_MS = 7 * 86_400_000
_IDX = {"BOTH": 0, "LONG": 1, "SHORT": 2}
_EXEC_TYPES = {"trade": "Trade", "liquidation": "BustTrade", "adl": "AdlTrade"}
_CREATE = {"trade": "CreateByUser", "liquidation": "CreateByLiq", "adl": "CreateByAdl_PassThrough"}
_MARGIN_MODES = {"ISOLATED_MARGIN": "isolated", "REGULAR_MARGIN": "cross"}
_MAX_LEVERAGE = Decimal(100)  # the instruments' leverageFilter
_MMR = Decimal("0.005")  # maintenance margin rate of the first risk limit tier
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
        if "{}" in msg:
            msg = msg.format(detail)
        return self.envelope({}, code, msg)

    def verify(self, emu: Emulator, request: web.Request, body: str) -> web.Response | None:
        if request.path.startswith("/v5/market/"):
            return None
        h = request.headers  # the signature covers the query string as sent, undecoded
        if h.get("X-BAPI-API-KEY") != emu.api_key:
            return self.error("bad_key")
        payload = request.rel_url.raw_query_string if request.method == "GET" else body
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
            web.post("/v5/position/set-leverage", h.set_leverage),
            web.post("/v5/position/switch-mode", h.switch_mode),
            web.post("/v5/position/switch-isolated", h.switch_isolated),
            web.post("/v5/account/set-margin-mode", h.set_margin_mode),
            web.get("/v5/asset/delivery-record", h.delivery_record),
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


def _order_json(o: Order, value: Decimal, settle: str = "USDT") -> dict[str, Any]:
    """One order as v5 lists it. `value` is what its executions traded (the sum over both
    trades of a split fill); the fee is the order's own, summed the same way. `cumFeeDetail`
    (fee per coin) is where ccxt 4.5 reads the fee from."""
    fee = o.fee
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
        "positionIdx": _IDX.get(o.position_side, 0),
        "orderStatus": _order_status(o),
        "createType": _CREATE.get(o.kind, "CreateByUser"),
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
        "marketUnit": "",
        "slippageToleranceType": "UNKNOWN",
        "slippageTolerance": "0",
        "extraFees": "",
        "createdTime": str(o.time_ms),
        "updatedTime": str(o.update_ms or o.time_ms),
    }


def _cursor(offset: int) -> str:
    """An opaque page cursor in Bybit's look (`<id>%3A<n>%2C<id>%3A<n>`, sent back as is and
    so arriving decoded, `<id>:<n>,<id>:<n>`); ours holds the offset of the next row."""
    return f"{offset}%3A0%2C{offset}%3A0" if offset else ""


def _page_of(rows: list[dict[str, Any]], q: Any, default: int, most: int) -> tuple[list, str]:
    """One page of `rows` and the cursor of the next ("" on the last page)."""
    try:
        start = int(str(q.get("cursor") or "0").replace("%3A", ":").split(":")[0])
        limit = max(1, min(int(q.get("limit", default)), most))
    except ValueError:
        raise VenueReject("bad_param", "cursor invalid") from None
    page = rows[start : start + limit]
    return page, _cursor(start + limit if start + limit < len(rows) else 0)


def _window(q: Any, now: int) -> tuple[int, int]:
    """Bybit's 7-day window: both ends at most 7 days apart; neither, the last 7 days; only
    endTime, the 7 days before it. Only startTime: up to now, where Bybit stops 7 days later
    (its rule would hide funding from a bot asking since 0; see tests/venue/test_bybit.py)."""
    start, end = q.get("startTime"), q.get("endTime")
    if start is not None and end is not None:
        if int(end) - int(start) > WEEK_MS:
            raise VenueReject("interval")
        return int(start), int(end)
    if start is not None:
        return int(start), 2**62
    if end is not None:
        return int(end) - WEEK_MS, int(end)
    return now - WEEK_MS, now


def _delivery_row(d: Delivery) -> dict[str, Any]:
    return {
        "deliveryTime": d.time_ms,
        "symbol": d.symbol,
        "side": "Buy" if d.qty > 0 else "Sell",
        "position": _s(abs(d.qty)),
        "entryPrice": _s(d.entry),
        "deliveryPrice": _s(d.price),
        "strike": _s(d.strike),
        "fee": _s(d.fee),
        "deliveryRpl": _s(d.pnl),
    }


def _body(text: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(text or "{}")
    return body


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

    def _margin_mode(self) -> str:
        """A unified account's margin mode is account-wide: ISOLATED_MARGIN once set so."""
        modes = {self.acct.margin_mode_of(s) for s in self.acct.markets}
        return "ISOLATED_MARGIN" if modes == {"isolated"} else "REGULAR_MARGIN"

    async def account_info(self, request: web.Request) -> web.Response:
        return self.ok(
            {
                "marginMode": self._margin_mode(),
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
        """positionIdx 0 one-way, 1 the Buy side and 2 the Sell side of a hedge-mode
        position (a Sell on 1 closes the long); a mismatch with the mode is a 10001."""
        p = _body(await request.text())
        if p.get("category") == "option":
            return _Options(self.emu, self.dialect).create(p)
        if p.get("category") != "linear":
            raise VenueReject("bad_symbol", str(p.get("category")))
        sides = {v: k for k, v in _IDX.items()}
        idx = int(p.get("positionIdx", 0))
        if idx not in sides:
            raise VenueReject("bad_param", "positionIdx invalid")
        order = self.acct.place(
            symbol=str(p.get("symbol")),
            side=_SIDE[str(p.get("side"))],
            qty=Decimal(str(p.get("qty"))),
            order_type=str(p.get("orderType", "Market")).upper(),
            reduce_only=bool(p.get("reduceOnly")),
            client_id=str(p.get("orderLinkId", "")),
            price=Decimal(str(p.get("price", "0"))),
            now_ms=self.emu.clock_ms(),
            position_side=sides[idx],
        )
        return self.ok({"orderId": order_uuid(order.order_id), "orderLinkId": order.client_id})

    async def cancel(self, request: web.Request) -> web.Response:
        p = _body(await request.text())
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

    def _value(self, o: Order) -> Decimal:
        trades = self.acct.trades_of(o)
        if not trades:
            return o.executed * o.avg_price
        return sum((t.qty * t.price for t in trades), Decimal(0))

    def _orders(self, request: web.Request, final: bool) -> web.Response:
        options = self.acct.options
        rows = []
        for o in self._select(request.query, final):
            om = options.get(o.symbol)
            rows.append(_order_json(o, self._value(o), om.settle if om else "USDT"))
        return self._page(request.query.get("category", "linear"), rows)

    async def realtime(self, request: web.Request) -> web.Response:
        # openOnly=0 (the default): active orders only, as on a unified account.
        return self._orders(request, final=False)

    async def history(self, request: web.Request) -> web.Response:
        return self._orders(request, final=True)

    def _sides(self) -> tuple[str, ...]:
        return ("LONG", "SHORT") if self.acct.position_mode == "hedge" else ("BOTH",)

    def _held(self, symbol: str, side: str) -> Position:
        if side == "BOTH":
            return self.acct.positions.get(symbol, Position())
        return self.acct.hedge_positions.get((symbol, side), Position())

    async def positions(self, request: web.Request) -> web.Response:
        """With a symbol, its rows whether held or not (hedge mode: positionIdx 1 and 2);
        without, only the held ones, as Bybit answers a settleCoin query."""
        if request.query.get("category") == "option":
            return _Options(self.emu, self.dialect).positions(request)
        symbol = request.query.get("symbol")
        if symbol is not None:
            self.acct.market(symbol)
        rows = [
            self._position(sym, side, pos)
            for sym in self.acct.markets
            if symbol in (None, sym)
            for side in self._sides()
            for pos in (self._held(sym, side),)
            if symbol is not None or pos.qty != 0
        ]
        return self._page("linear", rows)

    def _position(self, symbol: str, side: str, pos: Position) -> dict[str, Any]:
        m = self.acct.markets[symbol]
        qty, entry = pos.qty, pos.entry
        lev = self.acct.leverage_of(symbol)
        times = [
            t.time_ms for t in self.acct.trades if t.symbol == symbol and t.position_side == side
        ]
        now = self.emu.clock_ms()
        realised = sum((i.amount for i in self.acct.incomes if i.symbol == symbol), Decimal(0))
        return {
            "positionIdx": _IDX[side],
            "riskId": 1,
            "riskLimitValue": "2000000",
            "symbol": symbol,
            "side": "Buy" if qty > 0 else "Sell" if qty < 0 else "",
            "size": _s(abs(qty)),
            "avgPrice": _s(entry),
            "positionValue": _s(abs(qty) * entry),
            "tradeMode": 0,  # UTA 2.0: deprecated, margin mode is the account's
            "positionStatus": "Normal",
            "autoAddMargin": 0,
            "adlRankIndicator": 2 if qty else 0,
            "leverage": format(lev.normalize(), "f"),
            "positionBalance": _s(abs(qty) * entry / lev),
            "markPrice": _s(m.mark),
            "liqPrice": "",
            "bustPrice": "",
            "positionMM": _s(abs(qty) * m.mark * _MMR),
            "positionIM": _s(abs(qty) * m.mark / lev),
            "positionIMByMp": _s(abs(qty) * m.mark / lev),
            "positionMMByMp": _s(abs(qty) * m.mark * _MMR),
            "tpslMode": "Full",
            "takeProfit": "0",
            "stopLoss": "0",
            "trailingStop": "0",
            "sessionAvgPrice": "",
            "unrealisedPnl": _s(m.pnl(qty, entry, m.mark)),
            "curRealisedPnl": _s(realised),
            "cumRealisedPnl": _s(realised),
            "isReduceOnly": False,
            "mmrSysUpdatedTime": "",
            "leverageSysUpdatedTime": "",
            "createdTime": str(min(times, default=now)),
            "updatedTime": str(max(times, default=now)),
            "seq": 5723621632 + len(times),
        }

    def _coin(self, coin: str) -> dict[str, Any]:
        wallet = self.acct.coin_balance(coin)
        upnl = self.acct.unrealized(coin)
        held = [
            (self.acct.markets[s], p)
            for s, p in self.acct._positions()
            if p.qty and self.acct.markets[s].settle == coin
        ]
        im = sum(
            (m.notional(p.qty, m.mark) / self.acct.leverage_of(m.symbol) for m, p in held),
            Decimal(0),
        )
        mm = sum((m.notional(p.qty, m.mark) * _MMR for m, p in held), Decimal(0))
        orders = sum(
            (
                o.qty * o.price / self.acct.leverage_of(o.symbol)
                for o in self.acct.orders.values()
                if o.status == "NEW"
                and o.symbol in self.acct.markets
                and self.acct.markets[o.symbol].settle == coin
            ),
            Decimal(0),
        )
        index = self.acct.underlying.get(coin, Decimal(1))
        realised = sum((i.amount for i in self.acct.incomes if i.asset == coin), Decimal(0))
        return {
            "availableToBorrow": "",
            "bonus": "0",
            "accruedInterest": "0",
            "availableToWithdraw": "",
            "totalOrderIM": _s(orders),
            "equity": _s(wallet + upnl),
            "totalPositionMM": _s(mm),
            "usdValue": _s((wallet + upnl) * index),
            "unrealisedPnl": _s(upnl),
            "collateralSwitch": True,
            "spotHedgingQty": "0",
            "borrowAmount": "0.000000000000000000",
            "totalPositionIM": _s(im),
            "walletBalance": _s(wallet),
            "cumRealisedPnl": _s(realised),
            "locked": "0",
            "marginCollateral": True,
            "coin": coin,
        }

    async def wallet_balance(self, request: web.Request) -> web.Response:
        coins = ["USDT", *sorted(c for c in self.acct.wallets if c != "USDT")]
        rows = [self._coin(c) for c in coins]
        usd = sum((Decimal(r["usdValue"]) for r in rows), Decimal(0))
        wallet = sum(
            (
                Decimal(r["walletBalance"]) * self.acct.underlying.get(r["coin"], Decimal(1))
                for r in rows
            ),
            Decimal(0),
        )
        im = sum(
            (Decimal(r["totalPositionIM"]) + Decimal(r["totalOrderIM"]) for r in rows), Decimal(0)
        )
        mm = sum((Decimal(r["totalPositionMM"]) for r in rows), Decimal(0))
        avail = self.acct.available_in("USDT") - Decimal(rows[0]["totalOrderIM"])
        return self.ok(
            {
                "list": [
                    {
                        "totalEquity": _s(usd),
                        "accountIMRate": _s((im / usd).quantize(Decimal("0.0001"))) if usd else "0",
                        "totalMarginBalance": _s(usd),
                        "totalInitialMargin": _s(im),
                        "accountType": request.query.get("accountType", "UNIFIED"),
                        "totalAvailableBalance": _s(avail),
                        "accountMMRate": _s((mm / usd).quantize(Decimal("0.0001"))) if usd else "0",
                        "totalPerpUPL": _s(self.acct.unrealized("USDT")),
                        "totalWalletBalance": _s(wallet),
                        "accountLTV": "0",
                        "totalMaintenanceMargin": _s(mm),
                        "coin": rows,
                    }
                ]
            }
        )

    async def executions(self, request: web.Request) -> web.Response:
        """Trade, BustTrade, AdlTrade and Funding executions of one category, newest first,
        execType and symbol filters, the 7-day window, 50 a page (at most 100)."""
        q = request.query
        category = q.get("category")
        if category not in ("linear", "inverse", "option", "spot"):
            raise VenueReject("bad_param", "Illegal category")
        start, end = _window(q, self.emu.clock_ms())
        kind = q.get("execType")
        rows: list[tuple[int, int, dict[str, Any]]] = []
        if category in ("linear", "inverse"):
            inverse = category == "inverse"
            for t in self.acct.trades:
                m = self.acct.markets.get(t.symbol)
                if m is not None and m.inverse == inverse:
                    rows.append((t.time_ms, t.trade_id, self._trade_row(t)))
            for i in self.acct.incomes:
                m = self.acct.markets[i.symbol]
                if i.kind == "FUNDING_FEE" and m.inverse == inverse:
                    rows.append((i.time_ms, i.tran_id, self._funding_row(i)))
        picked = [
            r
            for ms, _, r in sorted(rows, key=lambda x: (-x[0], -x[1]))
            if start <= ms <= end
            and kind in (None, r["execType"])
            and q.get("symbol") in (None, r["symbol"])
        ]
        page, cursor = _page_of(picked, q, 50, 100)
        return self.ok({"category": category, "list": page, "nextPageCursor": cursor})

    def _trade_row(self, t: Trade) -> dict[str, Any]:
        m = self.acct.markets[t.symbol]
        o = self.acct.orders[t.order_id]
        done = sum((x.qty for x in self.acct.trades_of(o) if x.trade_id <= t.trade_id), Decimal(0))
        return {
            "symbol": t.symbol,
            "orderType": o.order_type.capitalize(),
            "underlyingPrice": "",
            "orderLinkId": o.client_id,
            "orderId": order_uuid(o.order_id),
            "stopOrderType": "UNKNOWN",
            "execTime": str(t.time_ms),
            "feeCurrency": "",
            "createType": _CREATE[t.kind],
            "feeRate": _s(self.acct.taker_fee),
            "tradeIv": "",
            "blockTradeId": "",
            "markPrice": _s(m.mark),
            "execPrice": _s(t.price),
            "markIv": "",
            "orderQty": _s(o.qty),
            "orderPrice": _s(o.price),
            "execValue": _s(t.qty * t.price),
            "closedSize": _s(t.closed_qty),
            "execType": _EXEC_TYPES[t.kind],
            "seq": str(t.trade_id),
            "side": "Buy" if t.side == "BUY" else "Sell",
            "indexPrice": "",
            "leavesQty": _s(o.qty - done),
            "isMaker": t.maker,
            "execFee": _s(t.fee),
            "execId": str(uuid.UUID(int=t.trade_id + (2 << 64))),
            "marketUnit": "",
            "execQty": _s(t.qty),
        }

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

    async def set_leverage(self, request: web.Request) -> web.Response:
        """buyLeverage = sellLeverage (a unified account's rule), 1..100; 110043 if unchanged."""
        p = _body(await request.text())
        if p.get("category") not in ("linear", "inverse"):
            raise VenueReject("bad_param", "Illegal category")
        symbol = self.acct.market(str(p.get("symbol"))).symbol
        try:
            buy, sell = Decimal(str(p["buyLeverage"])), Decimal(str(p["sellLeverage"]))
        except (KeyError, ArithmeticError):
            raise VenueReject("bad_param", "buyLeverage or sellLeverage invalid") from None
        if buy != sell:
            raise VenueReject("bad_param", "buy leverage must be equal to sell leverage")
        if not Decimal(1) <= buy <= _MAX_LEVERAGE:
            raise VenueReject("bad_leverage")
        if buy == self.acct.leverage_of(symbol):
            raise VenueReject("leverage_same")
        self.acct.set_leverage(symbol, buy)
        return self.ok({})

    async def switch_mode(self, request: web.Request) -> web.Response:
        """mode 0 (merged single) or 3 (both sides), by symbol or settle coin; one mode for
        the whole account here. Refused while positions (110024) or orders (110028) exist."""
        p = _body(await request.text())
        if p.get("category") not in ("linear", "inverse"):
            raise VenueReject("bad_param", "Illegal category")
        if p.get("symbol") is None and p.get("coin") is None:
            raise VenueReject("bad_param", "symbol or coin is required")
        if p.get("symbol") is not None:
            self.acct.market(str(p["symbol"]))
        modes = {0: "one_way", 3: "hedge"}
        mode = modes.get(int(p.get("mode", -1)))
        if mode is None:
            raise VenueReject("bad_param", "mode invalid")
        if mode == self.acct.position_mode:
            raise VenueReject("position_mode_same")
        if any(pos.qty for _, pos in self.acct._positions()):
            raise VenueReject("position_mode_busy")
        if any(o.status == "NEW" for o in self.acct.orders.values()):
            raise VenueReject("position_mode_orders")
        self.acct.set_position_mode(mode)
        return self.ok({})

    async def switch_isolated(self, request: web.Request) -> web.Response:
        """Classic accounts only: a unified account sets its margin mode account-wide."""
        raise VenueReject("unified_forbidden")

    async def set_margin_mode(self, request: web.Request) -> web.Response:
        """ISOLATED_MARGIN / REGULAR_MARGIN for the whole account; a refusal is 3400045 with
        the reasons in `result.reasons`, as Bybit answers it."""
        p = _body(await request.text())
        wanted = str(p.get("setMarginMode"))
        mode = _MARGIN_MODES.get(wanted)
        reasons = []
        if mode is None:
            reasons.append({"reasonCode": "3400045", "reasonMsg": f"{wanted} is not available"})
        else:
            busy = [
                s
                for s in self.acct.markets
                if self.acct.margin_mode_of(s) != mode and self.acct.net_position(s) != 0
            ]
            reasons += [
                {"reasonCode": "3400045", "reasonMsg": f"{s} has an open position"} for s in busy
            ]
        if reasons or mode is None:
            return self.ok({"reasons": reasons}, 3400045, "Set margin mode failed")
        for s in self.acct.markets:
            self.acct.set_margin_mode(s, mode)
        return self.ok({"reasons": []}, 0, "Request accepted")

    async def delivery_record(self, request: web.Request) -> web.Response:
        """Option deliveries (settlement at expiry), newest first, 20 a page (at most 50)."""
        q = request.query
        if q.get("category") not in ("option", "linear"):
            raise VenueReject("bad_param", "Illegal category")
        start, end = int(q.get("startTime", "0")), int(q.get("endTime", str(2**62)))
        rows = [
            _delivery_row(d)
            for d in sorted(self.acct.deliveries, key=lambda d: -d.time_ms)
            if q.get("symbol") in (None, d.symbol)
            and start <= d.time_ms <= end
            and (d.symbol in self.acct.options) == (q.get("category") == "option")
        ]
        page, cursor = _page_of(rows, q, 20, 50)
        return self.ok({"category": q.get("category"), "list": page, "nextPageCursor": cursor})


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
