"""Retries after transient failures wait longer each time, up to a cap, and reset on success."""

from __future__ import annotations

from bot.backoff import Backoff
from bot.errors import ConfigError, LedgerUnavailable


def test_transient_failures_back_off_doubling_to_the_cap_and_a_success_resets() -> None:
    b = Backoff(1.0, 5.0)
    waits = []
    now = 0
    for _ in range(5):
        b.after(LedgerUnavailable("down"), now)
        at = now
        while not b.ready(at):
            at += 100
        waits.append((at - now) / 1000)
        now = at
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]
    b.after(None, now)
    assert b.ready(now) and b.failures == 0


def test_a_failure_no_retry_fixes_does_not_delay() -> None:
    b = Backoff(1.0, 60.0)
    b.after(ConfigError("chain.chain_id"), 0)
    assert b.ready(0)
