"""ccxt's unified dicts -> our frozen values (Instrument, OrderAck, HedgePosition, ...).

ccxt hands out floats; they become Decimal through `str` so 0.001 stays 0.001.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.domain.market import Instrument
from bot.domain.orders import FundingPayment, HedgePosition, OrderAck, OrderStatus, Side

DECIMAL_PLACES = 2  # ccxt precisionMode values
SIGNIFICANT_DIGITS = 3
TICK_SIZE = 4

_STATUS = {
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "cancelled": OrderStatus.CANCELED,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def dec(value: Any, default: Decimal | None = None) -> Decimal | None:
    """A ccxt number (float, int, str or None) as Decimal, exact to its printed digits."""
    if value is None or value == "":
        return default
    return Decimal(str(value))


def dec0(value: Any) -> Decimal:
    result = dec(value, Decimal(0))
    assert result is not None
    return result


def step(precision: Any, mode: int) -> Decimal:
    """The smallest increment for a ccxt `precision` value under `precisionMode`."""
    value = dec(precision)
    if value is None:
        return Decimal(0)
    if mode == DECIMAL_PLACES or (mode == SIGNIFICANT_DIGITS and value >= 1):
        return Decimal(1).scaleb(-int(value))
    return value


def instrument(venue: str, m: Mapping[str, Any], precision_mode: int) -> Instrument:
    limits = m.get("limits") or {}
    precision = m.get("precision") or {}
    return Instrument(
        venue=venue,
        symbol=m["symbol"],
        asset=m["base"],
        contract_size=dec0(m.get("contractSize") or 1),
        amount_step=step(precision.get("amount"), precision_mode),
        price_step=step(precision.get("price"), precision_mode),
        min_amount=dec0((limits.get("amount") or {}).get("min")),
        min_cost=dec0((limits.get("cost") or {}).get("min")),
        inverse=bool(m.get("inverse")),
        settle=m.get("settle") or m.get("quote") or "",
        taker_fee=dec0(m.get("taker")),
        maker_fee=dec0(m.get("maker")),
    )


def _status(raw: Mapping[str, Any], amount: Decimal, filled: Decimal) -> OrderStatus:
    status = _STATUS.get(str(raw.get("status")))
    if status is OrderStatus.FILLED and 0 < filled < amount:
        return OrderStatus.CANCELED  # IOC partly filled, rest cancelled (Bybit "closed")
    if status is not None:
        return status
    if raw.get("status") == "open" and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    if raw.get("status") is None and amount > 0 and filled >= amount:
        return OrderStatus.FILLED
    return OrderStatus.OPEN


def order_ack(
    raw: Mapping[str, Any],
    client_id: str,
    symbol: str,
    side: Side | None = None,
    amount: Decimal | None = None,
) -> OrderAck:
    """A ccxt order as OrderAck; `side`/`amount` fill in what a terse ack leaves out."""
    amt = dec(raw.get("amount"), amount) or Decimal(0)
    filled = dec0(raw.get("filled"))
    fee = raw.get("fee") or {}
    return OrderAck(
        client_id=raw.get("clientOrderId") or client_id,
        venue_order_id=str(raw.get("id") or ""),
        symbol=raw.get("symbol") or symbol,
        side=Side(raw["side"]) if raw.get("side") else (side or Side.BUY),
        status=_status(raw, amt, filled),
        amount=amt,
        filled=filled,
        average_price=dec(raw.get("average")),
        fee=dec0(fee.get("cost")),
        fee_currency=fee.get("currency") or "",
        ts_ms=int(raw.get("timestamp") or 0),
        info={
            "status": str(raw.get("status")),
            "venue_status": str((raw.get("info") or {}).get("status", "")),
        },
    )


def position(venue: str, p: Mapping[str, Any], market: Mapping[str, Any]) -> HedgePosition:
    """Signed contracts and base size; inverse perp/future contracts are USD, so base =
    USD / mark. Options count in the coin even when inverse (Deribit: 1 ETH per contract)."""
    contracts = dec0(p.get("contracts"))
    if p.get("side") == "short":
        contracts = -abs(contracts)
    size = dec0(p.get("contractSize") or market.get("contractSize") or 1)
    mark = dec(p.get("markPrice")) or dec(p.get("entryPrice"))
    option = market.get("type") == "option" or bool(market.get("option"))
    inverse = bool(market.get("inverse")) and not option and bool(mark)
    size_base = contracts * size / mark if inverse and mark else contracts * size
    return HedgePosition(
        venue=venue,
        symbol=p["symbol"],
        asset=market.get("base") or str(p["symbol"]).split("/")[0],
        contracts=contracts,
        size_base=size_base,
        entry_price=dec(p.get("entryPrice")),
        unrealized_pnl=dec(p.get("unrealizedPnl")),
        liquidation_price=dec(p.get("liquidationPrice")),
    )


def funding_payment(
    venue: str, r: Mapping[str, Any], market: Mapping[str, Any], sign: int = 1
) -> FundingPayment:
    """`sign` = -1 where the venue reports a payment as positive (Bybit's execFee)."""
    info = r.get("info") or {}
    return FundingPayment(
        venue=venue,
        symbol=r.get("symbol") or "",
        amount=sign * dec0(r.get("amount")),
        currency=r.get("code") or market.get("settle") or "",
        rate=dec0(info.get("fundingRate") or info.get("funding_rate") or r.get("rate")),
        ts_ms=int(r.get("timestamp") or 0),
        payment_id=str(r.get("id") or info.get("tranId") or r.get("timestamp")),
    )
