"""Targets minus current hedges -> order intents sized to each venue market's rules (pure).

Quantities: targets and hedges in signed base units of the asset; order amounts in venue
contracts. Linear markets: `contract_size` base units per contract (OKX ETH-USDT-SWAP:
0.1 ETH). Inverse markets: `contract_size` USD per contract (Deribit ETH-PERPETUAL: 1 USD),
so contracts = base * price / contract_size. Amounts are rounded toward zero to
`amount_step`; a leg under `min_amount` contracts or `min_cost` notional is skipped with
its reason, never sent for the venue to reject. A leg that only shrinks the position is
`reduce_only`; a flip is split into a reduce-only close and an opening leg.

Options (`plan_options`) are planned by symbol, not by asset: contracts = base /
contract_size, rounded toward zero to `amount_step`, sent as limit immediate-or-cancel
orders at the worst acceptable premium per contract (ask x (1 + slippage) to buy, bid x
(1 - slippage) to sell, rounded to the tick toward the touch so they never cross more).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from bot.domain.market import Instrument, InstrumentKind, Quote
from bot.domain.orders import HedgePosition, HedgeTarget, OrderIntent, Side, SkippedLeg

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Plan:
    """What one tick wants sent, and what it decided not to send (with why)."""

    intents: tuple[OrderIntent, ...]
    skipped: tuple[SkippedLeg, ...]


def client_id(plan_id: str, leg: int, attempt: int = 0) -> str:
    """32 lowercase hex chars, the same for the same plan, leg and attempt.

    Fits every venue's client order id (OKX allows only 1-32 alphanumerics).
    """
    return hashlib.sha256(f"{plan_id}|{leg}|{attempt}".encode()).hexdigest()[:32]


def round_down(amount: Decimal, step: Decimal) -> Decimal:
    """Round a non-negative amount toward zero to a multiple of `step`."""
    if step <= 0:
        return amount
    return (amount / step).to_integral_value(rounding=ROUND_DOWN) * step


def to_contracts(base: Decimal, inst: Instrument, price: Decimal) -> Decimal:
    """Base units -> contracts (unrounded, sign kept)."""
    if inst.inverse:
        return base * price / inst.contract_size
    return base / inst.contract_size


def to_base(contracts: Decimal, inst: Instrument, price: Decimal) -> Decimal:
    """Contracts -> base units (sign kept)."""
    if inst.inverse:
        return contracts * inst.contract_size / price
    return contracts * inst.contract_size


def notional(contracts: Decimal, inst: Instrument, price: Decimal) -> Decimal:
    """What the venue's min cost is checked against (USD or settle currency)."""
    if inst.inverse:
        return contracts * inst.contract_size
    return contracts * inst.contract_size * price


def _current(hedge: HedgePosition | Decimal | None) -> Decimal:
    if hedge is None:
        return ZERO
    if isinstance(hedge, HedgePosition):
        return hedge.size_base
    return hedge


def split_legs(current: Decimal, target: Decimal) -> list[tuple[Decimal, bool]]:
    """Signed base changes from `current` to `target`, each with its reduce-only flag."""
    change = target - current
    if change == 0:
        return []
    if current == 0 or (change > 0) == (current > 0):
        return [(change, False)]
    if abs(change) <= abs(current):
        return [(change, True)]
    return [(-current, True), (change + current, False)]


@dataclass(frozen=True, slots=True)
class _Leg:
    target: HedgeTarget
    symbol: str
    change_base: Decimal
    reduce_only: bool


def _size(leg: _Leg, inst: Instrument, price: Decimal) -> Decimal | str:
    """Contracts to send (positive), or why not."""
    wanted = abs(to_contracts(leg.change_base, inst, price))
    amount = round_down(wanted, inst.amount_step)
    if amount <= 0:
        return f"{wanted:.6g} contracts rounds to 0 at step {inst.amount_step}"
    if amount < inst.min_amount:
        return f"{amount} contracts below the venue minimum {inst.min_amount}"
    cost = notional(amount, inst, price)
    if cost < inst.min_cost:
        return f"notional {cost:.2f} below the venue minimum {inst.min_cost} {inst.settle}"
    return amount


def _legs(target: HedgeTarget, current: Decimal, inst: Instrument) -> list[_Leg]:
    symbol = target.symbol or inst.symbol
    return [_Leg(target, symbol, c, r) for c, r in split_legs(current, target.target_base)]


