"""A backtest as a paper run on history: the bot's own `Engine` driven bar by bar.

Each window is one paper run, as the vectorised runner treats it: a fresh LP position
(`ReplayPositionSource`, the backtest's LP model served through the chain port), a fresh
paper account (`PaperVenue`, filling against `ReplayMarketData`'s book around the recorded
close), a fresh strategy state and the engine's risk guards, planner, executor and ledger
(in memory, or every window in one SQLite ledger). A replay clock is set to each bar's close
and the engine ticks once; at the window's last bar the figures are read back from what the
run recorded: fills and their fees from the ledger, funding from the paper venue, and the
LP's value from the exposure the engine computes.

The book is one level at the close, deep enough for any hedge, so a fill costs the taker fee
and nothing else, as in the vectorised runner. What still differs between the two paths:
the LP range is rounded to whole ticks here, amounts are the contracts' integer maths, and
funding settles at the first tick after each funding time at that tick's mark.
"""

from __future__ import annotations

import asyncio
import bisect
import math
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import numpy as np

from bot import exposure
from bot.backtest.compare import Inputs, coverage
from bot.backtest.data import F64, FundingSeries, PriceSeries
from bot.backtest.lp import gamma
from bot.backtest.memory_ledger import MemoryLedger, WindowLedger
from bot.backtest.options_market import OptionBook
from bot.backtest.replay_chain import BASE_TOKENS, ReplayPositionSource, open_replay_lp
from bot.backtest.runner import (
    BacktestConfig,
    Coverage,
    WindowResult,
    trailing_volatility,
    window_bounds,
)
from bot.clock import FixedClock
from bot.domain import events as ev
from bot.domain.market import AssetMap, Instrument, MarketSnapshot, OrderBook
from bot.domain.orders import Fill, HedgeTarget, Side
from bot.engine import Engine, EngineParts
from bot.engine_options import OptionsPolicy
from bot.errors import InputError
from bot.execution.orders import OrderExecutor
from bot.hedge.risk import RiskLimits
from bot.options.chain import is_option_symbol
from bot.venues.paper import PaperVenue
from bot.venues.paper_options import USD_LIKE, to_usd
from bot.venues.replay_market import PricePoint, ReplayMarketData
from strategies.registry import build

DEEP = Decimal(10) ** 12  # contracts at the one book level: no hedge walks past it


@dataclass(frozen=True)
class EngineStats:
    """What the engine did over a backtest: ticks, orders, guard halts, failed ticks and
    wall time (seconds)."""

    ticks: int = 0
    orders: int = 0
    halts: int = 0
    failures: int = 0
    seconds: float = 0.0
    first_problem: str | None = None

    def add(self, other: EngineStats) -> EngineStats:
        return EngineStats(
            self.ticks + other.ticks,
            self.orders + other.orders,
            self.halts + other.halts,
            self.failures + other.failures,
            self.seconds + other.seconds,
            self.first_problem or other.first_problem,
        )


class RealisedVolMarket:
    """MarketData that adds, per asset, the trailing realised volatility known at the
    clock's bar (what the vectorised runner hands strategies, and what a bot that had been
    running would have estimated); everything else is the replay market's."""

    def __init__(
        self, inner: ReplayMarketData, clock: FixedClock, asset: str, times: Sequence[int], vol: F64
    ) -> None:
        self._inner, self._clock, self._asset = inner, clock, asset
        self._times, self._vol = times, vol

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]:
        return await self._inner.instruments(symbols)

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot:
        snap = await self._inner.snapshot(symbols)
        i = bisect.bisect_right(self._times, self._clock.now_ms()) - 1
        v = float(self._vol[i]) if i >= 0 else math.nan
        if not math.isfinite(v):
            return snap
        return replace(snap, volatility={**snap.volatility, self._asset: v})

    async def order_book(self, symbol: str, depth: int = 20) -> OrderBook:
        return await self._inner.order_book(symbol, depth)

    async def option_chain(self, asset: str) -> Mapping[str, Instrument]:
        return await self._inner.option_chain(asset)


@dataclass
class _Series:
    """One price series as the replay adapters take it, built once for all its windows."""

    series: PriceSeries
    times: list[int]
    prices: list[Decimal]
    points: list[PricePoint]
    vol: F64

    @classmethod
    def of(cls, s: PriceSeries) -> _Series:
        times = [int(t) for t in s.ts_ms]
        prices = [Decimal(repr(float(x))) for x in s.close]
        points = [PricePoint(t, p) for t, p in zip(times, prices, strict=True)]
        return cls(s, times, prices, points, trailing_volatility(s))


