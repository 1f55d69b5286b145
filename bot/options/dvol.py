"""Deribit's DVOL implied-vol index by day, and the expiries Deribit lists: what the
offline option markets (the paper replay and the backtester) price options from.

Causal: a time is priced at the DVOL close of the UTC day before it, which is known then.
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.errors import InputError
from bot.options.chain import EXPIRY_HOUR_UTC

DAY_MS = 86_400_000
FRIDAY = 4
MAX_DVOL_GAP_DAYS = 3


@dataclass(frozen=True, slots=True)
class DvolSeries:
    """Daily DVOL closes of one asset: `days` (UTC day numbers, ascending) and `vols`
    (annualised fractions, 0.65 = 65 %)."""

    asset: str
    days: tuple[int, ...]
    vols: tuple[float, ...]

    def at(self, ts_ms: int) -> float:
        """The close of the day before `ts_ms`'s day (known at `ts_ms`: causal)."""
        day = ts_ms // DAY_MS - 1
        i = bisect.bisect_right(self.days, day) - 1
        if i < 0 or self.days[i] < day - MAX_DVOL_GAP_DAYS:
            when = datetime.fromtimestamp(ts_ms / 1000, UTC).date()
            raise InputError(f"DVOL {self.asset}: no daily close within 3 days before {when}")
        return self.vols[i]


def load_dvol(path: Path) -> dict[str, DvolSeries]:
    """Deribit DVOL daily CSV (`date,symbol,open,high,low,close`, % annualised) per asset."""
    if not path.exists():
        raise InputError(f"DVOL file {path} not found; set LPHEDGE_DATA_DIR")
    rows: dict[str, dict[int, float]] = {}
    with path.open(newline="") as fh:
        for r in csv.DictReader(fh):
            day = int(datetime.fromisoformat(r["date"]).replace(tzinfo=UTC).timestamp()) // 86400
            rows.setdefault(r["symbol"].upper(), {})[day] = float(r["close"]) / 100.0
    if not rows:
        raise InputError(f"DVOL file {path}: no rows")
    out = {}
    for asset, by_day in rows.items():
        days = tuple(sorted(by_day))
        out[asset] = DvolSeries(asset, days, tuple(by_day[d] for d in days))
    return out


def _expiry_at(day: datetime) -> int:
    return int(day.replace(hour=EXPIRY_HOUR_UTC, minute=0, second=0, microsecond=0).timestamp())


def listed_expiries(now_ms: int, daily: int, weekly: int) -> list[int]:
    """Expiry times (ms, 08:00 UTC) after `now_ms`: the next `daily` days, the next
    `weekly` Fridays."""
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    first = now if now_ms < _expiry_at(now) * 1000 else now + timedelta(days=1)
    days = [first + timedelta(days=i) for i in range(daily)]
    friday = first + timedelta(days=(FRIDAY - first.weekday()) % 7)
    days += [friday + timedelta(weeks=i) for i in range(weekly)]
    return sorted({_expiry_at(d) * 1000 for d in days})


def covers(series: DvolSeries, start_ms: int, end_ms: int) -> bool:
    """True when `series` prices options at both `start_ms` and `end_ms`."""
    try:
        series.at(start_ms)
        series.at(end_ms)
    except InputError:
        return False
    return True
