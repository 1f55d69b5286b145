"""One writer per account: a second holder fails at once with NeedsOperator."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid

import pytest

from bot.errors import NeedsOperator
from bot.ledger.store import Ledger

# The PostgreSQL lock spans the server (bot.ledger.lease): keys unique per test run, so
# concurrent test runs on one server do not refuse each other.
KEY = f"binanceusdm:t{uuid.uuid4().hex[:8]}"
OKX = f"okx:t{uuid.uuid4().hex[:8]}"


def test_second_writer_for_the_same_account_is_refused(db_url: str) -> None:
    with Ledger.open(db_url) as first, Ledger.open(db_url) as second:
        with first.writer_lock(KEY):
            with (
                pytest.raises(NeedsOperator, match=f"already writing for account {KEY!r}"),
                second.writer_lock(KEY),
            ):
                pass
            with second.writer_lock(f"bybit:{KEY}"):  # another account is fine
                pass
        with second.writer_lock(KEY):  # released: free again
            pass


def test_writer_lock_excludes_another_process(db_url: str) -> None:
    script = textwrap.dedent(
        """
        import sys
        from bot.errors import NeedsOperator
        from bot.ledger.store import Ledger
        with Ledger.open(sys.argv[1]) as ledger:
            try:
                with ledger.writer_lock(sys.argv[2]):
                    print("acquired")
            except NeedsOperator as exc:
                print("refused:", exc)
        """
    )

    def other_process() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, db_url, OKX], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    with Ledger.open(db_url) as ledger:
        with ledger.writer_lock(OKX):
            said = other_process()
            assert said.startswith("refused: another lphedge (pid "), said
            assert f"is already writing for account {OKX!r}" in said
        assert other_process().strip() == "acquired"
