"""Time as a port: only `SystemClock` reads the wall clock."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from bot.ports import Clock


class SystemClock:
    """Wall-clock time in milliseconds since the epoch."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class FixedClock:
    """A clock tests and backtests move by hand; `sleep` advances it instantly."""

    ms: int = 0
    slept: list[float] = field(default_factory=list)

    def now_ms(self) -> int:
        return self.ms

    def advance(self, seconds: float) -> None:
        self.ms += int(seconds * 1000)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.advance(seconds)
        await asyncio.sleep(0)


@dataclass
class ReplayTimeline:
    """Where a live-paced replay is in its recorded data: `speed` data seconds pass per
    wall second, from `data_start_ms` at the wall time of the first reading. A clock for
    looking prices up, not for stamping events (those keep the wall clock)."""

    wall: Clock
    data_start_ms: int
    speed: float = 1.0
    _t0_ms: int | None = None

    def now_ms(self) -> int:
        now = self.wall.now_ms()
        if self._t0_ms is None:
            self._t0_ms = now
        return self.data_start_ms + int((now - self._t0_ms) * self.speed)

    async def sleep(self, seconds: float) -> None:
        await self.wall.sleep(seconds / self.speed)
