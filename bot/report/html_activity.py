"""The HTML report's decisions table, collapsed to the ticks that placed orders or halted
(`activity`); the CSV and JSON keep every decision."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from html import escape

from bot.report.activity import ActingTick, DecisionLine, QuietRun
from bot.report.tables import iso, rounded

MAX_ENTRIES = 500
"""The newest acting ticks and quiet runs shown; all decisions are in --csv/--json."""
COLUMNS = ("time", "asset", "decision", "current", "target_base", "orders", "reason")
LONG_DECIMAL = re.compile(r"-?\d+\.\d{7,}")


def short_reason(text: str) -> str:
    """A reason with its long decimals rounded to 6 places for reading."""
    return LONG_DECIMAL.sub(lambda m: rounded(Decimal(m.group(0))), text)


def _num(value: Decimal | None) -> str:
    return "" if value is None else escape(rounded(value))


def _line(ts_ms: int, first: bool, d: DecisionLine) -> str:
    what = d.symbol if d.legs == 1 else f"{d.legs} option legs ({d.symbol} …)"
    when = iso(ts_ms) if first else ""
    return (
        f'<tr class="acting"><td>{when}</td><td>{escape(d.asset)}</td><td>{escape(what)}</td>'
        f'<td class="num">{_num(d.current)}</td><td class="num">{_num(d.target_base)}</td>'
        f'<td class="num">{d.orders}</td><td>{escape(short_reason(d.reason))}</td></tr>'
    )


def _tick(t: ActingTick) -> str:
    rows = [_line(t.ts_ms, i == 0, d) for i, d in enumerate(t.lines)]
    for h in t.halts:
        when = iso(t.ts_ms) if not rows else ""
        rows.append(
            f'<tr class="halt"><td>{when}</td><td></td><td>HALT ({escape(h.source)})</td>'
            f'<td></td><td></td><td class="num"></td><td>{escape(short_reason(h.reason))}</td></tr>'
        )
    if not rows:  # orders without a decision line (e.g. a flatten)
        rows.append(
            f'<tr class="acting"><td>{iso(t.ts_ms)}</td><td></td><td></td><td></td><td></td>'
            f'<td class="num">{t.orders}</td><td></td></tr>'
        )
    return "".join(rows)


def _quiet(q: QuietRun) -> str:
    span = iso(q.first_ms) if q.ticks == 1 else f"{iso(q.first_ms)} – {iso(q.last_ms)}"
    noun = "tick" if q.ticks == 1 else "ticks"
    return (
        f'<tr class="quiet" data-ticks="{q.ticks}"><td colspan="{len(COLUMNS)}">'
        f"{q.ticks} {noun} without action ({span})</td></tr>"
    )


def decisions_html(entries: Sequence[ActingTick | QuietRun]) -> str:
    acting = [e for e in entries if isinstance(e, ActingTick)]
    quiet = sum(e.ticks for e in entries if isinstance(e, QuietRun))
    shown = entries[-MAX_ENTRIES:]
    body = "".join(_tick(e) if isinstance(e, ActingTick) else _quiet(e) for e in shown)
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    cut = (
        f"<p class='sub'>newest {MAX_ENTRIES} of {len(entries)} entries</p>"
        if len(entries) > MAX_ENTRIES
        else ""
    )
    total = len(acting) + quiet
    return (
        "<h2>Decisions at the ticks that acted</h2>"
        f"<p class='sub' id='decisions-summary' data-acting='{len(acting)}' "
        f"data-quiet='{quiet}'>{len(acting)} of {total} ticks placed orders or halted; the "
        f"{quiet} others are summarised (every decision is in --csv and --json)</p>"
        f'<div class="wrap"><table id="table-decisions"><tr>{head}</tr>{body}</table></div>'
        f"{cut}" + ("<p class='sub'>none</p>" if not entries else "")
    )
