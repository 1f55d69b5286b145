"""When to try again after a transient failure: exponential, capped, reset by a success."""

from __future__ import annotations

from bot.errors import LphedgeError, Retryable


class Backoff:
    """After a tick fails on something transient (database, chain, lease), wait
    `first_s`, then twice as long each time up to `cap_s`, instead of retrying on every
    block; one good tick resets it."""

    def __init__(self, first_s: float, cap_s: float) -> None:
        self.first_s, self.cap_s = max(first_s, 0.1), max(cap_s, first_s)
        self.failures = 0
        self._at_ms = 0

    def ready(self, now_ms: int) -> bool:
        return now_ms >= self._at_ms

    def after(self, failure: LphedgeError | None, now_ms: int) -> None:
        if not isinstance(failure, Retryable):
            self.failures, self._at_ms = 0, 0
            return
        self.failures += 1
        wait_s = min(self.cap_s, self.first_s * 2 ** min(self.failures - 1, 20))
        self._at_ms = now_ms + int(wait_s * 1000)
