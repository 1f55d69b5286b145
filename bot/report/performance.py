"""Capital, return (% and APR) and drawdown, hedged and unhedged, from the attribution. Pure.

Capital is what the strategy ties up at the start of the window:
- the LP's value incl. uncollected fees at the window's first tick (USD, each position's
  value in its quote at the quote's USD price), plus each position that appears later at
  its value when first seen (its PnL starts there too);
- plus the hedge margin: the venue account's balance as the bot recorded it on start-up
  (ACCOUNT_STATE, the last one before the window's first tick, else the first one), in USD.
  Without an ACCOUNT_STATE the margin is taken as the peak hedge notional (|hedge| x price,
  summed over assets) over the window: a hedge posted at 1x, stated as such.

Return = net PnL / capital; the unhedged return = LP PnL (incl. fees) / the LP's capital.
APR = return x 365 / days of the window (simple, not compounded). Equity = capital + the
cumulative PnL; drawdown = equity - its running peak (USD, <= 0), in % of that peak.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal, localcontext

from bot.domain.account import AccountState
from bot.domain.events import Tick
from bot.report.hedge_book import PRECISION, ZERO
from bot.report.load import At, ReportData
from bot.report.prices import usd_price
from bot.report.values import Attribution

DAY_MS = 86_400_000
DAYS_PER_YEAR = Decimal(365)
HUNDRED = Decimal(100)
PCT_QUANTUM = Decimal("1e-6")
"""Percentages to 6 places: a ratio for reading, not money."""
ACCOUNT_SOURCE = "venue account balance recorded at start-up (ACCOUNT_STATE)"
PEAK_SOURCE = "peak hedge notional over the window (no ACCOUNT_STATE in the ledger: 1x)"


@dataclass(frozen=True, slots=True)
class Capital:
    """USD at the window's start: LP value and hedge margin (see the module docstring)."""

    lp_usd: Decimal
    margin_usd: Decimal
    margin_source: str
    start_ms: int

    @property
    def total_usd(self) -> Decimal:
        return self.lp_usd + self.margin_usd


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """Cumulative PnL at one tick, hedged (net) and LP alone, and their drawdowns (USD)."""

    ts_ms: int
    net_usd: Decimal
    lp_usd: Decimal
    drawdown_usd: Decimal
    lp_drawdown_usd: Decimal


@dataclass(frozen=True, slots=True)
class Result:
    """PnL, return and drawdown of one book (hedged, or the LP alone) over the window."""

    capital_usd: Decimal
    pnl_usd: Decimal
    return_pct: Decimal | None
    apr_pct: Decimal | None
    max_drawdown_usd: Decimal
    max_drawdown_pct: Decimal | None


@dataclass(frozen=True, slots=True)
class Performance:
    capital: Capital
    start_ms: int
    end_ms: int
    hedged: Result
    unhedged: Result
    curve: tuple[EquityPoint, ...]

    @property
    def days(self) -> Decimal:
        return Decimal(self.end_ms - self.start_ms) / DAY_MS


def _start_tick(data: ReportData) -> At[Tick] | None:
    """The tick the window's PnL starts from: the last before the window, else its first."""
    before = None
    for t in data.ticks:
        if data.in_window(t.ts_ms):
            return before or t
        before = t
    return None


def _row_usd(tick: Tick, value: Decimal, quote: str) -> Decimal:
    price = usd_price(tick, quote)
    return ZERO if price is None else value * price


def lp_capital(data: ReportData, start: At[Tick]) -> Decimal:
    """LP value (USD) at `start`, plus positions first seen later at their first value."""
    seen = {p.position_id for p in start.value.positions}
    total = sum((_row_usd(start.value, p.value, p.quote) for p in start.value.positions), ZERO)
    for t in data.ticks:
        if t.seq <= start.seq or not data.in_window(t.ts_ms):
            continue
        for p in t.value.positions:
            if p.position_id not in seen:
                seen.add(p.position_id)
                total += _row_usd(t.value, p.value, p.quote)
    return total


def _account(data: ReportData, start: At[Tick]) -> AccountState | None:
    if not data.accounts:
        return None
    i = bisect_right([a.seq for a in data.accounts], start.seq) - 1
    return data.accounts[max(i, 0)].value


def hedge_margin(data: ReportData, a: Attribution, start: At[Tick]) -> tuple[Decimal, str]:
    """The hedge margin (USD) and where it came from (see the module docstring)."""
    account = _account(data, start)
    if account is not None:
        total, unpriced = ZERO, []
        for currency, amount in account.balances.items():
            price = usd_price(start.value, currency)
            if price is None:
                unpriced.append(currency)
            else:
                total += amount * price
        note = f"; no USD price for {', '.join(unpriced)}: left out" if unpriced else ""
        return total, ACCOUNT_SOURCE + note
    by_tick: dict[int, Decimal] = {}
    for p in a.deltas:
        by_tick[p.ts_ms] = by_tick.get(p.ts_ms, ZERO) + abs(p.hedge) * p.price_usd
    return max(by_tick.values(), default=ZERO), PEAK_SOURCE


def _ratio(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else part / whole * HUNDRED


def _pct(part: Decimal, whole: Decimal) -> Decimal | None:
    ratio = _ratio(part, whole)
    return None if ratio is None else ratio.quantize(PCT_QUANTUM)


def _result(
    capital: Decimal, pnl: Decimal, days: Decimal, drawdown: tuple[Decimal, Decimal | None]
) -> Result:
    ret = _ratio(pnl, capital)
    apr = None if ret is None or days == 0 else (ret * DAYS_PER_YEAR / days).quantize(PCT_QUANTUM)
    return Result(capital, pnl, _pct(pnl, capital), apr, *drawdown)


def _drawdowns(capital: Decimal, pnl: list[Decimal]) -> tuple[list[Decimal], Decimal | None]:
    """Drawdown per point (USD) and the largest in % of the peak it fell from."""
    peak = capital + (pnl[0] if pnl else ZERO)
    out: list[Decimal] = []
    worst_pct: Decimal | None = None
    for x in pnl:
        equity = capital + x
        peak = max(peak, equity)
        dd = equity - peak
        out.append(dd)
        pct = _pct(dd, peak) if peak > 0 else None
        if pct is not None and (worst_pct is None or pct < worst_pct):
            worst_pct = pct
    return out, worst_pct


def performance(data: ReportData, a: Attribution) -> Performance | None:
    """None when the window has no interval (fewer than two ticks)."""
    start = _start_tick(data)
    if start is None or len(a.series) < 2:
        return None
    with localcontext() as ctx:
        ctx.prec = PRECISION
        margin, source = hedge_margin(data, a, start)
        capital = Capital(lp_capital(data, start), margin, source, a.series[0].ts_ms)
        nets = [p.cumulative.net for p in a.series]
        lps = [p.cumulative.lp_pnl for p in a.series]
        dd, dd_pct = _drawdowns(capital.total_usd, nets)
        lp_dd, lp_dd_pct = _drawdowns(capital.lp_usd, lps)
        start_ms, end_ms = a.series[0].ts_ms, a.series[-1].ts_ms
        days = Decimal(end_ms - start_ms) / DAY_MS
        curve = tuple(
            EquityPoint(p.ts_ms, n, lp, d, ld)
            for p, n, lp, d, ld in zip(a.series, nets, lps, dd, lp_dd, strict=True)
        )
        return Performance(
            capital,
            start_ms,
            end_ms,
            _result(capital.total_usd, nets[-1], days, (min(dd), dd_pct)),
            _result(capital.lp_usd, lps[-1], days, (min(lp_dd), lp_dd_pct)),
            curve,
        )
