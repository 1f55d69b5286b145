"""`lphedge positions`: read LP positions at one block and show their exposure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from bot import exposure, wiring
from bot.commands.common import (
    EXIT_PARTIAL,
    ConfigOption,
    err_console,
    print_json,
    run_async,
    settings_from,
)
from bot.domain.lp import ChainSnapshot, ExposureBook, LpPosition, PositionExposure


def _position_json(p: LpPosition, e: PositionExposure) -> dict[str, Any]:
    return {
        "token_id": p.position_id,
        "kind": p.kind.value,
        "owner": p.owner,
        "pool": p.pool.address,
        "fee": p.pool.fee,
        "token0": {
            "address": p.pool.token0.address,
            "symbol": p.pool.token0.symbol,
            "decimals": p.pool.token0.decimals,
        },
        "token1": {
            "address": p.pool.token1.address,
            "symbol": p.pool.token1.symbol,
            "decimals": p.pool.token1.decimals,
        },
        "tick_lower": p.tick_lower,
        "tick_upper": p.tick_upper,
        "tick": p.pool.tick,
        "liquidity": str(p.liquidity),
        "in_range": p.in_range,
        "amount0_raw": str(p.amount0_raw),
        "amount1_raw": str(p.amount1_raw),
        "fees0_raw": str(p.fees0_raw),
        "fees1_raw": str(p.fees1_raw),
        "amount0": str(e.amount0),
        "amount1": str(e.amount1),
        "fees0": str(e.fees0),
        "fees1": str(e.fees1),
        "base": e.base,
        "quote": e.quote,
        "price": str(e.price),
        "price_lower": None if e.price_lower is None else str(e.price_lower),
        "price_upper": None if e.price_upper is None else str(e.price_upper),
        "value": str(e.value),
        "delta": str(e.delta),
        "gamma": e.gamma,
    }


def snapshot_json(snap: ChainSnapshot, ex: ExposureBook) -> dict[str, Any]:
    return {
        "chain_id": snap.chain_id,
        "block": snap.block_number,
        "block_timestamp": snap.block_timestamp,
        "positions": [
            _position_json(p, e) for p, e in zip(snap.positions, ex.positions, strict=True)
        ],
        "exposure": {
            a.asset: {
                "delta": str(a.delta),
                "gamma": a.gamma,
                "value_usd": str(a.value_usd),
                "positions": a.positions,
            }
            for a in ex.assets.values()
        },
        "errors": [{"item": e.item, "message": e.message} for e in snap.errors],
    }


def _short(value: str, n: int = 10) -> str:
    return value if len(value) <= n + 2 else value[: n // 2 + 2] + "…" + value[-n // 2 :]


def _fmt(value: object, places: int = 6) -> str:
    return f"{float(str(value)):,.{places}g}"


def print_table(snap: ChainSnapshot, ex: ExposureBook, console: Console) -> None:
    t = Table(title=f"LP positions at block {snap.block_number} (chain {snap.chain_id})")
    for col in (
        "id",
        "pool",
        "pair",
        "range",
        "in",
        "amount0",
        "amount1",
        "fees0",
        "fees1",
        "price",
        "value",
        "delta",
        "gamma",
    ):
        t.add_column(col, justify="right" if col not in ("id", "pool", "pair") else "left")
    for p, e in zip(snap.positions, ex.positions, strict=True):
        rng = "full" if e.price_lower is None else f"{_fmt(e.price_lower)}–{_fmt(e.price_upper)}"
        t.add_row(
            _short(p.position_id, 14),
            _short(p.pool.address),
            f"{p.pool.token0.symbol}/{p.pool.token1.symbol} {p.pool.fee / 10_000:g}%",
            rng,
            "yes" if e.in_range else "[yellow]no[/yellow]",
            _fmt(e.amount0),
            _fmt(e.amount1),
            _fmt(e.fees0),
            _fmt(e.fees1),
            _fmt(e.price),
            _fmt(e.value),
            _fmt(e.delta),
            f"{e.gamma:.4g}",
        )
    console.print(t)
    x = Table(title="Exposure per asset")
    for col in ("asset", "delta", "gamma (per $)", "value USD", "positions"):
        x.add_column(col, justify="right")
    for a in ex.assets.values():
        x.add_row(
            a.asset, _fmt(a.delta, 10), f"{a.gamma:.4g}", _fmt(a.value_usd, 10), str(a.positions)
        )
    console.print(x)


def positions(
    config: Path | None = ConfigOption,
    rpc_url: list[str] | None = typer.Option(
        None, "--rpc-url", help="RPC URL (repeat for failover)."
    ),
    position_manager: str | None = typer.Option(None, help="NonfungiblePositionManager address."),
    token_id: list[int] | None = typer.Option(
        None, "--token-id", help="NFT token id (repeatable)."
    ),
    owner: list[str] | None = typer.Option(None, "--owner", help="Owner address (repeatable)."),
    v2_pair: list[str] | None = typer.Option(
        None, "--v2-pair", help="v2 pair address (repeatable)."
    ),
    chain_id: int | None = typer.Option(None, help="Expected chain id."),
    block: int | None = typer.Option(None, help="Read at this block (default: latest)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Read LP positions at one block: amounts, uncollected fees, value, delta and gamma."""
    chain: dict[str, Any] = {
        "rpc_urls": rpc_url or None,
        "position_manager": position_manager,
        "chain_id": chain_id,
        "token_ids": token_id or None,
        "owners": owner or None,
        "v2_pairs": v2_pair or None,
    }
    settings = settings_from(config, {"chain": chain})
    if not settings.chain.rpc_urls:
        err_console.print(
            "[red]error:[/red] chain.rpc_urls: give --rpc-url or set it in the config"
        )
        raise typer.Exit(2)
    source = wiring.position_source(settings)
    snap = run_async(source.read(block))
    ex = exposure.book(snap, wiring.asset_map(settings))
    if as_json:
        print_json(snapshot_json(snap, ex))
    else:
        print_table(snap, ex, Console())
    for e in snap.errors:
        err_console.print(f"[red]error:[/red] {e.item}: {e.message}", highlight=False)
    if snap.errors:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command()(positions)
