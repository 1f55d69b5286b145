"""OKX v5 (USDT-margined SWAP) in its native JSON: the endpoints ccxt's `okx` calls to load
markets, trade, look orders up and read positions, fills, bills (funding) and account config.

Every answer is `{"code", "msg", "data": [...]}` with numbers as strings. Order endpoints
(`/trade/order`, `/trade/batch-orders`, `/trade/cancel-order`) answer HTTP 200 and put each
order's outcome in `data[i].sCode/sMsg` (envelope code "1" when all failed, "2" when some
did); other failures are a non-zero envelope `code` with empty `data`. Signed requests are
checked as OKX does: OK-ACCESS-SIGN = base64 HMAC-SHA256(secret, timestamp + METHOD +
request path with query + body), the ISO-8601 OK-ACCESS-TIMESTAMP within 30 s of the wall
clock, the key, the passphrase and, for a demo-trading key, the `x-simulated-trading: 1`
header; auth failures are HTTP 401 `{"msg", "code"}` (50111, 50105, 50113, 50101, ...).

Instruments carry OKX's real specs (ETH-USDT-SWAP 0.1 ETH a contract, lot 0.01, tick 0.01;
BTC-USDT-SWAP 0.01 BTC, lot 0.01, tick 0.1); sizes are contracts. The account config's
`posMode` (net_mode | long_short_mode) is the account's position mode; in long/short mode an
order names `posSide` and sell-long / buy-short close. `tdMode` picks the instrument's margin
mode while it is flat. Fills (`/trade/fills[-history]`) carry fee < 0 when charged; bills
(`/account/bills[-archive]`) list trades (type 2), liquidations (5), ADL (9) and funding
(8, subType 173 paid / 174 received, balChg signed as received). Forced closes show up as
fills and orders without a clOrdId (category full_liquidation / adl), as on OKX.

Not modelled: post-only, algo orders (attached SL/TP are stored and echoed, never
triggered), and cross plus isolated positions on one instrument at once (an order in the
other mode while a position is open is refused with 51000 `tdMode`).
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .account import Market, Order, Trade, VenueReject

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .server import Emulator

# reason -> (code, msg); the `{}` takes the VenueReject detail (the parameter's name)
_ORDER_ERRORS: dict[str, tuple[str, str]] = {
    "margin": ("51008", "Order failed. Insufficient USDT margin in account"),
    "min_notional": ("51020", "Your order should meet or exceed the minimum order amount."),
    "min_size": ("51020", "Your order should meet or exceed the minimum order amount."),
    "lot": ("51121", "Order quantity must be a multiple of the lot size."),
    "max_size": ("51202", "Market order amount exceeds the maximum amount."),
    "bad_quantity": ("51000", "Parameter sz error"),
    "duplicate_client_id": ("51016", "Duplicated clOrdId"),
    "no_position": (
        "51169",
        "Order failed because you don't have any positions in this direction for this "
        "contract to reduce or close.",
    ),
    "reduce_same_side": (
        "51170",
        "Failed to place order. A reduce-only order can't be the same trade direction as "
        "your existing positions.",
    ),
    "reduce_only": (
        "51169",
        "Order failed because you don't have any positions in this direction for this "
        "contract to reduce or close.",
    ),
    "close_exceeds": ("51112", "Close order size exceeds your available size."),
    "position_side": ("51000", "Parameter posSide error"),
    "bad_price": ("51000", "Parameter px error"),
    "not_cancelable": (
        "51400",
        "Order cancellation failed as the order has been filled, canceled or does not exist.",
    ),
}
_ERRORS: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "50011", "Too Many Requests"),
    "bad_symbol": (200, "51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist."),
    "bad_param": (200, "51000", "Parameter {} error"),
    "missing_param": (200, "50014", "Parameter {} can not be empty."),
    "missing_id": (200, "51003", "Either client order ID or order ID is required."),
    "not_found": (200, "51603", "Order does not exist"),
    "position_mode_busy": (
        200,
        "59000",
        "Settings failed. Close any open positions or orders before modifying settings.",
    ),
    "margin_mode_busy": (
        200,
        "59000",
        "Settings failed. Close any open positions or orders before modifying settings.",
    ),
    "bad_leverage": (
        200,
        "59102",
        "Leverage exceeds the maximum leverage. Please adjust the leverage",
    ),
    "json": (200, "50002", "JSON syntax error"),
    "no_key": (401, "50103", 'Request header "OK-ACCESS-KEY" can not be empty.'),
    "no_passphrase": (401, "50104", 'Request header "OK-ACCESS-PASSPHRASE" can not be empty.'),
    "no_sign": (401, "50106", 'Request header "OK-ACCESS-SIGN" can not be empty.'),
    "no_timestamp": (401, "50107", 'Request header "OK-ACCESS-TIMESTAMP" can not be empty.'),
    "bad_timestamp": (401, "50112", "Invalid OK-ACCESS-TIMESTAMP"),
    "expired": (401, "50102", "Timestamp request expired"),
    "bad_key": (401, "50111", "Invalid OK-ACCESS-KEY"),
    "environment": (401, "50101", "APIKey does not match current environment."),
    "bad_passphrase": (401, "50105", "Request header OK-ACCESS-PASSPHRASE incorrect."),
    "bad_signature": (401, "50113", "Invalid Sign"),
}
_ORDER_TYPES = {  # ordType -> (Account order_type, time in force)
    "market": ("MARKET", "IOC"),
    "optimal_limit_ioc": ("MARKET", "IOC"),
    "limit": ("LIMIT", "GTC"),
    "ioc": ("LIMIT", "IOC"),
    "fok": ("LIMIT", "FOK"),
}
_POS_SIDE = {"BOTH": "net", "LONG": "long", "SHORT": "short"}
_POS_INDEX = {"BOTH": 0, "LONG": 1, "SHORT": 2}
_CL_ORD_ID = re.compile(r"[A-Za-z0-9]{1,32}")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_E12 = Decimal("0.000000000001")
_DAY_MS = 86_400_000
_ORD_BASE = 2_896_576_000_000_000_000  # ordIds are 19-digit numbers on OKX
_BILL_BASE = 696_837_060_000_000_000
_POS_BASE = 653_944_598_162_657_280
_UID = "611800029342466048"
_MMR = Decimal("0.004")  # tier-1 maintenance margin rate of the BTC/ETH USDT swaps
_MAX_LEVER = Decimal(100)


def okx_markets(*, ltc: bool = False) -> dict[str, Market]:
    """ETH-USDT-SWAP and BTC-USDT-SWAP with OKX's real contract values, lots and ticks, keyed
    by instId; quantities are contracts. `ltc` adds LTC-USDT-SWAP (1 LTC a contract, lot 1),
    the market of ccxt's recorded OKX examples."""
    markets = {
        "ETH-USDT-SWAP": Market(
            "ETH-USDT-SWAP",
            "ETH",
            "USDT",
            Decimal("3000.00"),
            qty_step=Decimal("0.01"),
            min_qty=Decimal("0.01"),
            max_qty=Decimal(10000),
            tick=Decimal("0.01"),
            min_notional=Decimal(0),
            contract_size=Decimal("0.1"),
            venue_symbol="ETH-USDT-SWAP",
        ),
        "BTC-USDT-SWAP": Market(
            "BTC-USDT-SWAP",
            "BTC",
            "USDT",
            Decimal("60000.0"),
            qty_step=Decimal("0.01"),
            min_qty=Decimal("0.01"),
            max_qty=Decimal(5000),
            tick=Decimal("0.1"),
            min_notional=Decimal(0),
            contract_size=Decimal("0.01"),
            venue_symbol="BTC-USDT-SWAP",
        ),
    }
    if ltc:
        markets["LTC-USDT-SWAP"] = Market(
            "LTC-USDT-SWAP",
            "LTC",
            "USDT",
            Decimal("68.24"),
            qty_step=Decimal(1),
            min_qty=Decimal(1),
            max_qty=Decimal(30000),
            tick=Decimal("0.01"),
            min_notional=Decimal(0),
            contract_size=Decimal(1),
            venue_symbol="LTC-USDT-SWAP",
        )
    return markets


