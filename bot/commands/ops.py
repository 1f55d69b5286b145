"""`lphedge status`, `halt` and `resume`: watch and steer a running bot through its ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from bot import wiring
from bot.clock import SystemClock
from bot.commands.common import ConfigOption, guarded, print_json, settings_from
from bot.domain import events as ev
from bot.domain.orders import OrderStatus
from bot.operator import OPERATOR, operator_state
from bot.ports import LedgerReader

DbOption = typer.Option(None, "--db", help="Ledger URL (default: the config's ledger.url).")


def _open(config: Path | None, db: str | None) -> Any:
    settings = settings_from(config, {"ledger": {"url": db}})
    return guarded(lambda: wiring.ledger(settings))


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


def status_data(ledger: LedgerReader, now_ms: int) -> dict[str, Any]:
    last = ledger.last(ev.TICK)
    op = operator_state(ledger)
    last_halt = ledger.last(ev.HALT)
    data: dict[str, Any] = {
        "last_tick_age_s": None if last is None else round((now_ms - last.ts_ms) / 1000, 1),
        "block": None if last is None else last.payload.get("block"),
        "assets": [],
        "halted": op.halted,
        "flatten": op.flatten,
        "last_guard_halt": last_halt.payload.get("reason") if last_halt else None,
        "open_orders": open_orders(ledger),
    }
    if last is not None:
        rows: Any = last.payload.get("assets", [])
        for row in rows:
            lp, hedge = Decimal(row["lp_delta"]), Decimal(row["hedge"])
            data["assets"].append(
                {
                    "asset": row["asset"],
                    "lp_delta": str(lp),
                    "hedge": str(hedge),
                    "net_delta": str(lp + hedge),
                    "price_usd": row.get("price_usd"),
                }
            )
    return data


def status(
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Last tick age, exposure per asset, hedges, net delta, halts and open orders."""
    ledger = _open(config, db)
    try:
        data = status_data(ledger, SystemClock().now_ms())
    finally:
        ledger.close()
    if as_json:
        print_json(data)
        return
    console = Console()
    age = data["last_tick_age_s"]
    console.print(f"last tick: {'never' if age is None else f'{age}s ago'} (block {data['block']})")
    t = Table(title="Exposure and hedges")
    for col in ("asset", "LP delta", "hedge", "net delta", "price"):
        t.add_column(col, justify="right")
    for a in data["assets"]:
        t.add_row(a["asset"], a["lp_delta"], a["hedge"], a["net_delta"], str(a["price_usd"]))
    console.print(t)
    if data["halted"]:
        console.print(
            f"[red]HALTED[/red] by operator: {data['halted']}"
            + (" (flattening)" if data["flatten"] else "")
        )
    console.print(f"open orders: {len(data['open_orders'])}")


def halt(
    reason: str = typer.Option("manual halt", "--reason"),
    flatten: bool = typer.Option(False, "--flatten", help="Also close every hedge."),
    config: Path | None = ConfigOption,
    db: str | None = DbOption,
) -> None:
    """Halt a running bot (it places no new hedge orders) until `lphedge resume`."""
    ledger = _open(config, db)
    try:
        payload = ev.to_payload(ev.Halt(reason, OPERATOR, flatten))
        seq = ledger.append(ev.HALT, payload, ts_ms=SystemClock().now_ms())
    finally:
        ledger.close()
    typer.echo(f"halt recorded (event {seq}){'; flattening hedges' if flatten else ''}")


def resume(config: Path | None = ConfigOption, db: str | None = DbOption) -> None:
    """Lift an operator halt."""
    ledger = _open(config, db)
    try:
        seq = ledger.append(
            ev.RESUME, {"reason": "resume", "source": OPERATOR}, ts_ms=SystemClock().now_ms()
        )
    finally:
        ledger.close()
    typer.echo(f"resume recorded (event {seq})")


def register(app: typer.Typer) -> None:
    app.command()(status)
    app.command()(halt)
    app.command()(resume)
