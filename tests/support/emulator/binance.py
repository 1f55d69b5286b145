"""Binance USDⓈ-M futures (fapi) in its native JSON: the endpoints ccxt's binanceusdm calls.

Signed requests are checked the way Binance does: HMAC-SHA256 of the query string (GET,
DELETE) or form body (POST) up to `&signature=`, with the key in `X-MBX-APIKEY`.
exchangeInfo carries the real filters of ETHUSDT/BTCUSDT (tick 0.01/0.10, step 0.001,
min notional 20/100 USDT).

Account history as Binance keeps it: `/fapi/v1/userTrades` (one row per execution, per
symbol, at most 7 days per request), `/fapi/v1/forceOrders` (liquidations with client id
`autoclose-<ts>`, ADL as `adl_autoclose`), `/fapi/v1/income` (COMMISSION and REALIZED_PNL
carry the trade id, FUNDING_FEE does not). Account set-up: leverage, margin type and
dual-side (hedge) position mode, refused with Binance's codes while positions or orders stand
in the way. positionRisk v3 (what ccxt 4.5 calls) lists only symbols with a position or open
orders and has no leverage or margin type; v2 lists every symbol with both. Numbers are
strings except ids, times, leverage and counters, as on Binance.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from .account import Income, Market, Order, Position, Trade, VenueReject

if TYPE_CHECKING:
    from .server import Emulator

WEEK_MS = 7 * 86_400_000

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
    "position_side": (400, -4061, "Order's position side does not match user's setting."),
    "bad_position_side": (400, -4060, "Invalid position side."),
    "reduce_only_hedge": (400, -1106, "Parameter 'reduceOnly' sent when not required."),
    "bad_leverage": (400, -4028, "Leverage {} is not valid"),
    "margin_type_same": (400, -4046, "No need to change margin type."),
    "margin_type_orders": (
        400,
        -4047,
        "Margin type cannot be changed if there exists open orders.",
    ),
    "margin_mode_busy": (400, -4048, "Margin type cannot be changed if there exists position."),
    "position_side_same": (400, -4059, "No need to change position side."),
    "position_side_orders": (
        400,
        -4067,
        "Position side cannot be changed if there exists open orders.",
    ),
    "position_mode_busy": (
        400,
        -4068,
        "Position side cannot be changed if there exists position.",
    ),
    "missing_param": (
        400,
        -1102,
        "Mandatory parameter '{}' was not sent, was empty/null, or malformed.",
    ),
    "bad_param": (400, -1130, "Data sent for parameter '{}' is not valid."),
    "interval": (400, -1127, "More than 168 hours between startTime and endTime."),
    "combination": (400, -1128, "Combination of optional parameters invalid."),
}

_PUBLIC = {
    "/fapi/v1/exchangeInfo",
    "/fapi/v1/depth",
    "/fapi/v1/premiumIndex",
    "/fapi/v1/time",
    "/fapi/v1/ticker/bookTicker",
    "/fapi/v1/fundingRate",
}

# Binance's BTCUSDT notional tiers: floor, maintenance margin ratio (as ccxt's recorded
# leverage brackets hold them) and the max initial leverage of each tier; every symbol here.
_TIERS: tuple[tuple[int, Decimal, int], ...] = (
    (0, Decimal("0.004"), 125),
    (50_000, Decimal("0.005"), 100),
    (250_000, Decimal("0.01"), 50),
    (3_000_000, Decimal("0.025"), 20),
    (20_000_000, Decimal("0.05"), 10),
    (40_000_000, Decimal("0.1"), 5),
    (100_000_000, Decimal("0.125"), 4),
    (120_000_000, Decimal("0.15"), 3),
    (200_000_000, Decimal("0.25"), 2),
    (300_000_000, Decimal("0.5"), 1),
)
_LAST_CAP = 500_000_000
_E8 = Decimal("0.00000001")
_KINDS = {"LIQUIDATION": "liquidation", "ADL": "adl"}
_MODES = {"ISOLATED": "isolated", "CROSSED": "cross"}


def _s(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def _e8(value: Decimal) -> str:
    """A computed price or amount: at most 8 decimals, as Binance prints them."""
    exponent = value.as_tuple().exponent
    return _s(value.quantize(_E8) if isinstance(exponent, int) and exponent < -8 else value)


def _params(request: web.Request, body: str) -> dict[str, str]:
    raw = request.rel_url.raw_query_string if request.method in ("GET", "DELETE") else body
    params = dict(parse_qsl(raw, keep_blank_values=True))
    params.update(dict(parse_qsl(request.rel_url.raw_query_string)))
    return params


def _tier(notional: Decimal) -> tuple[Decimal, Decimal]:
    """(maintenance margin ratio, maintenance amount) of the tier `notional` falls in."""
    cum, prev, ratio = Decimal(0), Decimal(0), _TIERS[0][1]
    for floor, mmr, _ in _TIERS:
        if notional < floor:
            break
        cum += floor * (mmr - prev)
        prev, ratio = mmr, mmr
    return ratio, cum


def _max_notional(leverage: int) -> str:
    """The cap of the last tier that still allows `leverage`, as Binance's leverage answer."""
    caps = [t[0] for t in _TIERS[1:]] + [_LAST_CAP]
    allowed = [cap for (_, _, lev), cap in zip(_TIERS, caps, strict=True) if lev >= leverage]
    return str(allowed[-1] if allowed else caps[0])


