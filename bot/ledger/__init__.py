"""The append-only, hash-chained audit ledger (SQLite file or PostgreSQL)."""
