"""The options tables: summary, trades and settlements, options held, the book's greeks.

Present only when the ledger has options (`Attribution.options`), so a report without them
keeps its tables. Greeks are floats in the ledger; their cells are their shortest exact text.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bot.report.attribution import Attribution
from bot.report.tables import Table, iso
from bot.report.values import GreeksPoint, OptionsReport

OPTION_TABLES = ("options_summary", "options", "options_open", "book_greeks")


OPTIONS_SUMMARY_ROWS: tuple[tuple[str, str], ...] = (
    ("premiums_paid_usd", "Premiums paid"),
    ("premiums_received_usd", "Premiums received"),
    ("fees_usd", "Option fees"),
    ("settlements_usd", "Settlement payouts"),
    ("value_start_usd", "Option value at the start (MTM)"),
    ("value_end_usd", "Option value now (MTM)"),
    ("pnl_usd", "Options PnL"),
    ("theta_paid_usd", "Theta paid (memo, in options PnL)"),
)


def options_summary_table(o: OptionsReport) -> Table:
    rows = tuple((label, key, getattr(o, key)) for key, label in OPTIONS_SUMMARY_ROWS)
    return Table("options_summary", "Options (USD)", ("item", "key", "usd"), rows)


def options_table(o: OptionsReport) -> Table:
    cols = (
        "time",
        "kind",
        "symbol",
        "side",
        "contracts",
        "price",
        "currency",
        "premium",
        "usd_rate",
        "usd",
        "fee_usd",
    )
    rows = tuple(
        (
            iso(f.ts_ms),
            f.kind,
            f.symbol,
            f.side,
            f.contracts,
            f.price,
            f.currency,
            f.premium,
            f.usd_rate,
            f.cash_usd,
            f.fee_usd,
        )
        for f in o.flows
    )
    return Table("options", "Option trades and settlements (usd: received +, paid -)", cols, rows)


def options_open_table(o: OptionsReport) -> Table:
    rows = tuple((symbol, contracts) for symbol, contracts in o.open_contracts)
    return Table("options_open", "Options held at the end", ("symbol", "contracts"), rows)


def _float(x: float) -> Decimal:
    return Decimal(repr(x))


def greeks_table(o: OptionsReport) -> Table:
    cols = (
        "time",
        "asset",
        "price_usd",
        "lp_delta",
        "perp_delta",
        "options_delta",
        "net_delta",
        "options_expiry_delta",
        "net_expiry_delta",
        "lp_gamma",
        "options_gamma",
        "net_gamma",
        "options_vega",
        "options_theta",
        "options_value_usd",
        "source",
    )
    rows = tuple(
        (
            iso(g.ts_ms),
            r.asset,
            r.price_usd,
            r.lp_delta,
            r.perp_delta,
            _float(r.options_delta),
            _float(g.net_delta),
            _float(r.options_expiry_delta),
            _float(g.net_expiry_delta),
            _float(r.lp_gamma),
            _float(r.options_gamma),
            _float(g.net_gamma),
            _float(r.options_vega),
            _float(r.options_theta),
            r.options_value_usd,
            r.source,
        )
        for g in o.greeks
        for r in (g.row,)
    )
    return Table("book_greeks", "Greeks of the whole book per asset, per tick", cols, rows)


def greeks_sources(points: Sequence[GreeksPoint]) -> str:
    """Who computed the option greeks: 'venue', or where mixed 'black76 at 2 ticks, venue at
    9 ticks' (the engine writes e.g. 'black76+venue' for a mix at one tick; 'none' where no
    option was held is not counted)."""
    counts: dict[str, int] = {}
    for p in points:
        if p.row.source != "none":
            counts[p.row.source] = counts.get(p.row.source, 0) + 1
    if len(counts) <= 1:
        return next(iter(counts), "none")
    return ", ".join(f"{s} at {n} tick{'' if n == 1 else 's'}" for s, n in sorted(counts.items()))


def latest_greeks_table(o: OptionsReport) -> Table:
    """The book's greeks per asset at the last tick, with their source over the window."""
    last = {g.row.asset: g for g in o.greeks}
    cols = (
        "asset",
        "net_delta",
        "net_delta_at_expiry",
        "lp_gamma",
        "options_gamma",
        "vega",
        "theta",
        "source",
    )
    rows = tuple(
        (
            asset,
            _float(g.net_delta),
            _float(g.net_expiry_delta),
            _float(g.row.lp_gamma),
            _float(g.row.options_gamma),
            _float(g.row.options_vega),
            _float(g.row.options_theta),
            greeks_sources([p for p in o.greeks if p.row.asset == asset]),
        )
        for asset, g in last.items()
    )
    return Table("greeks_now", "Greeks of the book at the last tick", cols, rows)


def all_tables(a: Attribution) -> tuple[Table, ...]:
    if a.options is None:
        return ()
    o = a.options
    return (options_summary_table(o), options_table(o), options_open_table(o), greeks_table(o))
