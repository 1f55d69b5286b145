"""What `lphedge positions` prints: the positions and their exposure per asset, in JSON
(exact) or as tables laid out for the terminal's width.

A position's `value` is in its quote token (BTC for a WETH/WBTC pool), so USD columns
convert it at the pools' own prices (`pool_usd_prices`: a USD-quoted pool prices its base,
and that price carries across a pool of two volatile tokens); a value with no USD price
stays in its own unit, labelled. Per asset the table shows the assets the positions hold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, localcontext
from typing import Any

from rich.console import Console
from rich.text import Text

from bot import exposure
from bot.commands.render import Column, fitted_table
from bot.domain.lp import (
    AssetExposure,
    ChainHead,
    ChainSnapshot,
    ExposureBook,
    LpPosition,
    PositionExposure,
)
from bot.domain.market import USD
from bot.report import readable


def pool_usd_prices(exposures: Iterable[PositionExposure]) -> dict[str, Decimal]:
    """USD per unit of each asset, from the pools read: direct (quote USD) first, then
    through another asset (ETH/BTC priced with ETH/USD). The first pool to price one wins."""
    ordered = sorted(exposures, key=lambda e: e.quote != USD)
    prices = {USD: Decimal(1)}
    changed = True
    while changed:
        changed = False
        for e in ordered:
            if e.price <= 0:
                continue
            with localcontext() as ctx:
                ctx.prec = 40
                if e.quote in prices and e.base not in prices:
                    prices[e.base] = +(e.price * prices[e.quote])
                    changed = True
                elif e.base in prices and e.quote not in prices:
                    prices[e.quote] = +(prices[e.base] / e.price)
                    changed = True
    prices.pop(USD)
    return prices


def _usd_of(e: PositionExposure, prices: Mapping[str, Decimal]) -> Decimal | None:
    rate = Decimal(1) if e.quote == USD else prices.get(e.quote)
    return None if rate is None else e.value * rate


def holders(asset: str, exposures: Iterable[PositionExposure]) -> int:
    """Positions that hold `asset` now, or have it as their base (they will at some price)."""
    return sum(1 for e in exposures if e.base == asset or e.deltas.get(asset, Decimal(0)) != 0)


def priced_assets(ex: ExposureBook) -> dict[str, AssetExposure]:
    """The book's assets with values and gammas in USD at the pools' prices."""
    return exposure.net(ex.positions, pool_usd_prices(ex.positions), {})


def _rewards_json(p: LpPosition) -> list[dict[str, Any]]:
    return [
        {
            "token": r.token.address,
            "symbol": r.token.symbol,
            "decimals": r.token.decimals,
            "amount_raw": str(r.amount_raw),
            "amount": str(r.amount),
        }
        for r in p.rewards
    ]


def _rewards_text(p: LpPosition) -> str:
    if not p.rewards:
        return "-"
    return ", ".join(f"{readable.sig(r.amount, 6)} {r.token.symbol}" for r in p.rewards)


def _position_json(
    p: LpPosition, e: PositionExposure, prices: Mapping[str, Decimal]
) -> dict[str, Any]:
    usd = _usd_of(e, prices)
    return {
        "token_id": p.position_id,
        "chain": p.chain,
        "protocol": p.protocol,
        "staked_in": p.staked_in,
        "staking": p.staking,
        "rewards": _rewards_json(p),
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
        "value_usd": None if usd is None else str(usd),
        "delta": str(e.delta),
        "gamma": e.gamma,
    }


def snapshot_json(snap: ChainSnapshot, ex: ExposureBook) -> dict[str, Any]:
    """Exact values; `value` is in the position's quote, `value_usd` at the pools' prices."""
    prices = pool_usd_prices(ex.positions)
    assets = exposure.net(ex.positions, prices, {})
    return {
        "chain_id": snap.chain_id,
        "block": snap.block_number,
        "block_timestamp": snap.block_timestamp,
        "positions": [
            _position_json(p, e, prices) for p, e in zip(snap.positions, ex.positions, strict=True)
        ],
        "exposure": {
            a.asset: {
                "delta": str(a.delta),
                "gamma": a.gamma,
                "value_usd": str(a.value_usd),
                "price_usd": None if a.asset not in prices else str(prices[a.asset]),
                "positions": a.positions,
                "held_by_positions": holders(a.asset, ex.positions),
            }
            for a in assets.values()
        },
        "errors": [{"item": e.item, "message": e.message} for e in snap.errors],
        "chains": [
            {
                "name": h.name,
                "chain_id": h.chain_id,
                "block": h.block_number,
                "block_timestamp": h.block_timestamp,
                "error": h.error,
            }
            for h in snap.chains
        ],
    }


def _short(value: str, n: int = 10) -> str:
    return value if len(value) <= n + 2 else value[: n // 2 + 2] + "…" + value[-n // 2 :]


def _range(e: PositionExposure) -> str:
    if e.price_lower is None or e.price_upper is None:
        return "full"
    return f"{readable.sig(e.price_lower, 5)}–{readable.sig(e.price_upper, 5)}"


def _quoted(price: Decimal, quote: str) -> str:
    """A pool price, with its unit when that is not USD (0.050585 BTC per ETH)."""
    return readable.price(price) if quote == USD else f"{readable.price(price)} {quote}"


def _value(e: PositionExposure, prices: Mapping[str, Decimal]) -> str:
    usd = _usd_of(e, prices)
    return f"{readable.sig(e.value, 6)} {e.quote}" if usd is None else readable.usd(usd)


def _gamma_usd(e: PositionExposure, prices: Mapping[str, Decimal]) -> str:
    rate = Decimal(1) if e.quote == USD else prices.get(e.quote)
    return "?" if rate is None or rate == 0 else readable.sig(e.gamma / float(rate), 4)


def position_variants(
    snap: ChainSnapshot, ex: ExposureBook, prices: Mapping[str, Decimal]
) -> list[list[Column]]:
    """Every field when wide; at 80 columns id, pair, range, in, price, value, delta first."""
    pe: Sequence[tuple[LpPosition, PositionExposure]] = list(
        zip(snap.positions, ex.positions, strict=True)
    )
    in_range = [Text("yes") if e.in_range else Text("no", style="yellow") for _, e in pe]

    def col(header: str, cells: list[str], priority: int = 0, right: bool = True) -> Column:
        return Column(header, cells, priority, "right" if right else "left")

    ids = col("id", [_short(p.position_id, 14) for p, _ in pe], right=False)
    chain = col("chain", [p.chain for p, _ in pe], 3, right=False)
    protocol = col("protocol", [p.protocol for p, _ in pe], 7, right=False)
    staked = col("staked", [p.staking or "-" for p, _ in pe], 8, right=False)
    rewards = col("rewards", [_rewards_text(p) for p, _ in pe], 8)
    pair = col(
        "pair",
        [f"{p.pool.token0.symbol}/{p.pool.token1.symbol} {p.pool.fee / 10_000:g}%" for p, _ in pe],
        right=False,
    )
    rng = col("range", [_range(e) for _, e in pe], 1)
    inr = Column("in", in_range, 0, "left")
    price = col("price", [_quoted(e.price, e.quote) for _, e in pe], 2)
    value = col("value USD", [_value(e, prices) for _, e in pe])
    delta = col("delta", [f"{readable.qty(e.delta)} {e.base}" for _, e in pe])
    gamma = col("gamma/$", [_gamma_usd(e, prices) for _, e in pe], 5)
    wide = [
        ids,
        chain,
        protocol,
        staked,
        col("pool", [_short(p.pool.address) for p, _ in pe], 9, right=False),
        pair,
        rng,
        inr,
        *(
            col(name, [readable.sig(getattr(e, name), 6) for _, e in pe], 6)
            for name in ("amount0", "amount1", "fees0", "fees1")
        ),
        price,
        value,
        delta,
        gamma,
        *([rewards] if any(p.rewards for p, _ in pe) else []),
    ]
    return [wide, [ids, chain, pair, rng, inr, price, value, delta, gamma]]


def asset_columns(ex: ExposureBook) -> list[Column]:
    """Assets the positions hold (or are based on): delta, its USD, gamma, value, count."""
    prices = pool_usd_prices(ex.positions)
    assets = [
        a
        for a in exposure.net(ex.positions, prices, {}).values()
        if a.delta != 0 or holders(a.asset, ex.positions)
    ]

    def usd_of(a: AssetExposure) -> str:
        rate = prices.get(a.asset)
        return "?" if rate is None else readable.usd(a.delta * rate)

    return [
        Column("asset", [a.asset for a in assets]),
        Column("delta", [readable.qty(a.delta) for a in assets], justify="right"),
        Column("price USD", [_price(prices.get(a.asset)) for a in assets], 2, "right"),
        Column("delta USD", [usd_of(a) for a in assets], 1, "right"),
        Column("gamma/$", [readable.sig(a.gamma, 4) for a in assets], 3, "right"),
        Column("LP value USD", [_lp_value(a) for a in assets], 1, "right"),
        Column("positions", [str(holders(a.asset, ex.positions)) for a in assets], 0, "right"),
    ]


def _lp_value(a: AssetExposure) -> str:
    """The value of the positions based on `a` (none: a quote side only, e.g. WBTC)."""
    return readable.usd(a.value_usd) if a.positions else "-"


def _price(value: Decimal | None) -> str:
    return "?" if value is None else readable.price(value)


def _head(h: ChainHead) -> str:
    at = "unreadable" if h.error is not None else f"block {h.block_number}"
    return f"{h.name} ({h.chain_id}) {at}"


def print_table(snap: ChainSnapshot, ex: ExposureBook, console: Console) -> None:
    prices = pool_usd_prices(ex.positions)
    title = f"LP positions at block {snap.block_number} (chain {snap.chain_id})"
    if len(snap.chains) > 1:
        title = "LP positions on " + ", ".join(_head(h) for h in snap.chains)
    console.print(fitted_table(title, position_variants(snap, ex, prices), console.width))
    x = fitted_table("Exposure per asset (USD at pool prices)", [asset_columns(ex)], console.width)
    console.print(x)
