"""Regenerate docs/benchmarks.md (and its frontier PNG) from ../shared/data.

Run: `.venv/bin/python -m bench.backtest_report` (about a minute on 2 cores).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from bench.backtest_speed import engine_year_seconds, last_year
from bot.backtest.compare import Inputs, SweepPoint, dominated, run_one, sweep
from bot.backtest.data import PriceSeries, load_funding, load_pool, load_prices
from bot.backtest.metrics import Summary, summarize
from bot.backtest.options_market import OptionPricing
from bot.backtest.plot import frontier_plot
from bot.backtest.runner import BacktestConfig
from bot.options.dvol import load_dvol

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
MARKET = DATA / "market"
ETH_1H = MARKET / "binance_perp_1h" / "ETHUSDT_1h.csv"
BTC_1H = MARKET / "binance_perp_1h" / "BTCUSDT_1h.csv"
FUNDING = MARKET / "binance_perp_funding_8h" / "ETH_USDT_USDT-8h-funding_rate.csv"
DVOL = MARKET / "deribit_dvol_daily" / "eth_dvol.csv"
POOL = DATA / "pools" / "polygon_univ3_usdc_weth_005_minute"
ONE_MIN = sorted((MARKET / "binance_eth_1m").glob("*.csv"))
OUT = ROOT / "docs" / "benchmarks.md"
PNG = ROOT / "docs" / "benchmarks-frontier.png"

DEFAULTS: Sequence[tuple[str, str, Sequence[str]]] = (
    ("vol_band (defaults)", "vol_band", ()),
    ("delta_band (defaults)", "delta_band", ()),
    ("fixed_threshold 0.05", "fixed_threshold", ()),
    ("fixed_interval 1h", "fixed_interval", ("interval=1h",)),
    ("fixed_interval 24h", "fixed_interval", ("interval=24h",)),
)
HEADER = (
    "| strategy | windows | unhedged std | hedged std | variance reduction | cost "
    "| funding | trades/window | LP fees | LVR |\n|---|---|---|---|---|---|---|---|---|---|"
)


def pct(x: float | None, digits: int = 3) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f} %"


def row(label: str, s: Summary) -> str:
    return (
        f"| {label} | {s.windows} | {pct(s.unhedged_std, 2)} | {pct(s.hedged_std, 2)} "
        f"| {pct(s.variance_reduction, 1)} | {pct(s.cost, 4)} | {pct(s.funding, 4)} "
        f"| {s.trades_per_window:.1f} | {pct(s.lp_fees, 3)} | {pct(s.lvr, 3)} |"
    )


def table(
    cfg: BacktestConfig, inputs: Inputs, extra: Sequence[tuple[str, str, Sequence[str]]] = ()
) -> str:
    lines = [HEADER]
    for label, name, params in (*DEFAULTS, *extra):
        lines.append(row(label, run_one(name, params, cfg, inputs)))
    return "\n".join(lines)


def sweep_table(points: Sequence[SweepPoint]) -> str:
    lines = [HEADER]
    lines += [row(f"{p.strategy} {p.param}", p.summary) for p in points]
    return "\n".join(lines)


def headline(cfg: BacktestConfig, inputs: Inputs) -> tuple[str, Summary, list[SweepPoint]]:
    vb = run_one("vol_band", (), cfg, inputs)
    baselines = sweep("fixed_interval", cfg, inputs) + sweep("fixed_threshold", cfg, inputs)
    daily = next(p.summary for p in baselines if p.param == "interval=24h")
    beaten = [
        p for p in baselines if p.summary.cost < vb.cost and p.summary.hedged_std < vb.hedged_std
    ]
    verdict = (
        f"- vol_band defaults: **{pct(vb.variance_reduction, 1)}** variance reduction at "
        f"**{pct(vb.cost, 4)}** per week; fixed_interval 24h: {pct(daily.variance_reduction, 1)} "
        f"at {pct(daily.cost, 4)}.\n"
        f"- >= 90 % reduction: {'yes' if vb.variance_reduction >= 0.9 else 'NO'}; cost <= 24h: "
        f"{'yes' if vb.cost <= daily.cost else 'NO'}; baseline settings both cheaper and less "
        f"risky: {', '.join(p.param for p in beaten) if beaten else 'none'} "
        f"(dominated: {'yes' if dominated(vb, [p.summary for p in baselines]) else 'no'})."
    )
    return verdict, vb, baselines


def walk_tables() -> str:
    """The frontier tables from docs/walk-forward.json (`python -m bench.walk_forward_report`)."""
    from bench.walk_forward_report import OUT as WF_JSON
    from bench.walk_forward_report import render

    if not WF_JSON.exists():
        return "\n\n_(run `python -m bench.walk_forward_report` to fill these tables)_"
    return "\n\n" + render(WF_JSON)


def agreement() -> str:
    """Engine path vs vectorised screen on the last year of ETH 1 h, per strategy."""
    from bot.backtest.engine_path import run_engine

    year = Inputs([last_year()])
    lines = [
        AGREEMENT,
        "",
        "| strategy, range | screen var. red. | engine var. red. | screen cost | engine cost "
        "| screen trades/w | engine trades/w |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, range_pct in (("vol_band", 10), ("delta_band", 10), ("fixed_interval", 10),
                            ("vol_band", 0)):  # fmt: skip
        cfg = BacktestConfig(range_pct=range_pct)
        screen = run_one(name, (), cfg, year)
        eng = summarize(run_engine(name, (), cfg, year)[0])
        lines.append(
            f"| {name} defaults, {'v2' if range_pct == 0 else f'+-{range_pct} %'} "
            f"| {pct(screen.variance_reduction, 3)} | {pct(eng.variance_reduction, 3)} "
            f"| {pct(screen.cost, 5)} | {pct(eng.cost, 5)} | {screen.trades_per_window:.2f} "
            f"| {eng.trades_per_window:.2f} |"
        )
    lines.append(options_agreement())
    return "\n".join(lines)


def options_agreement() -> str:
    """options_overlay through both paths on the last 13 weeks (options priced from DVOL)."""
    from bot.backtest.engine_path import run_engine

    weeks = 13
    cfg = BacktestConfig(range_pct=10, options=OptionPricing(load_dvol(DVOL)["ETH"]))
    year = last_year()
    n = weeks * 168 + 1
    recent = Inputs([PriceSeries(year.name, year.ts_ms[-n:], year.close[-n:])])
    screen = run_one("options_overlay", (), cfg, recent)
    eng = summarize(run_engine("options_overlay", (), cfg, recent)[0], options=True)
    return (
        f"| options_overlay defaults, +-10 %, last {weeks} weeks "
        f"| {pct(screen.variance_reduction, 3)} | {pct(eng.variance_reduction, 3)} "
        f"| {pct(screen.cost, 5)} | {pct(eng.cost, 5)} | {screen.trades_per_window:.2f} "
        f"| {eng.trades_per_window:.2f} |\n\n"
        f"options_overlay's option legs go through the engine's option desk on the same offline "
        f"option market (`ReplayOptions`): premium at mid {pct(screen.option_premium or 0, 4)} "
        f"(screen) and {pct(eng.option_premium or 0, 4)} (engine) per week, option PnL at mid "
        f"{pct(screen.option_pnl or 0, 4)} and {pct(eng.option_pnl or 0, 4)}."
    )


def main() -> None:
    started = time.perf_counter()
    eth = Inputs([load_prices(ETH_1H)])
    v3_10 = BacktestConfig(range_pct=10)
    verdict, vb, baselines = headline(v3_10, eth)
    vb_sweep = sweep("vol_band", v3_10, eth)
    frontier_plot(
        [*baselines, *vb_sweep],
        {"vol_band defaults": vb},
        PNG,
        "ETHUSDT 1h, weekly windows, v3 +-10 %, 5 bp per trade",
    )
    sections = [
        ("Headline: v3 +-10 %, weekly windows, 5 bp per trade", verdict),
        (
            "Baseline sweeps (the frontier) and vol_band's risk_aversion sweep",
            sweep_table([*baselines, *vb_sweep]),
        ),
        ("Defaults side by side, v3 +-10 %", table(v3_10, eth)),
        ("v3 +-5 %", table(BacktestConfig(range_pct=5), eth)),
        ("v2 full range", table(BacktestConfig(range_pct=0), eth)),
        (
            "1-minute bars (binance_eth_1m, 4 files of ~35 days), weekly windows, v3 +-10 %",
            table(v3_10, Inputs([load_prices(p) for p in ONE_MIN])),
        ),
        (
            "With Binance 8 h funding (windows inside 2023-01 .. 2024-04), v3 +-10 %",
            table(
                v3_10,
                Inputs([load_prices(ETH_1H)], funding=load_funding(FUNDING)),
                [("vol_band funding_aware", "vol_band", ("funding_aware=true",))],
            ),
        ),
        (
            "LP fees from the Polygon USDC/WETH 0.05 % pool minute bars (weekly windows the pool "
            "files cover), v3 +-10 %",
            table(v3_10, Inputs([load_prices(ETH_1H)], pool=load_pool(POOL))),
        ),
        ("How the defaults are chosen: walk-forward validation", WALK_FORWARD + walk_tables()),
        ("The engine path agrees with the vectorised screen", agreement()),
        ("Caveats", CAVEATS),
    ]
    speed = last_year()
    t0 = time.perf_counter()
    run_one("vol_band", (), v3_10, Inputs([speed]))
    year_s = time.perf_counter() - t0
    engine_s, ticks = engine_year_seconds(speed)
    body = [PREAMBLE.format(year_s=year_s, engine_s=engine_s, ticks=ticks)]
    for title, text in sections:
        body.append(f"## {title}\n\n{text}\n")
    body.append(f"_Generated in {time.perf_counter() - started:.0f} s._\n")
    OUT.write_text("\n".join(body))
    print(f"wrote {OUT} and {PNG}")


WALK_FORWARD = """Method (`bot.backtest.walk_forward`): every parameter set of each strategy's
grid runs once over every weekly window. Fold f trains on the windows starting in
[t0 + 13f weeks, t0 + 13f + 52 weeks) and tests on the 13 weeks after; folds roll on by 13
weeks, so the test spans tile 2021-01 .. 2024-04 (172 weekly windows, 14 folds) and no test
window is ever in its own fold's training span. The rule at cost budget b: on the training
windows, the least hedged-PnL variance among the sets whose mean cost is at most b x what
daily rebalancing cost on those windows (else the cheapest). OOS = each fold's pick scored on
its test windows; IS = the rule applied to the test windows themselves (hindsight). Budgets
are multiples of daily rebalancing's cost so that one rule means the same in calm and wild
years; the defaults are chosen at b = 0.9 (10 % headroom: a pick made at a cost limit on one
span tends to land above it on the next).

