"""The report as ONE self-contained HTML file: inline CSS, inline SVG charts, no scripts.

Nothing is fetched when it opens (no CDN, fonts or images), so it can be mailed or
archived as it is. Sections: totals, capital and return (`html_performance`), charts
(first the price with each LP range: `html_ranges`), options, tables (the decisions
collapsed to the ticks that acted: `html_activity`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from html import escape

from bot.report import html_performance
from bot.report.activity import activity
from bot.report.attribution import Attribution, Components
from bot.report.charts import Series, line_chart
from bot.report.html_activity import decisions_html
from bot.report.html_common import PALETTE
from bot.report.html_common import usd as _usd
from bot.report.html_ranges import price_chart, ranges_table
from bot.report.load import ReportData
from bot.report.option_tables import OPTION_TABLES, greeks_sources
from bot.report.performance import performance
from bot.report.ranges import position_ranges, range_spans
from bot.report.tables import Table, component, iso, rounded, total_rows
from bot.report.values import GreeksPoint, OptionsReport

Points = tuple[tuple[float, float], ...]
MAX_ROWS = 500
"""Longer tables are cut in the HTML (the CSV and JSON keep every row)."""

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111827;
background:#f9fafb}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#6b7280;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:150px}
.card .k{color:#6b7280;font-size:12px}.card .v{font-size:20px;font-weight:600}
.pos{color:#15803d}.neg{color:#b91c1c}
table{border-collapse:collapse;background:#fff;font-size:12.5px;margin-bottom:6px}
th,td{border:1px solid #e5e7eb;padding:3px 8px;white-space:nowrap}
th{background:#f3f4f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.sum td{font-weight:600;background:#f9fafb}
.chart{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin:0 0 14px;padding:8px}
.chart figcaption{font-weight:600;margin-bottom:4px}.chart svg{width:100%;height:auto}
svg text{font-size:11px;fill:#374151}svg .grid{stroke:#eef0f3}svg .zero{stroke:#9ca3af}
svg .buy{fill:#16a34a}svg .sell{fill:#dc2626}
svg .axis-label{font-size:12px;font-weight:600;fill:#111827}svg .x-date{fill:#6b7280}
svg .range-band.in{fill:#16a34a;fill-opacity:.16}svg .range-band.out{fill:#dc2626;fill-opacity:.18}
svg .out-shade{fill:#dc2626;fill-opacity:.07}
.card .k+.k{margin-top:2px}.defs{max-width:1100px}
tr.quiet td{color:#6b7280;font-style:italic;background:#f9fafb}tr.halt td{background:#fef2f2}
.warn{color:#92400e;background:#fffbeb;border:1px solid #fde68a;padding:8px;border-radius:6px}
.wrap{overflow-x:auto}
"""

CARDS: tuple[tuple[str, str], ...] = (
    ("net", "Net PnL"),
    ("lp_pnl", "LP PnL incl. fees"),
    ("lp_fees", "LP fees earned"),
    ("lp_il", "LP vs holding (IL)"),
    ("hedge_pnl", "Hedge PnL"),
    ("funding", "Funding"),
    ("trading_fees", "Trading fees"),
    ("slippage", "Slippage (memo)"),
)


OPTION_CARDS: tuple[tuple[str, str], ...] = (
    ("options_pnl", "Options PnL"),
    ("options_theta_paid", "Theta paid (memo)"),
)

SUMMARY_COSTS = frozenset({"premiums_paid_usd", "fees_usd", "theta_paid_usd"})
"""Options summary items where a positive number is a cost."""


def _cards(total: Components, with_options: bool) -> str:
    cards = (*CARDS, *OPTION_CARDS) if with_options else CARDS
    items = "".join(
        f'<div class="card" id="card-{key}"><div class="k">{escape(label)}</div>'
        f'<div class="v">{_usd(component(total, key), key)}</div></div>'
        for key, label in cards
    )
    return f'<div class="cards">{items}</div>'


def _total_table(total: Components, with_options: bool) -> str:
    rows = "".join(
        f'<tr class="{"sum" if label.startswith("=") or key == "net" else ""}">'
        f'<td>{escape(label)}</td><td class="num" id="total-{key}">'
        f"{_usd(component(total, key), key)}</td></tr>"
        for key, label in total_rows(with_options)
    )
    return f'<table id="total"><tr><th>component</th><th>USD</th></tr>{rows}</table>'


