"""Alembic environment: always run by `bot.ledger.migrate` on a connection it passes in.

There is no alembic.ini: installed packages migrate on `Ledger.open`, with the caller's
connection (and its lock or transaction) in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from bot.ledger.models import Base


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise RuntimeError("bot.ledger migrations run through bot.ledger.migrate only")
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        context.run_migrations()


_run()