Reproduce: `.venv/bin/python -m bench.walk_forward_report` (all cases, JSON in
docs/walk-forward.json), or one case: `lphedge backtest --prices
../shared/data/market/binance_perp_1h/ETHUSDT_1h.csv --range-pct 10 --walk-forward 52w:13w
--strategy vol_band --strategy delta_band [--json]`.

Chosen defaults. vol_band: risk_aversion 5, rebalance_to 0.75, min_band_rel 0.3 (new: a floor
of 30 % of the hedge under the Whalley-Wilmott band). That is the set the rule picked most
often on ETH 1 h +-10 %: in 14 of 14 folds at b = 0.5, 9 of 14 at b = 0.75 and the plurality
at b = 0.9 (the picks at 0.9 scatter over neighbouring sets of similar figures; the pick on
the latest 52 weeks is risk_aversion 20, min_band_rel 0.1). The issue's bar, out of sample on
ETH 1 h +-10 %: the rule at b = 0.9 removes 87.68 % of the variance at 0.0498 % per week;
hourly rebalancing 87.78 % at 0.1965 %, daily 84.29 % at 0.0599 %: within 0.10 point of
hourly, at 83 % of daily's cost. The fixed defaults over the same 172 test windows: 88.04 %
at 0.0425 % (this one figure has hindsight in it: the set was read off the folds' picks).
The old defaults (risk_aversion 10, no floor) scored 87.04 % at 0.0591 % there.

Does a simpler rule dominate? delta_band, tuned the same way, does not: at b = 0.9 it gets
85.58 % at 0.0500 %, at b = 1.0 87.39 % at 0.0560 % vs vol_band's 88.28 % at 0.0545 %. A
20 % relative band (delta_band band_rel 0.2) reaches 88.9 % only at 0.08-0.10 % per week,
above daily rebalancing's cost. vol_band stays the default. History, for honesty: the first
walk-forward grid had no min_band_rel and vol_band then missed the bar (85.5 % at b = 0.9);
the floor was added to the grid after looking at those test windows, so the grid's axes (not
its picks) were chosen with the OOS span in view. The BTC and range-width tables below were
not looked at before the choice.

