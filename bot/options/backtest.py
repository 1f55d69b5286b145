"""Options overlay vs perps alone on real hourly ETH and Deribit DVOL, per weekly window.

Each weekly window opens a fresh v3 position (+-`range_pct` around the first close, worth
`position_usd`). Perps alone: every hour the perp is set to minus the LP's delta. Overlay: at
the open we buy the strip of `bot.options.strip` on listed strikes (`strike_step` apart,
thinned to the venue's `min_quantity`) expiring `expiry_days` later, for the fraction of the
LP's convexity `buy_fraction` gives (options dear against the realised vol -> buy less);
every hour the perp takes minus (LP delta + the strip's delta at expiry). Options are priced
by Black-76 at DVOL (the close of the day before the window: causal) plus `skew` x
|ln(K/F)|; bought at mid x (1 + half_spread), and if they outlive the window, sold back at
mid x (1 - half_spread) marked at the DVOL of the window's last day. Prices, the smile and
fees are those of the one offline option market, `bot.venues.replay_options.ReplayOptions`.

Variance reduction is of weekly hedged PnL (LP + perp + options at mid, before fees and
spread, as `bot.backtest` measures it) against the unhedged LP; the premium paid is
reported beside it, and `variance_reduction_net` counts spread and fees too. Money figures
are fractions of the position value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.backtest.data import PriceSeries, load_prices
from bot.backtest.lp import amount_base, open_position, value
from bot.backtest.runner import WEEK_MS, trailing_volatility, window_bounds
from bot.errors import InputError
from bot.options.black76 import F64, delta_array
from bot.options.dvol import load_dvol
from bot.options.strip import Convexity, buy_fraction, expiry_delta, strip
from bot.venues.replay_options import ReplayOptions, ReplayOptionsSpec

YEAR_MS = 365.0 * 86_400_000.0
DAY_MS = 86_400_000


@dataclass(frozen=True)
class OverlayConfig:
    """`gamma_fraction` of the LP's convexity bought when implied = realised vol (0 = perps
    alone), capped at `max_fraction`; realised vol is an EWMA of hourly returns with
    half-life `rv_halflife_h`; `expiry_days` from the open (the horizon plus the roll
    margin); `strike_step` USD between listed strikes; `min_quantity` and `quantity_step`
    base units per leg (Deribit ETH: whole contracts of 1 ETH); `skew` vol per unit |log
    moneyness|; `half_spread` fraction of the option mid; `option_fee` base units per
    contract (Deribit: 0.0003 ETH, capped at 12.5 % of the premium); `fee_bps` per perp
    trade. `scale_by_vol` False buys `gamma_fraction` every week; `options_delta`
    "black76" makes the perp hedge the options' current delta instead of their delta at
    expiry (both kept for the ablation in the report)."""

    gamma_fraction: float = 0.75
    max_fraction: float = 1.0
    scale_by_vol: bool = True
    options_delta: str = "expiry"
    rv_halflife_h: float = 24.0
    range_pct: float = 10.0
    position_usd: float = 100_000.0
    expiry_days: float = 9.0
    strike_step: float = 50.0
    min_quantity: float = 1.0
    quantity_step: float = 1.0
    skew: float = 0.3
    half_spread: float = 0.03
    option_fee: float = 0.0003
    fee_bps: float = 5.0


@dataclass(frozen=True)
class Windows:
    """Weekly windows: `price` (w, n+1) hourly closes, `ts_ms` (w, n+1), DVOL (annualised)
    at the open `vol_open` (w,) and at the close `vol_close` (w,); `series` and `start` (w,)
    locate each open in the whole hourly series, for the realised vol before it."""

    ts_ms: F64
    price: F64
    vol_open: F64
    vol_close: F64
    series: PriceSeries
    start: npt.NDArray[np.int64]


@dataclass(frozen=True)
class OverlayResult:
    """Figures per config, fractions of position value (means per window, stds across)."""

    gamma_fraction: float
    windows: int
    unhedged_std: float
    hedged_std: float
    variance_reduction: float
    variance_reduction_net: float
    mean_fraction: float
    premium_paid: float
    option_pnl: float
    perp_fees: float
    option_costs: float
    legs: float


def load_windows(prices: Path, dvol: Path) -> Windows:
    """Weekly windows of the hourly series that DVOL covers (the day before each open)."""
    series = load_prices(prices)
    vols = load_dvol(dvol)["ETH"]
    bounds = window_bounds(series.ts_ms, WEEK_MS)
    length = max(i1 - i0 for i0, i1 in bounds)
    keep = [(a, b) for a, b in bounds if b - a == length]

    def vol_at(ts: int) -> float:
        try:
            return vols.at(ts)
        except InputError:
            return math.nan

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
        series=series,
        start=np.array([r[0] for r in rows], dtype=np.int64),
    )


@dataclass(frozen=True)
class _Window:
    """One window's outcome in USD."""

    lp: float
    perp: float
    premium: float
    end_value: float
    perp_fees: float
    option_costs: float
    fraction: float
    legs: int


def market(cfg: OverlayConfig) -> ReplayOptions:
    """The option market the study prices in: its smile, spread and fees from `cfg` (its
    DVOL comes per window, in `Windows`)."""
    spec = ReplayOptionsSpec(
        strike_step=Decimal(repr(cfg.strike_step)),
        skew=cfg.skew,
        half_spread=cfg.half_spread,
        taker_fee=Decimal(repr(cfg.option_fee)),
    )
    return ReplayOptions(spec, {})


