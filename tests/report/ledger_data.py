"""An in-memory LedgerReader of real LedgerEvent values, and the small hand-computed ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal as D

from bot.domain import events as ev
from bot.domain.events import AssetRow, Decision, Halt, PositionRow, Tick, to_payload
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
