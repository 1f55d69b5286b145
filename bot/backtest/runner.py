"""Replay one price series window by window through a strategy and the planner.

Each window opens a fresh LP position worth `position_usd` centred on the window's first
close. At every bar close the strategy sees the LP's exposure and the current hedge; its
targets go through `bot.hedge.planner.plan` (venue rounding and minimums) and fill at the
close, paying `fee_bps` of the notional. The hedge then earns h * (P[k+1] - P[k]) to the
next bar, plus funding at the funding times. All money results are fractions of the
position's value at window open.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal

import numpy as np

from bot.backtest.data import F64, FundingSeries, PoolBars, PriceSeries
from bot.backtest.lp import LpRange, amount_base, gamma, open_position, value
from bot.backtest.options_market import OptionBook, OptionPricing
from bot.domain.lp import AssetExposure, ExposureBook, PositionExposure
from bot.domain.market import BINANCE_ETHUSDT, USD, Instrument, MarketSnapshot, Quote
from bot.domain.orders import OrderIntent
from bot.errors import InputError
from bot.hedge.planner import filled_base, plan
from strategies.base import (
    SECONDS_PER_YEAR,
    HedgeStrategy,
    StrategyContext,
    StrategyState,
    to_decimal,
)

HOUR_MS = 3_600_000
WEEK_MS = 7 * 24 * HOUR_MS
L_RAW_PER_L = 1e12  # sqrt(1e6 USDC units * 1e18 WETH units): human -> pool raw liquidity


def binance_eth_perp(fee_bps: float = 5.0) -> Instrument:
    """Binance USD-M ETHUSDT perpetual, paying `fee_bps` per trade."""
    return replace(BINANCE_ETHUSDT, taker_fee=to_decimal(fee_bps / 1e4, 8))


@dataclass(frozen=True)
class BacktestConfig:
    """`range_pct` 0 = v2 full range; `window_ms` window length; `fee_bps` per trade."""

    range_pct: float
    window_ms: int = WEEK_MS
    fee_bps: float = 5.0
    position_usd: float = 100_000.0
    asset: str = "ETH"
    instrument: Instrument = field(default_factory=binance_eth_perp)
    options: OptionPricing | None = None  # lists and prices options for strategies using them


@dataclass(frozen=True)
class WindowResult:
    """One window; money as fractions of the opening position value."""

    start_ms: int
    end_ms: int
    lp_pnl: float
    hedge_pnl: float
    cost: float
    funding: float
    trades: int
    lp_fees: float
    lvr: float
    option_pnl: float = 0.0
    premium: float = 0.0

    @property
    def hedged_pnl(self) -> float:
        """LP plus perp and option PnL (options at mid), before trading costs, funding
        and LP fees."""
        return self.lp_pnl + self.hedge_pnl + self.option_pnl


def window_bounds(ts_ms: np.ndarray, window_ms: int) -> list[tuple[int, int]]:
    """Consecutive windows [i0, i1] (inclusive, sharing the boundary bar) of `window_ms`."""
    out: list[tuple[int, int]] = []
    i0 = 0
    last_ts = int(ts_ms[-1])
    while int(ts_ms[i0]) + window_ms <= last_ts:
        end = int(ts_ms[i0]) + window_ms
        i1 = int(np.searchsorted(ts_ms, end, side="right")) - 1
        if i1 <= i0:
            i0 += 1
            continue
        out.append((i0, i1))
        i0 = i1
    return out


def trailing_volatility(series: PriceSeries, halflife_s: float = 3 * 86400.0) -> F64:
    """Annualised EWMA volatility of log returns up to and including each bar (causal:
    what a live bot knows at that bar); NaN at the first bar."""
    ts, p = series.ts_ms, series.close
    dt_s = np.maximum(np.diff(ts) / 1000.0, 1e-3)
    r2_per_s = np.log(p[1:] / p[:-1]) ** 2 / dt_s
    weight = 1.0 - 0.5 ** (dt_s / halflife_s)
    out = np.full(len(p), np.nan)
    var = float(r2_per_s[0]) if len(r2_per_s) else np.nan
    for k in range(len(r2_per_s)):  # a few ms per year of hourly bars
        var += weight[k] * (r2_per_s[k] - var)
        out[k + 1] = var
    annual: F64 = np.sqrt(out * SECONDS_PER_YEAR)
    return annual


def _funding_per_bar(ts: np.ndarray, funding: FundingSeries | None) -> tuple[F64, F64]:
    """Per bar k: summed rate of events in (t_k, t_k+1], and the last rate known at t_k."""
    n = len(ts)
    if funding is None or len(funding.ts_ms) == 0:
        return np.zeros(n), np.full(n, np.nan)
    cum = np.concatenate([[0.0], np.cumsum(funding.rate)])
    upto = np.searchsorted(funding.ts_ms, ts, side="right")
    paid = np.zeros(n)
    paid[:-1] = cum[upto[1:]] - cum[upto[:-1]]
    known = np.where(upto > 0, funding.rate[np.maximum(upto - 1, 0)], np.nan)
    return paid, known


def pool_fees(pos: LpRange, start_ms: int, end_ms: int, pool: PoolBars | None) -> float:
    """USD fees a position of this liquidity earns from the pool's minutes in the window."""
    if pool is None:
        return 0.0
    a, b = np.searchsorted(pool.ts_ms, [start_ms, end_ms], side="right")
    price = pool.price[a:b]
    inside = (price >= pos.price_lower) & (price <= pos.price_upper)
    mine = pos.liquidity * L_RAW_PER_L
    share = mine / (mine + pool.active_liquidity[a:b])
    return float(np.sum(pool.fee * pool.volume_usd[a:b] * share * inside))


