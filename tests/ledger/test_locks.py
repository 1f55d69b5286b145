"""One writer per account: a second holder fails at once with NeedsOperator."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from bot.errors import NeedsOperator
from bot.ledger.store import Ledger


def test_second_writer_for_the_same_account_is_refused(db_url: str) -> None:
    with Ledger.open(db_url) as first, Ledger.open(db_url) as second:
        with first.writer_lock("binanceusdm:main"):
            with (
                pytest.raises(
                    NeedsOperator, match="already writing for account 'binanceusdm:main'"
                ),
                second.writer_lock("binanceusdm:main"),
            ):
                pass
            with second.writer_lock("bybit:main"):  # another account is fine
                pass
        with second.writer_lock("binanceusdm:main"):  # released: free again
            pass


def test_writer_lock_excludes_another_process(db_url: str) -> None:
    script = textwrap.dedent(
        """
        import sys
        from bot.errors import NeedsOperator
        from bot.ledger.store import Ledger
        with Ledger.open(sys.argv[1]) as ledger:
            try:
                with ledger.writer_lock("okx:main"):
                    print("acquired")
            except NeedsOperator as exc:
                print("refused:", exc)
        """
    )

    def other_process() -> str:
        done = subprocess.run(
            [sys.executable, "-c", script, db_url], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    with Ledger.open(db_url) as ledger:
        with ledger.writer_lock("okx:main"):
            assert other_process().startswith("refused: another lphedge is already writing")
        assert other_process().strip() == "acquired"
