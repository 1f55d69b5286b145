"""Options overlay vs perps alone on real hourly ETH and Deribit DVOL, vectorised.

Each weekly window opens a fresh v3 position (+-`range_pct` around the first close, worth
`position_usd`). Perp-only: every hour the perp is set to minus the LP's delta. Overlay: at
the open we buy puts/calls at strikes near the range bounds (and the money), sized by
`bot.options.sizing` so their horizon-averaged gamma is >= `fraction` x the LP's |gamma|
across the range; every hour the perp takes minus (LP delta + options' delta). Options are
priced by Black-76 from DVOL (the close of the day before the window: causal) plus a skew
`skew` x |ln(K/F)|; bought at mid x (1 + half_spread), and if they outlive the window, sold
back at mid x (1 - half_spread) marked at the DVOL of the window's last day.

Variance reduction is of weekly hedged PnL (LP + perp + options at mid, before fees and
spread, as `bot.backtest` measures it) vs the unhedged LP; money figures are fractions of the
position value. All windows have the same number of bars, so they stack into (windows, bars)
arrays and a run takes well under a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.backtest.data import load_prices
from bot.backtest.lp import amount_base, open_position, value
from bot.backtest.runner import WEEK_MS, window_bounds
from bot.errors import InputError
from bot.options.black76 import F64, delta_array, price_array
from bot.options.sizing import horizon_gamma, lp_gamma_abs, size_for_gamma

DATA = Path("/work/shared/data/market")
ETH_1H = DATA / "binance_perp_1h" / "ETHUSDT_1h.csv"
ETH_DVOL = DATA / "deribit_dvol_daily" / "eth_dvol.csv"
YEAR_MS = 365.0 * 86_400_000.0
DAY_MS = 86_400_000


@dataclass(frozen=True)
class OverlayConfig:
    """`fraction` of LP |gamma| to buy back (0 = perps only); `strike_offsets` as fractions
    of `range_pct` from the opening price (-1 = lower bound); `expiry_days` from the open;
    `strike_step` USD (Deribit ETH lists 25/50/100 USD steps); `skew` vol per unit |log
    moneyness|; `half_spread` fraction of the option mid; `fee_bps` per perp trade."""

    fraction: float = 1.0
    range_pct: float = 10.0
    position_usd: float = 100_000.0
    strike_offsets: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0)
    expiry_days: float = 7.0
    strike_step: float = 25.0
    skew: float = 0.3
    half_spread: float = 0.03
    fee_bps: float = 5.0
    grid_points: int = 41


@dataclass(frozen=True)
class Windows:
    """Stacked weekly windows: `price` (w, n+1) hourly closes, `ts_ms` (w, n+1), DVOL
    (annualised) at the open `vol_open` (w,) and at the close `vol_close` (w,)."""

    ts_ms: F64
    price: F64
    vol_open: F64
    vol_close: F64


@dataclass(frozen=True)
class OverlayResult:
    """Figures per config, fractions of position value (means per window, stds across)."""

    fraction: float
    windows: int
    unhedged_std: float
    hedged_std: float
    variance_reduction: float
    variance_reduction_net: float
    premium_paid: float
    option_pnl: float
    perp_fees: float
    spread_cost: float


def load_windows(prices: Path = ETH_1H, dvol: Path = ETH_DVOL) -> Windows:
    """Weekly windows of the hourly series that DVOL covers (the day before each open)."""
    series = load_prices(prices)
    vols = load_prices(dvol)
    bounds = window_bounds(series.ts_ms, WEEK_MS)
    length = max(i1 - i0 for i0, i1 in bounds)
    keep = [(a, b) for a, b in bounds if b - a == length]
    day0 = vols.ts_ms // DAY_MS

    def vol_at(ts: int) -> float:
        k = int(np.searchsorted(day0, ts // DAY_MS - 1, side="right")) - 1
        if k < 0 or int(day0[k]) < ts // DAY_MS - 3:
            return math.nan
        return float(vols.close[k]) / 100.0

    rows = [(a, b, vol_at(int(series.ts_ms[a])), vol_at(int(series.ts_ms[b]))) for a, b in keep]
    rows = [r for r in rows if not (math.isnan(r[2]) or math.isnan(r[3]))]
    if not rows:
        raise InputError(f"{dvol}: no DVOL for any window of {prices}")
    idx = np.array([np.arange(a, b + 1) for a, b, _, _ in rows])
    return Windows(
        ts_ms=series.ts_ms[idx].astype(np.float64),
        price=series.close[idx],
        vol_open=np.array([r[2] for r in rows]),
        vol_close=np.array([r[3] for r in rows]),
    )


def _book(win: Windows, cfg: OverlayConfig) -> tuple[F64, F64, F64, F64, F64]:
    """Per window: LP value path and delta path (w, n+1), strikes, is_call, vols (w, m)."""
    p0 = win.price[:, 0]
    offs = np.asarray(cfg.strike_offsets) * cfg.range_pct / 100.0
    strikes = np.round(p0[:, None] * (1.0 + offs[None, :]) / cfg.strike_step) * cfg.strike_step
    is_call: F64 = np.asarray(strikes >= p0[:, None], dtype=np.float64)
    vols = win.vol_open[:, None] + cfg.skew * np.abs(np.log(strikes / p0[:, None]))
    values = np.empty_like(win.price)
    deltas = np.empty_like(win.price)
    for w in range(len(p0)):
        pos = open_position(float(p0[w]), cfg.position_usd, cfg.range_pct)
        values[w] = value(pos, win.price[w])
        deltas[w] = amount_base(pos, win.price[w])
    return values, deltas, strikes, is_call, vols


def _quantities(win: Windows, cfg: OverlayConfig, strikes: F64, vols: F64) -> F64:
    """Options bought per window and strike (ETH), from the gamma sizing rule."""
    q = np.zeros_like(strikes)
    if cfg.fraction <= 0:
        return q
    horizon = float(win.ts_ms[0, -1] - win.ts_ms[0, 0]) / YEAR_MS
    expiry = np.full(strikes.shape[1], cfg.expiry_days * DAY_MS / YEAR_MS)
    for w in range(len(strikes)):
        pos = open_position(float(win.price[w, 0]), cfg.position_usd, cfg.range_pct)
        grid = np.linspace(pos.price_lower, pos.price_upper, cfg.grid_points)
        target = lp_gamma_abs(
            grid,
            np.array([pos.liquidity]),
            np.array([pos.price_lower]),
            np.array([pos.price_upper]),
        )
        g = horizon_gamma(grid, strikes[w], vols[w], expiry, min(horizon, expiry[0]))
        q[w] = size_for_gamma(target, g, cfg.fraction)
    return q


def evaluate(win: Windows, cfg: OverlayConfig) -> OverlayResult:
    """Run one configuration over all windows."""
    values, lp_delta, strikes, is_call, vols = _book(win, cfg)
    q = _quantities(win, cfg, strikes, vols)
    p = win.price
    age = (win.ts_ms - win.ts_ms[:, :1]) / YEAR_MS
    t_left = cfg.expiry_days * DAY_MS / YEAR_MS - age
    shape = (*p.shape, strikes.shape[1])
    pk, kk = np.broadcast_to(p[:, :, None], shape), np.broadcast_to(strikes[:, None, :], shape)
    tk, ck = np.broadcast_to(t_left[:, :, None], shape), np.broadcast_to(is_call[:, None], shape)
    vk = np.broadcast_to(vols[:, None, :], shape)
    opt_delta = np.sum(q[:, None, :] * delta_array(pk, kk, tk, vk, ck), axis=2)
    hedge = -(lp_delta + opt_delta)[:, :-1]
    perp_pnl = np.sum(hedge * np.diff(p, axis=1), axis=1)
    trades = np.abs(np.diff(np.concatenate([np.zeros((len(p), 1)), hedge], axis=1), axis=1))
    perp_fees = cfg.fee_bps / 1e4 * np.sum(trades * p[:, :-1], axis=1)
    premium = np.sum(q * price_array(p[:, :1], strikes, t_left[:, :1], vols, is_call), axis=1)
    close_vols = win.vol_close[:, None] + cfg.skew * np.abs(np.log(strikes / p[:, :1]))
    end_value = np.sum(
        q * price_array(p[:, -1:], strikes, t_left[:, -1:], close_vols, is_call), axis=1
    )
    option_pnl = end_value - premium
    spread = cfg.half_spread * (premium + np.where(t_left[:, -1] > 0, end_value, 0.0))
    v0 = cfg.position_usd
    lp_pnl = (values[:, -1] - values[:, 0]) / v0
    hedged = lp_pnl + (perp_pnl + option_pnl) / v0
    net = hedged - (perp_fees + spread) / v0
    var_lp = float(np.var(lp_pnl))
    return OverlayResult(
        fraction=cfg.fraction,
        windows=len(p),
        unhedged_std=math.sqrt(var_lp),
        hedged_std=float(np.std(hedged)),
        variance_reduction=1.0 - float(np.var(hedged)) / var_lp,
        variance_reduction_net=1.0 - float(np.var(net)) / var_lp,
        premium_paid=float(np.mean(premium * (1 + cfg.half_spread))) / v0,
        option_pnl=float(np.mean(option_pnl)) / v0,
        perp_fees=float(np.mean(perp_fees)) / v0,
        spread_cost=float(np.mean(spread)) / v0,
    )


def frontier(
    win: Windows, fractions: tuple[float, ...], base: OverlayConfig | None = None
) -> list[OverlayResult]:
    """Premium vs residual risk over the gamma-target fraction (0 = perps only)."""
    cfg = base or OverlayConfig()
    out = []
    for f in fractions:
        kw = {**cfg.__dict__, "fraction": f}
        out.append(evaluate(win, OverlayConfig(**kw)))
    return out


def table(results: list[OverlayResult]) -> str:
    head = (
        f"{'gamma f':>8} {'weeks':>6} {'var red':>8} {'net':>8} {'hedged sd':>10} "
        f"{'premium':>8} {'opt pnl':>8} {'spread':>7} {'perp fee':>8}"
    )
    lines = [head]
    for r in results:
        lines.append(
            f"{r.fraction:>8.2f} {r.windows:>6d} {r.variance_reduction:>8.2%} "
            f"{r.variance_reduction_net:>8.2%} {r.hedged_std:>10.3%} {r.premium_paid:>8.3%} "
            f"{r.option_pnl:>8.3%} {r.spread_cost:>7.3%} {r.perp_fees:>8.3%}"
        )
    return "\n".join(lines)


def main() -> None:
    win = load_windows()
    results = frontier(win, (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5))
    print(f"ETH 1h, weekly windows with DVOL, v3 +-10 %, perps hourly at 5 bp ({len(win.price)})")
    print("money: % of position value per week; var red = 1 - var(hedged) / var(unhedged)")
    print(table(results))


if __name__ == "__main__":
    main()
