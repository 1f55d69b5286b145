"""Ledger fixtures: every test runs on a SQLite file and on the PostgreSQL server.

PostgreSQL tests get their own schema (search_path in the URL) so parallel runs do not
collide; the schema is dropped afterwards. The server must be up: these tests fail,
never skip, when it is down (`make test` starts it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from bot.ledger.store import Ledger

POSTGRES_URL = os.environ.get(
    "LPHEDGE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty ledger location on each database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL to a fresh schema on the PostgreSQL server, dropped afterwards."""
    schema = f"lt_{uuid.uuid4().hex[:16]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        yield _with_search_path(POSTGRES_URL, schema)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    with Ledger.open(db_url) as opened:
        yield opened


@pytest.fixture
def raw(db_url: str) -> Iterator[Engine]:
    """A plain engine on the same database: what an attacker with SQL access holds."""
    engine = create_engine(db_url)
    yield engine
    engine.dispose()
