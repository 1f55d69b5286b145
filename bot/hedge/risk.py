"""Risk guards: pure checks between the planner and execution.

Each guard either trims what may be sent (with a reason) or halts the tick. Inputs come
in as values (ages, prices, counts), so the guards are tested without I/O and the engine
records every verdict in the ledger.

Options count by their delta, not their size: a held option adds size x delta to its
asset's hedge, and an option order's notional is amount x |delta| x price. Option buys also
spend premium (USD, limit price x contracts, coin premiums at the asset's price), capped
per order and per UTC day; an order over a cap is trimmed to whole steps or held back.

With several chains, a chain that is unreadable or stale is a per-asset guard: no order
on an asset that chain holds (its exposure is not seen in full), while the assets held
only elsewhere trade on (`blind_assets`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, Decimal

from bot.domain.lp import ChainHead, LpPosition
from bot.domain.market import USD, AssetMap, Instrument, InstrumentKind
from bot.domain.orders import HedgePosition, OrderIntent, Side


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Limits in seconds, basis points and USD (see `[risk]` in the config)."""

    max_block_age_s: float = 180
    max_market_age_s: float = 60
    max_price_divergence_bps: float = 150
    max_hedge_notional_usd: Decimal = Decimal(1_000_000)
    max_order_notional_usd: Decimal = Decimal(250_000)
    max_orders_per_hour: int = 30
    daily_loss_limit_usd: Decimal = Decimal(50_000)
    min_liquidation_distance_pct: float = 20
    max_option_premium_per_order_usd: Decimal = Decimal(50_000)
    max_option_premium_per_day_usd: Decimal = Decimal(100_000)


@dataclass(frozen=True, slots=True)
class RiskInputs:
    """Everything the guards look at for one tick.

    `pool_prices` and `marks` are USD per asset (pool price from the chain, mark from the
    venue). `orders_last_hour` counts intents sent in the past hour, `pnl_today_usd` the
    day's PnL so far (negative = loss). `halted` carries an operator halt from the ledger.
    `option_deltas` is the delta per unit of the asset of each option symbol (held or
    ordered); `option_premium_today_usd` the premium already paid for options today.
    """

    now_ms: int
    block_ts_ms: int
    market_ts_ms: int
    pool_prices: Mapping[str, Decimal]
    marks: Mapping[str, Decimal]
    hedges: Sequence[HedgePosition] = ()
    orders_last_hour: int = 0
    pnl_today_usd: Decimal = Decimal(0)
    halted: str | None = None
    option_deltas: Mapping[str, float] = field(default_factory=dict)
    option_premium_today_usd: Decimal = Decimal(0)
    blind_assets: Mapping[str, str] = field(default_factory=dict)  # asset (or "*") -> why


ANY_ASSET = "*"  # a chain never read may hold any asset


def _held(positions: Sequence[LpPosition], assets: AssetMap) -> set[str]:
    held = {assets.asset_of(t) for p in positions for t in (p.pool.token0, p.pool.token1)}
    return held - {USD}


def _chain_problem(
    head: ChainHead,
    now_ms: int,
    max_block_age_s: float,
    unread_since_ms: Mapping[str, int],
    max_outage_s: float | None,
) -> str | None:
    if head.error is not None:
        since = unread_since_ms.get(head.name)
        down_s = 0.0 if since is None else (now_ms - since) / 1000
        if down_s < 1:
            return f"chain {head.name} unreadable: {head.error}"
        over = max_outage_s is not None and down_s >= max_outage_s
        past = f" (past chain.max_outage_s {max_outage_s:g}; the other chains trade on)"
        return f"chain {head.name} unreadable for {down_s:.0f}s{past if over else ''}: {head.error}"
    age = (now_ms - head.block_timestamp * 1000) / 1000
    if age > max_block_age_s:
        return (
            f"chain {head.name} stale: block {head.block_number} is {age:.0f}s old "
            f"(max {max_block_age_s:g}s)"
        )
    return None


def blind_assets(
    heads: Sequence[ChainHead],
    positions: Sequence[LpPosition],
    assets: AssetMap,
    now_ms: int,
    max_block_age_s: float,
    unread_since_ms: Mapping[str, int] | None = None,
    max_outage_s: float | None = None,
) -> dict[str, str]:
    """Asset -> why its exposure is not seen in full: it is held on a chain that could not
    be read (by its last good read; never read: every asset, `ANY_ASSET`) or whose block
    is older than `max_block_age_s`. `unread_since_ms`: when each unreadable chain was
    first found so, for how long it has been (and whether past `max_outage_s`, which with
    several chains stops only that chain's assets, not the bot)."""
    out: dict[str, str] = {}
    since = unread_since_ms or {}
    for head in heads:
        why = _chain_problem(head, now_ms, max_block_age_s, since, max_outage_s)
        if why is None:
            continue
        if head.error is not None and head.last_seen is None:
            out.setdefault(ANY_ASSET, why)
            continue
        seen = head.last_seen if head.error is not None else None
        held = _held(seen or [p for p in positions if p.chain == head.name], assets)
        for asset in sorted(held):
            out.setdefault(asset, why)
    return out


