"""Hyperliquid perpetuals (USDC-settled) in its native JSON: the two endpoints ccxt's hyperliquid
calls, POST /info (public, by `type`) and POST /exchange (signed actions).

Signatures are checked the way Hyperliquid does it, by recovering the signer, not by comparing
a MAC: an L1 action (order, cancel, cancelByCloid, updateLeverage, setReferrer, ...) is
re-serialised in Hyperliquid's own field order with canonical numbers ("3150.0" -> "3150"),
msgpacked, hashed with the nonce and vault flag into `connectionId`, and the EIP-712 "Agent"
{source, connectionId} message (source "a" mainnet, "b" testnet; domain Exchange/1/1337/zero
address) is recovered. A user-signed action (approveBuilderFee) is recovered from its
HyperliquidSignTransaction typed data. A signer other than the account's wallet
(`Emulator.api_key`) or one of its API wallets (`agents`) gets Hyperliquid's answer, HTTP 200
{"status": "err", "response": "User or API Wallet 0x... does not exist."}; a nonce reused by a
signer gets "Invalid nonce: duplicate nonce N". Malformed bodies (bad cloid, unknown action
type, trigger orders: not emulated) get HTTP 422 as Hyperliquid's deserialiser answers.

Order and cancel errors come per item in `statuses` with Hyperliquid's strings (its "Error
responses" page) and " asset=N"; numbers are strings with at least one decimal ("0.0"),
times and oids are ints, USDC amounts have 6 decimals. Builder fees are modelled: an order
carrying `builder {b, f}` needs an approved builder and pays f tenths of a basis point on top
of the taker fee, shown in the fill's `builderFee` (ccxt approves its builder on first use).
Funding is hourly. Liquidations and ADL (`Account.force_close`) show as the user's fills with
a `liquidation` object (ADL: dir "Auto-Deleveraging"). Rejected orders are not kept, so
orderStatus answers them "unknownOid"; the nonce time window is not checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .account import Account, Market, Order, Position, Trade, VenueReject

if TYPE_CHECKING:
    from .server import Emulator

ZERO_ADDRESS = "0x" + "0" * 40
ZERO_HASH = "0x" + "0" * 64
TAKER_FEE = Decimal("0.00045")  # Hyperliquid's base (tier 0) perp taker rate
HOURLY_FUNDING = Decimal("0.0000125")  # the interest-rate floor (about 11 % a year), per hour
TEST_PRIVATE_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
_E6 = Decimal("0.000001")
_E8 = Decimal("0.00000001")
_CLOID = re.compile(r"^0x[0-9a-fA-F]{32}$")
_TIF = {"Gtc": "GTC", "Ioc": "IOC", "Alo": "ALO", "FrontendMarket": "IOC"}
_TIF_NAME = {"GTC": "Gtc", "IOC": "Ioc", "ALO": "Alo"}

_ORDER_ERRORS = {
    "tick": "Price must be divisible by tick size.",
    "bad_price": "Price must be divisible by tick size.",
    "min_notional": "Order must have minimum value of $10.",
    "margin": "Insufficient margin to place order.",
    "reduce_only": "Reduce only order would increase position.",
    "bad_alo": "Post only order would have immediately matched, bbo was {}.",
    "ioc_cancel": "Order could not immediately match against any resting orders.",
    "bad_quantity": "Order has invalid size.",
    "zero_size": "Order has zero size.",
    "price_band": "Order price cannot be more than 80% away from the reference price",
    "builder": "Builder fee has not been approved.",
    "duplicate_client_id": "Duplicate cloid.",  # wording not confirmed against the venue
    "bad_symbol": "Invalid asset.",  # wording not confirmed against the venue
}
_CANCEL_ERROR = "Order was never placed, already canceled, or filled."
_ERRORS = {
    "bad_signature": "User or API Wallet {} does not exist.",
    "nonce": "Invalid nonce: duplicate nonce {}",
    "bad_leverage": "Invalid leverage value",  # wording not confirmed
    "margin_mode_busy": "Cannot switch leverage type with open position.",  # not confirmed
}

# Hyperliquid re-serialises an action in its own struct order before hashing it, so a client
# that sends the right fields in another order (or "3150.0" for "3150") signs something else.
_NUM = "number"
_ORDER_WIRE: dict[str, Any] = {
    "a": None,
    "b": None,
    "p": _NUM,
    "s": _NUM,
    "r": None,
    "t": {"limit": {"tif": None}, "trigger": {"isMarket": None, "triggerPx": _NUM, "tpsl": None}},
    "c": None,
}
_L1_ACTIONS: dict[str, dict[str, Any]] = {
    "order": {
        "type": None,
        "orders": [_ORDER_WIRE],
        "grouping": None,
        "builder": {"b": "address", "f": None},
    },
    "cancel": {"type": None, "cancels": [{"a": None, "o": None}]},
    "cancelByCloid": {"type": None, "cancels": [{"asset": None, "cloid": None}]},
    "updateLeverage": {"type": None, "asset": None, "isCross": None, "leverage": None},
    "updateIsolatedMargin": {"type": None, "asset": None, "isBuy": None, "ntli": None},
    "setReferrer": {"type": None, "code": None},
    "scheduleCancel": {"type": None, "time": None},
}
_USER_SIGNED: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "approveBuilderFee": (
        "HyperliquidTransaction:ApproveBuilderFee",
        (
            ("hyperliquidChain", "string"),
            ("maxFeeRate", "string"),
            ("builder", "address"),
            ("nonce", "uint64"),
        ),
    ),
}
_DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


class Malformed(Exception):
    """A body Hyperliquid's deserialiser refuses (HTTP 422), before any signature check."""


