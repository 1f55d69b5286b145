"""Deribit API v2 in its native JSON-RPC over HTTP: the methods ccxt's deribit calls to load
instruments, read tickers (greeks), book summaries and books, trade options and inverse
perpetuals, look orders, fills, positions and balances up, and read the settlement history.

`GET /api/v2/{public|private}/{method}?params` (what ccxt sends) and `POST /api/v2/...` with a
JSON-RPC body `{"jsonrpc": "2.0", "id", "method", "params"}` both work. Answers are
`{"jsonrpc": "2.0", "result", "usIn", "usOut", "usDiff", "testnet"}`; errors HTTP 400 with
`{"jsonrpc": "2.0", "error": {"code", "message"[, "data"]}}` and Deribit's codes (10009
not_enough_funds, 10002 qty_too_low, 10004 order_not_found, 11030 other_reject, 13004
invalid_credentials, -32602 Invalid params with `data: {"reason", "param"}`, ...).
Private calls are checked as Deribit does: `Authorization: deri-hmac-sha256 id=KEY,ts=TS,
sig=SIG,nonce=N` with SIG = hex HMAC-SHA256(secret, TS\\nN\\nMETHOD\\nURI\\nBODY\\n), URI the
raw path with its query.

Options carry Deribit's ETH option specs (contract 1 ETH, min amount 1, tick 0.0001 and 0.0005
above 0.005, fees 0.0003 ETH capped at 12.5 %); tickers quote greeks per coin in USD rounded
to 5 decimals and `mark_iv` in percent, as Deribit does.

Perpetuals (`deribit_markets`) are the account's inverse `Market`s: ETH-PERPETUAL (contract
1 USD, tick 0.05) and BTC-PERPETUAL (contract 10 USD, tick 0.5), margin, PnL, fees and funding
in the coin. The account counts contracts; Deribit's `amount` is USD (contracts x contract
size) in every request and answer (orders, fills, positions `size`, book levels), `contracts`
the count, as ccxt's deribit expects (its amounts for inverse perps are USD). Market orders
fill at once (the account's mark +/- half-spread); limits beyond the band (`min_price`,
`max_price`, mark -/+ 1.5 %) are clamped to it, as Deribit does for futures. Ids follow
Deribit: ETH ones carry the currency ("ETH-8389770"), BTC ones are bare numbers.

Settlement history (get_settlement_history_by_currency / _by_instrument), newest first, is
built from the account's history, so tests only drive the account:
- "settlement": one row per `Account.settle_funding` booking on a perp (Deribit realises the
  funding accrued since the previous settlement at its daily 08:00 UTC settlement; here each
  `settle_funding` call is one such settlement). `funding` is the booked FUNDING_FEE (coin,
  received > 0); `position` (USD) and the average price are replayed from the account's
  trades up to the booking; `mark_price` is the mark the funding was computed at (USD value
  x rate / funding); `profit_loss` the session's trading PnL on the instrument (realised since
  the previous settlement plus the change in unrealised PnL); `session_profit_loss` adds the
  funding. The account never resets its average price, so neither do we.
- "delivery": options held at expiry, delivered by `Deribit.deliver` (run before every
  request, as Deribit delivers by itself at expiry): each pays its intrinsic value in the
  premium coin at the account's underlying index then, is credited to `wallets`, and closes.
- "bankruptcy": one row per liquidation of our own perp position (`Account.force_close`),
  `session_bankrupcy` (Deribit's spelling, which ccxt reads) the coin it cost (loss + fee).
Liquidation fills carry `liquidation: "T"` in the user trades, their orders `is_liquidation`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .account import Income, Market, OptionMarket, Order, Position, Trade, VenueReject

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
    "bad_price": (400, 10023, "invalid_price"),
    "reduce_only": (400, 11030, "other_reject reduce_only"),
    "post_only_reject": (400, 11054, "post_only_reject"),
    "not_found": (400, 10004, "order_not_found"),
    "not_cancelable": (400, 10010, "already_closed"),
    "not_implemented": (400, 10033, "not_implemented"),
    "bad_key": (400, 13004, "invalid_credentials"),
    "bad_signature": (400, 13004, "invalid_credentials"),
    "missing_param": (400, -32602, "Invalid params"),
    "bad_amount": (400, -32602, "Invalid params"),
    "bad_param": (400, -32602, "Invalid params"),
}
# -32602's `data.reason` per reason key; `detail` names the parameter.
_PARAM_REASONS = {
    "missing_param": "must be present",
    "bad_amount": "must be a multiple of contract size",
    "bad_param": "wrong format",
}
_AUTH = re.compile(r"deri-hmac-sha256 id=([^,]*),ts=(\d+),sig=([0-9a-f]+),nonce=([^,\s]*)")
_STATE = {"NEW": "open", "FILLED": "filled", "CANCELED": "cancelled"}
_TIF = {
    "good_til_cancelled": "GTC",
    "immediate_or_cancel": "IOC",
    "fill_or_kill": "FOK",
}
_TIF_NAME = {v: k for k, v in _TIF.items()}
_E8 = Decimal("0.00000001")
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
_SETTLE_HOUR_MS = 8 * HOUR_MS  # Deribit settles (and delivers) daily at 08:00 UTC
_BAND = Decimal("0.015")  # perp min_price / max_price: mark -/+ 1.5 %
_PERPETUAL_EXPIRY_MS = 32503708800000  # 3000-01-01, what Deribit sends for perpetuals
# A quiet day's public numbers (24 h volume in USD, open interest in USD) for the tickers.
_PUBLIC_USD = {
    "ETH": (Decimal(250_000_000), Decimal(180_000_000)),
    "BTC": (Decimal(1_200_000_000), Decimal(1_000_000_000)),
}
_LIMITS = {
    "non_matching_engine": {"burst": 100, "rate": 20},
    "limits_per_currency": False,
    "matching_engine": {
        "trading": {"total": {"burst": 20, "rate": 5}},
        "spot": {"burst": 20, "rate": 5},
        "maximum_quotes": {"burst": 500, "rate": 500},
        "maximum_mass_quotes": {"burst": 10, "rate": 10},
        "guaranteed_mass_quotes": {"burst": 2, "rate": 2},
        "cancel_all": {"burst": 20, "rate": 5},
    },
}
Params = dict[str, Any]


def deribit_name(base: str, expiry_ms: int, strike: Decimal, call: bool) -> str:
    """ETH-28JUN24-3000-C: Deribit's (and Bybit's) option instrument name."""
    day = datetime.fromtimestamp(expiry_ms / 1000, UTC).strftime("%d%b%y").upper()
    return f"{base}-{day.lstrip('0')}-{format(strike, 'f')}-{'C' if call else 'P'}"


def deribit_markets() -> dict[str, Market]:
    """ETH-PERPETUAL and BTC-PERPETUAL with Deribit's specs: inverse, contracts of 1 and 10
    USD (min_trade_amount one contract), ticks 0.05 and 0.5, funding booked once a day (0.01 %
    per 8 h). Marks 3000 and 60000 keep the account's fills (mark +/- 1 bp, rounded to the
    tick's decimals) on Deribit's tick grid."""
    common: dict[str, Any] = {
        "qty_step": Decimal(1),
        "min_qty": Decimal(1),
        "min_notional": Decimal(0),
        "inverse": True,
        "funding_rate": Decimal("0.0003"),
        "funding_period_ms": DAY_MS,
    }
    return {
        "ETH-PERPETUAL": Market(
            "ETH-PERPETUAL",
            "ETH",
            "USD",
            Decimal("3000.00"),
            tick=Decimal("0.05"),
            max_qty=Decimal(10_000_000),
            contract_size=Decimal(1),
            **common,
        ),
        "BTC-PERPETUAL": Market(
            "BTC-PERPETUAL",
            "BTC",
            "USD",
            Decimal("60000.0"),
            tick=Decimal("0.5"),
            max_qty=Decimal(1_000_000),
            contract_size=Decimal(10),
            **common,
        ),
    }


def deribit_id(base: str, n: int) -> str:
    """Deribit's order and trade ids: "ETH-349249" for ETH, "195402220" for BTC."""
    return str(n) if base == "BTC" else f"{base}-{n}"