@dataclass(frozen=True, slots=True)
class Verdict:
    """What may be sent. `halt` set means nothing is sent and the reason is recorded."""

    approved: tuple[OrderIntent, ...]
    halt: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def halted(self) -> bool:
        return self.halt is not None


def _halts(inputs: RiskInputs, limits: RiskLimits) -> str | None:
    """The first tick-level guard that fires, or None."""
    if inputs.halted:
        return f"halted by operator: {inputs.halted}"
    block_age = (inputs.now_ms - inputs.block_ts_ms) / 1000
    if block_age > limits.max_block_age_s:
        return (
            f"stale chain data: last block is {block_age:.0f}s old "
            f"(max {limits.max_block_age_s:g}s)"
        )
    market_age = (inputs.now_ms - inputs.market_ts_ms) / 1000
    if market_age > limits.max_market_age_s:
        return (
            f"stale market data: snapshot is {market_age:.0f}s old "
            f"(max {limits.max_market_age_s:g}s)"
        )
    for asset, pool_price in sorted(inputs.pool_prices.items()):
        mark = inputs.marks.get(asset)
        if mark is None or mark <= 0 or pool_price <= 0:
            continue
        bps = abs(pool_price / mark - 1) * 10_000
        if bps > Decimal(str(limits.max_price_divergence_bps)):
            return (
                f"price divergence on {asset}: pool {pool_price:.2f} vs venue mark {mark:.2f} "
                f"({bps:.0f} bp > {limits.max_price_divergence_bps:g} bp)"
            )
    if inputs.pnl_today_usd < -limits.daily_loss_limit_usd:
        return (
            f"daily loss limit: {inputs.pnl_today_usd:.2f} USD today "
            f"(limit -{limits.daily_loss_limit_usd} USD)"
        )
    return _liquidation_halt(inputs, limits)


def _liquidation_halt(inputs: RiskInputs, limits: RiskLimits) -> str | None:
    for h in inputs.hedges:
        mark = inputs.marks.get(h.asset)
        if h.liquidation_price is None or h.liquidation_price <= 0 or not mark:
            continue
        distance = abs(mark - h.liquidation_price) / mark * 100
        if distance < Decimal(str(limits.min_liquidation_distance_pct)):
            return (
                f"margin: {h.symbol} is {distance:.1f}% from liquidation at "
                f"{h.liquidation_price:.2f} (min {limits.min_liquidation_distance_pct:g}%): "
                "add margin"
            )
    return None


def _asset_of(intent: OrderIntent, instruments: Mapping[str, Instrument]) -> str:
    inst = instruments.get(intent.symbol)
    return inst.asset if inst else intent.symbol.split("/")[0]


def _trim(intent: OrderIntent, inst: Instrument | None, scale: Decimal) -> OrderIntent | None:
    """`intent` with its amount scaled by `scale` (< 1) down to whole steps; None if that
    leaves nothing or less than the venue minimum."""
    step = inst.amount_step if inst else Decimal("0.001")
    amount = (intent.amount * scale / step).to_integral_value(ROUND_DOWN) * step
    if amount <= 0 or (inst is not None and amount < inst.min_amount):
        return None
    return replace(intent, amount=amount, amount_base=intent.amount_base * amount / intent.amount)


def _cap_order(
    intent: OrderIntent, price: Decimal, inst: Instrument | None, limits: RiskLimits
) -> tuple[OrderIntent | None, str | None]:
    """Cap an order's notional (`price` x base, or x |delta| for options)."""
    notional = intent.amount_base * price
    if notional <= limits.max_order_notional_usd or intent.reduce_only:
        return intent, None
    capped = _trim(intent, inst, limits.max_order_notional_usd / notional)
    if capped is None:
        return None, f"{intent.client_id}: dropped, one step exceeds max order notional"
    note = (
        f"{intent.client_id}: order notional {notional:.0f} USD capped to "
        f"{limits.max_order_notional_usd} USD ({intent.amount} -> {capped.amount} contracts)"
    )
    return capped, note


def premium_usd(intent: OrderIntent, inst: Instrument | None, price: Decimal) -> Decimal:
    """What an option order pays at most: limit price x contracts, in USD."""
    per_contract = intent.limit_price if intent.limit_price is not None else Decimal(0)
    paid = per_contract * intent.amount
    return paid * price if inst is not None and inst.inverse else paid


