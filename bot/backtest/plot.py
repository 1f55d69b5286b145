"""The cost vs residual-risk frontier as a PNG (matplotlib, Agg backend: no display)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.backtest.compare import SweepPoint
from bot.backtest.metrics import Summary


def frontier_plot(
    points: Sequence[SweepPoint], chosen: Mapping[str, Summary], out: Path, title: str
) -> None:
    """Mean cost per window (x, % of position) vs hedged PnL std (y, %), one line per sweep."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5.5))
    try:
        for name in dict.fromkeys(p.strategy for p in points):
            mine = sorted((p for p in points if p.strategy == name), key=lambda p: p.summary.cost)
            xs = [100 * p.summary.cost for p in mine]
            ys = [100 * p.summary.hedged_std for p in mine]
            ax.plot(xs, ys, marker="o", label=f"{name} sweep")
            for p, x, y in zip(mine, xs, ys, strict=True):
                ax.annotate(p.param.split("=")[1], (x, y), fontsize=7, alpha=0.7)
        for name, s in chosen.items():
            ax.scatter([100 * s.cost], [100 * s.hedged_std], marker="*", s=160, zorder=5)
            ax.annotate(name, (100 * s.cost, 100 * s.hedged_std), fontsize=9)
        ax.set_xlabel("mean trading cost per window (% of position value)")
        ax.set_ylabel("hedged PnL std per window (% of position value)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out, dpi=110)
    finally:
        plt.close(fig)