def plan(
    targets: Sequence[HedgeTarget],
    hedges: Mapping[str, HedgePosition | Decimal],
    instruments: Mapping[str, Instrument],
    prices: Mapping[str, Decimal],
    plan_id: str,
    attempt: int = 0,
) -> Plan:
    """Order intents that move each acting target's asset from its hedge to its target.

    `hedges`, `instruments` and `prices` are keyed by asset; `prices` in USD.
    """
    intents: list[OrderIntent] = []
    skipped: list[SkippedLeg] = []
    for target in targets:
        if not target.act:
            continue
        inst = instruments.get(target.asset)
        price = prices.get(target.asset)
        if inst is None or price is None or price <= 0:
            missing = "instrument" if inst is None else "price"
            why = f"no {missing} for {target.asset}; configure a hedge market for it"
            skipped.append(SkippedLeg(target.asset, target.symbol, target.target_base, why))
            continue
        for leg in _legs(target, _current(hedges.get(target.asset)), inst):
            size = _size(leg, inst, price)
            if isinstance(size, str):
                skipped.append(SkippedLeg(target.asset, leg.symbol, leg.change_base, size))
                continue
            n = len(intents)
            intents.append(
                OrderIntent(
                    plan_id=plan_id,
                    leg=n,
                    venue=inst.venue,
                    symbol=leg.symbol,
                    side=Side.BUY if leg.change_base > 0 else Side.SELL,
                    amount=size,
                    amount_base=to_base(size, inst, price),
                    reduce_only=leg.reduce_only,
                    client_id=client_id(plan_id, n, attempt),
                    reason=target.reason,
                    decision_price=price,
                    attempt=attempt,
                )
            )
    return Plan(tuple(intents), tuple(skipped))


def filled_base(intent: OrderIntent) -> Decimal:
    """Signed base change an intent makes when fully filled."""
    return intent.amount_base if intent.side is Side.BUY else -intent.amount_base


def option_limit(side: Side, quote: Quote, inst: Instrument, slippage: Decimal) -> Decimal | str:
    """Worst acceptable premium per contract, or why there is none (no bid/ask)."""
    tick = inst.price_step
    if side is Side.BUY:
        if quote.ask is None or quote.ask <= 0:
            return f"no ask for {inst.symbol}"
        raw, rounding = quote.ask * (1 + slippage), ROUND_FLOOR
    else:
        if quote.bid is None or quote.bid <= 0:
            return f"no bid for {inst.symbol}"
        raw, rounding = quote.bid * (1 - slippage), ROUND_CEILING
    if tick <= 0:
        return raw
    return max((raw / tick).to_integral_value(rounding=rounding) * tick, tick)


def _option_size(change_base: Decimal, inst: Instrument) -> Decimal | str:
    wanted = abs(change_base) / inst.contract_size
    amount = round_down(wanted, inst.amount_step)
    if amount <= 0:
        return f"{wanted:.6g} contracts rounds to 0 at step {inst.amount_step}"
    if amount < inst.min_amount:
        return f"{amount} contracts below the venue minimum {inst.min_amount}"
    return amount


def _option_inputs(
    target: HedgeTarget,
    instruments: Mapping[str, Instrument],
    quotes: Mapping[str, Quote],
    prices: Mapping[str, Decimal],
) -> tuple[Instrument, Quote, Decimal] | str:
    inst = instruments.get(target.symbol)
    if inst is None or inst.kind is not InstrumentKind.OPTION:
        return f"no option instrument for {target.symbol}"
    quote = quotes.get(target.symbol)
    if quote is None:
        return f"no quote for {target.symbol}"
    price = prices.get(inst.asset)
    if price is None or price <= 0:
        return f"no price for {inst.asset}"
    return inst, quote, price


def plan_options(
    targets: Sequence[HedgeTarget],
    held: Mapping[str, HedgePosition | Decimal],
    instruments: Mapping[str, Instrument],
    quotes: Mapping[str, Quote],
    prices: Mapping[str, Decimal],
    plan_id: str,
    *,
    max_slippage: Decimal = Decimal("0.05"),
    first_leg: int = 0,
    attempt: int = 0,
) -> Plan:
    """Limit IOC intents moving each option symbol from what is held to its target.

    `held`, `instruments` and `quotes` are keyed by option symbol; `prices` (USD per asset)
    give each intent's `decision_price`. Legs are numbered from `first_leg`, so option
    legs share a plan id with the perp legs without sharing a client id.
    """
    intents: list[OrderIntent] = []
    skipped: list[SkippedLeg] = []
    for target in targets:
        if not target.act:
            continue
        found = _option_inputs(target, instruments, quotes, prices)
        if isinstance(found, str):
            skipped.append(SkippedLeg(target.asset, target.symbol, target.target_base, found))
            continue
        inst, quote, price = found
        for change, reduce_only in split_legs(
            _current(held.get(target.symbol)), target.target_base
        ):
            side = Side.BUY if change > 0 else Side.SELL
            size = _option_size(change, inst)
            limit = option_limit(side, quote, inst, max_slippage)
            if isinstance(size, str) or isinstance(limit, str):
                why = size if isinstance(size, str) else str(limit)
                skipped.append(SkippedLeg(target.asset, target.symbol, change, why))
                continue
            n = first_leg + len(intents)
            intents.append(
                OrderIntent(
                    plan_id=plan_id,
                    leg=n,
                    venue=inst.venue,
                    symbol=target.symbol,
                    side=side,
                    amount=size,
                    amount_base=size * inst.contract_size,
                    reduce_only=reduce_only,
                    client_id=client_id(plan_id, n, attempt),
                    reason=target.reason,
                    decision_price=price,
                    order_type="limit",
                    limit_price=limit,
                    attempt=attempt,
                )
            )
    return Plan(tuple(intents), tuple(skipped))