def _n(value: Decimal) -> float:
    """Deribit sends JSON numbers."""
    return float(value)


def _bool(value: Any) -> bool:
    return str(value).lower() == "true"


def _dec(p: Params, name: str) -> Decimal:
    if p.get(name) in (None, ""):
        raise VenueReject("missing_param", name)
    try:
        return Decimal(str(p[name]))
    except ArithmeticError as exc:
        raise VenueReject("bad_param", name) from exc


def _int(p: Params, name: str, default: int | None = None) -> int:
    if p.get(name) in (None, ""):
        if default is None:
            raise VenueReject("missing_param", name)
        return default
    try:
        return int(str(p[name]))
    except ValueError as exc:
        raise VenueReject("bad_param", name) from exc


def _on_grid(price: Decimal, tick: Decimal, up: bool) -> Decimal:
    steps = (price / tick).to_integral_value("ROUND_CEILING" if up else "ROUND_FLOOR")
    return steps * tick


@dataclass
class _Meta:
    """What Deribit shows of an order that the account does not keep."""

    mark: Decimal  # mark and index when it was placed (the fills' mark_price, index_price)
    index: Decimal
    post_only: bool = False
    cancel_reason: str = ""


@dataclass
class _Session:
    """One perp settlement rebuilt from the account history (see the module docstring)."""

    income: Income
    qty: Decimal  # contracts at the settlement
    mark: Decimal
    profit_loss: Decimal


class Deribit:
    """The dialect. `recorded` maps instrument names to public/ticker results to serve as
    they are (real venue examples); everything else is computed from the account."""

    def __init__(self, recorded: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.recorded = dict(recorded or {})
        self.deliveries: list[dict[str, Any]] = []  # "delivery" rows, oldest first
        self._emu: Emulator | None = None

    def ccxt_id(self) -> str:
        return "deribit"

    def _now_us(self) -> int:
        return (self._emu.clock_ms() if self._emu else 0) * 1000

    def envelope(
        self, result: Any, status: int = 200, error: Any = None, rpc_id: Any = None
    ) -> web.Response:
        """The JSON-RPC answer; `rpc_id` echoes a POSTed request's id (ccxt's GETs send
        none, and get none back)."""
        now = self._now_us()
        body: dict[str, Any] = {"jsonrpc": "2.0"}
        if rpc_id is not None:
            body["id"] = rpc_id
        if error is None:
            body["result"] = result
        else:
            body["error"] = error
        body.update({"usIn": now, "usOut": now + 87, "usDiff": 87, "testnet": True})
        return web.json_response(body, status=status)

    def error(self, reason: str, detail: str = "") -> web.Response:
        status, code, msg = _ERRORS.get(reason, (400, 11094, "internal_server_error"))
        message = msg.format(detail) if "{}" in msg else msg
        error: dict[str, Any] = {"message": message, "code": code}
        if reason in _PARAM_REASONS:
            error["data"] = {"reason": _PARAM_REASONS[reason], "param": detail}
        return self.envelope(None, status, error)

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

    def deliver(self, now_ms: int | None = None) -> list[dict[str, Any]]:
        """Deliver every option position whose expiry has passed, as Deribit does at expiry:
        it pays its intrinsic value per contract in the premium coin (intrinsic USD / index
        for inverse options) at the account's underlying index now, credited to `wallets`,
        and closes. Returns the new "delivery" rows (also kept in `deliveries`)."""
        if self._emu is None:
            return []
        acct = self._emu.account
        now = self._emu.clock_ms() if now_ms is None else now_ms
        rows = []
        for sym, pos in acct.option_positions.items():
            om = acct.options[sym]
            if pos.qty == 0 or om.expiry_ms > now:
                continue
            index = acct.underlying[om.base]
            usd = max(index - om.strike if om.call else om.strike - index, Decimal(0))
            value = (usd * om.contract_size / (index if om.inverse else 1)).quantize(_E8)
            acct.wallets[om.settle] = acct.wallets.get(om.settle, Decimal(0)) + pos.qty * value
            pnl = (value - pos.entry) * pos.qty
            rows.append(
                {
                    "type": "delivery",
                    "timestamp": om.expiry_ms,
                    "session_profit_loss": _n(pnl),
                    "profit_loss": _n(pnl),
                    "position": _n(pos.qty),
                    "mark_price": _n(value),
                    "instrument_name": sym,
                    "index_price": _n(index),
                }
            )
            pos.qty, pos.entry = Decimal(0), Decimal(0)
        self.deliveries += rows
        return rows

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
            "public/get_funding_rate_value": h.funding_rate_value,
            "public/get_funding_rate_history": h.funding_rate_history,
            "private/buy": h.buy,
            "private/sell": h.sell,
            "private/cancel": h.cancel,
            "private/cancel_all": h.cancel_all,
            "private/cancel_all_by_instrument": h.cancel_all,
            "private/get_order_state": h.order_state,
            "private/get_order_state_by_label": h.by_label,
            "private/get_open_orders_by_instrument": h.open_orders,
            "private/get_open_orders_by_currency": h.open_orders,
            "private/get_order_history_by_instrument": h.history,
            "private/get_order_history_by_currency": h.history,
            "private/get_positions": h.positions,
            "private/get_position": h.position,
            "private/get_account_summary": h.account_summary,
            "private/get_account_summaries": h.account_summaries,
            "private/get_user_trades_by_instrument": h.user_trades,
            "private/get_user_trades_by_instrument_and_time": h.user_trades_by_time,
            "private/get_user_trades_by_currency": h.user_trades,
            "private/get_user_trades_by_currency_and_time": h.user_trades_by_time,
            "private/get_user_trades_by_order": h.user_trades_by_order,
            "private/get_settlement_history_by_currency": h.settlements,
            "private/get_settlement_history_by_instrument": h.settlements,
        }

        async def rpc(request: web.Request) -> web.Response:
            method = f"{request.match_info['scope']}/{request.match_info['method']}"
            params: Params = dict(request.query)
            rpc_id = None
            if request.method == "POST":
                text = await request.text()
                if text:
                    call = json.loads(text)
                    params.update(call.get("params") or {})
                    rpc_id = call.get("id")
            fn = table.get(method)
            if fn is None:
                return self.envelope(None, 400, {"message": "Method not found", "code": -32601})
            params["_method"] = method
            self.deliver()
            return self.envelope(await fn(params), rpc_id=rpc_id)

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


