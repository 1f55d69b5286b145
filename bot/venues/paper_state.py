"""The paper account's state and its exact JSON form for the ledger (Decimals as strings)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.domain.orders import Fill, FundingPayment, OrderAck, OrderStatus, Side
from bot.venues.paper_book import PaperPosition


@dataclass
class PaperAccount:
    """Balance (USD), cash in other currencies (ETH premiums of inverse options), positions
    per symbol (perps and options), and how far funding has been settled (ms)."""

    balance: Decimal
    funded_until_ms: int
    positions: dict[str, PaperPosition] = field(default_factory=dict)
    next_order_id: int = 1
    cash: dict[str, Decimal] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "balance": str(self.balance),
            "cash": {c: str(v) for c, v in sorted(self.cash.items())},
            "funded_until_ms": self.funded_until_ms,
            "next_order_id": self.next_order_id,
            "positions": {
                s: {"contracts": str(p.contracts), "entry": str(p.entry)}
                for s, p in self.positions.items()
                if p.contracts != 0
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PaperAccount:
        return cls(
            balance=Decimal(data["balance"]),
            funded_until_ms=int(data["funded_until_ms"]),
            next_order_id=int(data["next_order_id"]),
            positions={
                s: PaperPosition(Decimal(p["contracts"]), Decimal(p["entry"]))
                for s, p in data["positions"].items()
            },
            cash={str(c): Decimal(v) for c, v in data.get("cash", {}).items()},
        )


def fill_to_json(f: Fill) -> dict[str, Any]:
    return {
        "client_id": f.client_id,
        "venue_order_id": f.venue_order_id,
        "trade_id": f.trade_id,
        "symbol": f.symbol,
        "side": f.side.value,
        "amount": str(f.amount),
        "price": str(f.price),
        "fee": str(f.fee),
        "fee_currency": f.fee_currency,
        "ts_ms": f.ts_ms,
    }


def fill_from_json(d: Mapping[str, Any]) -> Fill:
    return Fill(
        d["client_id"],
        d["venue_order_id"],
        d["trade_id"],
        d["symbol"],
        Side(d["side"]),
        Decimal(d["amount"]),
        Decimal(d["price"]),
        Decimal(d["fee"]),
        d["fee_currency"],
        int(d["ts_ms"]),
    )


def ack_to_json(a: OrderAck) -> dict[str, Any]:
    return {
        "client_id": a.client_id,
        "venue_order_id": a.venue_order_id,
        "symbol": a.symbol,
        "side": a.side.value,
        "status": a.status.value,
        "amount": str(a.amount),
        "filled": str(a.filled),
        "average_price": None if a.average_price is None else str(a.average_price),
        "fee": str(a.fee),
        "fee_currency": a.fee_currency,
        "fills": [fill_to_json(f) for f in a.fills],
        "ts_ms": a.ts_ms,
        "info": dict(a.info),
    }


def ack_from_json(d: Mapping[str, Any]) -> OrderAck:
    avg = d.get("average_price")
    return OrderAck(
        client_id=d["client_id"],
        venue_order_id=d["venue_order_id"],
        symbol=d["symbol"],
        side=Side(d["side"]),
        status=OrderStatus(d["status"]),
        amount=Decimal(d["amount"]),
        filled=Decimal(d["filled"]),
        average_price=None if avg is None else Decimal(avg),
        fee=Decimal(d["fee"]),
        fee_currency=d["fee_currency"],
        fills=tuple(fill_from_json(f) for f in d["fills"]),
        ts_ms=int(d["ts_ms"]),
        info={str(k): str(v) for k, v in d.get("info", {}).items()},
    )


def funding_to_json(p: FundingPayment) -> dict[str, Any]:
    return {
        "venue": p.venue,
        "symbol": p.symbol,
        "amount": str(p.amount),
        "currency": p.currency,
        "rate": str(p.rate),
        "ts_ms": p.ts_ms,
        "payment_id": p.payment_id,
    }


def funding_from_json(d: Mapping[str, Any]) -> FundingPayment:
    return FundingPayment(
        d["venue"],
        d["symbol"],
        Decimal(d["amount"]),
        d["currency"],
        Decimal(d["rate"]),
        int(d["ts_ms"]),
        d["payment_id"],
    )
