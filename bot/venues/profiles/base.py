"""What one exchange is, as data: the facts `CcxtVenue` needs that differ per venue.

A profile names the venue's client-id parameter and format, how an order is found again by
that id, where fills, fees, funding, settlements and liquidations come from, the sign and
period of funding, how amounts count (contracts, or USD for inverse perps), option IV
units, the venue's error codes, the market-order price rule and the account set-up calls
(leverage, margin mode, position mode). `CcxtVenue` reads the profile and never branches
on the exchange name, so adding a venue is one profile plus one emulator dialect.

Hooks (`Reader`s) are for what ccxt's unified API does not cover on that venue; each takes
the ccxt exchange object and returns raw rows for `ccxt_parse` or our values directly.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from bot.domain.account import PositionMode
from bot.errors import InputError, Rejected

Credential = Literal["apiKey", "secret", "password", "walletAddress", "privateKey"]
Exchange = Any  # a ccxt.async_support exchange object (ccxt ships no type stubs)
RawRows = list[dict[str, Any]]
# (exchange, markets, since_ms, venue name, symbols) -> our values (Fill, FundingPayment, ...)
BulkQuote = tuple[str, str, tuple[tuple[str, str], ...]]
Hook = Callable[[Exchange, Mapping[str, Any], int, str, list[str]], Awaitable[list[Any]]]


class Lookup(StrEnum):
    """How an order is found by its client id."""

    FETCH_ORDER = "fetch_order"  # fetchOrder(None, symbol, {param: client id})
    SCAN = "scan"  # open + closed orders of the symbol, filtered (with `scan_params`)
    HOOK = "hook"  # the profile's own call (Deribit get_order_state_by_label)


@dataclass(frozen=True, slots=True)
class ClientIdRule:
    """Our client ids are 32 lowercase hex characters; `prefix` makes the venue's form
    (Hyperliquid: `0x` + 32 hex), `pattern` is what the venue accepts."""

    param: str
    pattern: re.Pattern[str]
    prefix: str = ""
    trade_field: str = ""  # where raw orders and trades carry it, when not under `param`

    def to_venue(self, client_id: str) -> str:
        return f"{self.prefix}{client_id}"

    def from_venue(self, venue_id: str | None) -> str:
        if venue_id and self.prefix and venue_id.startswith(self.prefix):
            return venue_id[len(self.prefix) :]
        return venue_id or ""

    def validate(self, venue: str, client_id: str) -> str:
        """The venue form of `client_id`, or InputError naming the rule."""
        formed = self.to_venue(client_id)
        if self.pattern.fullmatch(formed) is None:
            raise InputError(
                f"client order id {formed!r} does not fit {venue}'s {self.param} "
                f"({self.pattern.pattern}); derive client ids with hedge.planner.client_id"
            )
        return formed


@dataclass(frozen=True, slots=True)
class StreamRule:
    """One account-event stream read through a ccxt unified call (`method`), or a hook.

    `per_symbol`: the venue needs a symbol per call. `page`: rows per request (a full page
    is followed by another from the last row's time). `window_ms`: the longest span one
    request may cover (Binance: 7 days); `history_ms`: how far back the venue answers at
    all. `params`: sent with every call; `variants`: one call per extra set (Binance's
    LIQUIDATION and ADL). `keep`: a filter on the raw row (`info`), e.g. Bybit's executions
    hold trades and funding in one list. `hook`: the profile's own reader, returning our
    values, where ccxt has no unified call.
    """

    method: str = ""
    per_symbol: bool = False
    page: int = 100
    window_ms: int | None = None
    history_ms: int | None = None  # how far back the venue keeps rows (None: all)
    params: Mapping[str, Any] = field(default_factory=dict)
    variants: tuple[Mapping[str, Any], ...] = ({},)
    keep: Callable[[Mapping[str, Any]], bool] | None = None
    hook: Hook | None = None


@dataclass(frozen=True, slots=True)
class HedgeSide:
    """How an order names its side of a hedge-mode position (Binance `positionSide` LONG /
    SHORT, Bybit `positionIdx` 1 / 2, OKX `posSide` long / short), and whether the venue
    still takes `reduceOnly` in that mode."""

    param: str
    long: Any
    short: Any
    reduce_only_allowed: bool


@dataclass(frozen=True, slots=True)
class AccountRules:
    """Leverage, margin mode and position mode: what the API lets us set or only read."""

    set_leverage: bool
    set_margin_mode: bool
    leverage_params: Callable[[str], Mapping[str, Any]] = lambda margin_mode: {}
    position_mode: Callable[[Exchange, list[str]], Awaitable[PositionMode]] | None = None
    one_way_only: bool = False  # the venue has no hedge mode at all
    margin_with_leverage: bool = False  # one call sets both (Hyperliquid's updateLeverage)
    hedge: HedgeSide | None = None


@dataclass(frozen=True, slots=True)
class VenueProfile:
    """Every per-venue fact `CcxtVenue` uses. See the module docstring."""

    ccxt_id: str
    credentials: tuple[Credential, ...]
    client_id: ClientIdRule
    lookup: Lookup
    fills: StreamRule
    funding: StreamRule
    funding_sign: int  # +1: ccxt's amount is received > 0; -1: the venue reports paid > 0
    funding_period_ms: int
    account: AccountRules
    lookup_param: str = ""  # FETCH_ORDER: the fetchOrder param that carries the client id
    scan_params: Callable[[str], Mapping[str, Any]] = lambda venue_client_id: {}
    lookup_hook: Callable[[Exchange, Mapping[str, Any], str], Awaitable[RawRows]] | None = None
    terse_ack: bool = False  # create_order answers ids only: look the order up after
    settlements: StreamRule | None = None  # option deliveries; None: the venue has none
    liquidations: StreamRule | None = None  # None: only seen as fills / position drift
    usd_amount_inverse: bool = False  # inverse perps: amounts are USD, not contracts
    option_iv_per_fraction: Decimal | None = None  # the venue's IV / this = a fraction
    option_position_params: Mapping[str, Any] | None = None  # the extra query for options
    # (ccxt market, base asset, settle currency) -> (ccxt method, group, params): the one call
    # that quotes every option of a group; None: per symbol
    option_bulk: Callable[[Mapping[str, Any], str, str], BulkQuote | None] | None = None
    market_order_slippage: Decimal | None = None  # market orders need a bounding price
    order_params: Callable[[str], Mapping[str, Any]] = lambda margin_mode: {}
    # the venue's error code (or "code|words in its message") -> the narrower rejection
    error_codes: Mapping[str, type[Rejected]] = field(default_factory=dict)
    already_set_codes: frozenset[str] = frozenset()  # "leverage/margin not modified" answers
    # words of the venue's answer that mean the credentials are wrong (where the venue has no
    # code and ccxt no AuthenticationError for it): a human must act
    auth_error_words: tuple[str, ...] = ()
    ccxt_options: Mapping[str, Any] = field(default_factory=dict)
    demo_trading: bool = False  # ccxt's enable_demo_trading exists (Binance)
    sandbox: bool = True  # ccxt's set_sandbox_mode has testnet URLs

    def credential_fields(self) -> str:
        return ", ".join(f"venue.{_CONFIG_FIELD[c]}" for c in self.credentials)


_CONFIG_FIELD: Mapping[Credential, str] = {
    "apiKey": "api_key",
    "secret": "secret",
    "password": "password",
    "walletAddress": "wallet_address",
    "privateKey": "private_key",
}