def address_of(private_key: str) -> str:
    """The checksummed wallet address of `private_key` (what ccxt's walletAddress holds)."""
    from eth_account import Account as EthAccount

    return str(EthAccount.from_key(private_key).address)


def keccak(data: bytes) -> bytes:
    """keccak-256 (the eth stack is imported on first use: importing this module stays cheap)."""
    from eth_utils.crypto import keccak as keccak256

    return bytes(keccak256(data))


def price_decimals(mark: Decimal, sz_decimals: int) -> int:
    """Hyperliquid's price rule at `mark`: 5 significant figures, at most 6 - szDecimals
    decimals (integer prices are always allowed)."""
    int_digits = len(str(int(abs(mark)))) if abs(mark) >= 1 else 0
    return max(0, min(6 - sz_decimals, 5 - int_digits))


def perp_market(coin: str, mark: Decimal, sz_decimals: int) -> Market:
    """One Hyperliquid perp: lot 10^-szDecimals, tick from the price rule at `mark`, $10 minimum
    order value, hourly funding at the interest-rate floor. The account keys it by coin."""
    step = Decimal(1).scaleb(-sz_decimals)
    return Market(
        coin,
        coin,
        "USDC",
        mark,
        qty_step=step,
        min_qty=step,
        max_qty=Decimal(1_000_000),
        tick=Decimal(1).scaleb(-price_decimals(mark, sz_decimals)),
        min_notional=Decimal(10),
        funding_rate=HOURLY_FUNDING,
        funding_period_ms=3_600_000,
    )


def hyperliquid_markets() -> dict[str, Market]:
    """BTC (asset 0, szDecimals 5, tick 1) and ETH (asset 1, szDecimals 4, tick 0.1), in
    Hyperliquid's asset order."""
    return {
        "BTC": perp_market("BTC", Decimal("60000.0"), 5),
        "ETH": perp_market("ETH", Decimal("3000.0"), 4),
    }


def hyperliquid_account(markets: dict[str, Market] | None = None, **kwargs: Any) -> Account:
    """An account on `markets` (default BTC, ETH) paying Hyperliquid's 0.045 % taker fee."""
    kwargs.setdefault("taker_fee", TAKER_FEE)
    return Account(markets if markets is not None else hyperliquid_markets(), **kwargs)


def ccxt_hyperliquid(
    emu: Emulator,
    private_key: str = TEST_PRIVATE_KEY,
    *,
    wallet: str | None = None,
    testnet: bool = False,
    options: Mapping[str, Any] | None = None,
) -> Any:
    """A ccxt hyperliquid (async) pointed at `emu`, swap markets only. Close it."""
    import ccxt.async_support as ccxt_async

    exchange = ccxt_async.hyperliquid(
        {
            "walletAddress": wallet or address_of(private_key),
            "privateKey": private_key,
            "enableRateLimit": False,
            "options": {"fetchMarkets": {"types": ["swap"]}, **(options or {})},
        }
    )
    if testnet:
        exchange.set_sandbox_mode(True)
    exchange.urls["api"] = emu.ccxt_urls(exchange.urls["api"])
    exchange.timeout_on_exit = 0  # ccxt waits 250 ms on close for TLS; none here
    return exchange


# ---- signing -------------------------------------------------------------------------------


