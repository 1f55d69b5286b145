"""The TICK ledger event built from what one tick read (pure): LP positions in base/quote
terms, per-asset exposure beside the perp hedge, and the marks of the symbols that matter
(perps and held options, not every option quoted)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from bot.domain import events as ev
from bot.domain.lp import ChainSnapshot, ExposureBook
from bot.domain.market import AssetMap, MarketSnapshot, Token


def tick_event(
    chain: ChainSnapshot,
    book: ExposureBook,
    market: MarketSnapshot | None,
    perps: Mapping[str, Decimal],
    marked: Collection[str],
    assets: AssetMap,
) -> ev.Tick:
    """`perps`: the perp hedge per asset (signed base); `marked`: symbols whose marks to keep."""
    prices = dict(market.prices) if market else {}
    rows = tuple(
        ev.PositionRow(
            e.position_id,
            e.pool,
            e.base,
            e.quote,
            e.in_range,
            *_base_quote(e.amount0, e.amount1, e.fees0, e.fees1, e.base, p.pool.token0, assets),
            e.price,
            e.value,
            e.delta,
            e.gamma,
            e.price_lower,
            e.price_upper,
        )
        for e, p in zip(book.positions, chain.positions, strict=True)
    )
    rows_by_asset = tuple(
        ev.AssetRow(
            a.asset,
            a.delta,
            perps.get(a.asset, Decimal(0)),
            a.gamma,
            a.value_usd,
            prices.get(a.asset, Decimal(0)),
        )
        for a in book.assets.values()
    )
    quotes = market.quotes.values() if market else ()
    return ev.Tick(
        chain.block_number,
        chain.block_timestamp * 1000,
        rows,
        rows_by_asset,
        {q.symbol: q.mark for q in quotes if q.symbol in marked},
        {a.asset: a.delta for a in book.assets.values()},
    )


def tick_payload(chain: ChainSnapshot, tick: ev.Tick) -> dict[str, object]:
    """The TICK row; with several chains, each chain's block and timestamp (or why it was
    not read) and each position's chain too (token ids repeat across chains); a staked
    position's farm and its rewards."""
    payload = ev.to_payload(tick)
    for row, p in zip(payload["positions"], chain.positions, strict=True):
        if p.staked_in is not None:  # farmed: where, and the reward earned so far
            row["staked_in"] = p.staked_in
            row["rewards"] = [
                {
                    "token": r.token.address,
                    "symbol": r.token.symbol,
                    "amount_raw": str(r.amount_raw),
                    "amount": str(r.amount),
                }
                for r in p.rewards
            ]
    if len(chain.chains) <= 1:
        return payload
    payload["chains"] = [
        {
            "name": h.name,
            "chain_id": h.chain_id,
            "block": h.block_number,
            "block_ts": h.block_timestamp * 1000,
            "error": h.error,
        }
        for h in chain.chains
    ]
    for row, p in zip(payload["positions"], chain.positions, strict=True):
        row["chain"] = p.chain
    return payload


def _base_quote(
    amount0: Decimal,
    amount1: Decimal,
    fees0: Decimal,
    fees1: Decimal,
    base: str,
    token0: Token,
    assets: AssetMap,
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    if assets.asset_of(token0) == base:
        return amount0, amount1, fees0, fees1
    return amount1, amount0, fees1, fees0