Across the cases (the `- ` lines under each table): vol_band at b = 0.9 meets the bar (within
1 point of hourly, cheaper than daily) on ETH and BTC at +-5 % and +-10 %, on v2 and on the
1-minute ETH windows. It misses at +-20 % (ETH 1.69, BTC 2.19 points behind hourly, both at
about 85 % of daily's cost); there delta_band is as good or better (ETH +-20 %: 91.80 % vs
90.96 %), so for wide ranges prefer delta_band. The default stays vol_band: it is the one
that holds at the common widths and on minute bars, where delta_band falls 2-4 points short.
The 1-minute case uses daily windows and 14d:7d folds inside each ~35-day file."""

AGREEMENT = """Both paths on the last year of ETHUSDT 1 h (52 weekly windows). The engine path
(`lphedge backtest --engine`, `bot.backtest.engine_path`) is a paper run per window: replay
clock, `ReplayMarketData` (one level at the close, so a fill pays only the taker fee),
`PaperVenue`, the engine's risk guards, planner, executor and an in-memory ledger (or SQLite
with `--ledger`), and the LP position served through the chain port by
`ReplayPositionSource` (the LP model with its range rounded to whole ticks). Stated
tolerance, held by `tests/backtest/test_engine_path.py`: variance reduction within 0.1
point, cost within 1 %, trades within 2 %. The residue comes from the tick-rounded range
and the exact integer amounts (a band crossed by a hair on one path and not the other)."""

CAVEATS = """- Variance reduction is estimated from 224 weekly windows and moves by about +-0.5
  points between neighbouring settings (see the sweeps): read the frontier, not single
  points. The pool-fee section has only 4 windows, so its risk columns mean little; it is
  there for the LP-fee and LVR figures.