def _funding_rows(funding: FundingSeries | None) -> list[tuple[int, Decimal]] | None:
    if funding is None:
        return None
    return [
        (int(t), Decimal(repr(float(r)))) for t, r in zip(funding.ts_ms, funding.rate, strict=True)
    ]


@dataclass
class EngineBacktest:
    """Runs one strategy through the engine over every window; `ledger` None keeps each
    window's events in memory (dropped after it), else every window is appended to it."""

    name: str
    params: Sequence[str]
    cfg: BacktestConfig
    funding: FundingSeries | None = None
    ledger: Any = None
    limits: RiskLimits = field(default_factory=RiskLimits)
    stats: EngineStats = field(default_factory=EngineStats)

    def run(
        self, series: Sequence[PriceSeries], covered: Coverage | None = None
    ) -> list[WindowResult]:
        return asyncio.run(self._run_all(series, covered))

    async def _run_all(
        self, series: Sequence[PriceSeries], covered: Coverage | None
    ) -> list[WindowResult]:
        out = []
        rows = _funding_rows(self.funding)
        for s in series:
            prepared = _Series.of(s)
            for i0, i1 in window_bounds(s.ts_ms, self.cfg.window_ms):
                if covered is None or covered(int(s.ts_ms[i0]), int(s.ts_ms[i1])):
                    out.append(await self.window(prepared, i0, i1, rows))
        return out

    def _market(
        self, s: _Series, clock: FixedClock, rows: list[tuple[int, Decimal]] | None
    ) -> RealisedVolMarket:
        inst = self.cfg.instrument
        inner = ReplayMarketData(
            {inst.symbol: s.points},
            {inst.symbol: inst},
            clock,
            funding_rate=Decimal(0),
            half_spread_bps=Decimal(0),
            level_step_bps=Decimal(0),
            levels=1,
            level_amount=DEEP,
            funding=None if rows is None else {inst.symbol: rows},
            options=None if self.cfg.options is None else self.cfg.options.market,
        )
        return RealisedVolMarket(inner, clock, self.cfg.asset, s.times, s.vol)

    async def window(
        self, s: _Series, i0: int, i1: int, rows: list[tuple[int, Decimal]] | None = None
    ) -> WindowResult:
        """One window as one paper run (bars i0..i1 inclusive; the engine ticks at i0..i1-1)."""
        started = time.perf_counter()
        cfg, inst = self.cfg, self.cfg.instrument
        asset = cfg.asset
        if asset not in BASE_TOKENS:
            raise InputError(f"engine backtest: no replay token for asset {asset!r}")
        clock = FixedClock(s.times[i0])
        market = self._market(s, clock, rows)
        lp = open_replay_lp(
            float(s.series.close[i0]), cfg.position_usd, cfg.range_pct, BASE_TOKENS[asset]
        )
        source = ReplayPositionSource(s.times, s.prices, clock, lp, asset)
        ledger = MemoryLedger() if self.ledger is None else WindowLedger(self.ledger)
        run_id = uuid.uuid4().hex
        venue = PaperVenue(
            "paper-backtest",
            market,
            None,
            clock,
            Decimal(repr(cfg.position_usd)),
            price_symbols={asset: inst.symbol},
        )
        strategy = build(self.name, self.params)
        parts = EngineParts(
            source=source,
            market=market,
            venue=venue,
            ledger=ledger,
            executor=OrderExecutor(venue, ledger, clock, run_id),
            strategy=strategy,
            strategy_params=dict(p.split("=", 1) for p in self.params if "=" in p),
            clock=clock,
            assets=AssetMap(),
            symbols={asset: inst.symbol},
            limits=self.limits,
            run_id=run_id,
            options=self._options_policy(strategy),
            started=ev.RunStarted(
                run_id, "backtest", venue.name, strategy.name, {}, "", "backtest"
            ),
        )
        engine = Engine(parts)
        await engine.start()
        halts = failures = 0
        problem: str | None = None
        v_open = await self._lp_value(source)
        for k in range(i0, i1):
            clock.ms = s.times[k]
            result = await engine.tick()
            if result.error is not None:
                failures += 1
                problem = problem or result.error
            elif result.verdict is not None and result.verdict.halt:
                halts += 1
                problem = problem or result.verdict.halt
        clock.ms = s.times[i1]
        end_price = s.prices[i1]
        v_close = await self._lp_value(source)
        fills = [ev.from_payload(Fill, e.payload) for e in ledger.events([ev.FILL])]
        perp_fills = [f for f in fills if not is_option_symbol(f.symbol)]
        hedge_pnl = sum(
            (
                (1 if f.side is Side.BUY else -1) * f.amount * (end_price - f.price)
                for f in perp_fills
            ),
            Decimal(0),
        )
        fees = sum((f.fee for f in perp_fills), Decimal(0))
        opts = self._option_account(s, i0, i1, [f for f in fills if is_option_symbol(f.symbol)])
        funding = sum((p.amount for p in await venue.funding_payments(s.times[i0])), Decimal(0))
        orders = len(ledger.events([ev.ORDER_INTENT]))
        self.stats = self.stats.add(
            EngineStats(i1 - i0, orders, halts, failures, time.perf_counter() - started, problem)
        )
        p = s.series.close[i0 : i1 + 1]
        gammas = gamma(lp.model, p)
        v0 = cfg.position_usd
        return WindowResult(
            start_ms=s.times[i0],
            end_ms=s.times[i1],
            lp_pnl=float(v_close - v_open) / v0,
            hedge_pnl=float(hedge_pnl) / v0,
            cost=(float(fees) + opts.cost) / v0,
            funding=float(funding) / v0,
            trades=orders,
            lp_fees=0.0,
            lvr=float(np.sum(0.5 * np.abs(gammas[:-1]) * np.diff(p) ** 2)) / v0,
            option_pnl=opts.pnl / v0,
            premium=opts.premium / v0,
        )

    def _option_account(self, s: _Series, i0: int, i1: int, fills: list[Fill]) -> _OptionLegs:
        """The window's option fills in the vectorised runner's terms: PnL at mid (settled
        at each bar's close on or after expiry, the rest marked at the last close), premium
        at mid, and costs: what the fills paid beyond mid plus their fees, and the modelled
        cost of closing what is still held."""
        if not fills or self.cfg.options is None:
            return _OptionLegs()
        market = self.cfg.options.market
        book = OptionBook(self.cfg.options, {f.symbol: market.instrument(f.symbol) for f in fills})
        by_ts: dict[int, list[Fill]] = {}
        for f in fills:
            by_ts.setdefault(f.ts_ms, []).append(f)
        beyond_mid = 0.0
        for k in range(i0, i1 + 1):
            now, spot = s.times[k], float(s.prices[k])
            book.settle(now, spot)
            for f in by_ts.pop(now, []):
                inst = book.chain[f.symbol]
                sign = 1 if f.side is Side.BUY else -1
                mid = market.mid_usd(inst, now, spot)
                paid = float(to_usd(f.price, inst, s.prices[k]))
                fee = float(f.fee) * (1.0 if f.fee_currency in USD_LIKE else spot)
                beyond_mid += sign * float(f.amount) * (paid - mid) + fee
                target = book.held.get(f.symbol, Decimal(0)) + sign * f.amount
                book.trade([HedgeTarget(self.cfg.asset, f.symbol, target, "fill")], now, spot)
        if by_ts:
            raise InputError(f"engine backtest: option fills off the bar times: {sorted(by_ts)}")
        end, spot = s.times[i1], float(s.prices[i1])
        return _OptionLegs(
            pnl=book.cash + book.value(end, spot),
            premium=book.premium,
            cost=beyond_mid + book.closing_cost(end, spot),
        )

    def _options_policy(self, strategy: Any) -> OptionsPolicy | None:
        """The engine's option desk for a strategy that trades options, on the backtest's
        option market (as `wiring.options_policy` sets it up for a paper run). The chain is
        listed once a window, as the vectorised runner lists it at the window's open."""
        if not getattr(strategy, "uses_options", False):
            return None
        pricing = self.cfg.options
        if pricing is None:
            raise InputError(
                f"strategy {strategy.name!r} trades options: give --dvol (Deribit DVOL CSV) "
                "so the backtest can price them"
            )
        return OptionsPolicy(
            max_expiry_days=float(pricing.max_days),
            strike_step=pricing.market.spec.strike_step,
            chain_refresh_ms=self.cfg.window_ms,
        )

    async def _lp_value(self, source: ReplayPositionSource) -> Decimal:
        book = exposure.book(await source.read(), AssetMap())
        return book.assets[self.cfg.asset].value_usd


@dataclass(frozen=True)
class _OptionLegs:
    """A window's options in USD: PnL at mid, premium paid at mid, spread and fees."""

    pnl: float = 0.0
    premium: float = 0.0
    cost: float = 0.0


def run_engine(
    name: str,
    params: Sequence[str],
    cfg: BacktestConfig,
    inputs: Inputs,
    ledger: Any = None,
    limits: RiskLimits | None = None,
) -> tuple[list[WindowResult], EngineStats]:
    """Every window the inputs cover, through the engine; the stats say what it did."""
    if inputs.pool is not None:
        raise InputError(
            "--engine: pool fees are not replayed through the engine; drop --pool-data"
        )
    bt = EngineBacktest(name, params, cfg, inputs.funding, ledger, limits or RiskLimits())
    results = bt.run(list(inputs.series), coverage(inputs, cfg.options))
    return results, bt.stats
