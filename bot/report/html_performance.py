"""The HTML report's capital and return section and its charts: hedged vs unhedged PnL,
drawdown, fees over time (figures from `performance`, definitions stated on the page)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from bot.report.charts import Series, line_chart
from bot.report.html_common import PALETTE, cents, pct, usd
from bot.report.performance import Performance, Result
from bot.report.tables import component, iso
from bot.report.values import Attribution

DEFINITION = (
    "Capital = the LP's value incl. uncollected fees at the window's start (positions that "
    "appear later: at their value when first seen) + the hedge margin ({source}). "
    "Return = net PnL / capital; LP alone: LP PnL incl. fees / the LP's value. "
    "APR = return × 365 / days of the window (simple, not compounded). "
    "Drawdown = equity (capital + cumulative PnL) − its running peak."
)
HEDGED = "LP + hedge + funding − costs"


def _card(ident: str, label: str, value: str, note: str, data: str) -> str:
    return (
        f'<div class="card" id="{ident}" {data}><div class="k">{escape(label)}</div>'
        f'<div class="v">{value}</div><div class="k">{escape(note)}</div></div>'
    )


def _days(p: Performance) -> str:
    hours = Decimal(p.end_ms - p.start_ms) / 3_600_000
    return f"{p.days:.2f} days" if hours >= 48 else f"{hours:.1f} hours"


def _cards(p: Performance) -> str:
    c, h = p.capital, p.hedged
    return "".join(
        (
            '<div class="cards" id="performance">',
            _card(
                "perf-capital",
                "Capital at start (USD)",
                f"{c.total_usd:,.2f}",
                f"LP {c.lp_usd:,.2f} + hedge margin {c.margin_usd:,.2f}",
                f'data-usd="{cents(c.total_usd)}" data-lp-usd="{cents(c.lp_usd)}" '
                f'data-margin-usd="{cents(c.margin_usd)}"',
            ),
            _card(
                "perf-return",
                "Return on capital",
                pct(h.return_pct),
                f"net {h.pnl_usd:,.2f} USD",
                f'data-pct="{cents(h.return_pct)}"',
            ),
            _card(
                "perf-apr",
                "APR (simple)",
                pct(h.apr_pct),
                f"over {_days(p)}",
                f'data-pct="{cents(h.apr_pct)}"',
            ),
            _card(
                "perf-max_drawdown",
                "Max drawdown (USD)",
                usd(h.max_drawdown_usd),
                "of peak equity: "
                + ("n/a" if h.max_drawdown_pct is None else f"{h.max_drawdown_pct:,.2f} %"),
                f'data-usd="{cents(h.max_drawdown_usd)}" data-pct="{cents(h.max_drawdown_pct)}"',
            ),
            "</div>",
        )
    )


def _row(key: str, label: str, r: Result) -> str:
    dd_pct = pct(r.max_drawdown_pct)
    return (
        f'<tr data-book="{key}"><td>{escape(label)}</td>'
        f'<td class="num">{r.capital_usd:,.2f}</td><td class="num">{usd(r.pnl_usd)}</td>'
        f'<td class="num">{pct(r.return_pct)}</td><td class="num">{pct(r.apr_pct)}</td>'
        f'<td class="num">{usd(r.max_drawdown_usd)}</td><td class="num">{dd_pct}</td></tr>'
    )


def section(p: Performance, with_options: bool) -> str:
    """Cards, the definitions, and the table of the hedged book beside the LP alone."""
    hedged = HEDGED + (" + options" if with_options else "")
    window = f"{iso(p.start_ms)} – {iso(p.end_ms)} ({_days(p)})"
    head = (
        "<tr><th>book</th><th>capital (USD)</th><th>PnL (USD)</th><th>return</th>"
        "<th>APR</th><th>max drawdown (USD)</th><th>max drawdown</th></tr>"
    )
    return "".join(
        (
            "<h2>Capital and return</h2>",
            f"<p class='sub'>from {escape(window)}</p>",
            _cards(p),
            f"<p class='sub defs' id='capital-definition'>"
            f"{escape(DEFINITION.format(source=p.capital.margin_source))}</p>",
            f'<table id="hedged-vs-unhedged">{head}',
            _row("unhedged", "LP alone (unhedged)", p.unhedged),
            _row("hedged", hedged, p.hedged),
            "</table>",
        )
    )


def charts(p: Performance, a: Attribution) -> list[str]:
    """Hedged vs unhedged PnL, drawdown of both, and the fees and costs over time."""
    xs = [float(e.ts_ms) for e in p.curve]
    with_options = a.options is not None
    hedged = HEDGED + (" + options" if with_options else "")

    def line(values: list[Decimal]) -> tuple[tuple[float, float], ...]:
        return tuple(zip(xs, (float(v) for v in values), strict=True))

    pnl = line_chart(
        "PnL: LP alone (unhedged) vs LP + hedge (hedged), cumulative",
        [
            Series("LP alone (unhedged)", PALETTE[4], line([e.lp_usd for e in p.curve]), True),
            Series(hedged, PALETTE[0], line([e.net_usd for e in p.curve])),
            Series(
                "hedge, funding, costs" + (", options" if with_options else ""),
                PALETTE[1],
                line([e.net_usd - e.lp_usd for e in p.curve]),
                True,
            ),
        ],
        y_label="USD",
        zero=True,
        chart_id="hedged-vs-unhedged",
    )
    drawdown = line_chart(
        "Drawdown of equity (capital + cumulative PnL) from its running peak",
        [
            Series(hedged, PALETTE[0], line([e.drawdown_usd for e in p.curve])),
            Series(
                "LP alone (unhedged)", PALETTE[4], line([e.lp_drawdown_usd for e in p.curve]), True
            ),
        ],
        y_label="USD",
        zero=True,
        chart_id="drawdown",
    )
    parts = [
        ("lp_fees", "LP fees earned", False),
        ("funding", "funding (received +)", False),
        ("trading_fees", "trading fees paid", True),
    ]
    if with_options:
        parts.append(("options_fees", "option fees paid", True))
    fees = line_chart(
        "Fees and costs over time, cumulative",
        [
            Series(
                label,
                PALETTE[(1, 5, 2, 3)[i]],
                tuple((float(s.ts_ms), float(component(s.cumulative, key))) for s in a.series),
                dashed,
            )
            for i, (key, label, dashed) in enumerate(parts)
        ],
        y_label="USD",
        zero=True,
        chart_id="fees",
    )
    return [pnl, drawdown, fees]
