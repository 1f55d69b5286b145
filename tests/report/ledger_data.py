"""An in-memory LedgerReader of real LedgerEvent values, and the small hand-computed ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal as D

from bot.domain import events as ev
from bot.domain.events import (
    AssetRow,
    BookGreeks,
    Decision,
    GreeksRow,
    Halt,
    OptionSettlement,
    PositionRow,
    Tick,
    to_payload,
)
from bot.domain.orders import (
    Fill,
    FundingPayment,
    LedgerEvent,
    OrderAck,
    OrderIntent,
    OrderStatus,
    Side,
)

SYMBOL = "ETH/USDT:USDT"


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


class MemoryLedger:
    """Implements bot.ports.LedgerReader like the SQL ledger: since <= ts < until, seq order."""

    def __init__(self) -> None:
        self.rows: list[LedgerEvent] = []

    def add(self, kind: str, value: object, ts: str | int) -> None:
        ts_ms = ms(ts) if isinstance(ts, str) else ts
        self.rows.append(LedgerEvent(len(self.rows) + 1, ts_ms, "run1", kind, to_payload(value)))

    def events(
        self,
        kinds: Sequence[str] | None = None,
        *,
        since_seq: int = 0,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[LedgerEvent]:
        return [
            e
            for e in self.rows
            if e.seq > since_seq
            and (kinds is None or e.kind in kinds)
            and (since_ms is None or e.ts_ms >= since_ms)
            and (until_ms is None or e.ts_ms < until_ms)
        ]

    def last(self, kind: str) -> LedgerEvent | None:
        return next((e for e in reversed(self.rows) if e.kind == kind), None)


def tick(
    block: int,
    price: str,
    base: str,
    quote: str,
    base_fees: str,
    quote_fees: str,
    hedge: str,
    mark: str,
) -> Tick:
    p, b, q = D(price), D(base), D(quote)
    pos = PositionRow(
        position_id="4242",
        pool="0xPool",
        base="ETH",
        quote="USD",
        in_range=True,
        base_amount=b,
        quote_amount=q,
        base_fees=D(base_fees),
        quote_fees=D(quote_fees),
        price=p,
        value=b * p + q,
        delta=b,
        gamma=-0.001,
    )
    asset = AssetRow("ETH", b + D(base_fees), D(hedge), -0.001, b * p + q, p)
    return Tick(
        block,
        1_700_000_000_000 + block,
        (pos,),
        (asset,),
        {SYMBOL: D(mark)},
        {"ETH": asset.lp_delta},
    )


def intent(client_id: str, side: Side, contracts: str, base: str, price: str) -> OrderIntent:
    return OrderIntent(
        plan_id="plan-" + client_id,
        leg=0,
        venue="paper",
        symbol=SYMBOL,
        side=side,
        amount=D(contracts),
        amount_base=D(base),
        reduce_only=False,
        client_id=client_id,
        reason="rebalance to band",
        decision_price=D(price),
    )


def fill(
    client_id: str, side: Side, contracts: str, price: str, fee: str, cur: str, ts: str
) -> Fill:
    return Fill(
        client_id,
        "v-" + client_id,
        "t-" + client_id,
        SYMBOL,
        side,
        D(contracts),
        D(price),
        D(fee),
        cur,
        ms(ts),
    )


def ack(client_id: str, side: Side, contracts: str, price: str, ts: str) -> OrderAck:
    return OrderAck(
        client_id,
        "v-" + client_id,
        SYMBOL,
        side,
        OrderStatus.FILLED,
        D(contracts),
        D(contracts),
        D(price),
        ts_ms=ms(ts),
    )


def small_ledger() -> MemoryLedger:
    """3 ticks over two UTC days, 2 fills (0.1 ETH contracts), 1 funding payment.

    Hand-computed in tests/report/test_attribution.py.
    """
    led = MemoryLedger()
    led.add(ev.TICK, tick(1, "2000", "1", "2000", "0", "0", "0", "2000"), "2024-01-01T00:00:00")
    led.add(
        ev.DECISION,
        Decision(
            "delta_band",
            {"band": "0.1"},
            "ETH",
            SYMBOL,
            D(0),
            D(-1),
            True,
            "delta 1 outside band",
            "plan-c1",
        ),
        "2024-01-01T00:00:01",
    )
    led.add(ev.ORDER_INTENT, intent("c1", Side.SELL, "10", "1", "2000"), "2024-01-01T00:00:02")
    led.add(
        ev.ORDER_UPDATE,
        ack("c1", Side.SELL, "10", "1998", "2024-01-01T00:00:03"),
        "2024-01-01T00:00:03",
    )
    led.add(
        ev.FILL,
        fill("c1", Side.SELL, "10", "1998", "0.5", "USDT", "2024-01-01T00:00:03"),
        "2024-01-01T00:00:03",
    )
    led.add(
        ev.TICK, tick(2, "2100", "0.9", "2205", "0.001", "2", "-1", "2100"), "2024-01-01T12:00:00"
    )
    led.add(
        ev.DECISION,
        Decision(
            "delta_band",
            {"band": "0.1"},
            "ETH",
            SYMBOL,
            D(-1),
            D("-0.5"),
            True,
            "delta 0.9 -> reduce",
            "plan-c2",
        ),
        "2024-01-01T12:00:01",
    )
    led.add(
        ev.FUNDING,
        FundingPayment(
            "paper", SYMBOL, D("-1.25"), "USDT", D("0.0001"), ms("2024-01-02T04:00:00"), "f1"
        ),
        "2024-01-02T04:00:00",
    )
    led.add(ev.ORDER_INTENT, intent("c2", Side.BUY, "5", "0.5", "2100"), "2024-01-02T05:00:00")
    led.add(
        ev.FILL,
        fill("c2", Side.BUY, "5", "2102", "0.0001", "ETH", "2024-01-02T05:00:01"),
        "2024-01-02T05:00:01",
    )
    led.add(
        ev.ORDER_UPDATE,
        ack("c2", Side.BUY, "5", "2102", "2024-01-02T05:00:01"),
        "2024-01-02T05:00:01",
    )
    led.add(ev.HALT, Halt("price divergence 200 bps", "risk"), "2024-01-02T06:00:00")
    led.add(
        ev.TICK, tick(3, "1900", "1.1", "1800", "0.002", "5", "-0.5", "1901"), "2024-01-02T08:00:00"
    )
    return led


CALL = "ETH/USD:ETH-240126-2200-C"  # Deribit-style inverse: premium in ETH
PUT = "ETH/USDT:USDT-240102-2000-P"  # USD-settled: premium in USDT

Event = tuple[str, object, str | int]


def option_intent(
    client_id: str, symbol: str, side: Side, contracts: str, limit: str, underlying: str = "2000"
) -> OrderIntent:
    """An option order as the planner writes it: IOC limit, decision price = the underlying."""
    return OrderIntent(
        plan_id="plan-" + client_id,
        leg=0,
        venue="paper",
        symbol=symbol,
        side=side,
        amount=D(contracts),
        amount_base=D(contracts),  # contract size 1
        reduce_only=False,
        client_id=client_id,
        reason="options overlay",
        decision_price=D(underlying),
        order_type="limit",
        limit_price=D(limit),
    )


def option_fill(
    client_id: str, symbol: str, side: Side, contracts: str, premium: str, fee: str, ts: str
) -> Fill:
    """`premium` per contract in the symbol's settle currency, as the venue reports it."""
    cur = symbol.split(":")[1].split("-")[0]
    return Fill(
        client_id,
        "v-" + client_id,
        "t-" + client_id,
        symbol,
        side,
        D(contracts),
        D(premium),
        D(fee),
        cur,
        ms(ts),
        "paper",
    )