@dataclass
class _Book:
    """The simulated hedge account during one window."""

    hedge: Decimal = Decimal(0)
    cost_usd: float = 0.0
    trades: int = 0

    def fill(self, intents: tuple[OrderIntent, ...], price: float, fee: float) -> None:
        for intent in intents:
            self.hedge += filled_base(intent)
            self.cost_usd += fee * float(intent.amount_base) * price
            self.trades += 1


def _context(
    cfg: BacktestConfig,
    now_ms: int,
    delta: float,
    gamma_k: float,
    value_k: float,
    price: Decimal,
    hedge: Decimal,
    state: StrategyState,
    funding_rate: float,
    vol: float,
    pos: LpRange,
    options: OptionBook | None,
) -> StrategyContext:
    asset = cfg.asset
    exposure = AssetExposure(asset, to_decimal(delta), gamma_k, to_decimal(value_k, 2), 1)
    vols = {asset: vol} if vol == vol else {}
    quotes: Mapping[str, Quote] = {}
    if funding_rate == funding_rate:  # not NaN
        symbol = cfg.instrument.symbol
        rate = to_decimal(funding_rate, 8)
        quotes = {symbol: Quote(symbol, now_ms, price, funding_rate=rate)}
    hedges: dict[str, Decimal] = {asset: hedge}
    instruments: Mapping[str, Instrument] = {}
    if options is not None:
        quotes = options.quotes(now_ms, float(price), quotes)
        hedges.update(options.held)
        instruments = options.chain
    return StrategyContext(
        now_ms=now_ms,
        exposure=ExposureBook(
            0, now_ms // 1000, {asset: exposure}, (_position(asset, pos, exposure, price),)
        ),
        hedges=hedges,
        market=MarketSnapshot(now_ms, {asset: price}, quotes, instruments, vols),
        state=state,
        instruments={asset: cfg.instrument},
    )


def _position(asset: str, pos: LpRange, exp: AssetExposure, price: Decimal) -> PositionExposure:
    """The window's LP position as the exposure book shows a real one (USD-quoted)."""
    lower = None if pos.full_range else to_decimal(pos.price_lower, 6)
    upper = None if pos.full_range else to_decimal(pos.price_upper, 6)
    in_range = pos.full_range or pos.price_lower <= float(price) <= pos.price_upper
    zero = Decimal(0)
    return PositionExposure(
        "backtest",
        "",
        asset,
        USD,
        in_range,
        zero,
        zero,
        zero,
        zero,
        price,
        exp.value_usd,
        exp.delta,
        exp.gamma,
        {asset: exp.delta},
        lower,
        upper,
    )


