"""The HTML report's price chart per asset with each LP position's range drawn as a band
(green while the price is in range, red while out), and the table of ranges and time in range."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from html import escape

from bot.domain.orders import Side
from bot.report.charts import Band, Marker, Series, Swatch, line_chart
from bot.report.html_common import PALETTE, cents
from bot.report.ranges import PositionRange, RangeSpan
from bot.report.tables import iso, rounded
from bot.report.values import Attribution

IN_RANGE = Swatch("range-band in", "LP range, price in range")
OUT_OF_RANGE = Swatch("range-band out", "LP range, price out of range")
OUT_SHADE = Swatch("out-shade", "out of range (range not recorded)")


def _band(s: RangeSpan) -> Band:
    state = "in" if s.in_range else "out"
    when = f"{iso(s.start_ms)} – {iso(s.end_ms)}"
    data = (
        ("position", s.position_id),
        ("state", state),
        ("lower", cents(s.lower_usd)),
        ("upper", cents(s.upper_usd)),
        ("start", iso(s.start_ms)),
        ("end", iso(s.end_ms)),
    )
    if s.lower_usd is None or s.upper_usd is None:
        return Band(
            float(s.start_ms),
            float(s.end_ms),
            None,
            None,
            "out-shade",
            f"position {s.position_id} out of range, {when}",
            data,
        )
    label = (
        f"position {s.position_id}: {s.lower_usd:,.2f} – {s.upper_usd:,.2f} USD, "
        f"{'in' if s.in_range else 'OUT OF'} range, {when}"
    )
    return Band(
        float(s.start_ms),
        float(s.end_ms),
        float(s.lower_usd),
        float(s.upper_usd),
        f"range-band {state}",
        label,
        data,
    )


def _bands(spans: Sequence[RangeSpan]) -> list[Band]:
    """Bands where the range is known; without it, only the out-of-range time is shaded."""
    return [
        _band(s)
        for s in spans
        if (s.lower_usd is not None and s.upper_usd is not None) or not s.in_range
    ]


def price_chart(a: Attribution, asset: str, spans: Sequence[RangeSpan]) -> str:
    pts = [p for p in a.deltas if p.asset == asset]
    price = tuple((float(p.ts_ms), float(p.price_usd)) for p in pts if p.price_usd)
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
    bands = _bands([s for s in spans if s.asset == asset])
    used = {b.css for b in bands}
    swatches = [s for s in (IN_RANGE, OUT_OF_RANGE, OUT_SHADE) if s.css in used]
    ranged = " and LP range" if bands else ""
    return line_chart(
        f"{asset}: price{ranged}, with fills (▲ buy, ▼ sell)",
        [Series(f"{asset} price", PALETTE[6], price)],
        y_label=f"USD per {asset}",
        markers=marks,
        bands=bands,
        swatches=swatches,
        chart_id=f"price-{asset}",
    )


def _share(r: PositionRange) -> str:
    share = r.share_in
    return "n/a" if share is None else f"{share * 100:.1f} %"


def _bound(value: Decimal | None) -> str:
    return "not recorded" if value is None else rounded(value.quantize(Decimal("0.01")))


def ranges_table(ranges: Sequence[PositionRange]) -> str:
    """Each position's range (quote per base, as last recorded) and its time in range."""
    if not ranges:
        return ""
    head = (
        "<tr><th>position</th><th>pool</th><th>pair</th><th>range lower</th>"
        "<th>range upper</th><th>ticks</th><th>ticks out of range</th>"
        "<th>time in range</th></tr>"
    )
    rows = "".join(
        f'<tr data-position="{escape(r.position_id)}" data-lower="{cents(r.lower)}" '
        f'data-upper="{cents(r.upper)}"><td>{escape(r.position_id)}</td>'
        f"<td>{escape(r.pool)}</td><td>{escape(r.asset)}/{escape(r.quote)}</td>"
        f'<td class="num">{_bound(r.lower)}</td><td class="num">{_bound(r.upper)}</td>'
        f'<td class="num">{r.ticks}</td><td class="num">{r.ticks_out}</td>'
        f'<td class="num">{_share(r)}</td></tr>'
        for r in ranges
    )
    return (
        "<h2>LP positions: range and time in range</h2>"
        "<p class='sub'>range in quote per base, as last recorded; time in range weighs each "
        "tick by the time to the next one</p>"
        f'<div class="wrap"><table id="table-ranges">{head}{rows}</table></div>'
    )
