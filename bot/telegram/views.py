"""The desk's views as short plain text for a phone: a few lines, numbers rounded.

Pure: each function takes what `bot.api.desk.Desk` returns and gives the reply. Deltas are
shown at the perp amount step, USD values whole (PnL to the cent), free text tidied; the
exact values stay in the ledger, the API and the HTML report (`/report`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.report import readable

MAX_CHARS = 4000  # Telegram's limit is 4096 per message
MAX_POSITIONS = 15

HELP = """lphedge commands
/status - tick age, halts, net delta per asset
/exposure - LP positions and delta per asset
/hedges - perp hedges, options, net delta
/pnl - PnL attribution, whole ledger
/daily [days] - PnL per UTC day (last 7)
/halt <reason> - stop trading (audited)
/flatten <reason> - close hedges and halt (asks to confirm)
/resume <reason> - hedge again
/report - the HTML report as a file
/help - this list"""


def fit(text: str) -> str:
    """At most one Telegram message."""
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 2] + "\n…"


def _d(value: Any) -> Decimal:
    return Decimal(str(value))


def dollars(value: Any) -> str:
    """Whole USD with its sign in front: -1143.8 -> -$1,144."""
    x = _d(value)
    text = f"${abs(x):,.0f}"
    return "-" + text if x < 0 and text != "$0" else text


def _usd(value: Any) -> str:
    return readable.usd(value) if value is not None else "?"


def _qty(value: Any) -> str:
    return "?" if value is None else readable.qty(value)


def _asset_line(a: Mapping[str, Any]) -> str:
    parts = [f"LP {_qty(a['lp_delta'])}", f"hedge {_qty(a['hedge'])}"]
    if a.get("options_delta") not in (None, "0") and _d(a["options_delta"]) != 0:
        parts.append(f"options {_qty(a['options_delta'])}")
    if a.get("net_delta") is None:
        return f"{a['asset']} net not known: " + ", ".join(parts)
    usd = "" if a.get("net_delta_usd") is None else f" (~{dollars(a['net_delta_usd'])})"
    return f"{a['asset']} net {_qty(a['net_delta'])}{usd}: " + ", ".join(parts)


def _tick_line(data: Mapping[str, Any]) -> str:
    age = data.get("last_tick_age_s")
    if age is None:
        return "no tick recorded yet"
    return f"last tick {readable.age(age)} ago, block {data.get('block')}"


def status(s: Mapping[str, Any]) -> str:
    lines = [f"{s['mode']} on {s['venue']}, {s['strategy']}", _tick_line(s)]
    if s.get("halted"):
        sticky = s.get("sticky_halt") or {}
        how = "HALTED, flattening" if s.get("flatten") else "HALTED"
        ago = f" ({readable.age(sticky['age_s'])} ago)" if "age_s" in sticky else ""
        lines.append(f"{how}{ago}: {readable.tidy(str(s['halted']))}")
    elif s.get("tick_halt"):
        lines.append(f"last tick halted: {readable.tidy(s['tick_halt']['reason'])}")
    else:
        lines.append("hedging")
    lines += [_asset_line(a) for a in s.get("assets", [])]
    if not s.get("hedges_read", True) and s.get("assets"):
        lines.append("hedges not read at the last tick")
    if s.get("open_orders"):
        lines.append(f"open orders: {len(s['open_orders'])}")
    err = s.get("last_error")
    if err:
        where, message = err.get("where"), readable.tidy(str(err.get("message")))
        lines.append(f"last error ({where}, {readable.age(err['age_s'])} ago): {message}")
    return fit("\n".join(lines))


def _position_line(p: Mapping[str, Any]) -> str:
    where = "in range" if p.get("in_range") else "OUT of range"
    lo, hi = p.get("price_lower"), p.get("price_upper")
    if lo is not None and hi is not None:
        where += f" {readable.price(lo)}-{readable.price(hi)}"
    price = readable.price(p["price"]) if p.get("price") is not None else "?"
    return (
        f"#{p.get('position_id')} {p.get('base')}/{p.get('quote')} {where}, price {price}, "
        f"value {readable.sig(p.get('value') or 0, 6)} {p.get('quote')}, "
        f"delta {_qty(p.get('delta'))}"
    )


def exposure(e: Mapping[str, Any]) -> str:
    lines = [_tick_line(e)]
    for a in e.get("assets", []):
        price = "" if a.get("price_usd") is None else f" at ${readable.price(a['price_usd'])}"
        lines.append(f"{a['asset']} LP delta {_qty(a['lp_delta'])}{price}")
    positions: Sequence[Mapping[str, Any]] = e.get("positions", [])
    lines += [_position_line(p) for p in positions[:MAX_POSITIONS]]
    if len(positions) > MAX_POSITIONS:
        lines.append(f"... and {len(positions) - MAX_POSITIONS} more positions (/report)")
    if not positions:
        lines.append("no LP position recorded")
    return fit("\n".join(lines))


def hedges(h: Mapping[str, Any]) -> str:
    rows = h.get("assets", [])
    if not rows:
        return "no hedge recorded yet"
    lines = [_asset_line(a) for a in rows]
    if not h.get("hedges_read"):
        lines.append("hedges not read at the last tick (venue unavailable): as last recorded")
    return fit("\n".join(lines))


def _day(ms: int | None) -> str:
    return "?" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def _window(w: Mapping[str, Any]) -> str:
    since, until = w.get("since_ms"), w.get("until_ms")
    if since is None and until is None:
        return "whole ledger"
    return f"{_day(since)} to {_day(until) if until is not None else 'now'} UTC"


def _costs(row: Mapping[str, Any]) -> str:
    fees = -_d(row.get("trading_fees", 0))  # a cost: shown as what it takes off
    return f"funding {_usd(row.get('funding'))}, trading fees {_usd(fees)}"


def pnl(p: Mapping[str, Any]) -> str:
    t = p["total"]
    lines = [
        f"PnL in USD, {_window(p.get('window', {}))}",
        f"net {_usd(t['net'])}",
        f"LP {_usd(t['lp_pnl'])}: fees {_usd(t['lp_fees'])}, IL {_usd(t['lp_il'])}, "
        f"hold {_usd(t['lp_hold'])}",
        f"hedge {_usd(t['hedge_pnl'])}: realised {_usd(t['hedge_realised'])}, "
        f"unrealised {_usd(t['hedge_unrealised'])}",
        _costs(t),
    ]
    if "options_pnl" in t:
        lines.append(f"options {_usd(t['options_pnl'])}")
    lines.append(f"slippage {_usd(t['slippage'])} (in hedge)")
    if p.get("warnings"):
        lines.append(f"{len(p['warnings'])} warning(s): see /report")
    return fit("\n".join(lines))


def daily(p: Mapping[str, Any], days: int) -> str:
    rows: Sequence[Mapping[str, Any]] = p.get("days", [])
    if not rows:
        return "no PnL recorded yet (needs two ticks)"
    shown = rows[-days:]
    lines = [f"PnL per UTC day in USD, last {len(shown)} of {len(rows)}"]
    for r in shown:
        lines.append(f"{r['day']}: net {_usd(r['net'])}")
        detail = f"  LP {_usd(r['lp_pnl'])}, hedge {_usd(r['hedge_pnl'])}, {_costs(r)}"
        if "options_pnl" in r:
            detail += f", options {_usd(r['options_pnl'])}"
        lines.append(detail)
    return fit("\n".join(lines))
