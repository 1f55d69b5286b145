"""The paper venue's option arithmetic (pure): fees, expiry payouts and short margin.

Units: `price` / `premium` per contract in the premium currency (the instrument's
`settle`: ETH for inverse Deribit options, USDC/USDT for USD-settled ones); `underlying`
USD per unit of the asset; contracts signed where the name says so.
"""

from __future__ import annotations

from decimal import Decimal

from bot.domain.events import OptionSettlement
from bot.domain.market import Instrument, OptionType, OrderBook
from bot.domain.orders import OrderIntent, Side
from bot.errors import Rejected
from bot.venues.paper_book import BookWalk, PaperPosition

ZERO = Decimal(0)
USD_LIKE = frozenset({"USD", "USDT", "USDC"})
"""Currencies the paper account holds as its USD balance (perp margin and USD premiums)."""


def option_fee(
    inst: Instrument, contracts: Decimal, premium: Decimal, underlying: Decimal, cap: Decimal
) -> Decimal:
    """Deribit's taker fee: `taker_fee` x the underlying per contract (0.0003 ETH for a 1 ETH
    inverse contract; 0.0003 x price USD for a USD-settled one), at most `cap` x the premium
    (12.5 %), in the premium currency; for `contracts` (> 0) contracts."""
    per_contract = inst.taker_fee * inst.contract_size
    if not inst.inverse:
        per_contract *= underlying
    return min(per_contract, cap * premium) * contracts


def intrinsic_usd(inst: Instrument, settle_price: Decimal) -> Decimal:
    """Payoff per unit of the asset at `settle_price`, USD."""
    strike = inst.strike or ZERO
    if inst.option_type is OptionType.CALL:
        return max(settle_price - strike, ZERO)
    return max(strike - settle_price, ZERO)


def option_payout(inst: Instrument, contracts: Decimal, settle_price: Decimal) -> Decimal:
    """Cash settlement of `contracts` (signed, long > 0) in the premium currency: per unit
    max(S - K, 0) for a call, max(K - S, 0) for a put; divided by S for inverse options."""
    per_unit = intrinsic_usd(inst, settle_price)
    if per_unit == 0:
        return ZERO
    if inst.inverse:
        per_unit /= settle_price
    return per_unit * contracts * inst.contract_size


def to_usd(amount: Decimal, inst: Instrument, underlying: Decimal) -> Decimal:
    """An amount in the instrument's premium currency -> USD (coin x the underlying)."""
    return amount * underlying if inst.inverse else amount


def short_margin_usd(
    inst: Instrument, contracts: Decimal, mark: Decimal, underlying: Decimal
) -> Decimal:
    """Initial margin of a short option (Deribit's rule): per unit of the asset
    max(0.15 - out-of-the-money / S, 0.1) x S + the mark, USD; for |contracts|."""
    strike = inst.strike or ZERO
    if inst.option_type is OptionType.CALL:
        otm = max(strike - underlying, ZERO)
    else:
        otm = max(underlying - strike, ZERO)
    rate = max(Decimal("0.15") - otm / underlying, Decimal("0.1"))
    per_unit = rate * underlying + to_usd(mark, inst, underlying) / inst.contract_size
    return per_unit * abs(contracts) * inst.contract_size


def check_option_order(
    label: str, intent: OrderIntent, inst: Instrument, pos: PaperPosition, now_ms: int
) -> None:
    """Refuse what the venue would: no limit price, below the minimum, expired, or a
    reduce-only order that would open or grow the position."""
    if intent.order_type != "limit" or intent.limit_price is None:
        raise Rejected(f"{label}: option orders are limit IOC with a limit price")
    if intent.amount <= 0 or intent.amount < inst.min_amount:
        raise Rejected(f"{label}: amount {intent.amount} below minimum {inst.min_amount}")
    if (inst.expiry_ms or 0) <= now_ms:
        raise Rejected(f"{label}: {intent.symbol} has expired")
    signed = intent.amount if intent.side is Side.BUY else -intent.amount
    if intent.reduce_only and not pos.reduces(signed):
        raise Rejected(f"{label}: reduce-only order would open or increase a position")


def ioc_reason(intent: OrderIntent, book: OrderBook, walk: BookWalk) -> str:
    """Why an immediate-or-cancel order did not fill in full."""
    levels = book.asks if intent.side is Side.BUY else book.bids
    best = f"best {levels[0].price}" if levels else "no opposite side"
    if walk.filled == 0:
        return f"IOC: nothing within limit {intent.limit_price} ({best}); canceled"
    return f"IOC: {intent.amount - walk.filled} beyond limit {intent.limit_price} canceled"


def settlement(
    venue: str, inst: Instrument, contracts: Decimal, settle_price: Decimal
) -> OptionSettlement:
    """The OPTION_SETTLEMENT of `contracts` (signed) held at expiry."""
    payout = option_payout(inst, contracts, settle_price)
    return OptionSettlement(
        venue=venue,
        symbol=inst.symbol,
        asset=inst.asset,
        contracts=contracts,
        size_base=contracts * inst.contract_size,
        strike=inst.strike or ZERO,
        option_type=inst.option_type.value if inst.option_type else "",
        expiry_ms=inst.expiry_ms or 0,
        settle_price=settle_price,
        payout=payout,
        currency=inst.settle,
        payout_usd=to_usd(payout, inst, settle_price),
    )
