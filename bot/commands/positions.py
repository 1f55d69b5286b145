"""`lphedge positions`: read LP positions at one block and show their exposure."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from bot import exposure, wiring
from bot.commands.common import (
    EXIT_PARTIAL,
    ConfigOption,
    err_console,
    print_json,
    run_async,
    settings_from,
)
from bot.commands.positions_view import print_table, snapshot_json
from bot.config import Settings
from bot.config_sections import chain_list
from bot.domain import events as ev
from bot.domain.lp import ChainSnapshot
from bot.errors import LphedgeError

log = logging.getLogger(__name__)


def _saved_scans(settings: Settings) -> Mapping[str, Any] | None:
    """The bot's v4 owner scans from its ledger, when owners' v4 NFTs are to be found and
    a ledger exists: read from where the bot got to, not from v4_scan_from_block again.
    Read only; no ledger (or one that cannot be read now) is a full scan, not an error."""
    chains = [c for _, c in chain_list(settings.chain, settings.chains)]
    if not any(c.owners and "uniswap_v4" in c.position_managers for c in chains):
        return None
    try:
        ledger = wiring.ledger(settings, create=False)
    except LphedgeError as err:
        log.debug("no saved v4 owner scan: %s", err)
        return None
    try:
        last = ledger.last(ev.SCAN_STATE)
    except LphedgeError as err:
        log.debug("no saved v4 owner scan: %s", err)
        return None
    finally:
        ledger.close()
    saved = None if last is None else last.payload.get("chains")
    return saved if isinstance(saved, Mapping) else None


async def _read_once(settings: Settings, block: int | None) -> ChainSnapshot:
    """One read; the reader's HTTP sessions are closed on every way out, errors too."""
    source = wiring.position_source(settings)
    async with source:
        saved = _saved_scans(settings)
        if saved is not None:
            source.restore_scans(saved)
        snap: ChainSnapshot = await source.read(block)
    return snap


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
    v4_token_id: list[int] | None = typer.Option(
        None, "--v4-token-id", help="Uniswap v4 NFT token id (repeatable)."
    ),
    v4_position_manager: str | None = typer.Option(
        None, help="Uniswap v4 PositionManager address (with --v4-token-id)."
    ),
    v4_state_view: str | None = typer.Option(
        None, help="StateView of the v4 PositionManager's PoolManager (with --v4-token-id)."
    ),
    pancake_token_id: list[int] | None = typer.Option(
        None, "--pancake-token-id", help="PancakeSwap v3 NFT token id (repeatable)."
    ),
    pancake_position_manager: str | None = typer.Option(
        None, help="PancakeSwap v3 NonfungiblePositionManager address (with --pancake-token-id)."
    ),
    pancake_masterchef: str | None = typer.Option(
        None,
        "--pancake-masterchef",
        help="PancakeSwap v3 MasterChef: with --owner, their staked NFTs too, with CAKE earned.",
    ),
    v4_scan_from: int | None = typer.Option(
        None,
        min=0,
        max=2**63 - 1,
        help="With --owner: find their v4 NFTs in Transfer logs from this block "
        "(the PositionManager's deployment; default 0).",
    ),
    chain_id: int | None = typer.Option(None, help="Expected chain id."),
    block: int | None = typer.Option(
        None,
        min=0,
        max=2**63 - 1,
        help="Read at this block (default: latest; one chain only: numbers are per chain).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Read LP positions at one block per chain: amounts, uncollected fees, value, delta
    and gamma, netted per asset over every chain."""
    chain: dict[str, Any] = {
        "rpc_urls": rpc_url or None,
        "position_manager": position_manager,
        "chain_id": chain_id,
        "token_ids": token_id or None,
        "owners": owner or None,
        "v2_pairs": v2_pair or None,
        "v4_token_ids": v4_token_id or None,
        "pancakeswap_v3_token_ids": pancake_token_id or None,
        "position_managers": {
            "uniswap_v4": v4_position_manager,
            "pancakeswap_v3": pancake_position_manager,
        },
        "state_views": {"uniswap_v4": v4_state_view},
        "staking": {"pancakeswap_v3": pancake_masterchef},
        "v4_scan_from_block": v4_scan_from,
    }
    settings = settings_from(config, {"chain": chain})
    if not (settings.chain.rpc_urls or settings.chains):
        err_console.print(
            "[red]error:[/red] chain.rpc_urls: give --rpc-url or set it in the config"
        )
        raise typer.Exit(2)
    snap = run_async(_read_once(settings, block))
    ex = exposure.book(snap, wiring.asset_map(settings))
    if as_json:
        print_json(snapshot_json(snap, ex))
    else:
        print_table(snap, ex, Console())
    for e in snap.errors:
        err_console.print(f"[red]error:[/red] {e.item}: {e.message}", highlight=False)
    for h in snap.unread:
        err_console.print(f"[red]error:[/red] chain {h.name}: {h.error}", highlight=False)
    if snap.errors or snap.unread:
        raise typer.Exit(EXIT_PARTIAL)


def register(app: typer.Typer) -> None:
    app.command()(positions)
