"""Hyperliquid perps (ccxt `hyperliquid`): USDC-settled, signed with the wallet's key.

Credentials: `walletAddress` and `privateKey` (an API wallet's key works the same); ccxt
signs every action (EIP-712). Client ids: `cloid`, `0x` + 32 hex (ccxt's `clientOrderId`),
looked up with orderStatus. There are no true market orders: ccxt sends an IOC limit at the
price it is given x (1 +- slippage), so a market order needs the decision price and a
slippage bound (5 %). Fills, fees (`fee`, `feeToken`) and liquidations: `userFillsByTime`;
funding: `userFunding`, signed as received, every hour. One-way only; leverage and cross /
isolated margin per asset (`updateLeverage`). ccxt's builder fee is switched off (it still
signs a 0 % approval once) and its referral code is never set.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bot.venues.profiles.base import AccountRules, ClientIdRule, Lookup, StreamRule, VenueProfile

HYPERLIQUID = VenueProfile(
    ccxt_id="hyperliquid",
    credentials=("walletAddress", "privateKey"),
    client_id=ClientIdRule(
        "clientOrderId", re.compile(r"0x[0-9a-f]{32}"), prefix="0x", trade_field="cloid"
    ),
    lookup=Lookup.FETCH_ORDER,
    lookup_param="clientOrderId",
    fills=StreamRule("fetch_my_trades", page=2000),
    funding=StreamRule("fetch_funding_history", page=500),
    funding_sign=1,
    funding_period_ms=3_600_000,
    liquidations=StreamRule("fetch_my_liquidations", page=2000),
    account=AccountRules(
        set_leverage=True,
        set_margin_mode=True,
        leverage_params=lambda margin_mode: {"marginMode": margin_mode or "cross"},
        one_way_only=True,
        margin_with_leverage=True,
    ),
    market_order_slippage=Decimal("0.05"),
    # a signature by a key that is neither the wallet nor an approved API wallet
    auth_error_words=("User or API Wallet", "does not exist"),
    # ccxt would otherwise approve its own builder fee (1 bp on every order) and set its
    # referral code on the account: a hedging bot does neither behind the trader's back.
    ccxt_options={"fetchMarkets": {"types": ["swap"]}, "builderFee": False, "refSet": True},
)