def _brackets() -> list[dict[str, Any]]:
    caps = [t[0] for t in _TIERS[1:]] + [_LAST_CAP]
    out, cum, prev = [], Decimal(0), Decimal(0)
    for i, ((floor, mmr, lev), cap) in enumerate(zip(_TIERS, caps, strict=True)):
        cum += floor * (mmr - prev)
        prev = mmr
        out.append(
            {
                "bracket": i + 1,
                "initialLeverage": lev,
                "notionalCap": cap,
                "notionalFloor": floor,
                "maintMarginRatio": float(mmr),
                "cum": float(cum),
            }
        )
    return out


def _window(p: dict[str, str], now: int) -> tuple[int, int]:
    """Binance's 7-day rule: both ends at most 7 days apart; one end given, 7 days from it;
    neither, the last 7 days."""
    start, end = p.get("startTime"), p.get("endTime")
    if start is not None and end is not None:
        if int(end) - int(start) > WEEK_MS:
            raise VenueReject("interval")
        return int(start), int(end)
    if start is not None:
        return int(start), int(start) + WEEK_MS
    if end is not None:
        return int(end) - WEEK_MS, int(end)
    return now - WEEK_MS, now


def _limit(p: dict[str, str], default: int, most: int) -> int:
    return max(1, min(int(p.get("limit", default)), most))


