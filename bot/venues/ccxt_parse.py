"""ccxt's unified dicts -> our frozen values (Instrument, OrderAck, HedgePosition, ...).

ccxt hands out floats; they become Decimal through `str` so 0.001 stays 0.001.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.domain.account import Liquidation
from bot.domain.market import Instrument
from bot.domain.orders import Fill, FundingPayment, HedgePosition, OrderAck, OrderStatus, Side

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


def usd_contracts(m: Mapping[str, Any], usd_amount_inverse: bool) -> bool:
    """True where the venue counts this market's amounts in USD (Deribit inverse perps):
    one of our contracts is then 1 USD, whatever ccxt's contractSize says."""
    return usd_amount_inverse and bool(m.get("inverse")) and not m.get("option")


def instrument(
    venue: str, m: Mapping[str, Any], precision_mode: int, usd_amount_inverse: bool = False
) -> Instrument:
    limits = m.get("limits") or {}
    precision = m.get("precision") or {}
    size = 1 if usd_contracts(m, usd_amount_inverse) else (m.get("contractSize") or 1)
    amount_step = step(precision.get("amount"), precision_mode)
    return Instrument(
        venue=venue,
        symbol=m["symbol"],
        asset=m["base"],
        contract_size=dec0(size),
        amount_step=amount_step,
        price_step=step(precision.get("price"), precision_mode),
        # no listed minimum (Hyperliquid): one lot is the least the venue takes
        min_amount=dec((limits.get("amount") or {}).get("min")) or amount_step,
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
    """A ccxt order as OrderAck; `client_id` is ours (the caller maps the venue's form);
    `side`/`amount` fill in what a terse ack leaves out."""
    amt = dec(raw.get("amount"), amount) or Decimal(0)
    filled = dec0(raw.get("filled"))
    fee = raw.get("fee") or {}
    return OrderAck(
        client_id=client_id,
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


def position(
    venue: str, p: Mapping[str, Any], market: Mapping[str, Any], usd_amount_inverse: bool = False
) -> HedgePosition:
    """Signed contracts and base size; inverse perp/future contracts are USD, so base =
    USD / mark. Options count in the coin even when inverse (Deribit: 1 ETH per contract)."""
    contracts = dec0(p.get("contracts"))
    if p.get("side") == "short":
        contracts = -abs(contracts)
    size = dec0(p.get("contractSize") or market.get("contractSize") or 1)
    if usd_contracts(market, usd_amount_inverse):
        size = Decimal(1)
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
    """`sign` = -1 where the venue reports a payment as positive (Bybit's execFee). A row
    without an id of its own (Hyperliquid's funding hash is all zeros) is named by symbol
    and time: one payment per symbol per funding time."""
    info = r.get("info") or {}
    ident = str(r.get("id") or info.get("tranId") or "")
    if not ident.strip("0x"):
        ident = f"{r.get('symbol')}:{r.get('timestamp')}"
    return FundingPayment(
        venue=venue,
        symbol=r.get("symbol") or "",
        amount=sign * dec0(r.get("amount")),
        currency=r.get("code") or market.get("settle") or "",
        rate=dec0(info.get("fundingRate") or info.get("funding_rate") or r.get("rate")),
        ts_ms=int(r.get("timestamp") or 0),
        payment_id=ident,
    )


def fill(
    venue: str,
    t: Mapping[str, Any],
    client_id: str,
    market: Mapping[str, Any],
    usd_amount_inverse: bool = False,
) -> Fill:
    """A ccxt trade (from a trades endpoint) as our Fill: its fee paid > 0 in its currency,
    its size in contracts and in the asset."""
    fee = t.get("fee") or {}
    amount, price = dec0(t.get("amount")), dec0(t.get("price"))
    if usd_contracts(market, usd_amount_inverse):
        base = amount / price if price else None
    else:
        base = amount * dec0(market.get("contractSize") or 1)
    return Fill(
        client_id=client_id,
        venue_order_id=str(t.get("order") or ""),
        trade_id=str(t.get("id") or ""),
        symbol=t["symbol"],
        side=Side(str(t["side"])),
        amount=amount,
        price=price,
        fee=dec0(fee.get("cost")),
        fee_currency=str(fee.get("currency") or ""),
        ts_ms=int(t.get("timestamp") or 0),
        venue=venue,
        amount_base=base,
    )


def liquidation(venue: str, r: Mapping[str, Any], kind: str) -> Liquidation:
    """A ccxt liquidation; the closing side and the venue's id come from `info` when ccxt
    leaves them out of the unified structure."""
    info = r.get("info") or {}
    side = str(r.get("side") or info.get("side") or "").lower()
    ident = info.get("orderId") or info.get("execId") or info.get("tid") or info.get("trade_id")
    return Liquidation(
        venue=venue,
        symbol=str(r.get("symbol") or ""),
        side={"b": "buy", "a": "sell"}.get(side, side),
        contracts=dec0(r.get("contracts")),
        price=dec0(r.get("price")),
        ts_ms=int(r.get("timestamp") or 0),
        kind=kind,
        liquidation_id=str(ident or r.get("timestamp") or ""),
    )