def run_window(
    strategy: HedgeStrategy,
    series: PriceSeries,
    i0: int,
    i1: int,
    cfg: BacktestConfig,
    funding: FundingSeries | None = None,
    pool: PoolBars | None = None,
    vol: F64 | None = None,
) -> WindowResult:
    """Hedge one fresh LP position over bars i0..i1 (inclusive)."""
    ts = series.ts_ms[i0 : i1 + 1]
    p = series.close[i0 : i1 + 1]
    v0 = cfg.position_usd
    pos = open_position(float(p[0]), v0, cfg.range_pct)
    deltas, gammas, values = amount_base(pos, p), gamma(pos, p), value(pos, p)
    paid, known = _funding_per_bar(ts, funding)
    vols = np.full(len(p), np.nan) if vol is None else vol[i0 : i1 + 1]
    prices = [Decimal(repr(x)) for x in p.tolist()]
    fee = cfg.fee_bps / 1e4
    book = _Book()
    state = StrategyState()
    asset, inst = cfg.asset, cfg.instrument
    options = _options(strategy, cfg, int(ts[0]), float(p[0]))
    hedge_pnl = funding_pnl = 0.0
    for k in range(len(p) - 1):
        now = int(ts[k])
        price = prices[k]
        if options is not None:
            options.settle(now, float(p[k]))
        ctx = _context(
            cfg,
            now,
            deltas[k],
            gammas[k],
            values[k],
            price,
            book.hedge,
            state,
            known[k],
            vols[k],
            pos,
            options,
        )
        decision = strategy.target(ctx)
        state = decision.state
        if options is not None and decision.options:
            options.trade(decision.options, now, float(p[k]))
        if any(t.act for t in decision.targets):
            planned = plan(
                decision.targets, {asset: book.hedge}, {asset: inst}, {asset: price}, f"bt{now}"
            )
            book.fill(planned.intents, float(p[k]), fee)
        h = float(book.hedge)
        hedge_pnl += h * (p[k + 1] - p[k])
        funding_pnl -= h * p[k + 1] * paid[k]
    lvr = float(np.sum(0.5 * np.abs(gammas[:-1]) * np.diff(p) ** 2))
    option_pnl = premium = option_cost = 0.0
    option_trades = 0
    if options is not None:
        end, spot = int(ts[-1]), float(p[-1])
        options.settle(end, spot)
        option_pnl = options.cash + options.value(end, spot)
        option_cost = options.cost + options.closing_cost(end, spot)
        premium, option_trades = options.premium, options.trades
    return WindowResult(
        start_ms=int(ts[0]),
        end_ms=int(ts[-1]),
        lp_pnl=float(values[-1] - values[0]) / v0,
        hedge_pnl=float(hedge_pnl) / v0,
        cost=(book.cost_usd + option_cost) / v0,
        funding=float(funding_pnl) / v0,
        trades=book.trades + option_trades,
        lp_fees=pool_fees(pos, int(ts[0]), int(ts[-1]), pool) / v0,
        lvr=lvr / v0,
        option_pnl=option_pnl / v0,
        premium=premium / v0,
    )


def _options(
    strategy: HedgeStrategy, cfg: BacktestConfig, open_ms: int, price: float
) -> OptionBook | None:
    """A listed chain for the window when the strategy trades options."""
    if not getattr(strategy, "uses_options", False):
        return None
    if cfg.options is None:
        raise InputError(
            f"strategy {strategy.name!r} trades options: give --dvol (Deribit DVOL CSV) "
            "so the backtest can price them"
        )
    return OptionBook.open(cfg.options, cfg.asset, open_ms, price)


Coverage = Callable[[int, int], bool]


def run(
    strategy: HedgeStrategy,
    series: list[PriceSeries],
    cfg: BacktestConfig,
    funding: FundingSeries | None = None,
    pool: PoolBars | None = None,
    covered: Coverage | None = None,
) -> list[WindowResult]:
    """Every full window of every series (windows never span two series)."""
    out = []
    for s in series:
        vol = trailing_volatility(s)
        for i0, i1 in window_bounds(s.ts_ms, cfg.window_ms):
            if covered is None or covered(int(s.ts_ms[i0]), int(s.ts_ms[i1])):
                out.append(run_window(strategy, s, i0, i1, cfg, funding, pool, vol))
    return out
