"""`lphedge status` from the ledger: what the last tick saw, whether it was halted and why,
and the net delta with everything in it (LP + perp hedge + options).

The last TICK gives LP delta, perp hedge and price per asset; the BOOK_GREEKS of its block
the options' delta; HALT events after it say the tick was halted (a guard: venue
unavailable, stale data, ...); the last sticky HALT (operator, reconcile, liquidation) holds
until `lphedge resume`. JSON keeps every value exact; the text rounds for reading.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.text import Text

from bot.commands.render import Column, fitted_table
from bot.domain import events as ev
from bot.domain.orders import LedgerEvent, OrderStatus
from bot.operator import STICKY, operator_state
from bot.options.chain import is_option_symbol
from bot.ports import LedgerReader
from bot.report import readable

VENUE_UNAVAILABLE = "venue unavailable"
"""How the engine's halt reason starts when it could not read the venue (bot/engine.py):
that tick recorded no hedge and no option greeks."""


def open_orders(ledger: LedgerReader) -> list[dict[str, Any]]:
    """Intents whose last known status is not final."""
    status: dict[str, str] = {}
    intents: dict[str, dict[str, Any]] = {}
    for e in ledger.events([ev.ORDER_INTENT, ev.ORDER_UPDATE]):
        cid = str(e.payload.get("client_id"))
        if e.kind == ev.ORDER_INTENT:
            intents[cid] = dict(e.payload)
            status.setdefault(cid, OrderStatus.PENDING.value)
        else:
            status[cid] = str(e.payload.get("status"))
    return [
        {**intents[c], "status": s}
        for c, s in status.items()
        if c in intents and not OrderStatus(s).final
    ]


def _age_s(now_ms: int, ts_ms: int) -> float:
    return round((now_ms - ts_ms) / 1000, 1)


def _halt(e: LedgerEvent | None, now_ms: int) -> dict[str, Any] | None:
    if e is None:
        return None
    return {
        "reason": str(e.payload.get("reason") or ""),
        "source": str(e.payload.get("source") or ""),
        "flatten": bool(e.payload.get("flatten")),
        "by": e.payload.get("by"),  # who: cli:<user>, api:<token>, telegram:<user id>
        "age_s": _age_s(now_ms, e.ts_ms),
    }


def _sticky_halt(halts: list[LedgerEvent], now_ms: int) -> dict[str, Any] | None:
    """The last HALT of a kind that holds until resumed (operator, reconcile, liquidation)."""
    sticky = (e for e in reversed(halts) if e.payload.get("source") in STICKY)
    return _halt(next(sticky, None), now_ms)


def _options_delta(
    ledger: LedgerReader, tick: LedgerEvent, hedges_read: bool
) -> dict[str, Decimal] | None:
    """Options' delta per asset at `tick` ({} for a bot that never held options); None
    when unknown (options held, or the venue not read, and no greeks for that tick)."""
    greeks = ledger.last(ev.BOOK_GREEKS)
    if greeks is None:
        return {}
    if greeks.payload.get("block") == tick.payload.get("block"):
        rows: Any = greeks.payload.get("rows", [])
        return {r["asset"]: Decimal(repr(float(r["options_delta"]))) for r in rows}
    marks: Any = tick.payload.get("marks", {})
    held = any(is_option_symbol(s) for s in marks)
    return None if held or not hedges_read else {}


def _asset_rows(
    tick: LedgerEvent, options: dict[str, Decimal] | None, hedges_read: bool
) -> list[dict[str, Any]]:
    out = []
    rows: Any = tick.payload.get("assets", [])
    for row in rows:
        lp, hedge = Decimal(row["lp_delta"]), Decimal(row["hedge"])
        opt = None if options is None else options.get(row["asset"], Decimal(0))
        net = lp + hedge + opt if hedges_read and opt is not None else None
        price = Decimal(str(row.get("price_usd") or 0))
        out.append(
            {
                "asset": row["asset"],
                "lp_delta": str(lp),
                "hedge": str(hedge),  # as recorded: 0 when the venue was not read
                "options_delta": None if opt is None else str(opt),
                "net_delta": None if net is None else str(net),
                "net_delta_usd": None if net is None or price <= 0 else str(net * price),
                "price_usd": row.get("price_usd"),
            }
        )
    return out


def status_data(ledger: LedgerReader, now_ms: int) -> dict[str, Any]:
    """Everything `status` shows, exact (Decimals as strings); ages in seconds."""
    last = ledger.last(ev.TICK)
    op = operator_state(ledger)
    halts = ledger.events([ev.HALT])
    guard = [e for e in halts if e.payload.get("source") not in STICKY]
    after = [e for e in guard if last is not None and e.seq > last.seq]
    tick_halt = _halt(after[-1] if after else None, now_ms)
    hedges_read = not (tick_halt and tick_halt["reason"].startswith(VENUE_UNAVAILABLE))
    error = ledger.last(ev.ERROR)
    data: dict[str, Any] = {
        "last_tick_age_s": None if last is None else _age_s(now_ms, last.ts_ms),
        "block": None if last is None else last.payload.get("block"),
        "assets": [],
        "halted": op.halted,
        "flatten": op.flatten,
        "last_guard_halt": guard[-1].payload.get("reason") if guard else None,
        "open_orders": open_orders(ledger),
        "tick_halt": tick_halt,
        "sticky_halt": None if op.halted is None else _sticky_halt(halts, now_ms),
        "hedges_read": last is not None and hedges_read,
        "last_error": None
        if error is None or (last is not None and error.seq < last.seq)
        else {
            "where": error.payload.get("where"),
            "message": error.payload.get("message"),
            "age_s": _age_s(now_ms, error.ts_ms),
        },
    }
    if last is not None:
        options = _options_delta(ledger, last, hedges_read)
        data["assets"] = _asset_rows(last, options, hedges_read)
    return data


def _held(a: dict[str, Any]) -> bool:
    """An asset with LP exposure, a hedge or options: the others are noise."""
    values = (a["lp_delta"], a["hedge"], a["options_delta"] or "0")
    return any(Decimal(v) != 0 for v in values)


def _price(value: str | None) -> str:
    """A price of 0 is one the tick did not have."""
    return readable.price(value) if value and Decimal(value) > 0 else "?"


def _cell(value: str | None, fmt: Any) -> str:
    return "?" if value is None else str(fmt(value))


def exposure_table(assets: list[dict[str, Any]], hedges_read: bool, width: int) -> Any:
    """Per asset: LP delta, perps, options, net (their sum), price, net in USD; `?` where
    the last tick could not read it."""
    rows = [a for a in assets if _held(a)]

    def perp(value: str) -> str:
        return readable.qty(value) if hedges_read else "?"

    with_options = any(a["options_delta"] is None or Decimal(a["options_delta"]) for a in rows)
    cols = [
        Column("asset", [a["asset"] for a in rows]),
        Column("LP delta", [readable.qty(a["lp_delta"]) for a in rows], justify="right"),
        Column("perp hedge", [perp(a["hedge"]) for a in rows], justify="right"),
    ]
    if with_options:
        cells = [_cell(a["options_delta"], readable.qty) for a in rows]
        cols.append(Column("options", cells, justify="right"))
    net = [_cell(a["net_delta"], readable.qty) for a in rows]
    cols.append(Column("net delta", net, justify="right"))
    price = [_price(a["price_usd"]) for a in rows]
    cols.append(Column("price USD", price, priority=1, justify="right"))
    net_usd = [_cell(a["net_delta_usd"], readable.usd) for a in rows]
    cols.append(Column("net USD", net_usd, priority=2, justify="right"))
    parts = "LP + perps + options" if with_options else "LP + perps"
    return fitted_table(f"Exposure and hedges (base units; net = {parts})", [cols], width)


def _say(console: Console, text: str, style: str = "") -> None:
    """Plain text (no markup from reasons), wrapped at words to the console's width."""
    console.print(Text(text, style=style))


