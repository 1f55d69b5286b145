"""Deribit API v2 in its native JSON-RPC over HTTP: the methods ccxt's deribit calls to load
instruments, read tickers (greeks), book summaries (every option of a currency) and books,
trade options and look orders and positions up.

`GET /api/v2/{public|private}/{method}?params` (what ccxt sends) and `POST /api/v2/...` with a
JSON-RPC body `{"jsonrpc": "2.0", "id", "method", "params"}` both work. Answers are
`{"jsonrpc": "2.0", "result", "usIn", "usOut", "usDiff", "testnet"}`; errors HTTP 400 with
`{"jsonrpc": "2.0", "error": {"code", "message"}}` and Deribit's codes (10009
not_enough_funds, 10007 price_too_high, 10012 book_closed, 13004 invalid_credentials, ...).
Private calls are checked as Deribit does: `Authorization: deri-hmac-sha256 id=KEY,ts=TS,
sig=SIG,nonce=N` with SIG = hex HMAC-SHA256(secret, TS\\nN\\nMETHOD\\nURI\\nBODY\\n), URI the
raw path with its query. Option instruments carry Deribit's ETH option specs (contract 1 ETH,
min amount 1, tick 0.0001 and 0.0005 above 0.005, fees 0.0003 ETH capped at 12.5 %); tickers
quote greeks per coin in USD rounded to 5 decimals and `mark_iv` in percent, as Deribit does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .account import OptionMarket, Order, VenueReject

if TYPE_CHECKING:
    from .server import Emulator

_ERRORS: dict[str, tuple[int, int, str]] = {
    "rate_limit": (429, 10028, "too_many_requests"),
    "margin": (400, 10009, "not_enough_funds"),
    "min_notional": (400, 10032, "whole_cost_too_low"),
    "bad_quantity": (400, 10002, "qty_too_low"),
    "bad_symbol": (400, 10020, "invalid_or_unsupported_instrument"),
    "expired": (400, 10012, "book_closed"),
    "price_too_high": (400, 10007, "price_too_high {}"),
    "price_too_low": (400, 10005, "price_too_low {}"),
    "wrong_tick": (400, 10043, "price_wrong_tick"),
    "reduce_only": (400, 11030, "other_reject reduce_only"),
    "not_found": (400, 10004, "order_not_found"),
    "not_cancelable": (400, 10010, "already_closed"),
    "bad_key": (400, 13004, "invalid_credentials"),
    "bad_signature": (400, 13004, "invalid_credentials"),
    "missing_param": (400, -32602, "Invalid params"),
}
_AUTH = re.compile(r"deri-hmac-sha256 id=([^,]*),ts=(\d+),sig=([0-9a-f]+),nonce=([^,\s]*)")
_STATE = {"NEW": "open", "FILLED": "filled", "CANCELED": "cancelled"}
_TIF = {
    "good_til_cancelled": "GTC",
    "immediate_or_cancel": "IOC",
    "fill_or_kill": "FOK",
}
_TIF_NAME = {v: k for k, v in _TIF.items()}
Params = dict[str, Any]


def deribit_name(base: str, expiry_ms: int, strike: Decimal, call: bool) -> str:
    """ETH-28JUN24-3000-C: Deribit's (and Bybit's) option instrument name."""
    day = datetime.fromtimestamp(expiry_ms / 1000, UTC).strftime("%d%b%y").upper()
    return f"{base}-{day.lstrip('0')}-{format(strike, 'f')}-{'C' if call else 'P'}"


def _n(value: Decimal) -> float:
    """Deribit sends JSON numbers."""
    return float(value)


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


class Deribit:
    """The dialect. `recorded` maps instrument names to public/ticker results to serve as
    they are (real venue examples); everything else is computed from the account."""

    def __init__(self, recorded: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.recorded = dict(recorded or {})
        self._emu: Emulator | None = None

    def ccxt_id(self) -> str:
        return "deribit"

    def _now_us(self) -> int:
        return (self._emu.clock_ms() if self._emu else 0) * 1000

    def envelope(self, result: Any, status: int = 200, error: Any = None) -> web.Response:
        now = self._now_us()
        body: dict[str, Any] = {"jsonrpc": "2.0"}
        if error is None:
            body["result"] = result
        else:
            body["error"] = error
        body.update({"usIn": now, "usOut": now + 87, "usDiff": 87, "testnet": True})
        return web.json_response(body, status=status)

    def error(self, reason: str, detail: str = "") -> web.Response:
        status, code, msg = _ERRORS.get(reason, (400, 11094, "internal_server_error"))
        message = msg.format(detail) if "{}" in msg else msg
        return self.envelope(None, status, {"message": message, "code": code})

    def verify(self, emu: Emulator, request: web.Request, body: str) -> web.Response | None:
        if not request.path.startswith("/api/v2/private/"):
            return None
        hit = _AUTH.fullmatch(request.headers.get("Authorization", ""))
        if hit is None or hit.group(1) != emu.api_key:
            return self.error("bad_key")
        ts, sig, nonce = hit.group(2), hit.group(3), hit.group(4)
        data = f"{request.method}\n{request.raw_path}\n{body}\n"
        auth = f"{ts}\n{nonce}\n{data}"
        expected = hmac.new(emu.secret.encode(), auth.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig):
            return self.error("bad_signature")
        return None

    def routes(self, emu: Emulator) -> list[web.RouteDef]:
        self._emu = emu
        h = _Handlers(emu, self)
        table: dict[str, Callable[[Params], Awaitable[Any]]] = {
            "public/get_time": h.time,
            "public/get_currencies": h.currencies,
            "public/get_instruments": h.instruments,
            "public/ticker": h.ticker,
            "public/get_book_summary_by_currency": h.book_summaries,
            "public/get_order_book": h.order_book,
            "private/buy": h.buy,
            "private/sell": h.sell,
            "private/cancel": h.cancel,
            "private/get_order_state": h.order_state,
            "private/get_order_state_by_label": h.by_label,
            "private/get_open_orders_by_instrument": h.open_orders,
            "private/get_order_history_by_instrument": h.history,
            "private/get_positions": h.positions,
        }

        async def rpc(request: web.Request) -> web.Response:
            method = f"{request.match_info['scope']}/{request.match_info['method']}"
            params: Params = dict(request.query)
            if request.method == "POST":
                text = await request.text()
                if text:
                    params.update(json.loads(text).get("params") or {})
            fn = table.get(method)
            if fn is None:
                return self.envelope(None, 400, {"message": "Method not found", "code": -32601})
            return self.envelope(await fn(params))

        path = "/api/v2/{scope:public|private}/{method}"
        return [web.get(path, rpc), web.post(path, rpc)]


def instrument_json(om: OptionMarket, instrument_id: int) -> dict[str, Any]:
    days = (om.expiry_ms - om.launch_ms) // 86_400_000
    return {
        "tick_size": _n(om.tick),
        "tick_size_steps": [{"above_price": _n(a), "tick_size": _n(t)} for a, t in om.tick_steps],
        "taker_commission": _n(om.fee_rate),
        "maker_commission": _n(om.fee_rate),
        "strike": _n(om.strike),
        "settlement_period": "month" if days > 10 else "week",
        "settlement_currency": om.settle,
        "quote_currency": om.settle,
        "counter_currency": "USD",
        "base_currency": om.base,
        "price_index": f"{om.base.lower()}_usd",
        "option_type": "call" if om.call else "put",
        "min_trade_amount": _n(om.min_qty),
        "kind": "option",
        "is_active": True,
        "instrument_name": om.symbol,
        "instrument_id": instrument_id,
        "expiration_timestamp": om.expiry_ms,
        "creation_timestamp": om.launch_ms,
        "contract_size": _n(om.contract_size),
        "block_trade_commission": _n(om.fee_rate),
        "block_trade_min_trade_amount": 25,
        "block_trade_tick_size": _n(om.tick),
        "rfq": False,
    }


def book_summary(ticker: Mapping[str, Any], om: OptionMarket) -> dict[str, Any]:
    """public/get_book_summary_by_currency's row for one option, from its public/ticker: bid
    and ask null when there are none, `mark_iv` in percent, no greeks, no index_price."""
    stats = ticker.get("stats") or {}
    bid = ticker.get("best_bid_price") or None
    ask = ticker.get("best_ask_price") or None
    row: dict[str, Any] = {
        "volume_usd": stats.get("volume_usd", 0.0),
        "volume": stats.get("volume", 0.0),
        "underlying_price": ticker["underlying_price"],
        "underlying_index": ticker["underlying_index"],
        "quote_currency": om.settle,
        "price_change": stats.get("price_change"),
        "open_interest": ticker.get("open_interest", 0.0),
        "mid_price": (bid + ask) / 2 if bid is not None and ask is not None else None,
        "mark_price": ticker["mark_price"],
        "low": stats.get("low"),
        "last": ticker.get("last_price"),
        "interest_rate": ticker.get("interest_rate", 0.0),
        "instrument_name": ticker["instrument_name"],
        "high": stats.get("high"),
        "estimated_delivery_price": ticker["estimated_delivery_price"],
        "creation_timestamp": ticker["timestamp"],
        "bid_price": bid,
        "base_currency": om.base,
        "ask_price": ask,
    }
    if "mark_iv" in ticker:
        row["mark_iv"] = ticker["mark_iv"]
    return row


class _Handlers:
    def __init__(self, emu: Emulator, dialect: Deribit) -> None:
        self.emu = emu
        self.acct = emu.account
        self.dialect = dialect

    def _now(self) -> int:
        return self.emu.clock_ms()

    async def time(self, p: Params) -> Any:
        return self._now()

    async def currencies(self, p: Params) -> Any:
        coins = sorted({om.base for om in self.acct.options.values()})
        return [
            {
                "currency": c,
                "currency_long": {"ETH": "Ethereum", "BTC": "Bitcoin"}.get(c, c),
                "coin_type": {"ETH": "ETHER", "BTC": "BITCOIN"}.get(c, c),
                "fee_precision": 4,
                "min_confirmations": 1,
                "min_withdrawal_fee": 0.0001,
                "withdrawal_fee": 0.0001,
                "withdrawal_priorities": [],
            }
            for c in coins
        ]

    async def instruments(self, p: Params) -> Any:
        currency, kind = p.get("currency", "any"), p.get("kind")
        expired = _bool(p.get("expired", "false"))
        now = self._now()
        rows = []
        for n, om in enumerate(self.acct.options.values(), start=210_000):
            if currency not in ("any", om.base) or kind not in (None, "option"):
                continue
            if (om.expiry_ms <= now) == expired:
                rows.append(instrument_json(om, n))
        return rows

    def _quote(self, om: OptionMarket) -> dict[str, Any]:
        """public/ticker of one option, computed at the account's Black-76 mark."""
        now = self._now()
        index = self.acct.underlying[om.base]
        mark = self.acct.option_mark(om, now)
        bids, asks = self.acct.option_book(om, now)
        g = self.acct.option_greeks(om, now)
        day = om.symbol.split("-")[1]
        row: dict[str, Any] = {
            "timestamp": now,
            "state": "open",
            "stats": {"volume_usd": 0.0, "volume": 0.0, "price_change": None, "low": None},
            "instrument_name": om.symbol,
            "index_price": _n(index),
            "underlying_index": f"SYN.{om.base}-{day}",
            "underlying_price": _n(index),
            "estimated_delivery_price": _n(index),
            "interest_rate": 0.0,
            "mark_price": _n(mark),
            "last_price": None,
            "settlement_price": _n(mark),
            "open_interest": 0.0,
            "min_price": _n(om.on_grid(mark * (1 - om.band), True)),
            "max_price": _n(om.on_grid(mark * (1 + om.band), False)),
            "best_bid_price": _n(bids[0][0]) if bids else 0.0,
            "best_bid_amount": _n(bids[0][1]) if bids else 0.0,
            "best_ask_price": _n(asks[0][0]),
            "best_ask_amount": _n(asks[0][1]),
        }
        if om.quote_greeks:
            row["mark_iv"] = round(om.vol * 100, 2)
            row["bid_iv"] = row["ask_iv"] = row["mark_iv"]
            row["greeks"] = {
                "delta": round(g.delta, 5),
                "gamma": round(g.gamma, 5),
                "vega": round(g.vega / 100, 5),
                "theta": round(g.theta / 365, 5),
                "rho": 0.0,
            }
        return row

    def _market(self, p: Params) -> OptionMarket:
        name = str(p.get("instrument_name", ""))
        if name not in self.acct.options:
            raise VenueReject("bad_symbol", name)
        return self.acct.options[name]

    async def ticker(self, p: Params) -> Any:
        name = str(p.get("instrument_name", ""))
        if name in self.dialect.recorded:
            return self.dialect.recorded[name]
        return self._quote(self._market(p))

    async def book_summaries(self, p: Params) -> Any:
        """Every unexpired option settled in `currency` (kind=option), one row each: what
        its ticker says, minus the greeks and index, as Deribit's book summary carries it."""
        currency, kind = p.get("currency"), p.get("kind")
        if currency is None:
            raise VenueReject("missing_param", "currency")
        now = self._now()
        return [
            book_summary(self.dialect.recorded.get(om.symbol) or self._quote(om), om)
            for om in self.acct.options.values()
            if om.settle == currency and kind in (None, "option") and om.expiry_ms > now
        ]

    async def order_book(self, p: Params) -> Any:
        om = self._market(p)
        depth = int(p.get("depth", 5))
        bids, asks = self.acct.option_book(om, self._now())
        row = self._quote(om)
        row["change_id"] = 1
        row["bids"] = [[_n(px), _n(q)] for px, q in bids[:depth]]
        row["asks"] = [[_n(px), _n(q)] for px, q in asks[:depth]]
        return row

    async def buy(self, p: Params) -> Any:
        return self._trade(p, "BUY")

    async def sell(self, p: Params) -> Any:
        return self._trade(p, "SELL")

    def _trade(self, p: Params, side: str) -> Any:
        om = self._market(p)
        now = self._now()
        tif = _TIF.get(str(p.get("time_in_force", "good_til_cancelled")), "GTC")
        if p.get("type", "limit") == "market":  # crosses the whole book within the band
            sign = 1 if side == "BUY" else -1
            mark = self.acct.option_mark(om, now)
            price, tif = om.on_grid(mark * (1 + sign * om.band), up=sign < 0), "IOC"
        else:
            price = Decimal(str(p.get("price", "0")))
        order = self.acct.place_option(
            symbol=om.symbol,
            side=side,
            qty=Decimal(str(p.get("amount", "0"))),
            price=price,
            time_in_force=tif,
            client_id=str(p.get("label", "")),
            now_ms=now,
            unique_client_id=False,  # Deribit labels are free text, not unique
            reduce_only=_bool(p.get("reduce_only", "false")),
        )
        return {"order": self._order(order), "trades": self._trades(order, om)}

    def _order(self, o: Order) -> dict[str, Any]:
        om = self.acct.options[o.symbol]
        return {
            "web": False,
            "api": True,
            "time_in_force": _TIF_NAME.get(o.time_in_force, "good_til_cancelled"),
            "replaced": False,
            "reduce_only": o.reduce_only,
            "risk_reducing": False,
            "price": _n(o.price),
            "post_only": False,
            "order_type": "limit",
            "order_state": _STATE[o.status],
            "order_id": f"{om.base}-{o.order_id}",
            "max_show": _n(o.qty),
            "last_update_timestamp": o.time_ms,
            "label": o.client_id,
            "is_liquidation": False,
            "instrument_name": o.symbol,
            "filled_amount": _n(o.executed),
            "direction": "buy" if o.side == "BUY" else "sell",
            "creation_timestamp": o.time_ms,
            "commission": _n(o.fee),
            "average_price": _n(o.avg_price),
            "amount": _n(o.qty),
            "contracts": _n(o.qty / om.contract_size),
            "mmp": False,
        }

    def _trades(self, o: Order, om: OptionMarket) -> list[dict[str, Any]]:
        if o.executed == 0:
            return []
        index = self.acct.underlying[om.base]
        return [
            {
                "trade_seq": 1,
                "trade_id": f"{om.base}-{o.order_id + 7}",
                "timestamp": o.time_ms,
                "tick_direction": 1,
                "state": _STATE[o.status],
                "reduce_only": o.reduce_only,
                "price": _n(o.avg_price),
                "post_only": False,
                "order_type": "limit",
                "order_id": f"{om.base}-{o.order_id}",
                "matching_id": None,
                "mark_price": _n(self.acct.option_mark(om, o.time_ms)),
                "liquidity": "T",
                "label": o.client_id,
                "iv": round(om.vol * 100, 2),
                "instrument_name": o.symbol,
                "index_price": _n(index),
                "underlying_price": _n(index),
                "fee_currency": om.settle,
                "fee": _n(o.fee),
                "direction": "buy" if o.side == "BUY" else "sell",
                "amount": _n(o.executed),
            }
        ]

    def _by_id(self, p: Params) -> Order:
        raw = str(p.get("order_id", ""))
        for o in self.acct.orders.values():
            if raw.endswith(f"-{o.order_id}") and o.symbol in self.acct.options:
                return o
        raise VenueReject("not_found", raw)

    async def order_state(self, p: Params) -> Any:
        return self._order(self._by_id(p))

    async def cancel(self, p: Params) -> Any:
        order = self._by_id(p)
        self.acct.cancel(order)
        return self._order(order)

    def _orders(self, keep: Callable[[Order], bool]) -> list[dict[str, Any]]:
        mine = [o for o in self.acct.orders.values() if o.symbol in self.acct.options]
        return [self._order(o) for o in sorted(mine, key=lambda o: -o.order_id) if keep(o)]

    async def by_label(self, p: Params) -> Any:
        currency, label = p.get("currency"), p.get("label")
        return self._orders(
            lambda o: (
                o.client_id == label
                and currency
                in (self.acct.options[o.symbol].settle, self.acct.options[o.symbol].base)
            )
        )

    async def open_orders(self, p: Params) -> Any:
        name = p.get("instrument_name")
        return self._orders(lambda o: o.symbol == name and o.status == "NEW")

    async def history(self, p: Params) -> Any:
        name, unfilled = p.get("instrument_name"), _bool(p.get("include_unfilled", "false"))
        return self._orders(
            lambda o: o.symbol == name and o.status != "NEW" and (o.executed > 0 or unfilled)
        )

    async def positions(self, p: Params) -> Any:
        currency, kind = p.get("currency", "any"), p.get("kind", "option")
        now = self._now()
        rows = []
        for sym, pos in self.acct.option_positions.items():
            om = self.acct.options[sym]
            if pos.qty == 0 or kind != "option" or currency not in ("any", om.settle):
                continue
            mark = self.acct.option_mark(om, now)
            g = self.acct.option_greeks(om, now)
            index = self.acct.underlying[om.base]
            rows.append(
                {
                    "average_price": _n(pos.entry),
                    "average_price_usd": _n(pos.entry * index),
                    "delta": round(g.delta * float(pos.qty), 5),
                    "gamma": round(g.gamma * float(pos.qty), 5),
                    "vega": round(g.vega / 100 * float(pos.qty), 5),
                    "theta": round(g.theta / 365 * float(pos.qty), 5),
                    "direction": "buy" if pos.qty > 0 else "sell",
                    "floating_profit_loss": _n((mark - pos.entry) * pos.qty),
                    "floating_profit_loss_usd": _n((mark - pos.entry) * pos.qty * index),
                    "index_price": _n(index),
                    "initial_margin": 0.0 if pos.qty > 0 else _n(-pos.qty * mark),
                    "maintenance_margin": 0.0 if pos.qty > 0 else _n(-pos.qty * mark),
                    "instrument_name": sym,
                    "kind": "option",
                    "mark_price": _n(mark),
                    "open_orders_margin": 0.0,
                    "realized_profit_loss": 0.0,
                    "settlement_price": _n(mark),
                    "size": _n(pos.qty),
                    "total_profit_loss": _n((mark - pos.entry) * pos.qty),
                }
            )
        return rows
