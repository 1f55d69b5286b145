"""Deribit (ccxt `deribit`): inverse perpetuals and inverse options, settled in the coin.

Client ids: `label` (<= 64 chars, not unique on Deribit), found with
get_order_state_by_label (the newest order of the instrument wins). Amounts of perpetuals
are USD (ETH-PERPETUAL steps of 1 USD, BTC-PERPETUAL of 10 USD): one of our "contracts" is
1 USD there. Fills and fees (in the coin): get_user_trades_by_instrument_and_time, per
instrument. Funding accrues continuously and is realised at the daily 08:00 UTC settlement:
the `funding` of each "settlement" row of get_settlement_history_by_currency (received > 0).
Option deliveries are its "delivery" rows. Implied vols are in percent. Margin is the
account's (cross, portfolio or standard): no per-symbol leverage or margin mode to set,
and no hedge mode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.domain.events import OptionSettlement
from bot.domain.orders import FundingPayment
from bot.errors import InstrumentUnavailable, InsufficientFunds, PriceOutOfBand, Rejected
from bot.venues.profiles.base import (
    AccountRules,
    ClientIdRule,
    Exchange,
    Lookup,
    RawRows,
    StreamRule,
    VenueProfile,
)

DAY_MS = 86_400_000
PAGE = 1000


async def _by_label(ex: Exchange, market: Mapping[str, Any], label: str) -> RawRows:
    currency = market.get("settleId") or market.get("baseId") or market["base"]
    response = await ex.privateGetGetOrderStateByLabel({"currency": currency, "label": label})
    rows: RawRows = ex.parse_orders(response.get("result") or [], market)
    return rows


async def _settlements(
    ex: Exchange, currencies: set[str], kind: str, since_ms: int
) -> list[dict[str, Any]]:
    """Settlement rows of `kind` since `since_ms`, newest first from the venue, paged back."""
    out: list[dict[str, Any]] = []
    for currency in sorted(currencies):
        request: dict[str, Any] = {"currency": currency, "type": kind, "count": PAGE}
        while True:
            response = await ex.privateGetGetSettlementHistoryByCurrency(dict(request))
            result = response.get("result") or {}
            rows = [r for r in result.get("settlements") or [] if int(r["timestamp"]) >= since_ms]
            out += rows
            continuation = result.get("continuation")
            if not continuation or len(rows) < len(result.get("settlements") or []):
                break
            request["continuation"] = continuation
    return out


def _currencies(markets: Mapping[str, Any], symbols: list[str], option: bool) -> set[str]:
    picked = [markets[s] for s in symbols if s in markets]
    if not picked:
        picked = list(markets.values())
    return {str(m["settle"]) for m in picked if bool(m.get("option")) == option}


async def _funding(
    ex: Exchange, markets: Mapping[str, Any], since_ms: int, venue: str, symbols: list[str]
) -> list[FundingPayment]:
    rows = await _settlements(ex, _currencies(markets, symbols, False), "settlement", since_ms)
    by_id = {m.get("id"): m for m in markets.values()}
    out = []
    for r in rows:
        market = by_id.get(r.get("instrument_name"))
        if market is None or not market.get("swap") or r.get("funding") is None:
            continue
        out.append(
            FundingPayment(
                venue=venue,
                symbol=market["symbol"],
                amount=Decimal(str(r["funding"])),
                currency=market["settle"],
                rate=Decimal(0),
                ts_ms=int(r["timestamp"]),
                payment_id=f"{r['instrument_name']}:{r['timestamp']}",
            )
        )
    return out


async def _deliveries(
    ex: Exchange, markets: Mapping[str, Any], since_ms: int, venue: str, symbols: list[str]
) -> list[OptionSettlement]:
    """Options held at expiry: position and delivery price from the venue; the payout as
    the contract pays it (intrinsic value / delivery price, in the coin)."""
    from bot.venues.ccxt_options import option_instrument
    from bot.venues.paper_options import settlement

    rows = await _settlements(ex, _currencies(markets, symbols, True), "delivery", since_ms)
    by_id = {m.get("id"): m for m in markets.values()}
    out = []
    for r in rows:
        market = by_id.get(r.get("instrument_name"))
        if market is None or not market.get("option") or not r.get("position"):
            continue
        inst = option_instrument(venue, market, ex.precisionMode)
        price = Decimal(str(r.get("index_price") or r["mark_price"]))
        settled = settlement(venue, inst, Decimal(str(r["position"])), price)
        out.append(settled)
    return out


CODES: Mapping[str, type[Rejected]] = {
    "10009": InsufficientFunds,  # not_enough_funds
    "10005": PriceOutOfBand,  # price_too_low <limit>
    "10006": PriceOutOfBand,  # price_too_low4idx
    "10007": PriceOutOfBand,  # price_too_high <limit>
    "10008": PriceOutOfBand,  # price_too_high4idx
    "10011": PriceOutOfBand,  # price_not_allowed
    "10043": PriceOutOfBand,  # price_wrong_tick
    "10012": InstrumentUnavailable,  # book_closed (expired, settling)
    "10020": InstrumentUnavailable,  # invalid_or_unsupported_instrument
    "11037": InstrumentUnavailable,  # outdated_instrument_for_IV_order
    "13019": InstrumentUnavailable,  # orderbook_closed
    "13020": InstrumentUnavailable,  # not_found
}

DERIBIT = VenueProfile(
    ccxt_id="deribit",
    credentials=("apiKey", "secret"),
    client_id=ClientIdRule("label", re.compile(r".{1,64}")),
    lookup=Lookup.HOOK,
    lookup_hook=_by_label,
    fills=StreamRule("fetch_my_trades", per_symbol=True, page=PAGE),
    funding=StreamRule(hook=_funding),
    funding_sign=1,
    funding_period_ms=DAY_MS,
    settlements=StreamRule(hook=_deliveries),
    account=AccountRules(set_leverage=False, set_margin_mode=False, one_way_only=True),
    usd_amount_inverse=True,
    option_iv_per_fraction=Decimal(100),
    # the book summary by settlement currency: every option but their greeks, in one call
    option_bulk=lambda market, asset, settle: ("fetch_option_chain", settle, ()),
    error_codes=CODES,
)
