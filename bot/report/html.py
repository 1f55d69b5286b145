"""The report as ONE self-contained HTML file: inline CSS, inline SVG charts, no scripts.

Nothing is fetched when it opens (no CDN, fonts or images), so it can be mailed or
archived as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from bot.domain.orders import Side
from bot.report.attribution import Attribution, Components
from bot.report.charts import Marker, Series, line_chart
from bot.report.load import ReportData
from bot.report.tables import TOTAL_ROWS, Table, component, iso, rounded

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#4b5563")
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


COSTS = frozenset({"trading_fees", "slippage"})
"""Components where a positive number is a cost (shown red)."""


def _usd(value: Decimal, key: str = "") -> str:
    good = -value if key in COSTS else value
    cls = "pos" if good > 0 else "neg" if good < 0 else ""
    return f'<span class="{cls}">{value:,.2f}</span>'


def _cards(total: Components) -> str:
    items = "".join(
        f'<div class="card" id="card-{key}"><div class="k">{escape(label)}</div>'
        f'<div class="v">{_usd(component(total, key), key)}</div></div>'
        for key, label in CARDS
    )
    return f'<div class="cards">{items}</div>'


def _total_table(total: Components) -> str:
    rows = "".join(
        f'<tr class="{"sum" if label.startswith("=") or key == "net" else ""}">'
        f'<td>{escape(label)}</td><td class="num" id="total-{key}">'
        f"{_usd(component(total, key), key)}</td></tr>"
        for key, label in TOTAL_ROWS
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
    parts = (
        ("net", "Net", False),
        ("lp_fees", "LP fees", False),
        ("lp_il", "IL (vs holding)", False),
        ("lp_hold", "LP hold", True),
        ("hedge_pnl", "Hedge PnL", False),
        ("funding", "Funding", False),
        ("trading_fees", "Trading fees", True),
    )
    series = [
        Series(
            label,
            PALETTE[i],
            tuple((float(p.ts_ms), float(component(p.cumulative, key))) for p in a.series),
            dashed,
        )
        for i, (key, label, dashed) in enumerate(parts)
    ]
    return line_chart("Cumulative PnL attribution (USD)", series, zero=True)


def _asset_charts(a: Attribution, asset: str) -> list[str]:
    pts = [p for p in a.deltas if p.asset == asset]
    lp = tuple((float(p.ts_ms), float(p.lp_delta)) for p in pts)
    hedge = tuple((float(p.ts_ms), float(-p.hedge)) for p in pts)
    price = tuple((float(p.ts_ms), float(p.price_usd)) for p in pts if p.price_usd)
    ratio = tuple((float(p.ts_ms), float(p.hedge_ratio)) for p in pts if p.hedge_ratio is not None)
    marks = [
        Marker(
            float(f.ts_ms),
            float(f.price),
            f.side is Side.BUY,
            f"{f.side.value} {f.qty_base} {f.symbol} @ {f.price}",
        )
        for f in a.fills
        if f.asset == asset
    ]
    return [
        line_chart(
            f"{asset}: LP delta vs hedge (base units; hedge shown as -hedge)",
            [Series("LP delta", PALETTE[0], lp), Series("-hedge", PALETTE[2], hedge, True)],
            zero=True,
        ),
        line_chart(
            f"{asset}: hedge ratio (-hedge / LP delta)",
            [Series("hedge ratio", PALETTE[3], ratio)],
            zero=True,
        ),
        line_chart(
            f"{asset}: price (USD) with fills (▲ buy, ▼ sell)",
            [Series(f"{asset} price", PALETTE[6], price)],
            markers=marks,
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
    return line_chart("Net delta per asset (LP delta + hedge, base units)", series, zero=True)


def _window(data: ReportData) -> str:
    since = "start" if data.since_ms is None else iso(data.since_ms)
    until = "end" if data.until_ms is None else iso(data.until_ms)
    first, last = (data.ticks[0].ts_ms, data.ticks[-1].ts_ms) if data.ticks else (None, None)
    seen = "" if first is None or last is None else f"; ticks {iso(first)} – {iso(last)}"
    return f"window {since} – {until} (UTC){seen}"


def render(data: ReportData, a: Attribution, tables: Sequence[Table]) -> str:
    """The whole page; `tables` as from `tables.all_tables` (the total is drawn apart)."""
    assets = list(dict.fromkeys(p.asset for p in a.deltas))
    charts = [_pnl_chart(a)]
    for asset in assets:
        charts += _asset_charts(a, asset)
    charts.append(_net_delta_chart(a, assets))
    warn = "".join(f"<li>{escape(w)}</li>" for w in a.warnings)
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<title>lphedge report</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>lphedge post-trade review</h1>",
        f"<div class='sub'>{escape(_window(data))}</div>",
        _cards(a.total),
        f"<div class='warn'><ul>{warn}</ul></div>" if warn else "",
        "<h2>PnL attribution, total (USD)</h2>",
        "<p class='sub'>net = LP PnL incl. fees + hedge PnL + funding − trading fees; "
        "slippage is inside hedge PnL</p>",
        _total_table(a.total),
        "<h2>Charts</h2>",
        *charts,
        *(table_html(t) for t in tables if t.name != "total"),
        "</body></html>",
    ]
    return "".join(parts)
