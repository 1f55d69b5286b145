"""What the engine hands the risk guards beside the plan: the pools' own prices and the day's
PnL so far (pure bookkeeping over what a tick read)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.lp import ExposureBook
from bot.domain.orders import HedgePosition

DAY_MS = 86_400_000


def pool_prices_of(book: ExposureBook) -> dict[str, Decimal]:
    """USD price per asset as the pools see it (from USD-quoted positions)."""
    out: dict[str, Decimal] = {}
    for e in book.positions:
        if e.quote == "USD" and e.base not in out and e.price > 0:
            out[e.base] = e.price
    return out


@dataclass
class DayPnl:
    """LP value + hedge unrealised PnL change since the first tick of the UTC day (USD)."""

    day: int | None = None
    start: Decimal = Decimal(0)
    last: Decimal = Decimal(0)

    def pnl(
        self,
        now_ms: int,
        book: ExposureBook,
        hedges: list[HedgePosition],
        *,
        complete: bool = True,
    ) -> Decimal:
        """`complete=False` (a chain could not be read): the LP value seen is short of the
        positions on that chain, which is no loss; the last full tick's PnL stands."""
        day = now_ms // DAY_MS
        if not complete and self.day == day:
            return self.last
        equity = sum((a.value_usd for a in book.assets.values()), Decimal(0))
        equity += sum((h.unrealized_pnl or Decimal(0) for h in hedges), Decimal(0))
        if self.day != day:
            self.day, self.start = day, equity
        self.last = equity - self.start
        return self.last