def _s(value: Decimal) -> str:
    """OKX's number strings: plain notation, no trailing zeros, at most 12 decimals."""
    if value == 0:
        return "0"
    return format(value.quantize(_E12).normalize(), "f")


def ord_id(order_id: int) -> str:
    return str(_ORD_BASE + order_id)


def _order_key(raw: str) -> int | None:
    return int(raw) - _ORD_BASE if raw.isdigit() and int(raw) > _ORD_BASE else None


def _micros() -> str:
    return str(time.time_ns() // 1000)


def _dec(raw: Any, name: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise VenueReject("bad_param", name) from None
    if not value.is_finite():
        raise VenueReject("bad_param", name)
    return value


class Okx:
    """The dialect. `passphrase` is the API key's passphrase (ccxt's `password`); `demo`
    says the key is a demo-trading key, which OKX only accepts with `x-simulated-trading: 1`
    (ccxt sends it after `set_sandbox_mode(True)`) and a live key only without."""

    def __init__(self, passphrase: str = "lphedge-pass", *, demo: bool = True) -> None:
        self.passphrase = passphrase
        self.demo = demo
        self.meta: dict[int, dict[str, Any]] = {}  # order id -> what the order said (tdMode, tag)
        self.levers: dict[tuple[str, str], Decimal] = {}  # (instId, mgnMode) -> leverage

    def ccxt_id(self) -> str:
        return "okx"

    @staticmethod
    def envelope(
        data: list[Any], code: str = "0", msg: str = "", *, times: bool = False
    ) -> web.Response:
        body: dict[str, Any] = {"code": code, "data": data, "msg": msg}
        if times:  # the trade endpoints stamp when the request came in and went out
            body["inTime"] = body["outTime"] = _micros()
        return web.json_response(body)

    @staticmethod
    def s_code(reason: str, detail: str = "") -> tuple[str, str]:
        """(sCode, sMsg) of a rejected order."""
        if reason in _ORDER_ERRORS:
            code, msg = _ORDER_ERRORS[reason]
        else:
            _status, code, msg = _ERRORS.get(reason, _ERRORS["bad_param"])
        return code, msg.format(detail)

    def error(self, reason: str, detail: str = "") -> web.Response:
        """Order-level reasons in the order endpoints' per-order form, the rest as OKX's
        envelope with an empty `data` (HTTP 401 for auth, 429 for the rate limit)."""
        if reason in _ORDER_ERRORS:
            code, msg = self.s_code(reason, detail)
            row = {"clOrdId": "", "ordId": "", "sCode": code, "sMsg": msg, "tag": ""}
            row["ts"] = str(time.time_ns() // 1_000_000)
            return self.envelope([row], "1", "All operations failed", times=True)
        status, code, msg = _ERRORS.get(reason, (200, "50000", reason))
        msg = msg.format(detail)
        if status != 200:
            return web.json_response({"msg": msg, "code": code}, status=status)
        return web.json_response({"code": code, "data": [], "msg": msg})

    def verify(self, emu: Emulator, request: web.Request, body: str) -> web.Response | None:
        if request.path.startswith(("/api/v5/public/", "/api/v5/market/")):
            return None
        h = request.headers
        for header, reason in (
            ("OK-ACCESS-KEY", "no_key"),
            ("OK-ACCESS-PASSPHRASE", "no_passphrase"),
            ("OK-ACCESS-SIGN", "no_sign"),
            ("OK-ACCESS-TIMESTAMP", "no_timestamp"),
        ):
            if not h.get(header):
                return self.error(reason)
        stamp = h["OK-ACCESS-TIMESTAMP"]
        if not _TIMESTAMP.fullmatch(stamp):
            return self.error("bad_timestamp")
        sent = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
        if abs(time.time() - sent) > 30:  # OKX's clock is the wall clock, not the test's
            return self.error("expired")
        if h["OK-ACCESS-KEY"] != emu.api_key:
            return self.error("bad_key")
        if (h.get("x-simulated-trading") == "1") != self.demo:
            return self.error("environment")
        if h["OK-ACCESS-PASSPHRASE"] != self.passphrase:
            return self.error("bad_passphrase")
        prehash = stamp + request.method + request.raw_path + body
        digest = hmac.new(emu.secret.encode(), prehash.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), h["OK-ACCESS-SIGN"]):
            return self.error("bad_signature")
        return None

    def routes(self, emu: Emulator) -> list[web.RouteDef]:
        p = _Public(emu, self)
        t = _Trade(emu, self)
        a = _Account(emu, self)
        v5 = "/api/v5"
        return [
            web.get(f"{v5}/public/time", p.time),
            web.get(f"{v5}/public/instruments", p.instruments),
            web.get(f"{v5}/public/funding-rate", p.funding_rate),
            web.get(f"{v5}/public/mark-price", p.mark_price),
            web.get(f"{v5}/market/ticker", p.ticker),
            web.get(f"{v5}/market/tickers", p.tickers),
            web.get(f"{v5}/market/books", p.books),
            web.post(f"{v5}/trade/order", t.place),
            web.post(f"{v5}/trade/batch-orders", t.place),
            web.post(f"{v5}/trade/cancel-order", t.cancel),
            web.get(f"{v5}/trade/order", t.order),
            web.get(f"{v5}/trade/orders-pending", t.pending),
            web.get(f"{v5}/trade/orders-history", t.history),
            web.get(f"{v5}/trade/orders-history-archive", t.archive),
            web.get(f"{v5}/trade/fills", t.fills),
            web.get(f"{v5}/trade/fills-history", t.fills_history),
            web.get(f"{v5}/account/config", a.config),
            web.post(f"{v5}/account/set-position-mode", a.set_position_mode),
            web.post(f"{v5}/account/set-leverage", a.set_leverage),
            web.get(f"{v5}/account/leverage-info", a.leverage_info),
            web.get(f"{v5}/account/positions", a.positions),
            web.get(f"{v5}/account/balance", a.balance),
            web.get(f"{v5}/account/bills", a.bills),
            web.get(f"{v5}/account/bills-archive", a.bills_archive),
            web.get(f"{v5}/asset/currencies", a.currencies),
        ]


# ---- shared views of the account -------------------------------------------------------


@dataclass
class _Fill:
    """One execution as OKX books it: the trade and its bill type/subType."""

    trade: Trade
    bill_type: str
    sub_type: str
    mgn_mode: str
    tag: str


@dataclass
class _Life:
    """The current position's history since it was last flat (OKX's per-position fields)."""

    opened_ms: int = 0
    updated_ms: int = 0
    fee: Decimal = Decimal(0)  # paid > 0
    pnl: Decimal = Decimal(0)
    funding: Decimal = Decimal(0)  # received > 0
    trade_id: str = ""


def _sub_type(t: Trade, before: Decimal, after: Decimal) -> tuple[str, str]:
    """(bill type, subType) of a fill: trade 1/2 (net) or 3-6 (open/close long/short),
    liquidation 100-107, ADL 125-128."""
    buy = t.side == "BUY"
    hedged = t.position_side != "BOTH"
    if t.kind == "trade":
        if not hedged:
            return "2", "1" if buy else "2"
        closing = (t.position_side == "LONG") != buy
        return "2", {(False, True): "3", (False, False): "4", (True, True): "5"}.get(
            (closing, t.position_side == "LONG"), "6"
        )
    if t.kind == "adl":
        return "9", ("127" if buy else "128") if not hedged else ("126" if buy else "125")
    partial = after != 0 and before != 0
    if hedged:
        return "5", ("101" if buy else "100") if partial else ("105" if buy else "104")
    return "5", ("102" if buy else "103") if partial else ("106" if buy else "107")


class _View:
    def __init__(self, emu: Emulator, dialect: Okx) -> None:
        self.emu = emu
        self.acct = emu.account
        self.dialect = dialect
        self.ok = dialect.envelope

    def market(self, inst: str | None) -> Market:
        if not inst:
            raise VenueReject("missing_param", "instId")
        return self.acct.market(inst)

    def mgn_mode(self, order: Order) -> str:
        meta = self.dialect.meta.get(order.order_id, {})
        return str(meta.get("tdMode") or self.acct.margin_mode_of(order.symbol))

    def executions(self) -> list[_Fill]:
        """Every execution, oldest first, with the position it changed (for the subType)."""
        held: dict[tuple[str, str], Decimal] = {}
        out = []
        for t in self.acct.trades:
            key = (t.symbol, t.position_side)
            before = held.get(key, Decimal(0))
            after = before + (t.qty if t.side == "BUY" else -t.qty)
            held[key] = after
            bill_type, sub_type = _sub_type(t, before, after)
            order = self.acct.orders[t.order_id]
            tag = str(self.dialect.meta.get(t.order_id, {}).get("tag", ""))
            out.append(_Fill(t, bill_type, sub_type, self.mgn_mode(order), tag))
        return out

    def life(self, symbol: str, side: str) -> _Life:
        life, qty = _Life(), Decimal(0)
        for t in self.acct.trades:
            if t.symbol != symbol or t.position_side != side:
                continue
            if qty == 0:
                life = _Life(opened_ms=t.time_ms)
            qty += t.qty if t.side == "BUY" else -t.qty
            life.fee += t.fee
            life.pnl += t.realized_pnl
            life.updated_ms, life.trade_id = t.time_ms, str(t.trade_id)
        life.funding = sum(
            (
                i.amount
                for i in self.acct.incomes
                if i.kind == "FUNDING_FEE" and i.symbol == symbol and i.time_ms >= life.opened_ms
            ),
            Decimal(0),
        )
        return life


def _int(q: Mapping[str, str], name: str, default: int = 0) -> int:
    raw = q.get(name)
    if not raw:
        return default
    if not raw.isdigit():
        raise VenueReject("bad_param", name)
    return int(raw)


def _page(rows: list[dict[str, Any]], q: Mapping[str, str], id_key: str) -> list[dict[str, Any]]:
    """OKX's paging on newest-first rows: `after` (older than id), `before` (newer), limit
    (default and max 100)."""
    after, before = _int(q, "after"), _int(q, "before")
    if after:
        rows = [r for r in rows if int(r[id_key]) < after]
    if before:
        rows = [r for r in rows if int(r[id_key]) > before]
    return rows[: min(max(_int(q, "limit", 100), 1), 100)]


def _in_window(ts: int, q: Mapping[str, str], oldest: int) -> bool:
    begin, end = _int(q, "begin"), _int(q, "end")
    return ts >= max(begin, oldest) and (not end or ts <= end)


async def _body(request: web.Request) -> Any:
    try:
        return json.loads(await request.text() or "null")
    except ValueError:
        raise VenueReject("json") from None


async def _object(request: web.Request) -> dict[str, Any]:
    body = await _body(request)
    if not isinstance(body, dict):
        raise VenueReject("json")
    return body


# ---- public ----------------------------------------------------------------------------


class _Public(_View):
    async def time(self, request: web.Request) -> web.Response:
        return self.ok([{"ts": str(self.emu.clock_ms())}])

    def _instrument(self, m: Market) -> dict[str, Any]:
        family = f"{m.base}-{m.quote}"
        return {
            "alias": "",
            "auctionEndTime": "",
            "baseCcy": "",
            "category": "1",
            "contTdSwTime": "",
            "ctMult": "1",
            "ctType": "linear",
            "ctVal": _s(m.contract_size),
            "ctValCcy": m.base,
            "expTime": "",
            "futureSettlement": False,
            "instFamily": family,
            "instId": m.symbol,
            "instIdCode": 10000 + list(self.acct.markets).index(m.symbol),
            "instType": "SWAP",
            "lever": _s(_MAX_LEVER),
            "listTime": "1611916828000",
            "lotSz": _s(m.qty_step),
            "maxIcebergSz": "100000000",
            "maxLmtAmt": "20000000",
            "maxLmtSz": "100000000",
            "maxMktAmt": "",
            "maxMktSz": _s(m.max_qty),
            "maxStopSz": _s(m.max_qty),
            "maxTriggerSz": "100000000",
            "maxTwapSz": "100000000",
            "minSz": _s(m.min_qty),
            "openType": "",
            "optType": "",
            "preMktSwTime": "",
            "quoteCcy": "",
            "ruleType": "normal",
            "settleCcy": m.quote,
            "state": "live",
            "stk": "",
            "tickSz": _s(m.tick),
            "tradeQuoteCcyList": [],
            "uly": family,
        }

    async def instruments(self, request: web.Request) -> web.Response:
        q = request.query
        if not q.get("instType"):
            raise VenueReject("missing_param", "instType")
        rows = [
            self._instrument(m)
            for m in self.acct.markets.values()
            if q["instType"] == "SWAP" and q.get("instId") in (None, m.symbol)
        ]
        return self.ok(rows)

    async def funding_rate(self, request: web.Request) -> web.Response:
        now = self.emu.clock_ms()
        rows = []
        inst = request.query.get("instId")
        for m in [self.market(inst)] if inst != "ANY" else list(self.acct.markets.values()):
            period = m.funding_period_ms
            settle = (now // period + 1) * period
            rows.append(
                {
                    "formulaType": "withRate",
                    "fundingRate": _s(m.funding_rate),
                    "fundingTime": str(settle),
                    "impactValue": "20000",
                    "instId": m.symbol,
                    "instType": "SWAP",
                    "interestRate": "0.0001",
                    "maxFundingRate": "0.0075",
                    "method": "current_period",
                    "minFundingRate": "-0.0075",
                    "nextFundingRate": "",
                    "nextFundingTime": str(settle + period),
                    "premium": "0",
                    "settFundingRate": _s(m.funding_rate),
                    "settState": "settled",
                    "ts": str(now),
                }
            )
        return self.ok(rows)

    async def mark_price(self, request: web.Request) -> web.Response:
        inst = request.query.get("instId")
        now = str(self.emu.clock_ms())
        return self.ok(
            [
                {"instType": "SWAP", "instId": m.symbol, "markPx": _s(m.mark), "ts": now}
                for m in self.acct.markets.values()
                if inst in (None, m.symbol)
            ]
        )

    def _ticker(self, m: Market) -> dict[str, Any]:
        half = m.mark * m.half_spread_bps / Decimal(10000)
        mark = _s(m.mark)
        return {
            "instType": "SWAP",
            "instId": m.symbol,
            "last": mark,
            "lastSz": _s(m.min_qty),
            "askPx": _s((m.mark + half).quantize(m.tick)),
            "askSz": "50",
            "bidPx": _s((m.mark - half).quantize(m.tick)),
            "bidSz": "50",
            "open24h": mark,
            "high24h": mark,
            "low24h": mark,
            "volCcy24h": "0",
            "vol24h": "0",
            "ts": str(self.emu.clock_ms()),
            "sodUtc0": mark,
            "sodUtc8": mark,
        }

    async def ticker(self, request: web.Request) -> web.Response:
        return self.ok([self._ticker(self.market(request.query.get("instId")))])

    async def tickers(self, request: web.Request) -> web.Response:
        if not request.query.get("instType"):
            raise VenueReject("missing_param", "instType")
        swap = request.query["instType"] == "SWAP"
        return self.ok([self._ticker(m) for m in self.acct.markets.values() if swap])

    async def books(self, request: web.Request) -> web.Response:
        m = self.market(request.query.get("instId"))
        depth = min(max(_int(request.query, "sz", 1), 1), 400)
        half = m.mark * m.half_spread_bps / Decimal(10000)
        bid, ask = (m.mark - half).quantize(m.tick), (m.mark + half).quantize(m.tick)
        levels = range(depth)
        return self.ok(
            [
                {
                    "asks": [[_s(ask + i * m.tick), "50", "0", "1"] for i in levels],
                    "bids": [[_s(bid - i * m.tick), "50", "0", "1"] for i in levels],
                    "ts": str(self.emu.clock_ms()),
                }
            ]
        )


# ---- trade -----------------------------------------------------------------------------


class _Trade(_View):
    async def place(self, request: web.Request) -> web.Response:
        """POST /trade/order (one object) and /trade/batch-orders (a list, ccxt's default)."""
        body = await _body(request)
        items = body if request.path.endswith("batch-orders") else [body]
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise VenueReject("json")
        if len(items) > 20:
            raise VenueReject("bad_param", "orders")
        results = [self._place_one(p) for p in items]
        failed = sum(1 for r in results if r["sCode"] != "0")
        if failed == len(results):
            return self.ok(results, "1", "All operations failed", times=True)
        if failed:
            return self.ok(results, "2", "Bulk operation partially succeeded.", times=True)
        return self.ok(results, times=True)

    def _place_one(self, p: dict[str, Any]) -> dict[str, Any]:
        now = self.emu.clock_ms()
        row = {"clOrdId": str(p.get("clOrdId", "")), "ordId": "", "sCode": "0"}
        row |= {"sMsg": "Order placed", "tag": str(p.get("tag", "")), "ts": str(now)}
        try:
            row["ordId"] = ord_id(self._submit(p, now).order_id)
        except VenueReject as reject:
            row["sCode"], row["sMsg"] = self.dialect.s_code(reject.reason, reject.detail)
        return row

    def _position_side(self, raw: Any) -> str:
        if self.acct.position_mode == "hedge":
            if raw not in ("long", "short"):
                raise VenueReject("position_side")
            return str(raw).upper()
        if raw not in (None, "", "net"):
            raise VenueReject("position_side")
        return "BOTH"

    def _check_size(self, m: Market, qty: Decimal) -> None:
        if qty <= 0:
            raise VenueReject("bad_param", "sz")
        if qty < m.min_qty:
            raise VenueReject("min_size")
        if qty % m.qty_step != 0:
            raise VenueReject("lot")
        if qty > m.max_qty:
            raise VenueReject("max_size")

    def _check_close(
        self, m: Market, side: str, qty: Decimal, pos_side: str, reduce_only: bool
    ) -> None:
        """Long/short mode: sell-long and buy-short close and need that much held. Net mode:
        reduceOnly must face an opposite position no larger than it."""
        held = self.acct.position(m.symbol, pos_side).qty
        if pos_side != "BOTH":
            if (pos_side == "LONG") == (side == "SELL"):
                if held == 0:
                    raise VenueReject("no_position")
                if qty > abs(held):
                    raise VenueReject("close_exceeds")
            return
        if not reduce_only:
            return
        if held == 0:
            raise VenueReject("no_position")
        if (held > 0) == (side == "BUY"):
            raise VenueReject("reduce_same_side")
        if qty > abs(held):
            raise VenueReject("close_exceeds")

    def _use_margin_mode(self, inst: str, mode: str) -> None:
        """An order's tdMode becomes the instrument's margin mode while it is flat, with the
        leverage set for that mode (OKX keeps one per mode)."""
        current = self.acct.margin_mode_of(inst)
        if mode == current:
            return
        if self.acct.net_position(inst) != 0:
            raise VenueReject("bad_param", "tdMode")
        self.dialect.levers.setdefault((inst, current), self.acct.leverage_of(inst))
        self.acct.set_margin_mode(inst, mode)
        self.acct.set_leverage(inst, self.dialect.levers.get((inst, mode), self.acct.leverage))

    def _submit(self, p: dict[str, Any], now: int) -> Order:
        m = self.market(p.get("instId"))
        side = {"buy": "BUY", "sell": "SELL"}.get(str(p.get("side")))
        if side is None:
            raise VenueReject("bad_param", "side")
        if p.get("ordType") not in _ORDER_TYPES:
            raise VenueReject("bad_param", "ordType")
        order_type, tif = _ORDER_TYPES[str(p["ordType"])]
        td_mode = str(p.get("tdMode", ""))
        if td_mode not in ("cross", "isolated"):
            raise VenueReject("bad_param", "tdMode")
        pos_side = self._position_side(p.get("posSide"))
        client_id = str(p.get("clOrdId", ""))
        if client_id and not _CL_ORD_ID.fullmatch(client_id):
            raise VenueReject("bad_param", "clOrdId")
        if client_id and self.acct.by_client_id(None, client_id):
            raise VenueReject("duplicate_client_id", client_id)
        qty = _dec(p.get("sz"), "sz")
        self._check_size(m, qty)
        reduce_only = p.get("reduceOnly") in (True, "true") and pos_side == "BOTH"
        self._check_close(m, side, qty, pos_side, reduce_only)
        price = _dec(p.get("px"), "px") if order_type == "LIMIT" else Decimal(0)
        self._use_margin_mode(m.symbol, td_mode)
        order = self.acct.place(
            symbol=m.symbol,
            side=side,
            qty=qty,
            order_type=order_type,
            reduce_only=reduce_only,
            client_id=client_id,
            price=price,
            now_ms=now,
            time_in_force=tif,
            position_side=pos_side,
        )
        self.dialect.meta[order.order_id] = {
            "tdMode": td_mode,
            "tag": str(p.get("tag", "")),
            "ordType": p["ordType"],
            "attachAlgoOrds": list(p.get("attachAlgoOrds") or []),
        }
        return order

    def _find(self, q: Mapping[str, Any]) -> Order | None:
        """By ordId (wins when both are given) or clOrdId, on that instrument. Canceled
        orders that never filled are kept 2 hours, as on OKX."""
        inst = self.market(q.get("instId")).symbol
        order = None
        if q.get("ordId"):
            key = _order_key(str(q["ordId"]))
            order = self.acct.orders.get(key) if key is not None else None
        elif q.get("clOrdId"):
            order = self.acct.by_client_id(inst, str(q["clOrdId"]))
        else:
            raise VenueReject("missing_id")
        if order is None or order.symbol != inst or not self._kept(order, 90 * _DAY_MS):
            return None
        return order

    def _kept(self, o: Order, days_ms: int) -> bool:
        age = self.emu.clock_ms() - (o.update_ms or o.time_ms)
        if o.status == "CANCELED" and o.executed == 0:
            return age <= 2 * 3_600_000
        return o.status == "NEW" or age <= days_ms

    async def cancel(self, request: web.Request) -> web.Response:
        p = await _object(request)
        order = self._find(p)
        now = str(self.emu.clock_ms())
        row = {"clOrdId": str(p.get("clOrdId", "")), "ordId": str(p.get("ordId", ""))}
        if order is None or order.status != "NEW":
            code, msg = self.dialect.s_code("not_cancelable")
            row |= {"sCode": code, "sMsg": msg, "ts": now}
            return self.ok([row], "1", "All operations failed", times=True)
        self.acct.cancel(order)
        order.update_ms = self.emu.clock_ms()
        row |= {"clOrdId": order.client_id, "ordId": ord_id(order.order_id)}
        return self.ok([row | {"sCode": "0", "sMsg": "", "ts": now}], times=True)

    async def order(self, request: web.Request) -> web.Response:
        order = self._find(request.query)
        if order is None:
            raise VenueReject("not_found")
        return self.ok([self.order_json(order)])

    def order_json(self, o: Order) -> dict[str, Any]:
        m = self.acct.markets[o.symbol]
        meta = self.dialect.meta.get(o.order_id, {})
        trades = self.acct.trades_of(o)
        last = trades[-1] if trades else None
        state = {"FILLED": "filled", "CANCELED": "canceled"}.get(o.status, "live")
        if state == "live" and o.executed:
            state = "partially_filled"
        category = {"adl": "adl", "liquidation": "full_liquidation"}.get(o.kind, "normal")
        limit = o.order_type == "LIMIT"
        return {
            "accFillSz": _s(o.executed),
            "algoClOrdId": "",
            "algoId": "",
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": meta.get("attachAlgoOrds", []),
            "avgPx": _s(o.avg_price) if o.executed else "",
            "cTime": str(o.time_ms),
            "cancelSource": "1" if o.status == "CANCELED" and limit else "",
            "cancelSourceReason": "",
            "category": category,
            "ccy": "",
            "clOrdId": o.client_id,
            "fee": _s(-sum((t.fee for t in trades), Decimal(0))),
            "feeCcy": m.settle,
            "fillPx": _s(last.price) if last else "",
            "fillSz": _s(last.qty) if last else "0",
            "fillTime": str(last.time_ms) if last else "",
            "instId": o.symbol,
            "instType": "SWAP",
            "isTpLimit": "false",
            "lever": _s(self.acct.leverage_of(o.symbol)),
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": ord_id(o.order_id),
            "ordType": meta.get("ordType", "market" if not limit else "limit"),
            "pnl": _s(sum((t.realized_pnl for t in trades), Decimal(0))),
            "posSide": _POS_SIDE[o.position_side],
            "px": _s(o.price) if limit else "",
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": m.settle,
            "reduceOnly": "true" if o.reduce_only else "false",
            "side": o.side.lower(),
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": state,
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": _s(o.qty),
            "tag": meta.get("tag", ""),
            "tdMode": self.mgn_mode(o),
            "tgtCcy": "",
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": str(last.trade_id) if last else "",
            "uTime": str(o.update_ms or o.time_ms),
        }

    def _orders(self, q: Mapping[str, str], final: bool, days: int) -> list[dict[str, Any]]:
        if final and not q.get("instType"):
            raise VenueReject("missing_param", "instType")
        inst = q.get("instId")
        if inst:
            self.market(inst)
        states = q.get("state", "").split(",") if q.get("state") else None
        rows = []
        for o in sorted(self.acct.orders.values(), key=lambda o: -o.order_id):
            if (
                (o.status != "NEW") != final
                or q.get("instType") not in (None, "SWAP")
                or inst not in (None, o.symbol)
                or not self._kept(o, days * _DAY_MS)
                or not _in_window(o.time_ms, q, 0)
            ):
                continue
            row = self.order_json(o)
            wanted = states is None or row["state"] in states
            if wanted and q.get("ordType") in (None, row["ordType"]):
                rows.append(row)
        return _page(rows, q, "ordId")

    async def pending(self, request: web.Request) -> web.Response:
        return self.ok(self._orders(request.query, final=False, days=90))

    async def history(self, request: web.Request) -> web.Response:
        return self.ok(self._orders(request.query, final=True, days=7))

    async def archive(self, request: web.Request) -> web.Response:
        return self.ok(self._orders(request.query, final=True, days=90))

    def _fill_json(self, f: _Fill) -> dict[str, Any]:
        t = f.trade
        m = self.acct.markets[t.symbol]
        rate = t.fee / m.notional(t.qty, t.price) if t.qty else Decimal(0)
        return {
            "side": t.side.lower(),
            "fillSz": _s(t.qty),
            "fillPx": _s(t.price),
            "fillPxVol": "",
            "fillFwdPx": "",
            "fee": _s(-t.fee),
            "fillPnl": _s(t.realized_pnl),
            "ordId": ord_id(t.order_id),
            "feeRate": _s(-rate),
            "instType": "SWAP",
            "fillPxUsd": "",
            "instId": t.symbol,
            "clOrdId": t.client_id,
            "posSide": _POS_SIDE[t.position_side],
            "billId": str(_BILL_BASE + t.trade_id),
            "subType": f.sub_type,
            "fillMarkVol": "",
            "tag": f.tag,
            "fillTime": str(t.time_ms),
            "execType": "M" if t.maker else "T",
            "fillIdxPx": "",
            "tradeId": str(t.trade_id),
            "fillMarkPx": "",
            "feeCcy": t.fee_asset,
            "ts": str(t.time_ms),
        }

    def _fills(self, q: Mapping[str, str], days: int) -> web.Response:
        if q.get("instId"):
            self.market(q["instId"])
        oldest = self.emu.clock_ms() - days * _DAY_MS
        rows = [
            self._fill_json(f)
            for f in reversed(self.executions())
            if q.get("instType") in (None, "SWAP")
            and q.get("instId") in (None, f.trade.symbol)
            and q.get("ordId") in (None, ord_id(f.trade.order_id))
            and q.get("subType") in (None, f.sub_type)
            and _in_window(f.trade.time_ms, q, oldest)
        ]
        return self.ok(_page(rows, q, "billId"))

    async def fills(self, request: web.Request) -> web.Response:
        """The last 3 days of fills."""
        return self._fills(request.query, 3)

    async def fills_history(self, request: web.Request) -> web.Response:
        """The last 3 months of fills; instType is required here."""
        if not request.query.get("instType"):
            raise VenueReject("missing_param", "instType")
        return self._fills(request.query, 90)


# ---- account ---------------------------------------------------------------------------


class _Account(_View):
    def _pos_mode(self) -> str:
        return "long_short_mode" if self.acct.position_mode == "hedge" else "net_mode"

    async def config(self, request: web.Request) -> web.Response:
        return self.ok(
            [
                {
                    "acctLv": "2",
                    "acctStpMode": "cancel_maker",
                    "autoLoan": False,
                    "ctIsoMode": "automatic",
                    "enableSpotBorrow": False,
                    "feeType": "0",
                    "greeksType": "PA",
                    "ip": "",
                    "kycLv": "2",
                    "label": "lphedge-emulator",
                    "level": "Lv1",
                    "levelTmp": "",
                    "liquidationGear": "-1",
                    "mainUid": _UID,
                    "mgnIsoMode": "automatic",
                    "opAuth": "0",
                    "perm": "read_only,trade",
                    "posMode": self._pos_mode(),
                    "roleType": "0",
                    "settleCcy": "USDT",
                    "settleCcyList": ["USD", "USDC", "USDG"],
                    "spotBorrowAutoRepay": False,
                    "spotOffsetType": "",
                    "spotRoleType": "0",
                    "spotTraderInsts": [],
                    "traderInsts": [],
                    "type": "0",
                    "uid": _UID,
                }
            ]
        )

    async def set_position_mode(self, request: web.Request) -> web.Response:
        p = await _object(request)
        mode = {"net_mode": "one_way", "long_short_mode": "hedge"}.get(str(p.get("posMode")))
        if mode is None:
            raise VenueReject("bad_param", "posMode")
        self.acct.set_position_mode(mode)
        return self.ok([{"posMode": p["posMode"]}])

    async def set_leverage(self, request: web.Request) -> web.Response:
        """Leverage of (instId, mgnMode); the mode becomes the instrument's margin mode."""
        p = await _object(request)
        m = self.market(p.get("instId"))
        mode = str(p.get("mgnMode", ""))
        if mode not in ("cross", "isolated"):
            raise VenueReject("bad_param", "mgnMode")
        lever = _dec(p.get("lever"), "lever")
        if lever < 1:
            raise VenueReject("bad_param", "lever")
        if lever > _MAX_LEVER:
            raise VenueReject("bad_leverage")
        pos_side = str(p.get("posSide", "net"))
        hedge = self.acct.position_mode == "hedge"
        if mode == "isolated" and hedge and pos_side not in ("long", "short"):
            raise VenueReject("bad_param", "posSide")
        self.dialect.levers.setdefault(
            (m.symbol, self.acct.margin_mode_of(m.symbol)), self.acct.leverage_of(m.symbol)
        )
        self.acct.set_margin_mode(m.symbol, mode)
        self.acct.set_leverage(m.symbol, lever)
        self.dialect.levers[(m.symbol, mode)] = lever
        side = pos_side if mode == "isolated" else "net"
        return self.ok([{"instId": m.symbol, "lever": _s(lever), "mgnMode": mode, "posSide": side}])

    async def leverage_info(self, request: web.Request) -> web.Response:
        q = request.query
        mode = q.get("mgnMode")
        if not mode:
            raise VenueReject("missing_param", "mgnMode")
        if mode not in ("cross", "isolated"):
            raise VenueReject("bad_param", "mgnMode")
        rows = []
        for inst in str(q.get("instId", "")).split(","):
            m = self.market(inst)
            current = self.acct.margin_mode_of(m.symbol)
            lever = self.acct.leverage_of(m.symbol) if mode == current else None
            lever = lever or self.dialect.levers.get((m.symbol, mode), self.acct.leverage)
            sides = (
                ["long", "short"]
                if mode == "isolated" and self._pos_mode() != "net_mode"
                else ["net"]
            )
            rows += [
                {"ccy": "", "instId": m.symbol, "lever": _s(lever), "mgnMode": mode, "posSide": s}
                for s in sides
            ]
        return self.ok(rows)

    def _position_json(
        self, symbol: str, side: str, qty: Decimal, entry: Decimal
    ) -> dict[str, Any]:
        m = self.acct.markets[symbol]
        lever = self.acct.leverage_of(symbol)
        mode = self.acct.margin_mode_of(symbol)
        life = self.life(symbol, side)
        notional = m.notional(qty, m.mark)
        upl = m.pnl(qty, entry, m.mark)
        initial = m.notional(qty, entry) / lever
        fee = self.acct.taker_fee
        be = entry * (1 + fee) / (1 - fee) if qty > 0 else entry * (1 - fee) / (1 + fee)
        mmr = notional * _MMR
        collateral = (
            initial
            if mode == "isolated"
            else self.acct.available_in(m.settle) + notional / lever - upl
        )
        signed = qty * m.contract_size
        liq = (signed * entry - collateral) / (signed - _MMR * abs(signed))
        hedged = side != "BOTH"
        zero: dict[str, str] = dict.fromkeys(
            ("baseBal", "baseBorrowed", "baseInterest", "bizRefId", "bizRefType", "clSpotInUseAmt"),
            "",
        )
        zero |= dict.fromkeys(
            ("deltaBS", "deltaPA", "gammaBS", "gammaPA", "thetaBS", "thetaPA"), ""
        )
        zero |= dict.fromkeys(("vegaBS", "vegaPA", "hedgedPos", "interest", "liab", "liabCcy"), "")
        zero |= dict.fromkeys(("maxSpotInUseAmt", "nonSettleAvgPx", "optVal", "posCcy"), "")
        zero |= dict.fromkeys(("pendingCloseOrdLiabVal", "quoteBal", "quoteBorrowed"), "")
        zero |= dict.fromkeys(("quoteInterest", "settledPnl", "spotInUseAmt", "spotInUseCcy"), "")
        return zero | {
            "adl": "1",
            "availPos": _s(abs(qty)) if hedged else "",
            "avgPx": _s(entry),
            "bePx": _s(be),
            "cTime": str(life.opened_ms),
            "ccy": m.settle,
            "closeOrderAlgo": [],
            "fee": _s(-life.fee),
            "fundingFee": _s(life.funding),
            "idxPx": _s(m.mark),
            "imr": _s(notional / lever) if mode == "cross" else "",
            "instId": symbol,
            "instType": "SWAP",
            "last": _s(m.mark),
            "lever": _s(lever),
            "liqPenalty": "0",
            "liqPx": _s(liq) if liq > 0 else "",
            "margin": _s(initial) if mode == "isolated" else "",
            "markPx": _s(m.mark),
            "mgnMode": mode,
            "mgnRatio": _s((collateral + upl) / mmr) if mmr else "",
            "mmr": _s(mmr),
            "notionalUsd": _s(notional),
            "pnl": _s(life.pnl),
            "pos": _s(abs(qty) if hedged else qty),
            "posId": str(_POS_BASE + 10 * list(self.acct.markets).index(symbol) + _POS_INDEX[side]),
            "posSide": _POS_SIDE[side],
            "realizedPnl": _s(life.pnl - life.fee + life.funding),
            "tradeId": life.trade_id,
            "uTime": str(life.updated_ms),
            "upl": _s(upl),
            "uplLastPx": _s(upl),
            "uplRatio": _s(upl / initial) if initial else "0",
            "uplRatioLastPx": _s(upl / initial) if initial else "0",
            "usdPx": "",
        }

    def _open_positions(self) -> Iterable[tuple[str, str, Decimal, Decimal]]:
        if self.acct.position_mode == "hedge":
            for (symbol, side), pos in self.acct.hedge_positions.items():
                if pos.qty:
                    yield symbol, side, pos.qty, pos.entry
        else:
            for symbol, pos in self.acct.positions.items():
                if pos.qty:
                    yield symbol, "BOTH", pos.qty, pos.entry

    async def positions(self, request: web.Request) -> web.Response:
        q = request.query
        insts = q["instId"].split(",") if q.get("instId") else None
        for inst in insts or []:
            self.market(inst)
        rows = [
            self._position_json(symbol, side, qty, entry)
            for symbol, side, qty, entry in self._open_positions()
            if q.get("instType") in (None, "SWAP") and (insts is None or symbol in insts)
        ]
        if q.get("posId"):
            rows = [r for r in rows if r["posId"] in q["posId"].split(",")]
        return self.ok(sorted(rows, key=lambda r: -int(r["cTime"])))

    async def balance(self, request: web.Request) -> web.Response:
        """A single-currency margin account (acctLv 2) holding USDT."""
        acct, now = self.acct, str(self.emu.clock_ms())
        cash, upl = acct.coin_balance("USDT"), acct.unrealized("USDT")
        avail = acct.available_in("USDT")
        eq = cash + upl
        isolated = [
            (s, q, e)
            for s, _side, q, e in self._open_positions()
            if acct.margin_mode_of(s) == "isolated"
        ]
        iso_margin = sum(
            (acct.markets[s].notional(q, e) / acct.leverage_of(s) for s, q, e in isolated),
            Decimal(0),
        )
        iso_upl = sum(
            (acct.markets[s].pnl(q, e, acct.markets[s].mark) for s, q, e in isolated), Decimal(0)
        )
        notional = sum(
            (
                acct.markets[s].notional(q, acct.markets[s].mark)
                for s, _side, q, _e in self._open_positions()
            ),
            Decimal(0),
        )
        imr = sum(
            (
                acct.markets[s].notional(q, acct.markets[s].mark) / acct.leverage_of(s)
                for s, _side, q, _e in self._open_positions()
                if acct.margin_mode_of(s) == "cross"
            ),
            Decimal(0),
        )
        empty = dict.fromkeys(("accAvgPx", "clSpotInUseAmt", "maxSpotInUse", "mgnRatio", "mmr"), "")
        empty |= dict.fromkeys(("notionalLever", "openAvgPx", "rewardBal", "spotBal"), "")
        empty |= dict.fromkeys(
            ("spotInUseAmt", "spotUpl", "spotUplRatio", "totalPnl", "totalPnlRatio"), ""
        )
        zeros = dict.fromkeys(("borrowFroz", "colBorrAutoConversion", "crossLiab", "fixedBal"), "0")
        zeros |= dict.fromkeys(
            ("interest", "isoLiab", "liab", "maxLoan", "ordFrozen", "smtSyncEq"), "0"
        )
        zeros |= dict.fromkeys(
            ("spotCopyTradingEq", "spotIsoBal", "stgyEq", "twap", "uplLiab"), "0"
        )
        detail = (
            empty
            | zeros
            | {
                "availBal": _s(avail),
                "availEq": _s(avail),
                "cashBal": _s(cash),
                "ccy": "USDT",
                "collateralEnabled": False,
                "collateralRestrict": False,
                "disEq": _s(eq),
                "eq": _s(eq),
                "eqUsd": _s(eq),
                "frozenBal": _s(eq - avail),
                "imr": _s(imr),
                "isoEq": _s(iso_margin + iso_upl),
                "isoUpl": _s(iso_upl),
                "uTime": now,
                "upl": _s(upl),
            }
        )
        ccys = request.query.get("ccy")
        details = [detail] if ccys is None or "USDT" in ccys.split(",") else []
        return self.ok(
            [
                {
                    "adjEq": "",
                    "availEq": "",
                    "borrowFroz": "",
                    "details": details,
                    "imr": "",
                    "isoEq": _s(iso_margin + iso_upl),
                    "mgnRatio": "",
                    "mmr": "",
                    "notionalUsd": _s(notional),
                    "notionalUsdForBorrow": "0",
                    "notionalUsdForFutures": "0",
                    "notionalUsdForOption": "0",
                    "notionalUsdForSwap": _s(notional),
                    "ordFroz": "",
                    "totalEq": _s(eq),
                    "uTime": now,
                    "upl": _s(upl),
                }
            ]
        )

    def _bills(self, q: Mapping[str, str], days: int) -> list[dict[str, Any]]:
        """Trades (type 2), liquidations (5), ADL (9) and funding (8), newest first; `bal`
        is the USDT cash balance after each bill."""
        acct = self.acct
        rows: list[tuple[int, int, dict[str, Any]]] = []
        for f in self.executions():
            t = f.trade
            fill = {
                "balChg": _s(t.realized_pnl - t.fee),
                "clOrdId": t.client_id,
                "execType": "M" if t.maker else "T",
                "fee": _s(-t.fee),
                "fillTime": str(t.time_ms),
                "mgnMode": f.mgn_mode,
                "ordId": ord_id(t.order_id),
                "pnl": _s(t.realized_pnl),
                "px": _s(t.price),
                "subType": f.sub_type,
                "sz": _s(t.qty),
                "tag": f.tag,
                "tradeId": str(t.trade_id),
                "type": f.bill_type,
            }
            rows.append((t.time_ms, t.trade_id, self._bill(t.symbol, t.time_ms, t.trade_id, fill)))
        for i in acct.incomes:
            if i.kind != "FUNDING_FEE":
                continue
            m = acct.markets[i.symbol]
            size = abs(i.amount / (i.rate * m.mark * m.contract_size)) if i.rate else Decimal(0)
            funding = {
                "balChg": _s(i.amount),
                "clOrdId": "",
                "execType": "",
                "fee": "0",
                "fillTime": "",
                "mgnMode": acct.margin_mode_of(i.symbol),
                "ordId": "",
                "pnl": _s(i.amount),
                "px": _s(m.mark),
                "subType": "174" if i.amount > 0 else "173",
                "sz": _s(size.quantize(m.qty_step)),
                "tag": "",
                "tradeId": "",
                "type": "8",
            }
            rows.append((i.time_ms, i.tran_id, self._bill(i.symbol, i.time_ms, i.tran_id, funding)))
        rows.sort(key=lambda r: (r[0], r[1]))
        bal = acct.coin_balance("USDT") - sum((Decimal(r[2]["balChg"]) for r in rows), Decimal(0))
        for _ts, _id, row in rows:
            bal += Decimal(row["balChg"])
            row["bal"] = _s(bal)
        oldest = self.emu.clock_ms() - days * _DAY_MS
        kept = [
            row
            for _ts, _id, row in reversed(rows)
            if all(
                q.get(k) in (None, row[k]) for k in ("instId", "type", "subType", "mgnMode", "ccy")
            )
            and q.get("instType") in (None, "SWAP")
            and q.get("ctType") in (None, "linear")
            and _in_window(int(row["ts"]), q, oldest)
        ]
        return _page(kept, q, "billId")

    @staticmethod
    def _bill(symbol: str, ts: int, bill_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        blank = dict.fromkeys(("fillFwdPx", "fillIdxPx", "fillMarkPx", "fillMarkVol"), "")
        blank |= dict.fromkeys(("fillPxUsd", "fillPxVol", "from", "notes", "to"), "")
        return blank | {
            "billId": str(_BILL_BASE + bill_id),
            "ccy": "USDT",
            "instId": symbol,
            "instType": "SWAP",
            "interest": "0",
            "posBal": "0",
            "posBalChg": "0",
            "ts": str(ts),
            **fields,
        }

    async def currencies(self, request: web.Request) -> web.Response:
        """ccxt's load_markets asks for these with a live key (not in sandbox mode)."""
        chains = {
            "BTC": ("BTC-Bitcoin", "Bitcoin", "0.0001"),
            "USDT": ("USDT-ERC20", "Tether", "1"),
        }
        rows = []
        for ccy in sorted({c for m in self.acct.markets.values() for c in (m.base, m.quote)}):
            chain, name, fee = chains.get(ccy, (f"{ccy}-ERC20", ccy, "0.001"))
            rows.append(
                {
                    "canDep": True,
                    "canInternal": True,
                    "canWd": True,
                    "ccy": ccy,
                    "chain": chain,
                    "depQuotaFixed": "",
                    "depQuoteDailyLayer2": "",
                    "fee": fee,
                    "logoLink": "",
                    "mainNet": chain.endswith(("Bitcoin", "ERC20")) and ccy != "USDT",
                    "maxFee": fee,
                    "maxFeeForCtAddr": fee,
                    "maxWd": "10000000",
                    "minDep": "0.00000001",
                    "minDepArrivalConfirm": "64",
                    "minFee": fee,
                    "minFeeForCtAddr": fee,
                    "minInternal": "0.0001",
                    "minWd": fee,
                    "minWdUnlockConfirm": "96",
                    "name": name,
                    "needTag": False,
                    "usedDepQuotaFixed": "",
                    "usedWdQuota": "0",
                    "wdQuota": "10000000",
                    "wdTickSz": "8" if ccy != "USDT" else "6",
                }
            )
        return self.ok(rows)

    async def bills(self, request: web.Request) -> web.Response:
        """The last 7 days of bills."""
        return self.ok(self._bills(request.query, 7))

    async def bills_archive(self, request: web.Request) -> web.Response:
        """The last 3 months of bills."""
        return self.ok(self._bills(request.query, 90))
