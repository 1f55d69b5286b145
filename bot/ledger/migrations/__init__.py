"""Alembic environment and revisions of the ledger schema (run by `bot.ledger.migrate`)."""