def _window(
    win: Windows, w: int, cfg: OverlayConfig, rv: float | None, opts: ReplayOptions
) -> _Window:
    p = win.price[w]
    p0 = float(p[0])
    pos = open_position(p0, cfg.position_usd, cfg.range_pct)
    lp_delta = amount_base(pos, p)
    realised = rv if cfg.scale_by_vol else None
    f = buy_fraction(cfg.gamma_fraction, cfg.max_fraction, float(win.vol_open[w]), realised)
    listed = np.arange(
        math.floor(pos.price_lower * 0.8 / cfg.strike_step),
        math.ceil(pos.price_upper * 1.2 / cfg.strike_step) + 1,
    ) * float(cfg.strike_step)
    conv = Convexity((pos.liquidity,), (pos.price_lower,), (pos.price_upper,))
    legs = strip(listed.tolist(), conv, p0, f, cfg.min_quantity, cfg.quantity_step) if f > 0 else ()
    k = np.array([leg.strike for leg in legs])
    call = np.array([1.0 if leg.is_call else 0.0 for leg in legs])
    q = np.array([leg.quantity for leg in legs])
    hedge = -lp_delta[:-1]
    premium = end_value = option_costs = 0.0
    if legs:
        t0 = cfg.expiry_days * DAY_MS / YEAR_MS
        t1 = t0 - float(win.ts_ms[w, -1] - win.ts_ms[w, 0]) / YEAR_MS
        skew = opts.smile(np.zeros(len(k)), k, np.full(len(k), p0))  # the wing alone
        if cfg.options_delta == "black76":
            t = np.maximum(t0 - (win.ts_ms[w, :-1] - win.ts_ms[w, 0]) / YEAR_MS, 0.0)[:, None]
            d = delta_array(p[:-1, None], k[None, :], t, (win.vol_open[w] + skew)[None, :], call)
            hedge = hedge - np.sum(q * d, axis=1)
        else:
            hedge = hedge - expiry_delta(p[:-1], k, call, q)
        mids0 = opts.premium_usd(
            np.full(len(k), p0), k, np.full(len(k), t0), win.vol_open[w] + skew, call
        )
        mids1 = opts.premium_usd(
            np.full(len(k), p[-1]), k, np.full(len(k), max(t1, 0.0)), win.vol_close[w] + skew, call
        )
        premium = float(np.sum(q * mids0))
        end_value = float(np.sum(q * mids1))
        fee0 = opts.fee_usd(mids0, np.full(len(k), p0))
        fee1 = np.where(t1 > 0, opts.fee_usd(mids1, np.full(len(k), p[-1])), 0.0)
        resale = end_value if t1 > 0 else 0.0
        spread = opts.spec.half_spread * (premium + resale)
        option_costs = spread + float(np.sum(q * (fee0 + fee1)))
    trades = np.abs(np.diff(np.concatenate([[0.0], hedge])))
    values = value(pos, p[[0, -1]])
    return _Window(
        lp=float(values[1] - values[0]),
        perp=float(np.sum(hedge * np.diff(p))),
        premium=premium,
        end_value=end_value,
        perp_fees=cfg.fee_bps / 1e4 * float(np.sum(trades * p[:-1])),
        option_costs=option_costs,
        fraction=f if legs else 0.0,
        legs=len(legs),
    )


def evaluate(win: Windows, cfg: OverlayConfig) -> OverlayResult:
    """Run one configuration over all windows."""
    rv_all = trailing_volatility(win.series, cfg.rv_halflife_h * 3600.0)
    opts = market(cfg)
    rows = []
    for w in range(len(win.price)):
        rv = float(rv_all[int(win.start[w])])
        rows.append(_window(win, w, cfg, rv if math.isfinite(rv) else None, opts))
    v0 = cfg.position_usd
    lp = np.array([r.lp for r in rows]) / v0
    options = np.array([r.end_value - r.premium for r in rows]) / v0
    hedged = lp + np.array([r.perp for r in rows]) / v0 + options
    costs = np.array([r.perp_fees + r.option_costs for r in rows]) / v0
    var_lp = float(np.var(lp))
    return OverlayResult(
        gamma_fraction=cfg.gamma_fraction,
        windows=len(rows),
        unhedged_std=math.sqrt(var_lp),
        hedged_std=float(np.std(hedged)),
        variance_reduction=1.0 - float(np.var(hedged)) / var_lp,
        variance_reduction_net=1.0 - float(np.var(hedged - costs)) / var_lp,
        mean_fraction=float(np.mean([r.fraction for r in rows])),
        premium_paid=float(np.mean([r.premium for r in rows])) / v0,
        option_pnl=float(np.mean(options)),
        perp_fees=float(np.mean([r.perp_fees for r in rows])) / v0,
        option_costs=float(np.mean([r.option_costs for r in rows])) / v0,
        legs=float(np.mean([r.legs for r in rows])),
    )


def frontier(
    win: Windows, fractions: tuple[float, ...], base: OverlayConfig | None = None
) -> list[OverlayResult]:
    """Premium vs residual risk over `gamma_fraction` (0 = perps alone)."""
    cfg = base or OverlayConfig()
    return [
        evaluate(win, replace(cfg, gamma_fraction=f, max_fraction=max(f, 1.0))) for f in fractions
    ]
