"""One contract suite for options on every venue path: PaperVenue + ReplayMarketData (real
ETHUSDT replay, Deribit-style inverse options at the real DVOL) and CcxtVenue + CcxtMarketData
on the Deribit and Bybit emulators.

What a strategy and the executor rely on whichever venue runs: the chain lists live options
whose symbols say what the Instrument says; a quote's mark is the premium per contract in the
instrument's settle currency, with the underlying in USD and greeks per unit of it; limit IOC
orders never fill past their limit and leave nothing resting; positions count contracts and
base units; reduce-only orders only ever close. Venue specifics (wire format, fees, tick
grids, error codes) stay in test_ccxt_options.py and test_paper_options.py.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import count

import pytest
from conftest import OptionContract

from bot.domain.market import Instrument, InstrumentKind, OptionType, Quote
from bot.domain.orders import HedgePosition, OrderIntent, OrderStatus, Side
from bot.errors import Rejected
from bot.options.chain import parse_symbol

DAY_MS = 86_400_000
EIGHT_UTC_MS = 8 * 3_600_000
_ids = count(1)


def intent(
    rig: OptionContract,
    inst: Instrument,
    quote: Quote,
    side: Side,
    limit: Decimal,
    *,
    amount: Decimal | None = None,
    reduce_only: bool = False,
) -> OrderIntent:
    """An option order as the planner sends it: contracts, a limit premium, IOC by type."""
    n = next(_ids)
    contracts = inst.min_amount if amount is None else amount
    return OrderIntent(
        plan_id=f"optc{n}",
        leg=0,
        venue=rig.venue.name,
        symbol=inst.symbol,
        side=side,
        amount=contracts,
        amount_base=contracts * inst.contract_size,
        reduce_only=reduce_only,
        client_id=f"{0xC000 + n:032x}",
        reason="option contract test",
        decision_price=quote.underlying or Decimal(0),
        order_type="limit",
        limit_price=limit,
    )


async def held(rig: OptionContract, symbol: str) -> list[HedgePosition]:
    return [p for p in await rig.venue.positions() if p.symbol == symbol]


def touch(quote: Quote) -> tuple[Decimal, Decimal]:
    assert quote.bid is not None and quote.ask is not None, f"{quote.symbol}: one-sided book"
    return quote.bid, quote.ask


# ---- the chain --------------------------------------------------------------------------


async def test_chain_lists_live_eth_options_whose_symbols_match_their_fields(
    option_contract: OptionContract,
) -> None:
    rig = option_contract
    now = rig.clock.now_ms()
    chain = await rig.market.option_chain("ETH")
    assert chain
    for symbol, inst in chain.items():
        assert inst.symbol == symbol
        assert inst.kind is InstrumentKind.OPTION and inst.asset == "ETH"
        assert isinstance(inst.strike, Decimal) and inst.strike > 0
        assert inst.expiry_ms is not None and inst.expiry_ms > now
        assert inst.expiry_ms % DAY_MS == EIGHT_UTC_MS, f"{symbol}: expiry not at 08:00 UTC"
        assert inst.option_type in (OptionType.CALL, OptionType.PUT)
        assert inst.contract_size > 0 and inst.price_step > 0
        assert inst.amount_step > 0 and inst.min_amount > 0
        base, _, settle, expiry_ms, strike, kind = parse_symbol(symbol)
        assert (base, settle, expiry_ms, strike, kind) == (
            inst.asset,
            inst.settle,
            inst.expiry_ms,
            inst.strike,
            inst.option_type,
        )
        # premium currency = settle: the coin exactly when the option is inverse
        assert inst.inverse == (inst.settle == inst.asset)
    calls = {(i.expiry_ms, i.strike) for i in chain.values() if i.option_type is OptionType.CALL}
    puts = {(i.expiry_ms, i.strike) for i in chain.values() if i.option_type is OptionType.PUT}
    assert calls == puts  # every strike listed as a call and a put
    assert await rig.market.option_chain("SOL") == {}


async def test_chain_drops_an_expiry_once_it_settles(option_contract: OptionContract) -> None:
    rig = option_contract
    first = min(i.expiry_ms or 0 for i in (await rig.market.option_chain("ETH")).values())
    rig.clock.ms = first
    chain = await rig.market.option_chain("ETH")
    assert chain and all((i.expiry_ms or 0) > first for i in chain.values())


# ---- quotes -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [OptionType.CALL, OptionType.PUT])
async def test_quote_has_a_premium_book_vol_underlying_and_greeks(
    option_contract: OptionContract, kind: OptionType
) -> None:
    rig = option_contract
    inst, q = await rig.near_money(kind)
    assert q.symbol == inst.symbol and q.ts_ms == rig.clock.now_ms()
    bid, ask = touch(q)
    assert 0 < bid < ask
    assert bid <= q.mark <= ask  # the mark is in the book's unit: premium per contract
    assert q.implied_vol is not None and 0 < q.implied_vol < 5
    assert q.underlying is not None and q.underlying > 0
    g = q.greeks
    assert g is not None and g.source in ("venue", "black76")
    if kind is OptionType.CALL:
        assert 0 <= g.delta <= 1
    else:
        assert -1 <= g.delta <= 0
    assert 0.2 < abs(g.delta) < 0.8  # near the money
    assert g.gamma > 0 and g.vega > 0 and g.theta < 0


async def test_call_and_put_at_one_strike_agree_by_parity(option_contract: OptionContract) -> None:
    """Premiums in the settle currency (coin x underlying for inverse = USD) and greeks per
    unit of the underlying: call - put = F - K and delta_call - delta_put = 1."""
    rig = option_contract
    call, _ = await rig.near_money(OptionType.CALL)
    put_symbol = next(
        s
        for s, i in (await rig.market.option_chain("ETH")).items()
        if (i.expiry_ms, i.strike, i.option_type) == (call.expiry_ms, call.strike, OptionType.PUT)
    )
    snap = await rig.market.snapshot([call.symbol, put_symbol])
    cq, pq = snap.quotes[call.symbol], snap.quotes[put_symbol]
    assert cq.underlying is not None and call.strike is not None
    assert cq.greeks is not None and pq.greeks is not None
    to_usd = cq.underlying if call.inverse else Decimal(1)
    parity = (cq.mark - pq.mark) * to_usd / call.contract_size - (cq.underlying - call.strike)
    assert abs(parity) < cq.underlying * Decimal("0.001")
    assert cq.greeks.delta - pq.greeks.delta == pytest.approx(1, abs=1e-3)
    assert cq.greeks.gamma == pytest.approx(pq.greeks.gamma, rel=0.05)
    assert cq.greeks.vega == pytest.approx(pq.greeks.vega, rel=1e-3)


# ---- orders -----------------------------------------------------------------------------


async def test_ioc_buy_at_the_ask_fills_opens_a_long_and_is_found(
    option_contract: OptionContract,
) -> None:
    rig = option_contract
    inst, q = await rig.near_money()
    _, ask = touch(q)
    limit = ask + inst.price_step
    sent = intent(rig, inst, q, Side.BUY, limit)
    ack = await rig.venue.submit(sent)
    assert ack.status is OrderStatus.FILLED and ack.filled == inst.min_amount
    assert ack.side is Side.BUY and ack.client_id == sent.client_id
    # the premium per contract, in the quote's unit, never past the limit
    assert ack.average_price is not None and ask <= ack.average_price <= limit
    assert ack.fee > 0 and ack.fee_currency == inst.settle  # fees in the premium currency
    if ack.fills:  # per-trade fills are optional; the executor derives one from the ack
        assert sum(f.amount for f in ack.fills) == ack.filled
        assert all(ask <= f.price <= limit for f in ack.fills)
    [pos] = await held(rig, inst.symbol)
    assert pos.asset == "ETH"
    assert pos.contracts == ack.filled
    assert pos.size_base == pos.contracts * inst.contract_size
    found = await rig.venue.order_by_client_id(inst.symbol, sent.client_id)
    assert found is not None and found.venue_order_id == ack.venue_order_id
    assert found.status is OrderStatus.FILLED and found.filled == inst.min_amount
    assert await rig.venue.open_orders(inst.symbol) == []


async def test_ioc_buy_below_the_ask_fills_nothing_and_rests_nothing(
    option_contract: OptionContract,
) -> None:
    rig = option_contract
    inst, q = await rig.near_money()
    _, ask = touch(q)
    sent = intent(rig, inst, q, Side.BUY, ask - inst.price_step)
    ack = await rig.venue.submit(sent)
    assert ack.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED)
    assert ack.filled == 0 and ack.fills == ()
    assert await held(rig, inst.symbol) == []
    assert await rig.venue.open_orders(inst.symbol) == []
    found = await rig.venue.order_by_client_id(inst.symbol, sent.client_id)
    assert found is not None and found.status.final and found.filled == 0


async def test_reduce_only_sell_at_the_bid_closes_the_long_and_never_flips(
    option_contract: OptionContract,
) -> None:
    rig = option_contract
    inst, q = await rig.near_money()
    bid, ask = touch(q)
    lot = inst.min_amount
    assert (await rig.venue.submit(intent(rig, inst, q, Side.BUY, ask))).filled == lot
    with pytest.raises(Rejected):  # more than is held: would open a short
        await rig.venue.submit(
            intent(rig, inst, q, Side.SELL, bid, amount=2 * lot, reduce_only=True)
        )
    [pos] = await held(rig, inst.symbol)
    assert pos.contracts == lot
    ack = await rig.venue.submit(intent(rig, inst, q, Side.SELL, bid, reduce_only=True))
    assert ack.status is OrderStatus.FILLED and ack.filled == lot and ack.side is Side.SELL
    assert ack.average_price is not None and bid <= ack.average_price  # never below the limit
    assert await held(rig, inst.symbol) == []


async def test_reduce_only_sell_with_no_position_is_refused(
    option_contract: OptionContract,
) -> None:
    rig = option_contract
    inst, q = await rig.near_money()
    bid, _ = touch(q)
    sent = intent(rig, inst, q, Side.SELL, bid, reduce_only=True)
    with pytest.raises(Rejected):
        await rig.venue.submit(sent)
    assert await held(rig, inst.symbol) == []
    # refused, not accepted: there is no order for a recovery lookup to find
    assert await rig.venue.order_by_client_id(inst.symbol, sent.client_id) is None


# ---- expiry -------------------------------------------------------------------------------


async def test_options_held_at_expiry_are_reported_as_settlements(
    option_contract: OptionContract,
) -> None:
    """A call and a put of one strike held to expiry: the venue reports both as settled, each
    paying its intrinsic value at the delivery price (over it, for inverse options, in the
    coin), and holds neither any more."""
    rig = option_contract
    call, q_call = await rig.near_money(OptionType.CALL, min_days=0)
    chain = await rig.market.option_chain("ETH")
    put = next(
        i
        for i in chain.values()
        if (i.expiry_ms, i.strike, i.option_type) == (call.expiry_ms, call.strike, OptionType.PUT)
    )
    q_put = (await rig.market.snapshot([put.symbol])).quotes[put.symbol]
    for inst, q in ((call, q_call), (put, q_put)):
        _, ask = touch(q)
        await rig.venue.submit(intent(rig, inst, q, Side.BUY, ask + inst.price_step))
    assert call.expiry_ms is not None
    rig.clock.ms = call.expiry_ms + 60_000
    rig.expire()
    settled = {s.symbol: s for s in await rig.venue.settlements(0, ["ETH"])}
    assert set(settled) == {call.symbol, put.symbol}
    for inst in (call, put):
        s = settled[inst.symbol]
        assert s.contracts == inst.min_amount and s.currency == inst.settle
        strike = inst.strike or Decimal(0)
        usd = max(s.settle_price - strike, 0) if inst is call else max(strike - s.settle_price, 0)
        per = usd / s.settle_price if inst.inverse else usd
        assert s.payout == per * s.contracts * inst.contract_size
    assert sum(s.payout for s in settled.values()) > 0  # one of the two is in the money
    assert [p for p in await rig.venue.positions() if p.symbol in settled] == []
