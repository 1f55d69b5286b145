"""Options overlay vs perps alone on real ETH 1h + Deribit DVOL: `python -m bench.options_report`.

Prints the premium / residual-risk frontier over the gamma fraction, what each design choice
is worth (ablation), the two halves of the sample apart (the defaults were chosen on the
whole of it), and the effect of whole-contract sizing at three position sizes.
"""

from __future__ import annotations

import time
from dataclasses import replace

from bot.demo import data_dir
from bot.options.backtest import (
    OverlayConfig,
    OverlayResult,
    Windows,
    evaluate,
    frontier,
    load_windows,
)


def table(rows: list[tuple[str, OverlayResult]]) -> str:
    head = (
        f"{'':>22} {'bought':>7} {'legs':>5} {'var red':>8} {'net':>8} {'hedged sd':>10} "
        f"{'premium':>8} {'opt pnl':>8} {'opt cost':>8} {'perp fee':>8}"
    )
    lines = [head]
    for label, r in rows:
        lines.append(
            f"{label:>22} {r.mean_fraction:>7.2f} {r.legs:>5.1f} "
            f"{r.variance_reduction:>8.2%} {r.variance_reduction_net:>8.2%} "
            f"{r.hedged_std:>10.3%} {r.premium_paid:>8.3%} {r.option_pnl:>8.3%} "
            f"{r.option_costs:>8.3%} {r.perp_fees:>8.3%}"
        )
    return "\n".join(lines)


def _half(win: Windows, lo: int, hi: int) -> Windows:
    return Windows(
        win.ts_ms[lo:hi],
        win.price[lo:hi],
        win.vol_open[lo:hi],
        win.vol_close[lo:hi],
        win.series,
        win.start[lo:hi],
    )


def main() -> None:
    t0 = time.perf_counter()
    market = data_dir() / "market"
    win = load_windows(
        market / "binance_perp_1h" / "ETHUSDT_1h.csv",
        market / "deribit_dvol_daily" / "eth_dvol.csv",
    )
    cfg = OverlayConfig()
    n = len(win.price)
    print(
        f"ETH 1h, {n} weekly windows with DVOL, v3 +-{cfg.range_pct:g} %, "
        f"{cfg.position_usd:,.0f} USD, perps hourly at {cfg.fee_bps:g} bp"
    )
    print(
        f"options: Black-76 at DVOL + skew {cfg.skew}, half spread {cfg.half_spread:.0%}, "
        f"strikes every {cfg.strike_step:g} USD, whole contracts of {cfg.quantity_step:g} ETH, "
        f"expiry {cfg.expiry_days:g} days"
    )
    print("money: % of position value per week; var red = 1 - var(hedged) / var(unhedged);")
    print("net also counts option spread + fees and perp fees; bought = mean fraction of")
    print("the LP's convexity bought (gamma fraction x (realised / implied)^2, capped at 1)\n")
    fr = frontier(win, (0.0, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0, 1.25))
    print("frontier over the gamma fraction (0 = perps alone)")
    print(table([(f"gamma fraction {r.gamma_fraction:.2f}", r) for r in fr]))
    print("\nablation (defaults, one change each)")
    print(
        table(
            [
                ("defaults", evaluate(win, cfg)),
                ("fixed fraction", evaluate(win, replace(cfg, scale_by_vol=False))),
                ("perp hedges B76 delta", evaluate(win, replace(cfg, options_delta="black76"))),
                ("expiry 7 days", evaluate(win, replace(cfg, expiry_days=7.0))),
                ("strikes every 100", evaluate(win, replace(cfg, strike_step=100.0))),
                ("no skew, no spread", evaluate(win, replace(cfg, skew=0.0, half_spread=0.0))),
            ]
        )
    )
    print("\nthe two halves of the sample apart")
    rows = []
    for lo, hi in ((0, n // 2), (n // 2, n)):
        part = _half(win, lo, hi)
        rows.append((f"weeks {lo}-{hi - 1} perps", evaluate(part, replace(cfg, gamma_fraction=0))))
        rows.append((f"weeks {lo}-{hi - 1} overlay", evaluate(part, cfg)))
    print(table(rows))
    print("\nwhole contracts at three position sizes")
    print(
        table(
            [
                (f"{usd:,.0f} USD", evaluate(win, replace(cfg, position_usd=usd)))
                for usd in (30_000.0, 100_000.0, 1_000_000.0)
            ]
        )
    )
    print(f"\n{time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
