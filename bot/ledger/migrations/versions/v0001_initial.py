"""Initial ledger: the event chain, typed tables per kind, append-only triggers.

Revision ID: v0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "v0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = (
    "ledger_events",
    "runs",
    "ticks",
    "decisions",
    "order_intents",
    "order_updates",
    "fills",
    "funding",
    "halts",
    "errors",
)
TYPED = TABLES[1:]
PG_FUNCTION = "lphedge_ledger_append_only"


def _event_seq() -> sa.Column[int]:
    return sa.Column("event_seq", sa.Integer, sa.ForeignKey("ledger_events.seq"), primary_key=True)


def _text(name: str, nullable: bool = False, unique: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text, nullable=nullable, unique=unique)


def _create_tables() -> None:
    op.create_table(
        "ledger_events",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        _text("run_id", nullable=True),
        _text("kind"),
        _text("payload"),
        _text("prev_hash"),
        _text("hash", unique=True),
    )
    op.create_index("ix_ledger_events_kind_seq", "ledger_events", ["kind", "seq"])
    op.create_index("ix_ledger_events_ts_ms", "ledger_events", ["ts_ms"])
    op.create_table(
        "runs",
        _event_seq(),
        _text("run_id", unique=True),
        _text("mode"),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        _text("config_digest"),
        _text("version"),
    )
    op.create_table(
        "ticks",
        _event_seq(),
        sa.Column("block", sa.BigInteger, nullable=False),
        sa.Column("block_ts", sa.BigInteger, nullable=False),
        _text("exposure"),
    )
    op.create_table(
        "decisions",
        _event_seq(),
        _text("strategy"),
        _text("params"),
        _text("asset"),
        _text("symbol", nullable=True),
        _text("target_base"),
        _text("reason"),
    )
    _create_order_tables()
    _create_money_tables()
    op.create_table(
        "halts",
        _event_seq(),
        _text("reason"),
        _text("source"),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table("errors", _event_seq(), _text("where"), _text("message"))


def _create_order_tables() -> None:
    op.create_table(
        "order_intents",
        _event_seq(),
        _text("client_id", unique=True),
        _text("plan_id"),
        sa.Column("leg", sa.Integer, nullable=False),
        _text("venue"),
        _text("symbol"),
        _text("side"),
        _text("amount"),
        _text("amount_base", nullable=True),
        sa.Column("reduce_only", sa.Boolean, nullable=False),
        _text("reason"),
        _text("decision_price"),
    )
    op.create_table(
        "order_updates",
        _event_seq(),
        _text("client_id"),
        _text("status"),
        _text("filled"),
        _text("average_price", nullable=True),
        _text("venue_order_id", nullable=True),
    )
    op.create_index("ix_order_updates_client_id", "order_updates", ["client_id"])


def _create_money_tables() -> None:
    op.create_table(
        "fills",
        _event_seq(),
        _text("venue"),
        _text("trade_id"),
        _text("client_id"),
        _text("symbol"),
        _text("side"),
        _text("amount"),
        _text("price"),
        _text("fee"),
        _text("fee_currency"),
        sa.UniqueConstraint("venue", "trade_id", name="uq_fills_venue_trade_id"),
    )
    op.create_index("ix_fills_client_id", "fills", ["client_id"])
    op.create_table(
        "funding",
        _event_seq(),
        _text("venue"),
        _text("payment_id"),
        _text("symbol"),
        _text("amount"),
        _text("currency"),
        _text("rate"),
        sa.UniqueConstraint("venue", "payment_id", name="uq_funding_venue_payment_id"),
    )


def _create_triggers() -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on every ledger table."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'lphedge ledger is append-only: % on % refused', "
            "TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}()"
            )
        return
    for table in TABLES:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'lphedge ledger is append-only: {action} on "
                f"{table} refused'); END"
            )


def upgrade() -> None:
    _create_tables()
    _create_triggers()


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in TABLES:
        if postgres:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    for table in reversed(TABLES):
        op.drop_table(table)
    if postgres:
        op.execute(f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