def table_html(t: Table) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in t.columns)
    shown = t.rows[-MAX_ROWS:]
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{escape(rounded(c, col))}</td>'
            if isinstance(c, Decimal | int) and not isinstance(c, bool)
            else f"<td>{escape(rounded(c, col))}</td>"
            for c, col in zip(row, t.columns, strict=True)
        )
        + "</tr>"
        for row in shown
    )
    note = (
        f"<p class='sub'>last {MAX_ROWS} of {len(t.rows)} rows (all in --csv/--json)</p>"
        if len(t.rows) > MAX_ROWS
        else ""
    )
    empty = "<p class='sub'>none</p>" if not t.rows else ""
    return (
        f'<h2>{escape(t.title)}</h2><div class="wrap"><table id="table-{t.name}">'
        f"<tr>{head}</tr>{body}</table></div>{note}{empty}"
    )


def _pnl_chart(a: Attribution) -> str:
    parts: tuple[tuple[str, str, bool], ...] = (
        ("net", "Net", False),
        ("lp_fees", "LP fees", False),
        ("lp_il", "IL (vs holding)", False),
        ("lp_hold", "LP hold", True),
        ("hedge_pnl", "Hedge PnL", False),
        ("funding", "Funding", False),
        ("trading_fees", "Trading fees", True),
    )
    if a.options is not None:
        parts = (*parts, ("options_pnl", "Options PnL", False))
    series = [
        Series(
            label,
            PALETTE[i % len(PALETTE)],
            tuple((float(p.ts_ms), float(component(p.cumulative, key))) for p in a.series),
            dashed,
        )
        for i, (key, label, dashed) in enumerate(parts)
    ]
    return line_chart(
        "Cumulative PnL attribution", series, y_label="USD", zero=True, chart_id="attribution"
    )


def _asset_charts(a: Attribution, asset: str) -> list[str]:
    pts = [p for p in a.deltas if p.asset == asset]
    lp = tuple((float(p.ts_ms), float(p.lp_delta)) for p in pts)
    hedge = tuple((float(p.ts_ms), float(-p.hedge)) for p in pts)
    ratio = tuple((float(p.ts_ms), float(p.hedge_ratio)) for p in pts if p.hedge_ratio is not None)
    return [
        line_chart(
            f"{asset}: LP delta vs hedge (hedge shown as -hedge)",
            [Series("LP delta", PALETTE[0], lp), Series("-hedge", PALETTE[2], hedge, True)],
            y_label=asset,
            zero=True,
        ),
        line_chart(
            f"{asset}: hedge ratio (-hedge / LP delta)",
            [Series("hedge ratio", PALETTE[3], ratio)],
            y_label="ratio",
            zero=True,
        ),
    ]


def _net_delta_chart(a: Attribution, assets: Sequence[str]) -> str:
    series = [
        Series(
            asset,
            PALETTE[i % len(PALETTE)],
            tuple((float(p.ts_ms), float(p.net_delta)) for p in a.deltas if p.asset == asset),
        )
        for i, asset in enumerate(assets)
    ]
    return line_chart(
        "Net delta per asset (LP delta + hedge)",
        series,
        y_label="base units of each asset",
        zero=True,
    )


def _window(data: ReportData) -> str:
    since = "start" if data.since_ms is None else iso(data.since_ms)
    until = "end" if data.until_ms is None else iso(data.until_ms)
    first, last = (data.ticks[0].ts_ms, data.ticks[-1].ts_ms) if data.ticks else (None, None)
    seen = "" if first is None or last is None else f"; ticks {iso(first)} – {iso(last)}"
    return f"window {since} – {until} (UTC){seen}"


def _xy(points: Sequence[GreeksPoint], value: Callable[[GreeksPoint], float]) -> Points:
    return tuple((float(p.ts_ms), value(p)) for p in points)


def _of(o: OptionsReport, asset: str) -> list[GreeksPoint]:
    return [p for p in o.greeks if p.row.asset == asset]


