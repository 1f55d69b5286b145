"""Time as a port: only `SystemClock` reads the wall clock."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


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
