"""The ledger tests' `db_url` (a fresh SQLite file and a PostgreSQL schema) for report tests."""

from tests.ledger.conftest import db_url

__all__ = ["db_url"]