def _cap_premium(
    intent: OrderIntent, inst: Instrument | None, price: Decimal, spent: Decimal, limits: RiskLimits
) -> tuple[OrderIntent | None, str | None]:
    """Trim an option buy to the premium left per order and for the day."""
    premium = premium_usd(intent, inst, price)
    left_today = limits.max_option_premium_per_day_usd - spent
    allowed = min(limits.max_option_premium_per_order_usd, left_today)
    if intent.side is not Side.BUY or intent.reduce_only or premium <= allowed:
        return intent, None
    which = (
        f"max per order {limits.max_option_premium_per_order_usd} USD"
        if allowed == limits.max_option_premium_per_order_usd
        else f"max per day {limits.max_option_premium_per_day_usd} USD, {spent:.2f} spent today"
    )
    capped = _trim(intent, inst, allowed / premium) if allowed > 0 else None
    if capped is None:
        return None, f"{intent.client_id}: held back, option premium {premium:.2f} USD > {which}"
    note = (
        f"{intent.client_id}: option premium {premium:.2f} USD capped ({which}): "
        f"{intent.amount} -> {capped.amount} contracts"
    )
    return capped, note


def _signed(intent: OrderIntent) -> Decimal:
    return intent.amount_base if intent.side.value == "buy" else -intent.amount_base


def _is_option(symbol: str, inputs: RiskInputs, instruments: Mapping[str, Instrument]) -> bool:
    inst = instruments.get(symbol)
    return symbol in inputs.option_deltas or (
        inst is not None and inst.kind is InstrumentKind.OPTION
    )


def _delta_weight(
    symbol: str, inputs: RiskInputs, instruments: Mapping[str, Instrument]
) -> Decimal:
    """Delta per unit of size: 1 for perps, the option's delta for options (1 if unknown)."""
    if not _is_option(symbol, inputs, instruments):
        return Decimal(1)
    delta = inputs.option_deltas.get(symbol)
    return Decimal(1) if delta is None else Decimal(repr(delta))


def _seen_in_full(
    intents: Sequence[OrderIntent],
    blind: Mapping[str, str],
    instruments: Mapping[str, Instrument],
) -> tuple[list[OrderIntent], list[str]]:
    """The intents on assets whose exposure every chain shows; notes for the others."""
    kept, notes = [], []
    for intent in intents:
        asset = _asset_of(intent, instruments)
        why = blind.get(asset) or blind.get(ANY_ASSET)
        if why:
            notes.append(f"{intent.client_id}: held back, {asset} exposure not seen in full: {why}")
        else:
            kept.append(intent)
    return kept, notes


def check(
    intents: Sequence[OrderIntent],
    inputs: RiskInputs,
    limits: RiskLimits,
    instruments: Mapping[str, Instrument] | None = None,
) -> Verdict:
    """Apply every guard. Reduce-only orders pass the size and rate caps (they cut risk)."""
    halt = _halts(inputs, limits)
    if halt:
        return Verdict((), halt=halt)
    instruments = instruments or {}
    exposure: dict[str, Decimal] = {}
    for h in inputs.hedges:
        weight = _delta_weight(h.symbol, inputs, instruments)
        exposure[h.asset] = exposure.get(h.asset, Decimal(0)) + h.size_base * weight
    approved: list[OrderIntent] = []
    intents, notes = _seen_in_full(intents, inputs.blind_assets, instruments)
    sent = inputs.orders_last_hour
    spent = inputs.option_premium_today_usd
    for intent in intents:
        asset = _asset_of(intent, instruments)
        price = inputs.marks.get(asset, intent.decision_price)
        inst = instruments.get(intent.symbol)
        if not intent.reduce_only and sent >= limits.max_orders_per_hour:
            notes.append(f"{intent.client_id}: held back, {sent} orders in the last hour")
            continue
        weight = _delta_weight(intent.symbol, inputs, instruments)
        capped, note = _cap_order(intent, price * abs(weight), inst, limits)
        if capped is not None and _is_option(intent.symbol, inputs, instruments):
            notes.extend([note] if note else [])
            capped, note = _cap_premium(capped, inst, price, spent, limits)
        if note:
            notes.append(note)
        if capped is None:
            continue
        after = exposure.get(asset, Decimal(0)) + _signed(capped) * weight
        if not capped.reduce_only and abs(after) * price > limits.max_hedge_notional_usd:
            notes.append(
                f"{capped.client_id}: held back, {asset} hedge would be {abs(after) * price:.0f} "
                f"USD (options by delta) > max {limits.max_hedge_notional_usd} USD"
            )
            continue
        exposure[asset] = after
        approved.append(capped)
        sent += 0 if capped.reduce_only else 1
        if _is_option(capped.symbol, inputs, instruments) and capped.side is Side.BUY:
            spent += premium_usd(capped, inst, price)
    return Verdict(tuple(approved), notes=tuple(notes))