def _wire_number(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return format(Decimal(value).normalize(), "f")
    except ArithmeticError as exc:
        raise Malformed(value) from exc


def canonical(value: Any, schema: Any) -> Any:
    """`value` as Hyperliquid serialises it: `schema` field order, canonical numbers."""
    if schema == _NUM:
        return _wire_number(value)
    if schema == "address" and isinstance(value, str):
        return value.lower()
    if isinstance(schema, dict) and isinstance(value, dict):
        return {k: canonical(value[k], sub) for k, sub in schema.items() if k in value}
    if isinstance(schema, list) and isinstance(value, list):
        return [canonical(item, schema[0]) for item in value]
    return value


def action_hash(
    action: Mapping[str, Any],
    nonce: int,
    vault: str | None = None,
    expires_after: int | None = None,
) -> bytes:
    """keccak(msgpack(action) || nonce u64 BE || vault flag (+ address) [|| 0 || expiry])."""
    from ccxt.static_dependencies.msgpack import packb  # the msgpack ccxt vendors (1.0.7)

    data = packb(canonical(dict(action), _L1_ACTIONS.get(str(action.get("type")))))
    data += nonce.to_bytes(8, "big")
    data += b"\x00" if vault is None else b"\x01" + bytes.fromhex(vault.removeprefix("0x"))
    if expires_after is not None:
        data += b"\x00" + expires_after.to_bytes(8, "big")
    return keccak(data)


def _recover(full_message: dict[str, Any], signature: Mapping[str, Any]) -> str:
    from eth_account import Account as EthAccount
    from eth_account.messages import encode_typed_data

    try:
        signable = encode_typed_data(full_message=full_message)
        vrs = (int(signature["v"]), int(str(signature["r"]), 16), int(str(signature["s"]), 16))
        return str(EthAccount.recover_message(signable, vrs=vrs)).lower()
    except (KeyError, TypeError, ValueError) as exc:
        raise Malformed(str(exc)) from exc


def l1_signer(
    action: Mapping[str, Any],
    nonce: int,
    signature: Mapping[str, Any],
    *,
    testnet: bool,
    vault: str | None = None,
    expires_after: int | None = None,
) -> str:
    """The address that signed L1 `action`, as Hyperliquid recovers it (lowercase)."""
    agent = {
        "source": "b" if testnet else "a",
        "connectionId": action_hash(action, nonce, vault, expires_after),
    }
    message = {
        "types": {
            "EIP712Domain": _DOMAIN_TYPES,
            "Agent": [
                {"name": "source", "type": "string"},
                {"name": "connectionId", "type": "bytes32"},
            ],
        },
        "primaryType": "Agent",
        "domain": {
            "name": "Exchange",
            "version": "1",
            "chainId": 1337,
            "verifyingContract": ZERO_ADDRESS,
        },
        "message": agent,
    }
    return _recover(message, signature)


def user_signer(action: Mapping[str, Any], signature: Mapping[str, Any], *, testnet: bool) -> str:
    """The signer of a user-signed action; the chain name is the server's own, so an action
    signed for the other chain recovers to some other address."""
    primary, fields = _USER_SIGNED[str(action["type"])]
    try:
        message = {
            name: str(action[name]).lower() if kind == "address" else action[name]
            for name, kind in fields
        }
        chain_id = int(str(action["signatureChainId"]), 16)
    except (KeyError, ValueError) as exc:
        raise Malformed(str(exc)) from exc
    message["hyperliquidChain"] = "Testnet" if testnet else "Mainnet"
    full = {
        "types": {
            "EIP712Domain": _DOMAIN_TYPES,
            primary: [{"name": name, "type": kind} for name, kind in fields],
        },
        "primaryType": primary,
        "domain": {
            "name": "HyperliquidSignTransaction",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": ZERO_ADDRESS,
        },
        "message": message,
    }
    return _recover(full, signature)


# ---- number formats ------------------------------------------------------------------------


def _n(value: Decimal) -> str:
    """Hyperliquid's number strings: no trailing zeros but at least one decimal ("20.0")."""
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def _usd(value: Decimal) -> str:
    return _n(value.quantize(_E6, ROUND_HALF_EVEN))


def _px(value: Decimal) -> str:
    return _n(value.quantize(_E8, ROUND_HALF_EVEN))


def _sz_decimals(m: Market) -> int:
    return -m.qty_step.normalize().as_tuple().exponent  # type: ignore[operator]


def _valid_price(px: Decimal, sz_decimals: int) -> bool:
    """Integer prices always pass; others need <= 5 significant figures and <= 6 - szDecimals
    decimals."""
    if px <= 0:
        return False
    if px == px.to_integral_value():
        return True
    digits = px.normalize().as_tuple()
    return -int(digits.exponent) <= 6 - sz_decimals and len(digits.digits) <= 5


def _book(m: Market) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """Five levels a side: the best at the account's fill price (mark -/+ half spread), then
    one tick apart, $25k, $50k, ... of size."""
    half = m.mark * m.half_spread_bps / Decimal(10000)
    bid, ask = (m.mark - half).quantize(m.tick), (m.mark + half).quantize(m.tick)
    bids, asks = [], []
    for i in range(5):
        size = (Decimal(25000) * (i + 1) / m.mark).quantize(m.qty_step)
        bids.append((bid - i * m.tick, size))
        asks.append((ask + i * m.tick, size))
    return bids, asks


def _ok(kind: str, data: Any = None) -> web.Response:
    response: dict[str, Any] = {"type": kind}
    if data is not None:
        response["data"] = data
    return web.json_response({"status": "ok", "response": response})


def _err(message: str) -> web.Response:
    return web.json_response({"status": "err", "response": message})


def _malformed(detail: str) -> web.Response:
    return web.Response(
        status=422, text=f"Failed to deserialize the JSON body into the target type: {detail}"
    )


class Hyperliquid:
    """The dialect. The account's wallet is `Emulator.api_key` (its address); `agents` are API
    wallets approved for it (they may sign L1 actions, not user-signed ones). `testnet`
    selects the server's chain: phantom-agent source "b" and "Testnet" user actions."""

    def __init__(
        self,
        *,
        testnet: bool = False,
        agents: Iterable[str] = (),
        max_leverage: Mapping[str, int] | None = None,
    ) -> None:
        self.testnet = testnet
        self.agents = {a.lower() for a in agents}
        self.max_leverage = dict(max_leverage or {})
        self.builders: dict[str, int] = {}  # approved builder -> max fee, tenths of a bp
        self.builder_fees: dict[int, Decimal] = {}  # trade id -> builder fee paid
        self.referrer = ""
        self._nonces: set[tuple[str, int]] = set()
        self._emu: Emulator | None = None

    def ccxt_id(self) -> str:
        return "hyperliquid"

    def wallet(self) -> str:
        return self._emu.api_key.lower() if self._emu else ""

    def max_leverage_of(self, coin: str) -> int:
        return self.max_leverage.get(coin, 50)

    def routes(self, emu: Emulator) -> list[web.RouteDef]:
        """Also caps the account's default leverage at each asset's max, as Hyperliquid's
        default (20x cross, or the max where lower) is."""
        self._emu = emu
        for coin in emu.account.markets:
            cap = Decimal(self.max_leverage_of(coin))
            if coin not in emu.account.leverages and emu.account.leverage > cap:
                emu.account.leverages[coin] = cap
        h = _Handlers(emu, self)
        return [web.post("/info", h.info), web.post("/exchange", h.exchange)]

    def error(self, reason: str, detail: str = "") -> web.Response:
        if reason == "rate_limit":
            return web.Response(status=429, text="Too Many Requests")
        if reason in _ORDER_ERRORS:
            return _ok("order", {"statuses": [{"error": order_error(reason, detail)}]})
        if reason in ("not_found", "not_cancelable"):
            asset = detail if detail.isdigit() else "0"
            return _ok("cancel", {"statuses": [{"error": f"{_CANCEL_ERROR} asset={asset}"}]})
        return _err(_ERRORS.get(reason, "{}").format(detail or reason))

    def verify(self, emu: Emulator, request: web.Request, body: str) -> web.Response | None:
        """Recover the signer of an /exchange body and check it may act for the wallet."""
        if request.path != "/exchange":
            return None
        try:
            signer, nonce, user_signed = self._signer(body)
        except Malformed as bad:
            return _malformed(str(bad))
        allowed = {self.wallet()} if user_signed else {self.wallet(), *self.agents}
        if signer not in allowed:
            return self.error("bad_signature", signer)
        if (signer, nonce) in self._nonces:
            return self.error("nonce", str(nonce))
        self._nonces.add((signer, nonce))
        return None

    def _signer(self, body: str) -> tuple[str, int, bool]:
        """(signer, nonce, user-signed?) of an /exchange body, or Malformed."""
        try:
            p = json.loads(body)
            action, nonce, signature = p["action"], int(p["nonce"]), p["signature"]
        except (ValueError, KeyError, TypeError) as exc:
            raise Malformed(str(exc)) from exc
        if not isinstance(action, dict) or not isinstance(signature, dict):
            raise Malformed("action")
        for wire in action.get("orders", []) if action.get("type") == "order" else []:
            if "c" in wire and not _CLOID.match(str(wire["c"])):
                raise Malformed(f"invalid cloid {wire['c']!r}")
        if action.get("type") in _USER_SIGNED:
            return user_signer(action, signature, testnet=self.testnet), nonce, True
        vault = p.get("vaultAddress")
        expires = p.get("expiresAfter")
        signer = l1_signer(
            action,
            nonce,
            signature,
            testnet=self.testnet,
            vault=str(vault) if vault else None,
            expires_after=int(expires) if expires is not None else None,
        )
        return signer, nonce, False


def order_error(reason: str, detail: str = "", asset: int | None = None) -> str:
    """Hyperliquid's per-order error string for an account reject reason."""
    message = _ORDER_ERRORS.get(reason, reason)
    if "{}" in message:
        message = message.format(detail)
    if asset is None:
        asset = int(detail) if detail.isdigit() else 0
    return f"{message} asset={asset}"


def _side(order_side: str) -> str:
    return "B" if order_side == "BUY" else "A"


def _direction(start: Decimal, signed: Decimal, kind: str) -> str:
    if kind == "adl":
        return "Auto-Deleveraging"
    end = start + signed
    if start == 0 or (start > 0) == (signed > 0):
        return "Open Long" if signed > 0 else "Open Short"
    if end == 0 or (end > 0) == (start > 0):
        return "Close Long" if start > 0 else "Close Short"
    return "Long > Short" if start > 0 else "Short > Long"


def _order_status(o: Order) -> str:
    if o.status == "NEW":
        return "open"
    if o.status == "FILLED":
        return "filled"
    if o.time_in_force == "IOC" and o.executed == 0:
        return "iocCancelRejected"
    return "canceled"


class _Handlers:
    def __init__(self, emu: Emulator, dialect: Hyperliquid) -> None:
        self.emu = emu
        self.acct = emu.account
        self.dialect = dialect
        self.info_types: dict[str, Any] = {
            "meta": self.meta,
            "metaAndAssetCtxs": self.meta_and_asset_ctxs,
            "spotMeta": self.spot_meta,
            "spotMetaAndAssetCtxs": lambda q: [self.spot_meta(q), []],
            "perpDexs": lambda q: [None],
            "exchangeStatus": lambda q: {"specialStatuses": None, "time": emu.clock_ms()},
            "userAbstraction": lambda q: "default",
            "allMids": self.all_mids,
            "l2Book": self.l2_book,
            "clearinghouseState": self.clearinghouse_state,
            "spotClearinghouseState": lambda q: {"balances": []},
            "frontendOpenOrders": self.frontend_open_orders,
            "openOrders": self.open_orders,
            "historicalOrders": self.historical_orders,
            "orderStatus": self.order_status,
            "userFills": self.fills,
            "userFillsByTime": self.fills,
            "userFunding": self.funding,
        }

    # ---- helpers ---------------------------------------------------------------------------

    def coins(self) -> list[str]:
        """Asset index -> coin: the account's markets in order (BTC 0, ETH 1)."""
        return list(self.acct.markets)

    def coin(self, asset: Any) -> str:
        coins = self.coins()
        if not isinstance(asset, int) or not 0 <= asset < len(coins):
            raise VenueReject("bad_symbol", str(asset))
        return coins[asset]

    def mine(self, q: Mapping[str, Any]) -> bool:
        """Info about another address is that of an empty account, as for a fresh wallet."""
        return str(q.get("user", "")).lower() == self.dialect.wallet()

    def mmr(self, coin: str) -> Decimal:
        """Maintenance margin rate: half the initial margin rate at max leverage."""
        return Decimal(1) / (2 * self.dialect.max_leverage_of(coin))

    def user_orders(self) -> list[Order]:
        """The user's own orders, newest first (liquidations and ADL are the venue's)."""
        orders = [o for o in self.acct.orders.values() if o.kind == "trade"]
        return sorted(orders, key=lambda o: -o.order_id)

    # ---- /info: markets --------------------------------------------------------------------

    async def info(self, request: web.Request) -> web.Response:
        try:
            q = json.loads(await request.text())
            handler = self.info_types.get(q["type"])
        except (ValueError, KeyError, TypeError) as exc:
            return _malformed(str(exc))
        if handler is None:
            return _malformed(f"unknown variant `{q['type']}`")
        return web.json_response(handler(q))

    def meta(self, q: Mapping[str, Any]) -> Any:
        levels = sorted({self.dialect.max_leverage_of(c) for c in self.acct.markets})
        tables = [
            [lev, {"description": "", "marginTiers": [{"lowerBound": "0.0", "maxLeverage": lev}]}]
            for lev in levels
        ]
        universe = [
            {
                "szDecimals": _sz_decimals(m),
                "name": coin,
                "maxLeverage": self.dialect.max_leverage_of(coin),
                "marginTableId": self.dialect.max_leverage_of(coin),
            }
            for coin, m in self.acct.markets.items()
        ]
        return {"universe": universe, "marginTables": tables, "collateralToken": 0}

    def _ctx(self, m: Market) -> dict[str, Any]:
        bids, asks = _book(m)
        return {
            "funding": _n(m.funding_rate),
            "openInterest": "125000.0",
            "prevDayPx": _n(m.mark),
            "dayNtlVlm": "500000000.0",
            "premium": "0.0",
            "oraclePx": _n(m.mark),
            "markPx": _n(m.mark),
            "midPx": _n((bids[0][0] + asks[0][0]) / 2),
            "impactPxs": [_n(bids[0][0]), _n(asks[0][0])],
            "dayBaseVlm": "150000.0",
        }

    def meta_and_asset_ctxs(self, q: Mapping[str, Any]) -> Any:
        return [self.meta(q), [self._ctx(m) for m in self.acct.markets.values()]]

    def spot_meta(self, q: Mapping[str, Any]) -> Any:
        """USDC only (ccxt's fetchCurrencies reads the tokens); no spot pairs are listed."""
        usdc = {
            "name": "USDC",
            "szDecimals": 8,
            "weiDecimals": 8,
            "index": 0,
            "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
            "isCanonical": True,
            "evmContract": None,
            "fullName": None,
        }
        return {"tokens": [usdc], "universe": []}

    def all_mids(self, q: Mapping[str, Any]) -> Any:
        return {coin: self._ctx(m)["midPx"] for coin, m in self.acct.markets.items()}

    def l2_book(self, q: Mapping[str, Any]) -> Any:
        m = self.acct.markets.get(str(q.get("coin")))
        if m is None:
            return None
        levels = [
            [{"px": _n(px), "sz": _n(sz), "n": 1 + i} for i, (px, sz) in enumerate(side)]
            for side in _book(m)
        ]
        return {"coin": m.symbol, "time": self.emu.clock_ms(), "levels": levels}

    # ---- /info: account state --------------------------------------------------------------

    def _replay(self) -> list[tuple[Trade, Decimal]]:
        """Every trade with the position before it (`startPosition`), oldest first."""
        held: dict[str, Decimal] = {}
        out = []
        for t in self.acct.trades:
            start = held.get(t.symbol, Decimal(0))
            out.append((t, start))
            held[t.symbol] = start + _signed(t)
        return out

    def _cum_funding(self, coin: str) -> dict[str, str]:
        """Funding paid (> 0) on `coin`: all time, since the position opened, since its size
        last changed."""
        opened = changed = 0
        for t, start in self._replay():
            if t.symbol == coin:
                changed = t.time_ms
                opened = t.time_ms if start == 0 else opened
        rows = [i for i in self.acct.incomes if i.kind == "FUNDING_FEE" and i.symbol == coin]

        def paid(since: int) -> str:
            return _usd(-sum((i.amount for i in rows if i.time_ms >= since), Decimal(0)))

        return {"allTime": paid(0), "sinceOpen": paid(opened), "sinceChange": paid(changed)}

    def _position(self, coin: str, pos: Position, cross: _Cross) -> tuple[dict[str, Any], Decimal]:
        """One assetPositions row and its margin used. Liquidation price: where the account
        value (cross) or the position's margin (isolated) meets maintenance margin, the other
        positions held fixed; null when there is none."""
        m = self.acct.markets[coin]
        q, entry, lev, mmr = pos.qty, pos.entry, self.acct.leverage_of(coin), self.mmr(coin)
        upnl, ntl = q * (m.mark - entry), abs(q) * m.mark
        leverage: dict[str, Any] = {"type": self.acct.margin_mode_of(coin), "value": int(lev)}
        if leverage["type"] == "isolated":
            alloc = abs(q) * entry / lev
            leverage["rawUsd"] = _usd(alloc - q * entry)
            margin_used, liq_num = alloc + upnl, q * entry - alloc
        else:
            margin_used = ntl / lev
            liq_num = q * m.mark - cross.value + (cross.maintenance - ntl * mmr)
        liq = liq_num / (q - abs(q) * mmr)
        row = {
            "coin": coin,
            "szi": _n(q),
            "leverage": leverage,
            "entryPx": _px(entry),
            "positionValue": _usd(ntl),
            "unrealizedPnl": _usd(upnl),
            "returnOnEquity": _px(upnl / (abs(q) * entry / lev)),
            "liquidationPx": _px(liq) if liq > 0 else None,
            "marginUsed": _usd(margin_used),
            "maxLeverage": self.dialect.max_leverage_of(coin),
            "cumFunding": self._cum_funding(coin),
        }
        return {"type": "oneWay", "position": row}, margin_used

    def clearinghouse_state(self, q: Mapping[str, Any]) -> Any:
        mine = self.mine(q)
        held = [(c, p) for c, p in self.acct.positions.items() if p.qty] if mine else []
        balance = self.acct.balance if mine else Decimal(0)
        cross = _Cross()
        for c, p in held:
            m = self.acct.markets[c]
            if self.acct.margin_mode_of(c) == "cross":
                cross.value += p.qty * (m.mark - p.entry)
                cross.maintenance += abs(p.qty) * m.mark * self.mmr(c)
                cross.coins.add(c)
            else:
                cross.value -= abs(p.qty) * p.entry / self.acct.leverage_of(c)
        cross.value += balance
        rows, used = [], {}
        for c, p in held:
            row, used[c] = self._position(c, p, cross)
            rows.append(row)
        value = balance + sum((p.qty * (self.acct.markets[c].mark - p.entry) for c, p in held), 0)

        def summary(coins: set[str], account_value: Decimal) -> dict[str, str]:
            part = [(self.acct.markets[c].mark, p.qty) for c, p in held if c in coins]
            return {
                "accountValue": _usd(account_value),
                "totalNtlPos": _usd(sum((abs(qty) * mark for mark, qty in part), Decimal(0))),
                "totalRawUsd": _usd(account_value - sum((qty * mark for mark, qty in part), 0)),
                "totalMarginUsed": _usd(sum((used[c] for c in coins), Decimal(0))),
            }

        margin_used = sum(used.values(), Decimal(0))
        return {
            "marginSummary": summary({c for c, _ in held}, value),
            "crossMarginSummary": summary(cross.coins, cross.value),
            "crossMaintenanceMarginUsed": _usd(cross.maintenance),
            "withdrawable": _usd(max(Decimal(0), value - margin_used)),
            "assetPositions": rows,
            "time": self.emu.clock_ms(),
        }

    # ---- /info: orders ---------------------------------------------------------------------

    def _frontend(self, o: Order) -> dict[str, Any]:
        return {
            "coin": o.symbol,
            "side": _side(o.side),
            "limitPx": _n(o.price),
            "sz": _n(Decimal(0) if o.status == "FILLED" else o.qty - o.executed),
            "oid": o.order_id,
            "timestamp": o.time_ms,
            "triggerCondition": "N/A",
            "isTrigger": False,
            "triggerPx": "0.0",
            "children": [],
            "isPositionTpsl": False,
            "reduceOnly": o.reduce_only,
            "orderType": "Limit",
            "origSz": _n(o.qty),
            "tif": _TIF_NAME.get(o.time_in_force, "Gtc"),
            "cloid": o.client_id or None,
        }

    def _with_status(self, o: Order) -> dict[str, Any]:
        status = _order_status(o)
        return {"order": self._frontend(o), "status": status, "statusTimestamp": o.update_ms}

    def frontend_open_orders(self, q: Mapping[str, Any]) -> Any:
        if not self.mine(q):
            return []
        return [self._frontend(o) for o in self.user_orders() if o.status == "NEW"]

    def open_orders(self, q: Mapping[str, Any]) -> Any:
        keep = ("coin", "side", "limitPx", "sz", "oid", "timestamp", "origSz", "cloid")
        return [
            {k: v for k, v in row.items() if k in keep and (k != "cloid" or v)}
            for row in self.frontend_open_orders(q)
        ]

    def historical_orders(self, q: Mapping[str, Any]) -> Any:
        return [self._with_status(o) for o in self.user_orders()] if self.mine(q) else []

    def order_status(self, q: Mapping[str, Any]) -> Any:
        """By oid (int) or cloid (hex string); anything else is {"status": "unknownOid"}."""
        oid = q.get("oid")
        for o in self.user_orders() if self.mine(q) else []:
            if o.order_id == oid or (isinstance(oid, str) and o.client_id == oid.lower()):
                return {"status": "order", "order": self._with_status(o)}
        return {"status": "unknownOid"}

    # ---- /info: fills and funding ----------------------------------------------------------

    def _fill(self, t: Trade, start: Decimal) -> dict[str, Any]:
        order = self.acct.orders.get(t.order_id)
        tx = keccak(b"lphedge-tx" + t.order_id.to_bytes(8, "big"))
        row: dict[str, Any] = {
            "coin": t.symbol,
            "px": _n(t.price),
            "sz": _n(t.qty),
            "side": _side(t.side),
            "time": t.time_ms,
            "startPosition": _n(start),
            "dir": _direction(start, _signed(t), t.kind),
            "closedPnl": _usd(t.realized_pnl),
            "hash": "0x" + tx.hex(),
            "oid": t.order_id,
            "crossed": not t.maker,
            "fee": _usd(t.fee),
            "tid": t.trade_id,
        }
        if t.trade_id in self.dialect.builder_fees:
            row["builderFee"] = _usd(self.dialect.builder_fees[t.trade_id])
        if order is not None and order.client_id:
            row["cloid"] = order.client_id
        if t.kind == "liquidation":
            row["liquidation"] = {
                "liquidatedUser": self.dialect.wallet(),
                "markPx": _n(t.price),
                "method": "market",
            }
        row["feeToken"] = t.fee_asset
        row["twapId"] = None
        return row

    def fills(self, q: Mapping[str, Any]) -> Any:
        """userFills / userFillsByTime: newest first, at most 2000."""
        if not self.mine(q):
            return []
        start, end = int(q.get("startTime") or 0), q.get("endTime")
        rows = [
            self._fill(t, s)
            for t, s in self._replay()
            if t.time_ms >= start and (end is None or t.time_ms <= int(end))
        ]
        return rows[::-1][:2000]

    def funding(self, q: Mapping[str, Any]) -> Any:
        """userFunding: one row per hourly payment, `usdc` signed as the account sees it."""
        if not self.mine(q):
            return []
        start, end = int(q.get("startTime") or 0), q.get("endTime")
        trades = self.acct.trades
        rows = []
        for i in self.acct.incomes:
            if i.kind != "FUNDING_FEE" or not start <= i.time_ms <= int(end or i.time_ms):
                continue
            held = (_signed(t) for t in trades if t.symbol == i.symbol and t.time_ms <= i.time_ms)
            delta = {
                "type": "funding",
                "coin": i.symbol,
                "usdc": _usd(i.amount),
                "szi": _n(sum(held, Decimal(0))),
                "fundingRate": _n(i.rate),
                "nSamples": None,
            }
            rows.append({"time": i.time_ms, "hash": ZERO_HASH, "delta": delta})
        return rows

    # ---- /exchange -------------------------------------------------------------------------

    async def exchange(self, request: web.Request) -> web.Response:
        action = json.loads(await request.text())["action"]
        kind = action.get("type")
        if kind == "order":
            orders = action.get("orders", [])
            if any("trigger" in w.get("t", {}) for w in orders):
                return _malformed("trigger orders are not emulated")
            now = self.emu.clock_ms()
            statuses = [self._place(w, action.get("builder"), now) for w in orders]
            return _ok("order", {"statuses": statuses})
        if kind in ("cancel", "cancelByCloid"):
            return _ok("cancel", {"statuses": [self._cancel(c) for c in action["cancels"]]})
        if kind == "updateLeverage":
            return self._update_leverage(action)
        if kind == "approveBuilderFee":
            rate = Decimal(str(action["maxFeeRate"]).rstrip("%"))
            self.dialect.builders[str(action["builder"]).lower()] = int(rate * 1000)
            return _ok("default")
        if kind == "setReferrer":
            self.dialect.referrer = str(action.get("code", ""))
            return _ok("default")
        return _malformed(f"unknown variant `{kind}`")

    def _place(self, wire: Mapping[str, Any], builder: Any, now: int) -> dict[str, Any]:
        """One order of the batch -> its status: filled, resting or error."""
        asset = wire.get("a") if isinstance(wire.get("a"), int) else 0
        try:
            order = self._new_order(self.coin(wire.get("a")), wire, builder, now)
        except VenueReject as reject:
            return {"error": order_error(reject.reason, reject.detail, asset)}
        ids: dict[str, Any] = {"oid": order.order_id}
        if order.client_id:
            ids["cloid"] = order.client_id
        if order.status == "FILLED":
            filled = {"totalSz": _n(order.executed), "avgPx": _px(order.avg_price)}
            return {"filled": {**filled, **ids}}
        if order.status == "NEW":
            return {"resting": ids}
        return {"error": order_error("ioc_cancel", asset=asset)}

    def _new_order(self, coin: str, wire: Mapping[str, Any], builder: Any, now: int) -> Order:
        m = self.acct.markets[coin]
        sz, px = Decimal(str(wire["s"])), Decimal(str(wire["p"]))
        if sz == 0:
            raise VenueReject("zero_size")
        if not _valid_price(px, _sz_decimals(m)):
            raise VenueReject("tick")
        if abs(px - m.mark) > m.mark * Decimal("0.8"):
            raise VenueReject("price_band")
        tif = _TIF.get(str(wire["t"]["limit"]["tif"]), "GTC")
        fee_tenths = self._builder_fee(builder)
        buy = bool(wire["b"])
        bids, asks = _book(m)
        if tif == "ALO" and (px >= asks[0][0] if buy else px <= bids[0][0]):
            raise VenueReject("bad_alo", f"{_n(bids[0][0])}@{_n(asks[0][0])}")
        order = self.acct.place(
            symbol=coin,
            side="BUY" if buy else "SELL",
            qty=sz,
            order_type="LIMIT",
            reduce_only=bool(wire.get("r")),
            client_id=str(wire.get("c", "")).lower(),
            price=px,
            now_ms=now,
            time_in_force=tif,
        )
        for t in self.acct.trades_of(order) if fee_tenths else []:
            fee = (t.qty * t.price * fee_tenths / Decimal(100_000)).quantize(_E6)
            self.dialect.builder_fees[t.trade_id] = fee
            # paid on top of the taker fee, booked like it (the account's COMMISSION rows)
            self.acct._income(coin, "COMMISSION", -fee, now, trade_id=t.trade_id)
        return order

    def _builder_fee(self, builder: Any) -> int:
        """The order's builder fee in tenths of a bp; refused above what the user approved."""
        if not isinstance(builder, dict):
            return 0
        approved = self.dialect.builders.get(str(builder.get("b", "")).lower())
        fee = int(builder.get("f", 0))
        if approved is None or fee > approved:
            raise VenueReject("builder")
        return fee

    def _cancel(self, c: Mapping[str, Any]) -> Any:
        asset = c.get("a", c.get("asset"))
        cloid = str(c.get("cloid", "")).lower()
        try:
            coin = self.coin(asset)
        except VenueReject:
            coin = ""
        for o in self.user_orders():
            same = o.order_id == c.get("o") or (cloid and o.client_id == cloid)
            if o.symbol == coin and same and o.status == "NEW":
                self.acct.cancel(o)
                return "success"
        return {"error": f"{_CANCEL_ERROR} asset={asset}"}

    def _update_leverage(self, action: Mapping[str, Any]) -> web.Response:
        try:
            coin = self.coin(action.get("asset"))
            leverage = int(action["leverage"])
            if not 1 <= leverage <= self.dialect.max_leverage_of(coin):
                raise VenueReject("bad_leverage")
            self.acct.set_margin_mode(coin, "cross" if action.get("isCross") else "isolated")
            self.acct.set_leverage(coin, Decimal(leverage))
        except VenueReject as reject:
            return self.dialect.error(reject.reason, reject.detail)
        return _ok("default")


class _Cross:
    """The cross-margin account: its value and maintenance margin, and the coins in it."""

    def __init__(self) -> None:
        self.value = Decimal(0)
        self.maintenance = Decimal(0)
        self.coins: set[str] = set()


def _signed(t: Trade) -> Decimal:
    return t.qty if t.side == "BUY" else -t.qty
