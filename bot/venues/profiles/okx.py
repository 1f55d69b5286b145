"""OKX v5 (ccxt `okx`): USDT-margined swaps.

Client ids: `clOrdId`, 1-32 alphanumerics only (our 32 hex fit); fetchOrder takes
`clOrdId`; the place-order answer is only ids and sCode, so the order is looked up after.
Contracts: ETH-USDT-SWAP is 0.1 ETH a contract (ccxt's contractSize). Fills and fees:
`/api/v5/trade/fills-history` (fees negative when charged there; ccxt flips them). Funding:
`/api/v5/account/bills-archive` type 8, signed as received, every 8 h. No forced-close
history in ccxt: a liquidation shows as a fill without our client id. Position mode is
account-wide (net_mode / long_short_mode; in long/short mode an order names `posSide` and
`reduceOnly` does not apply); leverage per instrument and margin mode (`mgnMode`), which
every order repeats as `tdMode`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.domain.account import PositionMode
from bot.errors import InstrumentUnavailable, InsufficientFunds, Rejected
from bot.venues.profiles.base import (
    AccountRules,
    ClientIdRule,
    Exchange,
    HedgeSide,
    Lookup,
    StreamRule,
    VenueProfile,
)


async def _position_mode(ex: Exchange, symbols: list[str]) -> PositionMode:
    mode = await ex.fetch_position_mode(symbols[0] if symbols else None)
    return "hedge" if mode.get("hedged") else "one_way"


def _margin(margin_mode: str) -> Mapping[str, Any]:
    return {"mgnMode": margin_mode or "cross", "marginMode": margin_mode or "cross"}


def _option_family(
    market: Mapping[str, Any], asset: str, settle: str
) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    """OKX quotes every option of a family (ETH-USD) in one call."""
    info = market.get("info") or {}
    family = str(info.get("instFamily") or info.get("uly") or f"{asset}-USD")
    return ("fetch_all_greeks", family, (("instFamily", family),))


CODES: Mapping[str, type[Rejected]] = {
    "51008": InsufficientFunds,  # Order failed. Insufficient margin
    "51001": InstrumentUnavailable,  # Instrument ID does not exist
}

OKX = VenueProfile(
    ccxt_id="okx",
    credentials=("apiKey", "secret", "password"),
    client_id=ClientIdRule("clOrdId", re.compile(r"[A-Za-z0-9]{1,32}")),
    lookup=Lookup.FETCH_ORDER,
    lookup_param="clOrdId",
    terse_ack=True,
    fills=StreamRule("fetch_my_trades", page=100, params={"instType": "SWAP"}),
    funding=StreamRule("fetch_funding_history", page=100, params={"instType": "SWAP"}),
    funding_sign=1,
    funding_period_ms=8 * 3_600_000,
    account=AccountRules(
        set_leverage=True,
        set_margin_mode=True,
        leverage_params=_margin,
        margin_with_leverage=True,  # set-leverage carries mgnMode
        position_mode=_position_mode,
        hedge=HedgeSide("posSide", "long", "short", reduce_only_allowed=False),
    ),
    order_params=lambda margin_mode: {"tdMode": margin_mode or "cross"},
    option_bulk=_option_family,
    error_codes=CODES,
    already_set_codes=frozenset({"59000"}),  # settings unchanged
    ccxt_options={"fetchMarkets": {"types": ["swap"]}},
)