- LP fees come from a Polygon pool (thin liquidity) with Binance prices for the path; the
  position earns L / (L + active liquidity) of 0.05 % of each minute's swap volume while
  the pool's own price is inside the range.
- Funding is charged on the hedge at each funding time at the next bar's close; windows
  outside the funding file are left out when a funding file is given.
- Fills are at the bar close plus the fee, with no slippage or latency; the 1 m files give
  the finer-path view of the same strategies."""

PREAMBLE = """# Hedging benchmarks

Regenerate with `.venv/bin/python -m bench.backtest_report` (writes this file and
`benchmarks-frontier.png`). Data: `../shared/data` (real Binance and Uniswap history).

How the backtest works: each window opens a fresh 100,000 USD LP position centred on the
window's first close (v2 full range, or v3 +-P %). At every bar close the strategy sees the
LP's delta and gamma and the current hedge; its targets go through the bot's own
`bot.hedge.planner.plan` (Binance ETHUSDT perp rules: 0.001 ETH step, 20 USDT minimum) and
fill at the close, paying the fee on the notional. The opening hedge is paid for; the hedge
is not closed at window end (it rolls into the next position).

Columns (per window, as % of the position value at open): unhedged / hedged std = std
across windows of the LP PnL, and of LP + hedge PnL, both before fees and funding;
variance reduction = 1 - hedged var / unhedged var; cost = trading fees; funding = funding
received by the hedge (negative = paid); LP fees = swap fees earned (only with pool data);
LVR = sum of 0.5 |gamma| dP^2 over the bars (what a continuously hedged LP loses).

Speed: one year of hourly bars (52 windows) with vol_band took {year_s:.2f} s on the
vectorised screen and {engine_s:.1f} s through the bot's own Engine ({ticks} ticks, paper
venue, in-memory ledger); `make bench` (`bench.backtest_speed`) measures both.

Frontier plot: ![frontier](benchmarks-frontier.png)
"""


if __name__ == "__main__":
    main()