def book_greeks(
    block: int, price: str, value: str, theta: float, source: str, gamma: float = 0.0
) -> BookGreeks:
    """One ETH row; delta and vega are not part of the hand computation."""
    row = GreeksRow(
        asset="ETH",
        price_usd=D(price),
        lp_delta=D(1),
        lp_gamma=-0.001,
        perp_delta=D(-1),
        options_delta=0.25 if value != "0" else 0.0,
        options_gamma=gamma,
        options_vega=3.5 if value != "0" else 0.0,
        options_theta=theta,
        options_value_usd=D(value),
        source=source,
    )
    return BookGreeks(block, (row,))


def with_events(base: MemoryLedger, after: dict[int, list[Event]]) -> MemoryLedger:
    """`base` with extra events inserted after the given seqs (0: first; seqs renumbered)."""
    led = MemoryLedger()
    for kind, value, ts in after.get(0, []):
        led.add(kind, value, ts)
    for e in base.rows:
        led.rows.append(LedgerEvent(len(led.rows) + 1, e.ts_ms, e.run_id, e.kind, e.payload))
        for kind, value, ts in after.get(e.seq, []):
            led.add(kind, value, ts)
    return led


def options_ledger() -> MemoryLedger:
    """`small_ledger` plus options, in the engine's order: each tick's BOOK_GREEKS (the book
    as read at the tick's start) is written just before its TICK, a settlement (done when the
    paper venue's positions are read) before both. Hand-computed in test_options_report.py.

    Tick 1 (ETH 2000): nothing held; then buy 2 CALL at 0.05 ETH (fee 0.0006 ETH) and 1 PUT
    at 30 USDT (fee 0.3 USDT). Tick 2 (ETH 2100): value 262, theta -24/day; then sell 1 CALL
    at 0.04 ETH (fee 0.0003 ETH). Tick 3: the PUT settles at 1900 (payout 100 USDT); value
    57, theta -12/day.
    """
    t1, t2, t3 = "2024-01-01T00:00:00", "2024-01-01T12:00:00", "2024-01-02T08:00:00"
    settle = OptionSettlement(
        "paper",
        PUT,
        "ETH",
        D(1),
        D(1),
        D(2000),
        "put",
        ms(t3),
        D(1900),
        D(100),
        "USDT",
        D(100),
    )
    return with_events(
        small_ledger(),
        {
            0: [(ev.BOOK_GREEKS, book_greeks(1, "2000", "0", 0.0, "none"), t1)],
            1: [
                (ev.ORDER_INTENT, option_intent("o1", CALL, Side.BUY, "2", "0.06"), t1),
                (ev.FILL, option_fill("o1", CALL, Side.BUY, "2", "0.05", "0.0006", t1), t1),
                (ev.ORDER_INTENT, option_intent("o2", PUT, Side.BUY, "1", "33"), t1),
                (ev.FILL, option_fill("o2", PUT, Side.BUY, "1", "30", "0.3", t1), t1),
            ],
            5: [(ev.BOOK_GREEKS, book_greeks(2, "2100", "262", -24.0, "black76", 0.002), t2)],
            6: [
                (ev.ORDER_INTENT, option_intent("o3", CALL, Side.SELL, "1", "0.03", "2100"), t2),
                (ev.FILL, option_fill("o3", CALL, Side.SELL, "1", "0.04", "0.0003", t2), t2),
            ],
            12: [
                (ev.OPTION_SETTLEMENT, settle, t3),
                (ev.BOOK_GREEKS, book_greeks(3, "1900", "57", -12.0, "venue", 0.001), t3),
            ],
        },
    )