def perp_instrument_json(m: Market, taker_fee: Decimal, instrument_id: int) -> dict[str, Any]:
    """public/get_instruments' row of an inverse perpetual, as Deribit lists BTC-PERPETUAL:
    kind future, settlement_period perpetual, amounts (min_trade_amount) in USD."""
    return {
        "tick_size": _n(m.tick),
        "tick_size_steps": [],
        "taker_commission": _n(taker_fee),
        "maker_commission": 0.0,
        "settlement_period": "perpetual",
        "settlement_currency": m.base,
        "quote_currency": "USD",
        "counter_currency": "USD",
        "base_currency": m.base,
        "price_index": f"{m.base.lower()}_usd",
        "min_trade_amount": _n(m.min_qty * m.contract_size),
        "max_liquidation_commission": 0.0075,
        "max_leverage": 50,
        "kind": "future",
        "future_type": "reversed",
        "instrument_type": "reversed",
        "is_active": True,
        "instrument_name": m.symbol,
        "instrument_id": instrument_id,
        "expiration_timestamp": _PERPETUAL_EXPIRY_MS,
        "creation_timestamp": 1534242287000 if m.base == "BTC" else 1552568454000,
        "contract_size": _n(m.contract_size),
        "block_trade_commission": 0.00025,
        "block_trade_min_trade_amount": 200000,
        "block_trade_tick_size": 0.01,
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


def _replay(m: Market, qty: Decimal, entry: Decimal, t: Trade) -> tuple[Decimal, Decimal]:
    """The account's position after trade `t`: its average entry (harmonic for inverse)."""
    signed = t.qty if t.side == "BUY" else -t.qty
    total = qty + signed
    if qty == 0 or (qty > 0) == (signed > 0):
        if qty == 0:
            return total, t.price
        if m.inverse:
            return total, abs(total) / (abs(qty) / entry + t.qty / t.price)
        return total, (entry * abs(qty) + t.price * t.qty) / abs(total)
    if total == 0:
        return total, Decimal(0)
    return total, (t.price if (total > 0) == (signed > 0) else entry)


class _Handlers:
    def __init__(self, emu: Emulator, dialect: Deribit) -> None:
        self.emu = emu
        self.acct = emu.account
        self.dialect = dialect
        self.meta: dict[int, _Meta] = {}

    def _now(self) -> int:
        return self.emu.clock_ms()

    # ---- public ----------------------------------------------------------------------------

    async def time(self, p: Params) -> Any:
        return self._now()

    async def currencies(self, p: Params) -> Any:
        coins = sorted(
            {om.base for om in self.acct.options.values()}
            | {m.base for m in self.acct.markets.values()}
        )
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
        """Every listed instrument of `currency` (any) and `kind` (future, option; absent:
        all); perpetuals never expire, so `expired=true` lists only expired options."""
        currency, kind = p.get("currency", "any"), p.get("kind")
        expired = _bool(p.get("expired", "false"))
        now = self._now()
        rows = []
        if kind in (None, "future") and not expired:
            for n, m in enumerate(self.acct.markets.values(), start=124_972):
                if currency in ("any", m.base):
                    rows.append(perp_instrument_json(m, self.acct.taker_fee, n))
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

    def _index(self, m: Market) -> Decimal:
        return self.acct.underlying.get(m.base, m.mark)

    def _band(self, m: Market) -> tuple[Decimal, Decimal]:
        """(min_price, max_price): the prices a perp order may reach, on the tick grid."""
        return (
            _on_grid(m.mark * (1 - _BAND), m.tick, True),
            _on_grid(m.mark * (1 + _BAND), m.tick, False),
        )

    def _touch(self, m: Market) -> tuple[Decimal, Decimal]:
        """Best bid and ask: the prices the account fills market sells and buys at."""
        half = m.mark * m.half_spread_bps / Decimal(10000)
        return (m.mark - half).quantize(m.tick), (m.mark + half).quantize(m.tick)

    def _perp_book(self, m: Market, depth: int) -> tuple[list[list[float]], list[list[float]]]:
        """Levels one tick apart from the touch, USD amounts growing with depth."""
        bid, ask = self._touch(m)
        lot = m.contract_size * (Decimal(5000) if m.base == "ETH" else Decimal(2000))
        bids = [[_n(bid - i * m.tick), _n(lot * (i + 1))] for i in range(depth)]
        asks = [[_n(ask + i * m.tick), _n(lot * (i + 1))] for i in range(depth)]
        return bids, asks

    def _perp_quote(self, m: Market) -> dict[str, Any]:
        """public/ticker of a perpetual: mark, index, funding over 8 h, the touch, the band,
        a quiet day's stats; `last_price` our last fill there (the mark before any)."""
        now, mark, index = self._now(), m.mark, self._index(m)
        bid, ask = self._touch(m)
        lo, hi = self._band(m)
        volume_usd, open_interest = _PUBLIC_USD.get(m.base, _PUBLIC_USD["BTC"])
        fills = [t for t in self.acct.trades if t.symbol == m.symbol]
        sessions = self._sessions(m.symbol)
        funding_8h = m.funding_rate * Decimal(8 * HOUR_MS) / m.funding_period_ms
        lot = _n(m.contract_size * (Decimal(5000) if m.base == "ETH" else Decimal(2000)))
        return {
            "timestamp": now,
            "state": "open",
            "stats": {
                "volume_usd": _n(volume_usd),
                "volume_notional": _n(volume_usd),
                "volume": _n((volume_usd / mark).quantize(_E8)),
                "price_change": 0.0,
                "low": _n(_on_grid(mark * Decimal("0.98"), m.tick, False)),
                "high": _n(_on_grid(mark * Decimal("1.02"), m.tick, True)),
            },
            "instrument_name": m.symbol,
            "index_price": _n(index),
            "estimated_delivery_price": _n(index),
            "settlement_price": _n(sessions[-1].mark if sessions else mark),
            "mark_price": _n(mark),
            "last_price": _n(fills[-1].price if fills else mark),
            "open_interest": _n(open_interest),
            "min_price": _n(lo),
            "max_price": _n(hi),
            "interest_value": 0.0,
            "funding_8h": _n(funding_8h),
            "current_funding": _n(funding_8h),
            "best_bid_price": _n(bid),
            "best_bid_amount": lot,
            "best_ask_price": _n(ask),
            "best_ask_amount": lot,
        }

    def _market(self, p: Params) -> OptionMarket:
        name = str(p.get("instrument_name", ""))
        if name not in self.acct.options:
            raise VenueReject("bad_symbol", name)
        return self.acct.options[name]

    async def ticker(self, p: Params) -> Any:
        name = str(p.get("instrument_name", ""))
        if name in self.dialect.recorded:
            return self.dialect.recorded[name]
        if name in self.acct.markets:
            return self._perp_quote(self.acct.markets[name])
        return self._quote(self._market(p))

    async def book_summaries(self, p: Params) -> Any:
        """Every unexpired instrument settled in `currency` of `kind` (future, option;
        absent: both), one row each: what its ticker says, minus the greeks and index, as
        Deribit's book summary carries it."""
        currency, kind = p.get("currency"), p.get("kind")
        if currency is None:
            raise VenueReject("missing_param", "currency")
        now = self._now()
        rows = [
            self._perp_summary(m)
            for m in self.acct.markets.values()
            if m.settle == currency and kind in (None, "future")
        ]
        return rows + [
            book_summary(self.dialect.recorded.get(om.symbol) or self._quote(om), om)
            for om in self.acct.options.values()
            if om.settle == currency and kind in (None, "option") and om.expiry_ms > now
        ]

    def _perp_summary(self, m: Market) -> dict[str, Any]:
        t = self._perp_quote(m)
        stats = t["stats"]
        return {
            "volume_usd": stats["volume_usd"],
            "volume_notional": stats["volume_notional"],
            "volume": stats["volume"],
            "quote_currency": "USD",
            "price_change": stats["price_change"],
            "open_interest": t["open_interest"],
            "mid_price": (t["best_bid_price"] + t["best_ask_price"]) / 2,
            "mark_price": t["mark_price"],
            "low": stats["low"],
            "last": t["last_price"],
            "instrument_name": m.symbol,
            "high": stats["high"],
            "funding_8h": t["funding_8h"],
            "current_funding": t["current_funding"],
            "estimated_delivery_price": t["estimated_delivery_price"],
            "creation_timestamp": t["timestamp"],
            "bid_price": t["best_bid_price"],
            "base_currency": m.base,
            "ask_price": t["best_ask_price"],
        }

    async def order_book(self, p: Params) -> Any:
        depth = int(p.get("depth", 5))
        name = str(p.get("instrument_name", ""))
        if name in self.acct.markets:
            m = self.acct.markets[name]
            row = self._perp_quote(m)
            row["change_id"] = len(self.acct.trades) + 1
            row["bids"], row["asks"] = self._perp_book(m, min(depth, 100))
            return row
        om = self._market(p)
        bids, asks = self.acct.option_book(om, self._now())
        row = self._quote(om)
        row["change_id"] = 1
        row["bids"] = [[_n(px), _n(q)] for px, q in bids[:depth]]
        row["asks"] = [[_n(px), _n(q)] for px, q in asks[:depth]]
        return row

    def _perp(self, p: Params) -> Market:
        name = str(p.get("instrument_name", ""))
        if name not in self.acct.markets:
            raise VenueReject("bad_symbol", name)
        return self.acct.markets[name]

    async def funding_rate_value(self, p: Params) -> Any:
        """The funding rate accrued over [start_timestamp, end_timestamp] (ccxt asks for the
        last 8 h): the market's rate pro rata of its funding period."""
        m = self._perp(p)
        span = _int(p, "end_timestamp") - _int(p, "start_timestamp")
        return _n(m.funding_rate * Decimal(max(span, 0)) / m.funding_period_ms)

    async def funding_rate_history(self, p: Params) -> Any:
        """One row an hour (Deribit's grid, at most 744), `interest_8h` the 8 h rate."""
        m = self._perp(p)
        start, end = _int(p, "start_timestamp"), _int(p, "end_timestamp")
        first = -(-start // HOUR_MS) * HOUR_MS
        rate_8h = m.funding_rate * Decimal(8 * HOUR_MS) / m.funding_period_ms
        index = _n(self._index(m))
        return [
            {
                "timestamp": ts,
                "index_price": index,
                "prev_index_price": index,
                "interest_8h": _n(rate_8h),
                "interest_1h": _n(rate_8h / 8),
            }
            for ts in range(first, end + 1, HOUR_MS)
        ][-744:]

    # ---- trading ---------------------------------------------------------------------------

    async def buy(self, p: Params) -> Any:
        return self._trade(p, "BUY")

    async def sell(self, p: Params) -> Any:
        return self._trade(p, "SELL")

    def _trade(self, p: Params, side: str) -> Any:
        if str(p.get("instrument_name", "")) in self.acct.markets:
            order = self._trade_perp(p, side)
            return {"order": self._order(order), "trades": self._fills(self.acct.trades_of(order))}
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
        return {"order": self._order(order), "trades": self._option_trades(order, om)}

    def _trade_perp(self, p: Params, side: str) -> Order:
        """A market or limit order on a perpetual; `amount` USD, a whole number of contracts.
        Limits beyond the band are clamped to it; a crossing post_only limit is refused with
        reject_post_only, else moved to the touch (Deribit's two behaviours)."""
        m = self._perp(p)
        amount = _dec(p, "amount")
        if amount <= 0:
            raise VenueReject("bad_quantity", str(amount))
        if amount % m.contract_size != 0:
            raise VenueReject("bad_amount", "amount")
        kind = str(p.get("type", "limit"))
        tif = _TIF.get(str(p.get("time_in_force", "good_til_cancelled")), "GTC")
        post_only = _bool(p.get("post_only", "false"))
        lo, hi = self._band(m)
        bid, ask = self._touch(m)
        buy = side == "BUY"
        if kind == "market":
            order_type, price = "MARKET", hi if buy else lo
        elif kind == "limit":
            order_type, price = "LIMIT", _dec(p, "price")
            if price <= 0:
                raise VenueReject("bad_price", str(price))
            if price % m.tick != 0:
                raise VenueReject("wrong_tick", str(price))
            price = min(price, hi) if buy else max(price, lo)
            if post_only and (price >= ask if buy else price <= bid):
                if _bool(p.get("reject_post_only", "false")):
                    raise VenueReject("post_only_reject")
                price = bid if buy else ask
        else:  # stop, take and trailing orders are not emulated
            raise VenueReject("not_implemented", kind)
        order = self.acct.place(
            symbol=m.symbol,
            side=side,
            qty=amount / m.contract_size,
            order_type=order_type,
            reduce_only=_bool(p.get("reduce_only", "false")),
            client_id="",
            price=price,
            now_ms=self._now(),
            time_in_force=tif,
        )
        label = str(p.get("label", ""))
        order.client_id = label  # Deribit labels are free text, not unique
        for t in self.acct.trades_of(order):
            t.client_id = label
        self.meta[order.order_id] = _Meta(m.mark, self._index(m), post_only)
        return order

    def _base(self, o: Order) -> str:
        if o.symbol in self.acct.options:
            return self.acct.options[o.symbol].base
        return self.acct.markets[o.symbol].base

    def _order(self, o: Order) -> dict[str, Any]:
        row: dict[str, Any] = {
            "is_rebalance": False,
            "risk_reducing": False,
            "web": False,
            "api": o.kind == "trade",
            "time_in_force": _TIF_NAME.get(o.time_in_force, "good_til_cancelled"),
            "replaced": False,
            "reduce_only": o.reduce_only,
            "post_only": False,
            "order_state": _STATE[o.status],
            "order_id": deribit_id(self._base(o), o.order_id),
            "last_update_timestamp": o.update_ms or o.time_ms,
            "label": o.client_id,
            "is_liquidation": o.kind == "liquidation",
            "instrument_name": o.symbol,
            "direction": "buy" if o.side == "BUY" else "sell",
            "creation_timestamp": o.time_ms,
            "commission": _n(o.fee),
            "average_price": _n(o.avg_price),
            "mmp": False,
        }
        if o.symbol in self.acct.options:
            om = self.acct.options[o.symbol]
            row.update(
                {
                    "price": _n(o.price),
                    "order_type": "limit",
                    "max_show": _n(o.qty),
                    "filled_amount": _n(o.executed),
                    "amount": _n(o.qty),
                    "contracts": _n(o.qty / om.contract_size),
                }
            )
            return row
        m = self.acct.markets[o.symbol]
        meta = self.meta.get(o.order_id)
        fills = self.acct.trades_of(o)
        row.update(
            {
                "price": _n(o.price if o.price > 0 else o.avg_price),
                "order_type": "market" if o.order_type == "MARKET" else "limit",
                "max_show": _n(o.qty * m.contract_size),
                "filled_amount": _n(o.executed * m.contract_size),
                "amount": _n(o.qty * m.contract_size),
                "contracts": _n(o.qty),
                "post_only": bool(meta and meta.post_only),
                "profit_loss": _n(sum((t.realized_pnl for t in fills), Decimal(0))),
            }
        )
        if meta and meta.cancel_reason:
            row["cancel_reason"] = meta.cancel_reason
        return row

    def _option_trades(self, o: Order, om: OptionMarket) -> list[dict[str, Any]]:
        """The account keeps no trade rows for options: one per order, its whole fill."""
        if o.executed == 0:
            return []
        index = self.acct.underlying[om.base]
        return [
            {
                "trade_seq": 1,
                "trade_id": deribit_id(om.base, o.order_id + 7),
                "timestamp": o.time_ms,
                "tick_direction": 1,
                "state": _STATE[o.status],
                "self_trade": False,
                "reduce_only": o.reduce_only,
                "price": _n(o.avg_price),
                "post_only": False,
                "order_type": "limit",
                "order_id": deribit_id(om.base, o.order_id),
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
                "contracts": _n(o.executed / om.contract_size),
                "api": True,
                "mmp": False,
                "risk_reducing": False,
            }
        ]

    def _fills(self, trades: list[Trade]) -> list[dict[str, Any]]:
        """Perp executions as Deribit's user trades list them: amount USD, fee and
        profit_loss in the coin, `liquidation` "T" on the fills of our liquidations."""
        out = []
        for t in trades:
            m = self.acct.markets[t.symbol]
            o = self.acct.orders[t.order_id]
            meta = self.meta.get(t.order_id)
            same = [x for x in self.acct.trades if x.symbol == t.symbol]
            seq = next(i for i, x in enumerate(same) if x.trade_id == t.trade_id)
            before = same[seq - 1].price if seq else t.price
            row: dict[str, Any] = {
                "trade_seq": seq + 1,
                "trade_id": deribit_id(m.base, t.trade_id),
                "timestamp": t.time_ms,
                "tick_direction": 0 if t.price > before else 2 if t.price < before else 1,
                "state": _STATE[o.status],
                "self_trade": False,
                "reduce_only": o.reduce_only,
                "price": _n(t.price),
                "post_only": bool(meta and meta.post_only),
                "order_type": "market" if o.order_type == "MARKET" else "limit",
                "order_id": deribit_id(m.base, t.order_id),
                "matching_id": None,
                "mark_price": _n(meta.mark if meta else t.price),
                "liquidity": "M" if t.maker else "T",
                "label": t.client_id,
                "instrument_name": t.symbol,
                "index_price": _n(meta.index if meta else t.price),
                "fee_currency": t.fee_asset,
                "fee": _n(t.fee),
                "direction": "buy" if t.side == "BUY" else "sell",
                "amount": _n(t.qty * m.contract_size),
                "contracts": _n(t.qty),
                "profit_loss": _n(t.realized_pnl),
                "api": o.kind == "trade",
                "mmp": False,
                "risk_reducing": False,
            }
            if t.kind == "liquidation":
                row["liquidation"] = "T"
            out.append(row)
        return out

    def _by_id(self, p: Params) -> Order:
        raw = str(p.get("order_id", ""))
        for o in self.acct.orders.values():
            if deribit_id(self._base(o), o.order_id) == raw:
                return o
        raise VenueReject("not_found", raw)

    async def order_state(self, p: Params) -> Any:
        return self._order(self._by_id(p))

    async def cancel(self, p: Params) -> Any:
        order = self._by_id(p)
        self.acct.cancel(order)
        self._cancelled(order)
        return self._order(order)

    def _cancelled(self, order: Order) -> None:
        order.update_ms = self._now()
        meta = self.meta.get(order.order_id)
        if meta is not None:
            meta.cancel_reason = "user_request"

    async def cancel_all(self, p: Params) -> Any:
        """cancel_all (every open order) and cancel_all_by_instrument: how many it cancelled."""
        name = p.get("instrument_name")
        if "by_instrument" in p["_method"] and name is None:
            raise VenueReject("missing_param", "instrument_name")
        hit = [o for o in self.acct.orders.values() if o.status == "NEW"]
        hit = [o for o in hit if name in (None, o.symbol)]
        for o in hit:
            self.acct.cancel(o)
            self._cancelled(o)
        return len(hit)

    def _settle(self, o: Order) -> str:
        if o.symbol in self.acct.options:
            return self.acct.options[o.symbol].settle
        return self.acct.markets[o.symbol].settle

    def _kind_of(self, symbol: str) -> str:
        return "option" if symbol in self.acct.options else "future"

    def _selected(self, p: Params) -> Callable[[str], bool]:
        """The instruments a request names: `instrument_name`, or `currency` (any) and
        `kind` (future, option, any; absent: both)."""
        if "by_instrument" in p["_method"] or "instrument_name" in p:
            name = p.get("instrument_name")
            if name is None:
                raise VenueReject("missing_param", "instrument_name")
            if name not in self.acct.markets and name not in self.acct.options:
                raise VenueReject("bad_symbol", str(name))
            return lambda s: s == name
        currency = p.get("currency")
        if currency is None:
            raise VenueReject("missing_param", "currency")
        kind = p.get("kind", "any")

        def keep(s: str) -> bool:
            market = self.acct.options.get(s) or self.acct.markets[s]
            settle = market.settle
            return currency in ("any", settle) and kind in ("any", self._kind_of(s))

        return keep

    def _orders(self, keep: Callable[[Order], bool]) -> list[dict[str, Any]]:
        mine = sorted(self.acct.orders.values(), key=lambda o: -o.order_id)
        return [self._order(o) for o in mine if keep(o)]

    async def by_label(self, p: Params) -> Any:
        currency, label = p.get("currency"), p.get("label")
        return self._orders(
            lambda o: (
                o.client_id == label
                and currency in (self._settle(o), self._base(o))
                and o.kind == "trade"
            )
        )

    async def open_orders(self, p: Params) -> Any:
        keep = self._selected(p)
        return self._orders(lambda o: keep(o.symbol) and o.status == "NEW")

    async def history(self, p: Params) -> Any:
        """Filled and cancelled orders, newest first; unfilled cancelled ones only with
        include_unfilled, as on Deribit (ccxt's fetchClosedOrders does not ask for them)."""
        keep, unfilled = self._selected(p), _bool(p.get("include_unfilled", "false"))
        count, offset = _int(p, "count", 20), _int(p, "offset", 0)
        rows = self._orders(
            lambda o: keep(o.symbol) and o.status != "NEW" and (o.executed > 0 or unfilled)
        )
        return rows[offset : offset + count]

    # ---- positions and balances ------------------------------------------------------------

    def _option_position(self, sym: str, pos: Position) -> dict[str, Any]:
        om = self.acct.options[sym]
        now = self._now()
        mark = self.acct.option_mark(om, now)
        g = self.acct.option_greeks(om, now)
        index = self.acct.underlying[om.base]
        return {
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

    def _margins(self, m: Market, qty: Decimal) -> tuple[Decimal, Decimal]:
        """(initial, maintenance) margin in the coin: the account's IM (USD / leverage /
        mark), maintenance half of it, as Deribit's perp tiers start (IM 2 %, MM 1 %)."""
        im = m.notional(qty, m.mark) / self.acct.leverage_of(m.symbol) / m.mark
        return im, im / 2

    def _liquidation_price(self, m: Market, pos: Position) -> float | None:
        """Where equity meets maintenance margin, as if this were the account's only
        position in its coin: P = (S + |S| mmr) / (wallet + S / entry), S the signed USD."""
        usd = pos.qty * m.contract_size
        mmr = 1 / (2 * self.acct.leverage_of(m.symbol))
        den = self.acct.wallets.get(m.settle, Decimal(0)) + usd / pos.entry
        if den == 0:
            return None
        price = (usd + abs(usd) * mmr) / den
        return _n(price.quantize(m.tick)) if price > 0 else None

    def _perp_position(self, sym: str, pos: Position) -> dict[str, Any]:
        m = self.acct.markets[sym]
        usd, mark = pos.qty * m.contract_size, m.mark
        upl = m.pnl(pos.qty, pos.entry, mark)
        im, mm = self._margins(m, pos.qty)
        realised = sum((t.realized_pnl for t in self.acct.trades if t.symbol == sym), Decimal(0))
        funding = sum(
            (i.amount for i in self.acct.incomes if i.symbol == sym and i.kind == "FUNDING_FEE"),
            Decimal(0),
        )
        open_orders = [o for o in self.acct.orders.values() if o.symbol == sym]
        resting = sum((o.qty - o.executed for o in open_orders if o.status == "NEW"), Decimal(0))
        sessions = self._sessions(sym)
        return {
            "average_price": _n(pos.entry),
            "delta": _n(usd / mark),
            "direction": "buy" if pos.qty > 0 else "sell" if pos.qty < 0 else "zero",
            "estimated_liquidation_price": self._liquidation_price(m, pos) if pos.qty else None,
            "floating_profit_loss": _n(upl),
            "index_price": _n(self._index(m)),
            "initial_margin": _n(im),
            "instrument_name": sym,
            "interest_value": 0.0,
            "kind": "future",
            "leverage": int(self.acct.leverage_of(sym)),
            "maintenance_margin": _n(mm),
            "mark_price": _n(mark),
            "open_orders_margin": _n(self._margins(m, resting)[0]),
            "realized_funding": _n(funding),
            "realized_profit_loss": _n(realised),
            "settlement_price": _n(sessions[-1].mark if sessions else mark),
            "size": _n(usd),
            "size_currency": _n(usd / mark),
            "total_profit_loss": _n(realised + upl),
        }

    async def positions(self, p: Params) -> Any:
        """Open positions of `currency` (absent or any: all) and `kind` (future, option;
        absent: both, which is what ccxt's fetchPositions asks for)."""
        currency, kind = p.get("currency", "any"), p.get("kind")
        rows = []
        if kind in (None, "future"):
            for sym, pos in self.acct.positions.items():
                settle = self.acct.markets[sym].settle
                if pos.qty != 0 and currency in ("any", settle):
                    rows.append(self._perp_position(sym, pos))
        if kind in (None, "option"):
            for sym, pos in self.acct.option_positions.items():
                om = self.acct.options[sym]
                if pos.qty != 0 and currency in ("any", om.settle):
                    rows.append(self._option_position(sym, pos))
        return rows

    async def position(self, p: Params) -> Any:
        """One instrument's position, a zero one ("direction": "zero") when none is held."""
        name = str(p.get("instrument_name", ""))
        if name in self.acct.options:
            pos = self.acct.option_positions.get(name, Position())
            return self._option_position(name, pos)
        self._perp(p)
        return self._perp_position(name, self.acct.positions.get(name, Position()))

    def _summary(self, currency: str) -> dict[str, Any]:
        """get_account_summary of one currency: cash `balance` (wallet: premiums, realised
        PnL, fees, funding), `equity` = balance + perp UPL + option value, `margin_balance`
        = balance + perp UPL (the account's margin check counts no option value),
        `available_funds` = margin_balance - initial margin (perps, short options)."""
        now = self._now()
        acct = self.acct
        balance = acct.wallets.get(currency, Decimal(0))
        zero = Decimal(0)
        upl = im = mm = delta = zero
        for sym, pos in acct.positions.items():
            m = acct.markets[sym]
            if m.settle == currency and pos.qty:
                upl += m.pnl(pos.qty, pos.entry, m.mark)
                i, j = self._margins(m, pos.qty)
                im, mm, delta = im + i, mm + j, delta + pos.qty * m.contract_size / m.mark
        value = opt_upl = opt_im = zero
        greeks = [0.0, 0.0, 0.0, 0.0]
        for sym, pos in acct.option_positions.items():
            om = acct.options[sym]
            if om.settle != currency or pos.qty == 0 or om.expiry_ms <= now:
                continue
            mark = acct.option_mark(om, now)
            value, opt_upl = value + pos.qty * mark, opt_upl + (mark - pos.entry) * pos.qty
            opt_im += -pos.qty * mark if pos.qty < 0 else zero
            g = acct.option_greeks(om, now)
            q = float(pos.qty)
            for k, x in enumerate((g.delta, g.gamma, g.vega / 100, g.theta / 365)):
                greeks[k] += x * q
        session = now - (now - _SETTLE_HOUR_MS) % DAY_MS
        mine = [i for i in acct.incomes if i.asset == currency and i.symbol in acct.markets]
        rpl = sum((i.amount for i in mine if i.kind == "REALIZED_PNL"), zero)
        session_rpl = sum(
            (i.amount for i in mine if i.kind == "REALIZED_PNL" and i.time_ms >= session), zero
        )
        session_funding = sum(
            (i.amount for i in mine if i.kind == "FUNDING_FEE" and i.time_ms >= session), zero
        )
        margin = balance + upl
        initial, maintenance = im + opt_im, mm + opt_im
        available = margin - initial
        delta_total = _n(delta) + greeks[0]
        index = f"{currency.lower()}_usd"

        def per_index(x: float) -> dict[str, float]:
            return {index: round(x, 5)} if x else {}

        ratio = _n(maintenance / margin) if margin > 0 else 0.0
        return {
            "options_pl": _n(opt_upl),
            "options_session_upl": _n(opt_upl),
            "futures_pl": _n(rpl + upl),
            "options_theta": round(greeks[3], 5),
            "available_withdrawal_funds": _n(max(min(available, balance), zero)),
            "total_pl": _n(rpl + upl + opt_upl),
            "limits": _LIMITS,
            "delta_total": round(delta_total, 5),
            "options_session_rpl": 0.0,
            "deposit_address": f"0x{hashlib.sha256(currency.encode()).hexdigest()[:40]}",
            "delta_total_map": per_index(delta_total),
            "session_upl": _n(upl + opt_upl),
            "margin_model": "segregated_sm",
            "projected_maintenance_margin": _n(maintenance),
            "currency": currency,
            "spot_reserve": 0.0,
            "locked_balance": 0.0,
            "futures_session_rpl": _n(session_rpl),
            "cross_collateral_enabled": False,
            "options_theta_map": per_index(greeks[3]),
            "fee_balance": 0.0,
            "futures_session_upl": _n(upl),
            "options_gamma_map": per_index(greeks[1]),
            "portfolio_margining_enabled": False,
            "balance": _n(balance),
            "options_vega": round(greeks[2], 5),
            "options_delta": round(greeks[0], 5),
            "projected_initial_margin": _n(initial),
            "session_rpl": _n(session_rpl),
            "session_funding": _n(session_funding),
            "projected_delta_total": round(delta_total, 5),
            "options_value": _n(value),
            "options_vega_map": per_index(greeks[2]),
            "estimated_liquidation_ratio": ratio,
            "maintenance_margin": _n(maintenance),
            "initial_margin": _n(initial),
            "estimated_liquidation_ratio_map": per_index(ratio),
            "available_funds": _n(available),
            "additional_reserve": 0.0,
            "options_gamma": round(greeks[1], 5),
            "margin_balance": _n(margin),
            "equity": _n(margin + value),
        }

    def _currencies(self) -> list[str]:
        return sorted(
            {m.settle for m in self.acct.markets.values()}
            | {om.settle for om in self.acct.options.values()}
            | set(self.acct.wallets)
        )

    async def account_summary(self, p: Params) -> Any:
        currency = p.get("currency")
        if currency is None:
            raise VenueReject("missing_param", "currency")
        if currency not in self._currencies():
            raise VenueReject("bad_param", "currency")
        return self._summary(str(currency))

    async def account_summaries(self, p: Params) -> Any:
        """Every currency's summary, as ccxt's fetchBalance (without a code) reads them."""
        return {
            "summaries": [self._summary(c) for c in self._currencies()],
            "change_margin_model_api_limit": {"rate": 5, "timeframe": 86400000},
        }

    # ---- fills -----------------------------------------------------------------------------

    def _all_fills(self, keep: Callable[[str], bool]) -> list[dict[str, Any]]:
        perps = [t for t in self.acct.trades if t.symbol in self.acct.markets and keep(t.symbol)]
        rows = self._fills(perps)
        for o in self.acct.orders.values():
            if o.symbol in self.acct.options and keep(o.symbol):
                rows += self._option_trades(o, self.acct.options[o.symbol])
        return rows

    def _page_fills(self, p: Params, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """`sorting` desc (newest first, the default), asc or default; `count` 10 by default,
        at most 1000, and `has_more` when more matched."""
        count = min(max(_int(p, "count", 10), 1), 1000)
        asc = p.get("sorting") == "asc"
        rows.sort(key=lambda r: (r["timestamp"], r["trade_id"]), reverse=not asc)
        return {"trades": rows[:count], "has_more": len(rows) > count}

    async def user_trades(self, p: Params) -> Any:
        return self._page_fills(p, self._all_fills(self._selected(p)))

    async def user_trades_by_time(self, p: Params) -> Any:
        """The _and_time variants: fills in [start_timestamp, end_timestamp] (end: now)."""
        start, end = _int(p, "start_timestamp"), _int(p, "end_timestamp", self._now())
        rows = [r for r in self._all_fills(self._selected(p)) if start <= r["timestamp"] <= end]
        return self._page_fills(p, rows)

    async def user_trades_by_order(self, p: Params) -> Any:
        order = self._by_id(p)
        if order.symbol in self.acct.options:
            return self._option_trades(order, self.acct.options[order.symbol])
        return self._fills(self.acct.trades_of(order))

    # ---- settlement history ----------------------------------------------------------------

    def _sessions(self, symbol: str) -> list[_Session]:
        """The settlements of one perp, replayed from the account history: trades and
        FUNDING_FEE incomes share the account's id counter, so their order is exact."""
        m = self.acct.markets[symbol]
        trades: list[tuple[int, Trade | Income]] = [
            (t.trade_id, t) for t in self.acct.trades if t.symbol == symbol
        ]
        funding: list[tuple[int, Trade | Income]] = [
            (i.tran_id, i)
            for i in self.acct.incomes
            if i.symbol == symbol and i.kind == "FUNDING_FEE"
        ]
        qty = entry = realised = previous = Decimal(0)
        out = []
        for _, event in sorted(trades + funding, key=lambda e: e[0]):
            if isinstance(event, Trade):
                qty, entry = _replay(m, qty, entry, event)
                realised += event.realized_pnl
                continue
            mark = m.mark  # the funding's mark: USD value x rate / funding (inverse)
            if event.amount and event.rate and qty:
                usd = abs(qty) * m.contract_size
                mark = (usd * abs(event.rate) / abs(event.amount)).quantize(_E8)
            upl = m.pnl(qty, entry, mark)
            out.append(_Session(event, qty, mark, realised + upl - previous))
            realised, previous = Decimal(0), upl
        return out

    def _settlement_rows(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(instrument, currency, row) of every settlement, delivery and bankruptcy."""
        out: list[tuple[str, str, dict[str, Any]]] = []
        for sym, m in self.acct.markets.items():
            for s in self._sessions(sym):
                row: dict[str, Any] = {
                    "type": "settlement",
                    "timestamp": s.income.time_ms,
                    "session_profit_loss": _n(s.profit_loss + s.income.amount),
                    "profit_loss": _n(s.profit_loss),
                    "position": _n(s.qty * m.contract_size),
                    "mark_price": _n(s.mark),
                    "instrument_name": sym,
                    "index_price": _n(s.mark),
                    "funding": _n(s.income.amount),
                }
                out.append((sym, m.settle, row))
        for row in self.dialect.deliveries:
            sym = row["instrument_name"]
            out.append((sym, self.acct.options[sym].settle, row))
        for liq in self.acct.liquidations:
            if liq.kind != "liquidation" or liq.symbol not in self.acct.markets:
                continue
            fills = [t for t in self.acct.trades if t.order_id == liq.order_id]
            loss = -sum((t.realized_pnl - t.fee for t in fills), Decimal(0))
            row = {
                "type": "bankruptcy",
                "timestamp": liq.time_ms,
                "funded": 0.0,
                "session_bankrupcy": _n(max(loss, Decimal(0))),
                "session_profit_loss": _n(-loss),
                "session_tax": 0.0,
                "session_tax_rate": 0.0,
                "socialized": 0.0,
            }
            out.append((liq.symbol, self.acct.markets[liq.symbol].settle, row))
        return out

    async def settlements(self, p: Params) -> Any:
        """get_settlement_history_by_currency / _by_instrument: newest first, `type`
        settlement, delivery or bankruptcy (absent: all), at or before
        `search_start_timestamp` (Deribit searches back from it), `count` (20) a page, and
        an opaque `continuation` for the next (null after the last)."""
        keep = self._selected(p)
        kind = p.get("type")
        before = _int(p, "search_start_timestamp", 2**62)
        rows = [
            row
            for sym, _, row in self._settlement_rows()
            if keep(sym) and kind in (None, row["type"]) and row["timestamp"] <= before
        ]
        rows.sort(key=lambda r: -r["timestamp"])
        count = min(max(_int(p, "count", 20), 1), 1000)
        token = str(p.get("continuation") or "")
        start = int(token[2:], 16) if token.startswith("cx") else 0
        page = rows[start : start + count]
        more = start + count < len(rows)
        return {"settlements": page, "continuation": f"cx{start + count:x}" if more else None}