def _greeks_charts(o: OptionsReport, asset: str) -> list[str]:
    pts = _of(o, asset)
    source = f" [greeks: {greeks_sources(pts)}]"
    return [
        line_chart(
            f"{asset}: net delta of the book, LP + perp + options{source}",
            [
                Series("net delta", PALETTE[0], _xy(pts, lambda p: p.net_delta)),
                Series("net at expiry", PALETTE[4], _xy(pts, lambda p: p.net_expiry_delta)),
                Series("LP", PALETTE[1], _xy(pts, lambda p: float(p.row.lp_delta)), True),
                Series("perp", PALETTE[2], _xy(pts, lambda p: float(p.row.perp_delta)), True),
                Series("options", PALETTE[3], _xy(pts, lambda p: p.row.options_delta), True),
            ],
            y_label=asset,
            zero=True,
        ),
        line_chart(
            f"{asset}: gamma, LP vs options{source}",
            [
                Series("net gamma", PALETTE[0], _xy(pts, lambda p: p.net_gamma)),
                Series("LP gamma", PALETTE[1], _xy(pts, lambda p: p.row.lp_gamma), True),
                Series("options gamma", PALETTE[3], _xy(pts, lambda p: p.row.options_gamma), True),
            ],
            y_label=f"{asset} per USD",
            zero=True,
        ),
        line_chart(
            f"{asset}: options vega (USD per vol point) and theta (USD per day){source}",
            [
                Series("vega", PALETTE[5], _xy(pts, lambda p: p.row.options_vega)),
                Series("theta", PALETTE[4], _xy(pts, lambda p: p.row.options_theta)),
            ],
            y_label="USD",
            zero=True,
        ),
    ]


def _options_section(o: OptionsReport, tables: Sequence[Table]) -> list[str]:
    """Summary, greeks charts per asset (with their source) and the options tables."""
    by_name = {t.name: t for t in tables}
    summary = "".join(
        f'<tr><td>{escape(str(label))}</td><td class="num" id="options-{key}">'
        f"{_usd(value, 'options_fees' if key in SUMMARY_COSTS else '')}"
        "</td></tr>"
        for label, key, value in by_name["options_summary"].rows
        if isinstance(value, Decimal)
    )
    assets = list(dict.fromkeys(p.row.asset for p in o.greeks))
    charts = [c for asset in assets for c in _greeks_charts(o, asset)]
    sources = "".join(
        f"<li>{escape(asset)}: {escape(greeks_sources(_of(o, asset)))}</li>" for asset in assets
    )
    return [
        "<section id='options'><h2>Options</h2>",
        "<p class='sub'>options PnL = premiums received − premiums paid + settlement payouts "
        "+ change in option value (BOOK_GREEKS mark-to-market) − option fees; theta paid is "
        "inside the value change</p>",
        f'<table id="options-summary"><tr><th>item</th><th>USD</th></tr>{summary}</table>',
        f"<p class='sub'>greeks source</p><ul id='greeks-source'>{sources}</ul>" if sources else "",
        *charts,
        *(table_html(by_name[n]) for n in OPTION_TABLES if n != "options_summary"),
        "</section>",
    ]


def _tables(data: ReportData, tables: Sequence[Table]) -> list[str]:
    """The attribution tables; decisions collapsed to acting ticks, ranges after the days."""
    out = []
    for t in tables:
        if t.name == "total" or t.name in OPTION_TABLES:
            continue
        out.append(decisions_html(activity(data)) if t.name == "decisions" else table_html(t))
        if t.name == "days":
            out.append(ranges_table(position_ranges(data)))
    return out


def render(data: ReportData, a: Attribution, tables: Sequence[Table]) -> str:
    """The whole page; `tables` as from `tables.all_tables` (the total is drawn apart)."""
    assets = list(dict.fromkeys(p.asset for p in a.deltas))
    perf = performance(data, a)
    spans = range_spans(data)
    charts = [price_chart(a, asset, spans) for asset in assets]
    charts += [*(html_performance.charts(perf, a) if perf else []), _pnl_chart(a)]
    for asset in assets:
        charts += _asset_charts(a, asset)
    charts.append(_net_delta_chart(a, assets))
    warn = "".join(f"<li>{escape(w)}</li>" for w in a.warnings)
    with_options = a.options is not None
    formula = "net = LP PnL incl. fees + hedge PnL + funding − trading fees"
    if with_options:
        formula += " + options PnL"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>lphedge report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>lphedge post-trade review</h1>",
        f"<div class='sub'>{escape(_window(data))}</div>",
        _cards(a.total, with_options),
        f"<div class='warn'><ul>{warn}</ul></div>" if warn else "",
        html_performance.section(perf, with_options) if perf else "",
        "<h2>PnL attribution, total (USD)</h2>",
        f"<p class='sub'>{formula}; slippage is inside hedge PnL</p>",
        _total_table(a.total, with_options),
        "<h2>Charts</h2>",
        *charts,
        *(_options_section(a.options, tables) if a.options is not None else []),
        *_tables(data, tables),
        "</body></html>",
    ]
    return "".join(parts)