def _sticky_line(data: dict[str, Any]) -> str:
    sticky = data["sticky_halt"]
    source = "operator" if sticky is None else sticky["source"]
    by = None if sticky is None else sticky.get("by")
    who = f"by {by}" if by else "by the operator" if source == "operator" else f"by {source}"
    when = "" if sticky is None else f" {readable.age(sticky['age_s'])} ago"
    flat = " (flattening hedges)" if data["flatten"] else ""
    return f"HALTED {who}{when}{flat}: {data['halted']}"


def _halt_lines(data: dict[str, Any]) -> list[tuple[str, str]]:
    """The halts and errors to read first, each one line with its style."""
    out = []
    if data["halted"]:
        out.append((_sticky_line(data), "bold red"))
    tick = data["tick_halt"]
    # while an operator halt holds, every tick's guard halt repeats it: say it once
    if tick is not None and not (data["halted"] and tick["reason"].endswith(data["halted"])):
        when = f"{readable.age(tick['age_s'])} ago"
        out.append((f"last tick HALTED {when} ({tick['source']}): {tick['reason']}", "bold red"))
    if data["last_tick_age_s"] is not None and not data["hedges_read"]:
        out.append(("hedges not read at the last tick: net delta unknown", "yellow"))
    err = data["last_error"]
    if err is not None:
        when = readable.age(err["age_s"])
        out.append((f"error {when} ago ({err['where']}): {err['message']}", "yellow"))
    return out


def print_status(data: dict[str, Any], console: Console) -> None:
    age = data["last_tick_age_s"]
    if age is None:
        _say(console, "last tick: never")
    else:
        _say(console, f"last tick: {readable.age(age)} ago (block {data['block']})")
    for text, style in _halt_lines(data):
        _say(console, text, style)
    if any(_held(a) for a in data["assets"]):
        console.print(exposure_table(data["assets"], data["hedges_read"], console.width))
    elif age is not None:
        _say(console, "no LP exposure, hedge or option at the last tick")
    orders = data["open_orders"]
    _say(console, f"open orders: {len(orders)}")
    if orders:
        console.print(_orders_table(orders, console.width))


def _orders_table(orders: list[dict[str, Any]], width: int) -> Any:
    reasons = [readable.tidy(str(o.get("reason", ""))) for o in orders]
    bases = [readable.qty(o.get("amount_base") or 0) for o in orders]
    cols = [
        Column("client id", [str(o.get("client_id", ""))[:8] for o in orders]),
        Column("symbol", [str(o.get("symbol", "")) for o in orders], priority=1),
        Column("side", [str(o.get("side", "")) for o in orders]),
        Column("base", bases, justify="right"),
        Column("status", [str(o.get("status", "")) for o in orders]),
        Column("reason", reasons, priority=2, flex=True),
    ]
    return fitted_table("Open orders", [cols], width)
