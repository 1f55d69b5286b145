"""Order execution: intents to orders without duplicates (`orders`) and venue-vs-ledger
reconciliation (`reconcile`)."""

from bot.execution.orders import ExecutionLedger, ExecutionPolicy, OrderExecutor
from bot.execution.reconcile import ReconcileReport, ledger_positions, reconcile

__all__ = [
    "ExecutionLedger",
    "ExecutionPolicy",
    "OrderExecutor",
    "ReconcileReport",
    "ledger_positions",
    "reconcile",
]
