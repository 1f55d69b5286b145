"""SQLAlchemy 2 typed models of the append-only ledger.

`ledger_events` is the hash chain; every other table is a typed view of one event kind,
written in the same transaction and keyed by `event_seq`. Money and quantities are
Decimal stored as TEXT (exact on SQLite and PostgreSQL alike), never Float or Numeric.
The schema itself is created by the Alembic migrations in `bot/ledger/migrations`;
`tests/ledger` checks that these models and the migrations agree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.ledger.hashing import decimal_text


class DecimalText(TypeDecorator[Decimal]):
    """Decimal stored as its plain decimal text: exact, comparable as text, database-neutral."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else decimal_text(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    pass


class LedgerEventRow(Base):
    """One link of the hash chain. `payload` is canonical JSON (see `bot.ledger.hashing`)."""

    __tablename__ = "ledger_events"
    __table_args__ = (
        Index("ix_ledger_events_kind_seq", "kind", "seq"),
        Index("ix_ledger_events_ts_ms", "ts_ms"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    ts_ms: Mapped[int] = mapped_column(BigInteger)
    run_id: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(Text, unique=True)


def _event_fk() -> Mapped[int]:
    return mapped_column(Integer, ForeignKey("ledger_events.seq"), primary_key=True)


class RunRow(Base):
    """kind "run_started": one row per bot run. `started_ms` is the event's ts_ms."""

    __tablename__ = "runs"
    event_seq: Mapped[int] = _event_fk()
    run_id: Mapped[str] = mapped_column(Text, unique=True)
    mode: Mapped[str] = mapped_column(Text)
    started_ms: Mapped[int] = mapped_column(BigInteger)
    config_digest: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(Text)


class TickRow(Base):
    """kind "tick": the block a tick read and the net exposure per asset (JSON text)."""

    __tablename__ = "ticks"
    event_seq: Mapped[int] = _event_fk()
    block: Mapped[int] = mapped_column(BigInteger)
    block_ts: Mapped[int] = mapped_column(BigInteger)
    exposure: Mapped[str] = mapped_column(Text)


class DecisionRow(Base):
    """kind "decision": what a strategy wanted for one asset, and why."""

    __tablename__ = "decisions"
    event_seq: Mapped[int] = _event_fk()
    strategy: Mapped[str] = mapped_column(Text)
    params: Mapped[str] = mapped_column(Text)
    asset: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str | None] = mapped_column(Text)
    target_base: Mapped[Decimal] = mapped_column(DecimalText)
    reason: Mapped[str] = mapped_column(Text)


class OrderIntentRow(Base):
    """kind "order_intent": written before the order is sent; `client_id` is unique."""

    __tablename__ = "order_intents"
    event_seq: Mapped[int] = _event_fk()
    client_id: Mapped[str] = mapped_column(Text, unique=True)
    plan_id: Mapped[str] = mapped_column(Text)
    leg: Mapped[int] = mapped_column(Integer)
    venue: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str] = mapped_column(Text)
    side: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    amount_base: Mapped[Decimal | None] = mapped_column(DecimalText)
    reduce_only: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    decision_price: Mapped[Decimal] = mapped_column(DecimalText)


class OrderUpdateRow(Base):
    """kind "order_update": every state the venue reported for an order."""

    __tablename__ = "order_updates"
    __table_args__ = (Index("ix_order_updates_client_id", "client_id"),)
    event_seq: Mapped[int] = _event_fk()
    client_id: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    filled: Mapped[Decimal] = mapped_column(DecimalText)
    average_price: Mapped[Decimal | None] = mapped_column(DecimalText)
    venue_order_id: Mapped[str | None] = mapped_column(Text)


class FillRow(Base):
    """kind "fill": one execution; (venue, trade_id) is unique so a fill is never counted twice."""

    __tablename__ = "fills"
    __table_args__ = (
        UniqueConstraint("venue", "trade_id", name="uq_fills_venue_trade_id"),
        Index("ix_fills_client_id", "client_id"),
    )
    event_seq: Mapped[int] = _event_fk()
    venue: Mapped[str] = mapped_column(Text)
    trade_id: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str] = mapped_column(Text)
    side: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    price: Mapped[Decimal] = mapped_column(DecimalText)
    fee: Mapped[Decimal] = mapped_column(DecimalText)
    fee_currency: Mapped[str] = mapped_column(Text)


class FundingRow(Base):
    """kind "funding": one funding payment; (venue, payment_id) is unique."""

    __tablename__ = "funding"
    __table_args__ = (UniqueConstraint("venue", "payment_id", name="uq_funding_venue_payment_id"),)
    event_seq: Mapped[int] = _event_fk()
    venue: Mapped[str] = mapped_column(Text)
    payment_id: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str] = mapped_column(Text)
    amount: Mapped[Decimal] = mapped_column(DecimalText)
    currency: Mapped[str] = mapped_column(Text)
    rate: Mapped[Decimal] = mapped_column(DecimalText)


class HaltRow(Base):
    """kinds "halt" (active=True) and "resume" (active=False)."""

    __tablename__ = "halts"
    event_seq: Mapped[int] = _event_fk()
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)


class ErrorRow(Base):
    """kind "error": where it happened and the (redacted) message."""

    __tablename__ = "errors"
    event_seq: Mapped[int] = _event_fk()
    where: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)


LEDGER_TABLES: tuple[str, ...] = tuple(Base.metadata.tables)
"""Every ledger table; the migration puts append-only triggers on each."""
