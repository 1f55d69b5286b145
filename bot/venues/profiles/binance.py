"""Binance USDⓈ-M futures (ccxt `binanceusdm`).

Client ids: `newClientOrderId`, <= 36 of `[.A-Z:/a-z0-9_-]`; looked up with fetchOrder's
`origClientOrderId`. Fills and fees: `/fapi/v1/userTrades` (per symbol, <= 7 days per
request; the market ack carries neither fee nor trades). Funding: `/fapi/v1/income`
FUNDING_FEE, signed as received, every 8 h. Forced closes: `/fapi/v1/forceOrders` with
autoCloseType LIQUIDATION and ADL. Leverage, margin type and dual-side (hedge) mode are set
per API; in hedge mode an order names `positionSide` and Binance refuses `reduceOnly`.
Testnet: the futures testnet (sandbox) or Binance's newer demo trading.
"""

from __future__ import annotations

import re

from bot.domain.account import PositionMode
from bot.errors import InstrumentUnavailable, InsufficientFunds
from bot.venues.profiles.base import (
    AccountRules,
    ClientIdRule,
    Exchange,
    HedgeSide,
    Lookup,
    StreamRule,
    VenueProfile,
)

WEEK_MS = 7 * 86_400_000
HALF_YEAR_MS = 26 * WEEK_MS  # userTrades keeps six months


async def _position_mode(ex: Exchange, symbols: list[str]) -> PositionMode:
    mode = await ex.fetch_position_mode(symbols[0] if symbols else None)
    return "hedge" if mode.get("hedged") else "one_way"


BINANCE_USDM = VenueProfile(
    ccxt_id="binanceusdm",
    credentials=("apiKey", "secret"),
    client_id=ClientIdRule("newClientOrderId", re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")),
    lookup=Lookup.FETCH_ORDER,
    lookup_param="origClientOrderId",
    fills=StreamRule(
        "fetch_my_trades", per_symbol=True, page=1000, window_ms=WEEK_MS, history_ms=HALF_YEAR_MS
    ),
    funding=StreamRule("fetch_funding_history", page=1000, params={"incomeType": "FUNDING_FEE"}),
    funding_sign=1,
    funding_period_ms=8 * 3_600_000,
    liquidations=StreamRule(
        "fetch_my_liquidations",
        per_symbol=True,
        page=100,
        window_ms=WEEK_MS,
        history_ms=WEEK_MS,  # forceOrders keeps seven days
        variants=({"autoCloseType": "LIQUIDATION"}, {"autoCloseType": "ADL"}),
    ),
    account=AccountRules(
        set_leverage=True,
        set_margin_mode=True,
        position_mode=_position_mode,
        hedge=HedgeSide("positionSide", "LONG", "SHORT", reduce_only_allowed=False),
    ),
    error_codes={
        "-2019": InsufficientFunds,  # Margin is insufficient.
        "-2018": InsufficientFunds,  # Balance is insufficient.
        "-1121": InstrumentUnavailable,  # Invalid symbol.
    },
    demo_trading=True,
    # no need to change margin type / position side
    already_set_codes=frozenset({"-4046", "-4059"}),
)
