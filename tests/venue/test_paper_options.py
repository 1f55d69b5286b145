"""Options on the paper venue and the offline option market behind it.

The market is the real Binance ETHUSDT 1 m replay of 2024-05-01 from 03:01 UTC (ETH 2989.80)
with Deribit-style options priced by Black-76 at the real ETH DVOL (30 Apr close 71.72 %).
Books used below, as the replay gives them at 03:01 (50 contracts a level):
- ETH/USD:ETH-240501-3000-C  asks 0.0055, 0.0056, 0.0057   bids 0.0051, 0.0050, 0.0049
- ETH/USD:ETH-240501-2900-P  asks 0.0003, 0.0004, 0.0005   bids 0.0002, 0.0001
- ETH/USDC:USDC-240501-3000-C asks 16.3, 16.5, 16.7        bids 15.2, 15.0, 14.8
- ETH/USDC:USDC-240501-2900-P asks 0.9, 1.0, 1.1           bids 0.7, 0.6, 0.5
They expire at 08:00 UTC, when ETH closes at 2869.41. Fees (Deribit): 0.0003 x the
underlying per contract, at most 12.5 % of the premium.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from conftest import ETH, eth_instrument, eth_series

from bot.clock import FixedClock
from bot.domain import events as ev
from bot.domain.market import InstrumentKind, OptionType
from bot.domain.orders import OrderIntent, OrderStatus, Side
from bot.errors import InputError, Rejected
from bot.execution import OrderExecutor, ledger_positions, reconcile
from bot.execution.account_sync import AccountSync
from bot.ledger.store import Ledger
from bot.options.black76 import greeks
from bot.options.dvol import listed_expiries, load_dvol
from bot.venues.paper import PaperVenue
from bot.venues.replay_market import ReplayMarketData
from bot.venues.replay_options import PremiumStyle, ReplayOptions, ReplayOptionsSpec

DVOL = Path(__file__).resolve().parents[3] / "shared/data/market/deribit_dvol_daily/eth_dvol.csv"
CALL = "ETH/USD:ETH-240501-3000-C"
PUT = "ETH/USD:ETH-240501-2900-P"
USD_CALL = "ETH/USDC:USDC-240501-3000-C"
USD_PUT = "ETH/USDC:USDC-240501-2900-P"
EXPIRY_MS = int(datetime(2024, 5, 1, 8, tzinfo=UTC).timestamp() * 1000)
SETTLE = D("2869.41")  # ETHUSDT close at 08:00


def market(clock: FixedClock, premium: PremiumStyle = "inverse") -> ReplayMarketData:
    options = ReplayOptions(ReplayOptionsSpec(premium=premium), load_dvol(DVOL))
    return ReplayMarketData({ETH: eth_series()}, {ETH: eth_instrument()}, clock, options=options)


def venue(
    clock: FixedClock, ledger: Ledger | None, premium: PremiumStyle = "inverse"
) -> PaperVenue:
    m = market(clock, premium)
    return PaperVenue("paper", m, ledger, clock, D(10000), price_symbols={"ETH": ETH})


def order(
    cid: str, symbol: str, side: Side, amount: str, limit: str | None, reduce_only: bool = False
) -> OrderIntent:
    return OrderIntent(
        "p",
        0,
        "paper",
        symbol,
        side,
        D(amount),
        D(amount),
        reduce_only,
        cid * 32,
        "test",
        D("2989.8"),
        order_type="limit" if limit else "market",
        limit_price=D(limit) if limit else None,
    )


async def test_replay_lists_daily_and_friday_expiries_on_the_strike_grid(clock: FixedClock) -> None:
    chain = await market(clock).option_chain("ETH")
    days = sorted({s.split("-")[1] for s in chain})
    # Wed 1 May 03:01: dailies 1, 2, 3 May; Fridays 3, 10, 17, 24 May; all at 08:00 UTC
    assert days == ["240501", "240502", "240503", "240510", "240517", "240524"]
    assert listed_expiries(clock.ms, 3, 4)[0] == EXPIRY_MS
    strikes = sorted({i.strike for i in chain.values() if i.strike is not None})
    assert strikes[0] == D(2100) and strikes[-1] == D(3875)  # 2989.8 +- 30 % on 25 USD
    assert all(k % 25 == 0 for k in strikes)
    inst = chain[CALL]
    assert inst.kind is InstrumentKind.OPTION and inst.option_type is OptionType.CALL
    assert (inst.inverse, inst.settle, inst.contract_size, inst.min_amount) == (True, "ETH", 1, 1)
    assert inst.expiry_ms == EXPIRY_MS and inst.strike == 3000


async def test_replay_quotes_black76_at_the_previous_days_dvol(clock: FixedClock) -> None:
    snap = await market(clock).snapshot([ETH, CALL])
    q = snap.quotes[CALL]
    t = (EXPIRY_MS - clock.ms) / (365 * 86_400_000)
    vol = 0.7172 + 0.3 * abs(math.log(3000 / 2989.8))  # DVOL of 30 Apr + skew
    g = greeks(2989.8, 3000.0, t, vol, True)
    assert q.underlying == D("2989.8") and snap.prices["ETH"] == D("2989.8")
    assert q.implied_vol == D(f"{vol:.6f}")
    assert q.mark == D(f"{g.price / 2989.8:.8f}")  # premium in ETH
    assert (q.bid, q.ask) == (D("0.0051"), D("0.0055"))
    assert q.greeks is not None and q.greeks.source == "black76"
    assert q.greeks.delta == pytest.approx(g.delta) and q.greeks.vega == pytest.approx(g.vega / 100)
    assert snap.volatility["ETH"] == pytest.approx(0.7172)
    with pytest.raises(InputError, match="no instrument"):
        await market(clock).instruments([USD_CALL])
    with pytest.raises(InputError, match="not a inverse option symbol"):
        ReplayOptions(ReplayOptionsSpec(), load_dvol(DVOL)).instrument(USD_CALL)


async def test_inverse_ioc_buy_fills_within_the_limit_and_pays_premium_and_fee_in_eth(
    clock: FixedClock,
) -> None:
    v = venue(clock, None)
    ack = await v.submit(order("a", CALL, Side.BUY, "60", "0.0056"))
    assert ack.status is OrderStatus.FILLED
    assert [(f.price, f.amount) for f in ack.fills] == [(D("0.0055"), 50), (D("0.0056"), 10)]
    assert all(f.fee_currency == "ETH" for f in ack.fills)
    # 0.0003 ETH per contract (12.5 % of 0.0055 is 0.0006875: no cap)
    assert ack.fee == D("0.018")
    assert v.cash == {"USD": D(10000), "ETH": D("-0.349")}  # 0.275 + 0.056 + 0.018
    [pos] = await v.positions()
    assert (pos.symbol, pos.asset, pos.contracts, pos.size_base) == (CALL, "ETH", 60, 60)
    assert pos.entry_price == D("0.331") / 60


async def test_fee_is_capped_at_an_eighth_of_the_premium(clock: FixedClock) -> None:
    v = venue(clock, None)
    ack = await v.submit(order("b", PUT, Side.BUY, "10", "0.0003"))
    assert ack.filled == 10 and ack.average_price == D("0.0003")
    assert ack.fee == D("0.000375")  # min(0.0003, 0.125 x 0.0003) x 10
    assert v.cash["ETH"] == D("-0.003375")


async def test_nothing_within_the_limit_is_canceled_with_the_reason(clock: FixedClock) -> None:
    v = venue(clock, None)
    ack = await v.submit(order("c", CALL, Side.BUY, "5", "0.0054"))
    assert ack.status is OrderStatus.CANCELED and ack.filled == 0 and ack.fills == ()
    assert "nothing within limit 0.0054 (best 0.0055)" in ack.info["canceled"]
    assert v.cash == {"USD": D(10000)} and await v.positions() == []
    part = await v.submit(order("d", CALL, Side.BUY, "120", "0.0056"))  # 100 within the limit
    assert part.status is OrderStatus.CANCELED and part.filled == 100
    assert "20 beyond limit 0.0056 canceled" in part.info["canceled"]


async def test_option_orders_must_be_limit_and_reduce_only_must_reduce(clock: FixedClock) -> None:
    v = venue(clock, None)
    with pytest.raises(Rejected, match="limit IOC"):
        await v.submit(order("e", CALL, Side.BUY, "1", None))
    with pytest.raises(Rejected, match="reduce-only"):
        await v.submit(order("f", CALL, Side.SELL, "1", "0.0040", reduce_only=True))
    await v.submit(order("g", CALL, Side.BUY, "3", "0.0060"))
    sell = await v.submit(order("h", CALL, Side.SELL, "3", "0.0050", reduce_only=True))
    assert [(f.price, f.amount) for f in sell.fills] == [(D("0.0051"), 3)]
    # bought 3 at 0.0055, sold 3 at 0.0051, fees 6 x 0.0003
    assert v.cash["ETH"] == D("-0.0165") + D("0.0153") - D("0.0018")
    assert await v.positions() == []


async def test_premium_beyond_free_equity_is_rejected(clock: FixedClock) -> None:
    v = PaperVenue("paper", market(clock), None, clock, D(50), price_symbols={"ETH": ETH})
    with pytest.raises(Rejected, match="insufficient funds"):
        await v.submit(order("i", CALL, Side.BUY, "10", "0.0060"))  # 0.058 ETH = 173 USD


async def test_inverse_options_settle_at_expiry_in_eth(clock: FixedClock, ledger: Ledger) -> None:
    v = venue(clock, ledger)
    sync = AccountSync(v, ledger, clock, "r", start_ms=0)
    await OrderExecutor(v, ledger, clock, "r").execute(
        [order("j", CALL, Side.BUY, "2", "0.0060"), order("k", PUT, Side.BUY, "10", "0.0003")]
    )
    before = v.cash["ETH"]
    clock.ms = EXPIRY_MS + 30_000  # first call after 08:00: ETH 2869.41
    assert await v.positions() == []
    assert {s.symbol for s in (await sync.poll([ETH])).settlements} == {CALL, PUT}
    assert (await sync.poll([ETH])).empty  # recorded once
    events = ledger.events([ev.OPTION_SETTLEMENT])
    settled = {e.payload["symbol"]: ev.from_payload(ev.OptionSettlement, e.payload) for e in events}
    put, call = settled[PUT], settled[CALL]
    assert put.payout == (D(2900) - SETTLE) / SETTLE * 10  # (K - S) / S ETH per contract
    assert put.settle_price == SETTLE and put.currency == "ETH" and put.contracts == 10
    assert put.payout_usd == put.payout * SETTLE
    assert call.payout == 0 and call.option_type == "call" and call.expiry_ms == EXPIRY_MS
    assert next(e for e in events if e.payload["symbol"] == CALL).payload["payout"] == "0"
    assert v.cash["ETH"] == before + put.payout
    again = await PaperVenue.restore("paper", market(clock), ledger, clock)
    assert again.cash == v.cash and await again.positions() == []


async def test_usd_settled_options_pay_premium_fee_and_payout_in_usd(clock: FixedClock) -> None:
    v = venue(clock, None, "usd")
    call = await v.submit(order("l", USD_CALL, Side.BUY, "20", "16.5"))
    assert [(f.price, f.amount, f.fee_currency) for f in call.fills] == [(D("16.3"), 20, "USDC")]
    assert call.fee == D("17.93880")  # 0.0003 x 2989.80 USD per contract x 20
    put = await v.submit(order("m", USD_PUT, Side.BUY, "10", "0.9"))
    assert put.fee == D("1.125")  # capped: 0.125 x 0.9 x 10
    assert v.cash == {"USD": D(10000) - D(326) - D("17.9388") - D(9) - D("1.125")}
    held = {h.symbol: h.size_base for h in await v.positions()}
    assert held == {USD_CALL: 20, USD_PUT: 10}
    clock.ms = EXPIRY_MS
    assert await v.positions() == []
    assert v.cash["USD"] == D(10000) - D("354.0638") + (D(2900) - SETTLE) * 10


async def test_a_restarted_venue_restores_option_positions_and_cash(
    clock: FixedClock, ledger: Ledger
) -> None:
    first = venue(clock, ledger)
    await OrderExecutor(first, ledger, clock, "r").execute(
        [order("n", CALL, Side.BUY, "4", "0.0060"), order("o", ETH, Side.SELL, "1", None)]
    )  # an option and a perp beside it
    again = await PaperVenue.restore(
        "paper", market(clock), ledger, clock, price_symbols={"ETH": ETH}
    )
    assert await again.positions() == await first.positions()
    assert again.cash == first.cash and again.cash["ETH"] == D("-0.0232")
    with pytest.raises(Rejected, match="already used"):
        await again.submit(order("n", CALL, Side.BUY, "4", "0.0060"))


async def test_reconcile_follows_options_through_fills_and_settlement(
    clock: FixedClock, ledger: Ledger, tmp_path: Path
) -> None:
    """Options are not in the configured symbols, yet reconcile compares them: clean after
    the executor bought them, clean after they settled, and a venue option the ledger does
    not know is recorded and adopted."""
    v = venue(clock, ledger)
    sync = AccountSync(v, ledger, clock, "r", start_ms=0)
    await OrderExecutor(v, ledger, clock, "r").execute([order("q", CALL, Side.BUY, "3", "0.0060")])
    report = await reconcile(v, ledger, clock, "r", [ETH], sync=sync)
    assert report.clean and report.positions[CALL] == 3
    clock.ms = EXPIRY_MS + 30_000
    assert (await reconcile(v, ledger, clock, "r", [ETH], sync=sync)).clean  # settled both sides
    assert ledger_positions(ledger, "paper")[CALL] == 0
    other = Ledger.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        clock.ms = EXPIRY_MS - 3_600_000
        w = venue(clock, None)
        await w.submit(order("s", PUT, Side.BUY, "2", "0.0003"))
        (diff,) = (await reconcile(w, other, clock, "r", [ETH])).diffs
        assert (diff.symbol, diff.ledger, diff.venue) == (PUT, "0", "2")
        assert (await reconcile(w, other, clock, "r", [ETH])).clean
    finally:
        other.close()
