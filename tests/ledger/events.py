"""One payload per typed kind, built from the domain values the bot really records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.domain.orders import Fill, FundingPayment, OrderAck, OrderIntent, OrderStatus, Side
from bot.ledger.hashing import to_json_value

TINY = Decimal("0.000000000000000001")
HUGE_RAW = 10**30

INTENT = OrderIntent(
    plan_id="p1",
    leg=0,
    venue="binanceusdm",
    symbol="ETH/USDT:USDT",
    side=Side.SELL,
    amount=Decimal("1.234"),
    amount_base=Decimal("1.234"),
    reduce_only=False,
    client_id="a" * 32,
    reason="delta 1.3 ETH outside band 0.5",
    decision_price=Decimal("3012.45"),
)
FILL = Fill(
    client_id="a" * 32,
    venue_order_id="9001",
    trade_id="t-1",
    symbol="ETH/USDT:USDT",
    side=Side.SELL,
    amount=TINY,
    price=Decimal(HUGE_RAW),
    fee=Decimal("0.00123"),
    fee_currency="USDT",
    ts_ms=1_700_000_000_500,
)
ACK = OrderAck(
    client_id="a" * 32,
    venue_order_id="9001",
    symbol="ETH/USDT:USDT",
    side=Side.SELL,
    status=OrderStatus.FILLED,
    amount=Decimal("1.234"),
    filled=Decimal("1.234"),
    average_price=Decimal("3011.9"),
    fills=(FILL,),
)
FUNDING = FundingPayment(
    venue="binanceusdm",
    symbol="ETH/USDT:USDT",
    amount=Decimal("-0.37"),
    currency="USDT",
    rate=Decimal("0.0001"),
    ts_ms=1_700_000_000_000,
    payment_id="f-1",
)


def sample_events() -> list[tuple[str, dict[str, Any]]]:
    """(kind, payload) for every documented kind, in a plausible order."""
    return [
        ("run_started", {"mode": "paper", "config_digest": "c0ffee", "version": "0.1.0"}),
        (
            "tick",
            {
                "block": 19_000_000,
                "block_ts": 1_700_000_000,
                "exposure": {"ETH": Decimal("1.5"), "WBTC": Decimal("-0.01")},
                "liquidity_raw": HUGE_RAW,
            },
        ),
        (
            "decision",
            {
                "strategy": "delta_band",
                "params": {"band_base": Decimal("0.5")},
                "asset": "ETH",
                "symbol": "ETH/USDT:USDT",
                "target_base": Decimal("-1.5"),
                "reason": "outside band",
            },
        ),
        ("order_intent", to_json_value(INTENT)),
        ("order_update", to_json_value(ACK)),
        ("fill", {**to_json_value(FILL), "venue": "binanceusdm"}),
        ("funding", to_json_value(FUNDING)),
        ("halt", {"reason": "price stale 120 s", "source": "risk"}),
        ("resume", {"reason": "operator", "source": "cli"}),
        ("error", {"where": "venue.submit", "message": "timeout"}),
        ("reconcile_diff", {"client_id": "x", "venue": "open", "ledger": "missing"}),
        ("paper_state", {"balance": {"USDT": Decimal("10000")}, "positions": []}),
        ("note", {"text": "hello"}),
        ("run_stopped", {"reason": "SIGTERM"}),
        ("some_future_kind", {"anything": [1, 2, 3]}),
    ]
