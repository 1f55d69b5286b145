"""USD prices from what a tick recorded, and the UTC day of a ledger time. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from bot.domain.events import Tick
from bot.domain.market import DEFAULT_ASSET_MAP, USD

USD_LIKE = frozenset({"USD", "USDT", "USDC", "BUSD", "FDUSD", "DAI", "USDS", "TUSD"})


def utc_day(ts_ms: int) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).date()


def asset_of_symbol(symbol: str, known: Mapping[str, str]) -> str:
    """ETH for 'ETH/USDT:USDT' unless a decision named the symbol's asset."""
    if symbol in known:
        return known[symbol]
    head = symbol.split("/")[0].upper()
    return DEFAULT_ASSET_MAP.get(head, head)


def usd_price(tick: Tick | None, currency: str) -> Decimal | None:
    """USD price of a currency or asset at a tick (stablecoins at 1)."""
    cur = currency.upper()
    if cur in USD_LIKE or cur == USD:
        return Decimal(1)
    if tick is None:
        return None
    asset = DEFAULT_ASSET_MAP.get(cur, cur)
    for row in tick.assets:
        if row.asset == asset and row.price_usd != 0:
            return row.price_usd
    return tick.marks.get(cur)
