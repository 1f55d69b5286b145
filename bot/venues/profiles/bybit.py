"""Bybit v5, unified trading account (ccxt `bybit`): linear perps and USDC options.

Client ids: `orderLinkId`, <= 36 of `[A-Za-z0-9_-]`; found by scanning open and closed
orders with that filter (the create answer is only {orderId, orderLinkId}). Fills, fees,
funding and forced closes all come from `/v5/execution/list` by execType (Trade,
BustTrade, AdlTrade, one call each; Funding with `execFee` > 0 paid by the account, so the
sign flips), funding every 8 h. Option deliveries: `/v5/asset/delivery-record`. IV (`markIv`) is a
fraction. Position mode per symbol (`positionIdx` 0 one-way, 1 / 2 hedge sides, read from
the position list); leverage per symbol; margin mode account-wide on a unified account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.domain.account import PositionMode
from bot.errors import InstrumentUnavailable, InsufficientFunds, PriceOutOfBand, Rejected
from bot.venues.profiles.base import (
    AccountRules,
    ClientIdRule,
    Exchange,
    HedgeSide,
    Lookup,
    StreamRule,
    VenueProfile,
)

_TRADES = {"Trade", "BustTrade", "AdlTrade"}  # executions that move a position


def _is_trade(info: Mapping[str, Any]) -> bool:
    return str(info.get("execType", "Trade")) in _TRADES


async def _position_mode(ex: Exchange, symbols: list[str]) -> PositionMode:
    """Hedge mode shows as rows with positionIdx 1 and 2 (one-way: a single row, 0)."""
    await ex.load_markets()
    for symbol in symbols:
        market = ex.market(symbol)
        if not market.get("linear"):
            continue
        response = await ex.privateGetV5PositionList({"category": "linear", "symbol": market["id"]})
        rows = ((response or {}).get("result") or {}).get("list") or []
        if any(str(r.get("positionIdx")) in ("1", "2") for r in rows):
            return "hedge"
    return "one_way"


CODES: Mapping[str, type[Rejected]] = {
    "110003": PriceOutOfBand,  # Order price is out of permissible range
    "110004": InsufficientFunds,
    "110007": InsufficientFunds,  # ab not enough for new order
    "110012": InsufficientFunds,
    "110044": InsufficientFunds,
    "110045": InsufficientFunds,
    "170121": InstrumentUnavailable,  # Invalid symbol.
    "10001|symbol": InstrumentUnavailable,  # "params error: symbol invalid"
}

BYBIT = VenueProfile(
    ccxt_id="bybit",
    credentials=("apiKey", "secret"),
    client_id=ClientIdRule("orderLinkId", re.compile(r"[A-Za-z0-9_-]{1,36}")),
    lookup=Lookup.SCAN,
    scan_params=lambda venue_id: {"orderLinkId": venue_id},
    terse_ack=True,
    # ccxt asks for execType=Trade unless told: forced closes are their own types
    fills=StreamRule(
        "fetch_my_trades",
        page=100,
        params={"category": "linear"},
        variants=({"execType": "Trade"}, {"execType": "BustTrade"}, {"execType": "AdlTrade"}),
        keep=_is_trade,
    ),
    funding=StreamRule("fetch_funding_history", page=100, params={"category": "linear"}),
    funding_sign=-1,
    funding_period_ms=8 * 3_600_000,
    settlements=StreamRule("fetch_my_settlement_history", page=50, params={"category": "option"}),
    liquidations=StreamRule("fetch_my_liquidations", page=100, params={"category": "linear"}),
    account=AccountRules(
        set_leverage=True,
        set_margin_mode=True,
        position_mode=_position_mode,
        hedge=HedgeSide("positionIdx", 1, 2, reduce_only_allowed=True),
    ),
    option_iv_per_fraction=Decimal(1),
    option_position_params={"type": "option"},
    # ccxt sends baseCoin=BTC unless told otherwise: every option of one base in one call
    option_bulk=lambda market, asset, settle: (
        "fetch_all_greeks",
        str(market.get("baseId") or asset),
        (("baseCoin", str(market.get("baseId") or asset)),),
    ),
    error_codes=CODES,
    # leverage not modified, cross/isolated not modified, position mode not modified
    already_set_codes=frozenset({"110043", "110026", "110025"}),
)
