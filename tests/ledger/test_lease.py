"""The writer lease cannot be lost silently: a dropped, cut, stalled or superseded lock is
noticed at the next check, over real connections (PostgreSQL directly and through a TCP
proxy that is cut and stalled, SQLite files)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from bot.errors import NeedsOperator
from bot.ledger import lease as lease_mod
from bot.ledger.lease import LeaseLost, LeaseSuspended, PostgresLease, SqliteLease, bump_epoch
from bot.ledger.store import Ledger
from tests.ledger.conftest import POSTGRES_URL, _with_search_path
from tests.support.pg_proxy import PgProxy, pg_proxy


def _key() -> str:
    return f"binanceusdm:t{uuid.uuid4().hex[:8]}:paper"


def _terminate(pid: int) -> None:
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        admin.dispose()


@pytest.fixture
def proxy() -> Iterator[PgProxy]:
    with pg_proxy() as p:
        yield p


@pytest.fixture
def pg_schema() -> Iterator[str]:
    schema = f"lt_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_each_take_has_a_new_epoch_and_a_newer_one_fences_the_old(db_url: str) -> None:
    key = _key()
    with Ledger.open(db_url) as ledger:
        with ledger.writer_lock(key) as first:
            assert first.check() == first.epoch == 1
        with ledger.writer_lock(key) as second:
            assert second.check() == 2
            bump_epoch(ledger.engine, key)  # a writer whose lock this one cannot see
            with pytest.raises(LeaseLost, match="a newer writer took it"):
                second.check()
            with pytest.raises(LeaseLost):  # lost for good
                second.check()


def test_a_terminated_lock_connection_suspends_and_the_next_bot_takes_over(
    pg_schema: str,
) -> None:
    key = _key()
    url = _with_search_path(POSTGRES_URL, pg_schema)
    with Ledger.open(url) as ledger, ledger.writer_lock(key) as old:
        assert isinstance(old, PostgresLease) and old.scope == "server"
        _terminate(old.backend_pid)
        with pytest.raises(LeaseSuspended, match=r"lock connection is gone.*no order until"):
            old.check()
        with ledger.writer_lock(key) as new:  # the server dropped the lock with the session
            assert new.check() == old.epoch + 1
            with pytest.raises(LeaseLost, match=r"a newer writer took it \(epoch 2 > 1"):
                old.check()
            with pytest.raises(LeaseLost):  # for good, even once the new one is gone
                old.check()


def test_a_dropped_lock_is_taken_back_after_the_regain_time_if_no_one_took_it(
    pg_schema: str,
) -> None:
    key = _key()
    url = _with_search_path(POSTGRES_URL, pg_schema)
    with Ledger.open(url) as ledger, ledger.writer_lock(key, regain_s=1.0) as old:
        assert isinstance(old, PostgresLease)
        _terminate(old.backend_pid)
        with pytest.raises(LeaseSuspended, match="in 1s"):
            old.check()
        with pytest.raises(LeaseSuspended):  # still giving way to a replacement
            old.check()
        time.sleep(1.1)
        assert old.check() == old.epoch == 1  # taken back, same epoch: no one wrote between
        assert old.regained == 1
        with pytest.raises(NeedsOperator, match="already writing"), ledger.writer_lock(key):
            pass  # and it is held again


def test_a_cut_link_suspends(proxy: PgProxy, pg_schema: str) -> None:
    url = proxy.url(query=f"?options=-csearch_path%3D{pg_schema}")
    with Ledger.open(_with_search_path(POSTGRES_URL, pg_schema)) as ledger:
        lease = PostgresLease(url, ledger.engine, _key(), regain_s=0)
        try:
            lease.check()
            proxy.kill_all()
            with pytest.raises(LeaseSuspended, match="lock connection is gone"):
                lease.check()
            assert lease.check() == 1  # the link is back at once: taken back
        finally:
            lease.release()


def test_a_stalled_lock_connection_fails_closed_within_the_timeout(
    proxy: PgProxy, pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_mod, "CHECK_TIMEOUT_S", 1.0)
    url = proxy.url(query=f"?options=-csearch_path%3D{pg_schema}")
    with Ledger.open(_with_search_path(POSTGRES_URL, pg_schema)) as ledger:
        lease = PostgresLease(url, ledger.engine, _key(), regain_s=0)
        try:
            proxy.stall()
            started = time.monotonic()
            with pytest.raises(LeaseSuspended, match="did not answer within 1s"):
                lease.check()
            assert time.monotonic() - started < 3
            started = time.monotonic()
            with pytest.raises(LeaseSuspended):  # still stalled: the retake is bounded too
                lease.check()
            assert time.monotonic() - started < 8
            proxy.resume()
            assert lease.check() == 1
        finally:
            proxy.resume()
            lease.release()


def test_ledgers_in_two_databases_of_one_server_share_the_lock(pg_schema: str) -> None:
    key = _key()
    other_db = create_engine(POSTGRES_URL.rsplit("/", 1)[0] + "/postgres")
    with other_db.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {pg_schema}"))
    try:
        with (
            Ledger.open(_with_search_path(POSTGRES_URL, pg_schema)) as one,
            Ledger.open(_with_search_path(str(other_db.url), pg_schema)) as two,
            one.writer_lock(key),
            pytest.raises(NeedsOperator, match="already writing"),
            two.writer_lock(key),
        ):
            pass
    finally:
        with other_db.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {pg_schema} CASCADE"))
        other_db.dispose()


def test_sqlite_lock_file_removed_is_noticed(tmp_path: object) -> None:
    db = f"sqlite:///{tmp_path}/ledger.db"
    key = _key()
    with Ledger.open(db) as ledger, ledger.writer_lock(key) as old:
        assert old.check() == 1
        assert isinstance(old, SqliteLease)
        old.path.unlink()  # an operator "cleaning up" stale lock files
        with ledger.writer_lock(key) as new:  # a second bot gets in
            with pytest.raises(LeaseLost, match="removed or replaced"):
                old.check()
            assert new.check() == 2