class Binance:
    def ccxt_id(self) -> str:
        return "binanceusdm"

    def error(self, reason: str, detail: str = "") -> web.Response:
        status, code, msg = _ERRORS.get(reason, (400, -1000, f"An unknown error: {reason}"))
        if reason == "min_notional" and detail:
            msg = msg.replace("20", detail)
        elif "{}" in msg:
            msg = msg.format(detail)
        return web.json_response({"code": code, "msg": msg}, status=status)

    def verify(self, emu: Emulator, request: web.Request, body: str) -> web.Response | None:
        if request.path in _PUBLIC:
            return None
        if request.headers.get("X-MBX-APIKEY") != emu.api_key:
            return self.error("bad_key")
        raw = request.rel_url.raw_query_string if request.method in ("GET", "DELETE") else body
        payload, sep, signature = raw.partition("&signature=")
        expected = hmac.new(emu.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not sep or not hmac.compare_digest(expected, signature):
            return self.error("bad_signature")
        return None

    def routes(self, emu: Emulator) -> list[web.RouteDef]:
        h = _Handlers(emu)
        a = _AccountHandlers(emu)
        return [
            web.get("/fapi/v1/time", h.time),
            web.get("/fapi/v1/exchangeInfo", h.exchange_info),
            web.get("/fapi/v1/premiumIndex", h.premium_index),
            web.get("/fapi/v1/depth", h.depth),
            web.post("/fapi/v1/order", h.new_order),
            web.get("/fapi/v1/order", h.get_order),
            web.delete("/fapi/v1/order", h.cancel_order),
            web.get("/fapi/v1/openOrder", h.open_order),
            web.get("/fapi/v1/openOrders", h.open_orders),
            web.get("/fapi/v1/allOrders", h.all_orders),
            web.get("/fapi/v1/userTrades", h.user_trades),
            web.get("/fapi/v1/forceOrders", h.force_orders),
            web.get("/fapi/v1/income", h.income),
            web.get("/fapi/v1/leverageBracket", h.leverage_bracket),
            web.get("/fapi/v2/positionRisk", a.position_risk_v2),
            web.get("/fapi/v3/positionRisk", a.position_risk_v3),
            web.get("/fapi/v2/account", a.account_v2),
            web.get("/fapi/v3/account", a.account_v3),
            web.get("/fapi/v2/balance", a.balance),
            web.get("/fapi/v3/balance", a.balance),
            web.post("/fapi/v1/leverage", a.leverage),
            web.post("/fapi/v1/marginType", a.margin_type),
            web.get("/fapi/v1/positionSide/dual", a.get_dual),
            web.post("/fapi/v1/positionSide/dual", a.set_dual),
            web.get("/fapi/v1/symbolConfig", a.symbol_config),
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


def client_order_id(o: Order) -> str:
    """The bot's id, or the one Binance gives the orders it places itself (forced closes)."""
    if o.client_id or o.kind == "trade":
        return o.client_id
    if o.kind == "adl":
        return "adl_autoclose"
    return f"autoclose-{o.time_ms}{o.order_id % 1_000_000:06d}"


def _status(o: Order) -> str:
    """An IOC/FOK remainder the venue cancels is EXPIRED on Binance, not CANCELED."""
    if o.status == "CANCELED" and o.time_in_force in ("IOC", "FOK"):
        return "EXPIRED"
    return o.status


def _trade_row(t: Trade) -> dict[str, Any]:
    return {
        "symbol": t.symbol,
        "id": t.trade_id,
        "orderId": t.order_id,
        "side": t.side,
        "price": _s(t.price),
        "qty": _s(t.qty),
        "realizedPnl": _e8(t.realized_pnl),
        "marginAsset": t.fee_asset,
        "quoteQty": _s(t.qty * t.price),
        "commission": _e8(t.fee),
        "commissionAsset": t.fee_asset,
        "time": t.time_ms,
        "positionSide": t.position_side,
        "buyer": t.side == "BUY",
        "maker": t.maker,
    }


def _income_row(i: Income) -> dict[str, Any]:
    return {
        "symbol": i.symbol,
        "incomeType": i.kind,
        "income": _e8(i.amount),
        "asset": i.asset,
        "info": i.kind,
        "time": i.time_ms,
        "tranId": i.tran_id,
        "tradeId": str(i.trade_id) if i.trade_id else "",
    }


class _Base:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.acct = emu.account

    async def _p(self, request: web.Request) -> dict[str, str]:
        return _params(request, await request.text())

    def _symbol(self, p: dict[str, str]) -> str:
        if not p.get("symbol"):
            raise VenueReject("missing_param", "symbol")
        return self.acct.market(p["symbol"]).symbol

    def _open(self, symbol: str | None = None, side: str | None = None) -> list[Order]:
        return [
            o
            for o in self.acct.orders.values()
            if o.status == "NEW" and symbol in (None, o.symbol) and side in (None, o.position_side)
        ]

    def _order(self, o: Order, *, ack: bool = False) -> dict[str, Any]:
        """An order as GET /fapi/v1/order shows it (the POST answer has no `time`). Binance
        places a forced close as a LIMIT IOC at the bankruptcy price: ours is the fill's."""
        forced = o.kind != "trade"
        trades = self.acct.trades_of(o)
        quote = sum((t.qty * t.price for t in trades), Decimal(0)) if trades else Decimal(0)
        kind = "LIMIT" if forced else o.order_type
        row: dict[str, Any] = {
            "orderId": o.order_id,
            "symbol": o.symbol,
            "status": _status(o),
            "clientOrderId": client_order_id(o),
            "price": _s(o.avg_price if forced else o.price),
            "avgPrice": _e8(o.avg_price),
            "origQty": _s(o.qty),
            "executedQty": _s(o.executed),
            "cumQty": _s(o.executed),
            "cumQuote": _s(quote),
            "timeInForce": "IOC" if forced else o.time_in_force,
            "type": kind,
            "reduceOnly": o.reduce_only and not forced,
            "closePosition": False,
            "side": o.side,
            "positionSide": o.position_side,
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": kind,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE",
            "goodTillDate": 0,
            "time": o.time_ms,
            "updateTime": o.update_ms or o.time_ms,
        }
        if ack:
            del row["time"]
        return row


class _Handlers(_Base):
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
        """In dual-side mode an order names its positionSide and may not send reduceOnly."""
        p = await self._p(request)
        position_side = p.get("positionSide", "BOTH")
        if position_side not in ("BOTH", "LONG", "SHORT"):
            raise VenueReject("bad_position_side")
        if self.acct.position_mode == "hedge" and "reduceOnly" in p:
            raise VenueReject("reduce_only_hedge")
        order = self.acct.place(
            symbol=p["symbol"],
            side=p["side"],
            qty=Decimal(p["quantity"]),
            order_type=p.get("type", "MARKET"),
            reduce_only=p.get("reduceOnly") == "true",
            client_id=p.get("newClientOrderId", ""),
            price=Decimal(p.get("price", "0")),
            now_ms=self.emu.clock_ms(),
            time_in_force=p.get("timeInForce", "GTC"),
            position_side=position_side,
        )
        return web.json_response(self._order(order, ack=True))

    def _find(self, p: dict[str, str]) -> Order:
        order = None
        if "orderId" in p:
            order = self.acct.orders.get(int(p["orderId"]))
        elif "origClientOrderId" in p:
            wanted = p["origClientOrderId"]
            order = next(
                (
                    o
                    for o in self.acct.orders.values()
                    if client_order_id(o) == wanted and p.get("symbol") in (None, o.symbol)
                ),
                None,
            )
        if order is None:
            raise VenueReject("not_found")
        return order

    async def get_order(self, request: web.Request) -> web.Response:
        return web.json_response(self._order(self._find(await self._p(request))))

    async def open_order(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/openOrder: one order, only while it is open."""
        p = await self._p(request)
        self._symbol(p)
        order = self._find(p)
        if order.status != "NEW":
            raise VenueReject("not_found")
        return web.json_response(self._order(order))

    async def cancel_order(self, request: web.Request) -> web.Response:
        order = self._find(await self._p(request))
        self.acct.cancel(order)
        return web.json_response(self._order(order))

    async def open_orders(self, request: web.Request) -> web.Response:
        symbol = (await self._p(request)).get("symbol")
        return web.json_response([self._order(o) for o in self._open(symbol)])

    async def all_orders(self, request: web.Request) -> web.Response:
        symbol = (await self._p(request)).get("symbol")
        return web.json_response(
            [self._order(o) for o in self.acct.orders.values() if symbol in (None, o.symbol)]
        )

    async def user_trades(self, request: web.Request) -> web.Response:
        """Per symbol (required); fromId excludes startTime/endTime; 500 rows, at most 1000,
        oldest first (the most recent ones when neither fromId nor startTime is given)."""
        p = await self._p(request)
        symbol = self._symbol(p)
        rows = [t for t in self.acct.trades if t.symbol == symbol]
        if "orderId" in p:
            rows = [t for t in rows if t.order_id == int(p["orderId"])]
        limit = _limit(p, 500, 1000)
        if "fromId" in p:
            if "startTime" in p or "endTime" in p:
                raise VenueReject("combination")
            rows = [t for t in rows if t.trade_id >= int(p["fromId"])][:limit]
        else:
            start, end = _window(p, self.emu.clock_ms())
            rows = [t for t in rows if start <= t.time_ms <= end]
            rows = rows[:limit] if "startTime" in p else rows[-limit:]
        return web.json_response([_trade_row(t) for t in rows])

    async def force_orders(self, request: web.Request) -> web.Response:
        """The venue's own orders that closed positions: autoCloseType LIQUIDATION or ADL
        (both when not sent), within the 7-day window, 50 rows, at most 100."""
        p = await self._p(request)
        kind = p.get("autoCloseType")
        if kind is not None and kind not in _KINDS:
            raise VenueReject("bad_param", "autoCloseType")
        symbol = self._symbol(p) if "symbol" in p else None
        start, end = _window(p, self.emu.clock_ms())
        rows = [
            o
            for o in self.acct.orders.values()
            if o.kind != "trade"
            and (kind is None or o.kind == _KINDS[kind])
            and symbol in (None, o.symbol)
            and start <= o.time_ms <= end
        ]
        return web.json_response([self._order(o) for o in rows[: _limit(p, 100, 100)]])

    async def income(self, request: web.Request) -> web.Response:
        """Income history: incomeType and symbol filters, the last 7 days when neither end is
        given, 100 rows, at most 1000, oldest first."""
        p = await self._p(request)
        kind = p.get("incomeType")
        if "startTime" in p or "endTime" in p:
            start, end = int(p.get("startTime", "0")), int(p.get("endTime", str(2**62)))
        else:
            end = self.emu.clock_ms()
            start = end - WEEK_MS
        rows = [
            _income_row(i)
            for i in self.acct.incomes
            if start <= i.time_ms <= end
            and kind in (None, i.kind)
            and p.get("symbol") in (None, i.symbol)
        ]
        return web.json_response(rows[: _limit(p, 100, 1000)])

    async def leverage_bracket(self, request: web.Request) -> web.Response:
        return web.json_response(
            [{"symbol": s, "brackets": _brackets()} for s in self.acct.markets]
        )


class _AccountHandlers(_Base):
    """Positions, balances and the account's set-up (leverage, margin type, dual side)."""

    def _sides(self) -> tuple[str, ...]:
        return ("LONG", "SHORT") if self.acct.position_mode == "hedge" else ("BOTH",)

    def _held(self, symbol: str, side: str) -> Position:
        book = self.acct.hedge_positions if side != "BOTH" else self.acct.positions
        key: Any = (symbol, side) if side != "BOTH" else symbol
        return book.get(key, Position())

    def _maint(self, m: Market, pos: Position) -> Decimal:
        notional = m.notional(pos.qty, m.mark)
        ratio, cum = _tier(notional)
        return notional * ratio - cum

    def _liquidation(self, m: Market, side: str, pos: Position) -> Decimal:
        """Binance's one-position formula: (WB + cum - s*q*entry) / (q*mmr - s*q), with WB the
        isolated wallet, or the cross wallet plus the other positions' PnL less their
        maintenance margin. Zero when the wallet covers any price."""
        if pos.qty == 0:
            return Decimal(0)
        qty, sign = abs(pos.qty), Decimal(1 if pos.qty > 0 else -1)
        ratio, cum = _tier(m.notional(pos.qty, pos.entry))
        if self.acct.margin_mode_of(m.symbol) == "isolated":
            wallet = qty * pos.entry / self.acct.leverage_of(m.symbol)
        else:
            wallet = self.acct.coin_balance(m.settle)
            for sym, other in self.acct._positions():
                om = self.acct.markets[sym]
                if other is not pos and other.qty and om.settle == m.settle:
                    wallet += om.pnl(other.qty, other.entry, om.mark) - self._maint(om, other)
        price = (wallet + cum - sign * qty * pos.entry) / (qty * ratio - sign * qty)
        return max(price, Decimal(0)).quantize(_E8)

    def _margins(self, m: Market, side: str, pos: Position) -> dict[str, Decimal]:
        lev = self.acct.leverage_of(m.symbol)
        notional = pos.qty * m.mark
        orders = sum(
            (o.qty * (o.price or m.mark) / lev for o in self._open(m.symbol, side)), Decimal(0)
        )
        isolated = self.acct.margin_mode_of(m.symbol) == "isolated"
        wallet = abs(pos.qty) * pos.entry / lev if isolated else Decimal(0)
        upnl = m.pnl(pos.qty, pos.entry, m.mark)
        return {
            "notional": notional,
            "initial": abs(notional) / lev,
            "orders": orders,
            "maint": self._maint(m, pos),
            "upnl": upnl,
            "wallet": wallet,
            "isolated": wallet + upnl if isolated and pos.qty else Decimal(0),
        }

    def _risk(self, symbol: str, side: str, version: int) -> dict[str, Any]:
        m = self.acct.markets[symbol]
        pos = self._held(symbol, side)
        mg = self._margins(m, side, pos)
        fee = self.acct.taker_fee
        even = pos.entry * (1 + fee if pos.qty > 0 else 1 - fee) if pos.qty else Decimal(0)
        row: dict[str, Any] = {
            "symbol": symbol,
            "positionSide": side,
            "positionAmt": _s(pos.qty),
            "entryPrice": _e8(pos.entry),
            "breakEvenPrice": _e8(even),
            "markPrice": _s(m.mark),
            "unRealizedProfit": _e8(mg["upnl"]),
            "liquidationPrice": _s(self._liquidation(m, side, pos)),
            "isolatedMargin": _e8(mg["isolated"]),
            "notional": _e8(mg["notional"]),
            "isolatedWallet": _e8(mg["wallet"]),
            "updateTime": self._updated(symbol, side),
        }
        if version == 2:
            lev = int(self.acct.leverage_of(symbol))
            row |= {
                "leverage": str(lev),
                "maxNotionalValue": _max_notional(lev),
                "marginType": self.acct.margin_mode_of(symbol),
                "isAutoAddMargin": "false",
            }
        else:
            row |= {
                "marginAsset": m.settle,
                "initialMargin": _e8(mg["initial"] + mg["orders"]),
                "maintMargin": _e8(mg["maint"]),
                "positionInitialMargin": _e8(mg["initial"]),
                "openOrderInitialMargin": _e8(mg["orders"]),
                "adl": 2 if pos.qty else 0,
                "bidNotional": "0",
                "askNotional": "0",
            }
        return row

    def _updated(self, symbol: str, side: str) -> int:
        times = [
            t.time_ms
            for t in self.acct.trades
            if t.symbol == symbol and t.position_side in (side, "BOTH")
        ]
        return max(times, default=0)

    def _rows(self, p: dict[str, str], every: bool) -> list[tuple[str, str]]:
        """(symbol, side) rows: every symbol (v2), or those with a position or open orders."""
        symbol = self._symbol(p) if "symbol" in p else None
        return [
            (s, side)
            for s in self.acct.markets
            if symbol in (None, s)
            for side in self._sides()
            if every or self._held(s, side).qty or self._open(s, side)
        ]

    async def position_risk_v2(self, request: web.Request) -> web.Response:
        p = await self._p(request)
        return web.json_response([self._risk(s, side, 2) for s, side in self._rows(p, True)])

    async def position_risk_v3(self, request: web.Request) -> web.Response:
        p = await self._p(request)
        return web.json_response([self._risk(s, side, 3) for s, side in self._rows(p, False)])

    def _totals(self) -> dict[str, Decimal]:
        wallet = self.acct.coin_balance("USDT")
        upnl = self.acct.unrealized("USDT")
        initial = maint = orders = Decimal(0)
        for s, side in ((s, side) for s in self.acct.markets for side in self._sides()):
            m = self.acct.markets[s]
            mg = self._margins(m, side, self._held(s, side))
            initial += mg["initial"]
            maint += mg["maint"]
            orders += mg["orders"]
        available = self.acct.available_in("USDT") - orders
        return {
            "wallet": wallet,
            "upnl": upnl,
            "margin": wallet + upnl,
            "initial": initial + orders,
            "position": initial,
            "orders": orders,
            "maint": maint,
            "available": available,
            "withdraw": max(min(wallet, available), Decimal(0)),
        }

    def _asset(self, t: dict[str, Decimal], v2: bool) -> dict[str, Any]:
        row: dict[str, Any] = {
            "asset": "USDT",
            "walletBalance": _e8(t["wallet"]),
            "unrealizedProfit": _e8(t["upnl"]),
            "marginBalance": _e8(t["margin"]),
            "maintMargin": _e8(t["maint"]),
            "initialMargin": _e8(t["initial"]),
            "positionInitialMargin": _e8(t["position"]),
            "openOrderInitialMargin": _e8(t["orders"]),
            "maxWithdrawAmount": _e8(t["withdraw"]),
            "crossWalletBalance": _e8(t["wallet"]),
            "crossUnPnl": _e8(t["upnl"]),
            "availableBalance": _e8(t["available"]),
            "updateTime": self.emu.clock_ms(),
        }
        if v2:
            row["marginAvailable"] = True
        return row

    def _account(self, v2: bool) -> dict[str, Any]:
        t = self._totals()
        head: dict[str, Any] = {
            "totalInitialMargin": _e8(t["initial"]),
            "totalMaintMargin": _e8(t["maint"]),
            "totalWalletBalance": _e8(t["wallet"]),
            "totalUnrealizedProfit": _e8(t["upnl"]),
            "totalMarginBalance": _e8(t["margin"]),
            "totalPositionInitialMargin": _e8(t["position"]),
            "totalOpenOrderInitialMargin": _e8(t["orders"]),
            "totalCrossWalletBalance": _e8(t["wallet"]),
            "totalCrossUnPnl": _e8(t["upnl"]),
            "availableBalance": _e8(t["available"]),
            "maxWithdrawAmount": _e8(t["withdraw"]),
            "assets": [self._asset(t, v2)],
            "positions": [self._account_position(s, side, v2) for s, side in self._rows({}, v2)],
        }
        if not v2:
            return head
        return {
            "feeTier": 0,
            "canTrade": True,
            "canDeposit": True,
            "canWithdraw": True,
            "tradeGroupId": -1,
            "updateTime": 0,
            "multiAssetsMargin": False,
        } | head

    def _account_position(self, symbol: str, side: str, v2: bool) -> dict[str, Any]:
        m = self.acct.markets[symbol]
        pos = self._held(symbol, side)
        mg = self._margins(m, side, pos)
        row: dict[str, Any] = {
            "symbol": symbol,
            "positionSide": side,
            "positionAmt": _s(pos.qty),
            "unrealizedProfit": _e8(mg["upnl"]),
            "isolatedMargin": _e8(mg["isolated"]),
            "notional": _e8(mg["notional"]),
            "isolatedWallet": _e8(mg["wallet"]),
            "initialMargin": _e8(mg["initial"] + mg["orders"]),
            "maintMargin": _e8(mg["maint"]),
            "updateTime": self._updated(symbol, side),
        }
        if v2:
            lev = int(self.acct.leverage_of(symbol))
            row |= {
                "positionInitialMargin": _e8(mg["initial"]),
                "openOrderInitialMargin": _e8(mg["orders"]),
                "leverage": str(lev),
                "isolated": self.acct.margin_mode_of(symbol) == "isolated",
                "entryPrice": _e8(pos.entry),
                "breakEvenPrice": _e8(pos.entry),
                "maxNotional": _max_notional(lev),
                "bidNotional": "0",
                "askNotional": "0",
            }
        return row

    async def account_v2(self, request: web.Request) -> web.Response:
        return web.json_response(self._account(v2=True))

    async def account_v3(self, request: web.Request) -> web.Response:
        return web.json_response(self._account(v2=False))

    async def balance(self, request: web.Request) -> web.Response:
        t = self._totals()
        return web.json_response(
            [
                {
                    "accountAlias": "SgsR",
                    "asset": "USDT",
                    "balance": _e8(t["wallet"]),
                    "crossWalletBalance": _e8(t["wallet"]),
                    "crossUnPnl": _e8(t["upnl"]),
                    "availableBalance": _e8(t["available"]),
                    "maxWithdrawAmount": _e8(t["withdraw"]),
                    "marginAvailable": True,
                    "updateTime": self.emu.clock_ms(),
                }
            ]
        )

    async def leverage(self, request: web.Request) -> web.Response:
        """POST /fapi/v1/leverage: an integer 1..125 (the first tier's cap)."""
        p = await self._p(request)
        symbol = self._symbol(p)
        raw = p.get("leverage", "")
        if not raw.isdigit() or not 1 <= int(raw) <= _TIERS[0][2]:
            raise VenueReject("bad_leverage", raw)
        self.acct.set_leverage(symbol, Decimal(raw))
        lev = int(raw)
        return web.json_response(
            {"leverage": lev, "maxNotionalValue": _max_notional(lev), "symbol": symbol}
        )

    async def margin_type(self, request: web.Request) -> web.Response:
        p = await self._p(request)
        symbol = self._symbol(p)
        mode = _MODES.get(p.get("marginType", "").upper())
        if mode is None:
            raise VenueReject("bad_param", "marginType")
        if mode == self.acct.margin_mode_of(symbol):
            raise VenueReject("margin_type_same")
        if self._open(symbol):
            raise VenueReject("margin_type_orders")
        self.acct.set_margin_mode(symbol, mode)
        return web.json_response({"code": 200, "msg": "success"})

    async def get_dual(self, request: web.Request) -> web.Response:
        return web.json_response({"dualSidePosition": self.acct.position_mode == "hedge"})

    async def set_dual(self, request: web.Request) -> web.Response:
        """Dual-side mode is account-wide on USDⓈ-M: refused while any position or open
        order exists (-4068 / -4067), and -4059 when it is already so."""
        p = await self._p(request)
        flag = p.get("dualSidePosition", "").lower()
        if flag not in ("true", "false"):
            raise VenueReject("bad_param", "dualSidePosition")
        mode = "hedge" if flag == "true" else "one_way"
        if mode == self.acct.position_mode:
            raise VenueReject("position_side_same")
        if any(pos.qty for _, pos in self.acct._positions()):
            raise VenueReject("position_mode_busy")
        if self._open():
            raise VenueReject("position_side_orders")
        self.acct.set_position_mode(mode)
        return web.json_response({"code": 200, "msg": "success"})

    async def symbol_config(self, request: web.Request) -> web.Response:
        """GET /fapi/v1/symbolConfig: what ccxt's fetchLeverages and fetchMarginMode(s) read."""
        p = await self._p(request)
        symbol = self._symbol(p) if "symbol" in p else None
        rows = []
        for s in self.acct.markets:
            if symbol in (None, s):
                lev = int(self.acct.leverage_of(s))
                isolated = self.acct.margin_mode_of(s) == "isolated"
                rows.append(
                    {
                        "symbol": s,
                        "marginType": "ISOLATED" if isolated else "CROSSED",
                        "isAutoAddMargin": False,
                        "leverage": lev,
                        "maxNotionalValue": _max_notional(lev),
                    }
                )
        return web.json_response(rows)
