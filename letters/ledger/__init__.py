"""The ledger (SQLAlchemy 2 + alembic): jobs, letters, delivery attempts, holds."""

from letters.ledger.store import (
    ACCEPTED,
    DELIVERED,
    FAILED,
    FINAL,
    HELD,
    RENDERED,
    JobConflict,
    Ledger,
    LedgerCredentials,
)

__all__ = [
    "ACCEPTED",
    "DELIVERED",
    "FAILED",
    "FINAL",
    "HELD",
    "RENDERED",
    "JobConflict",
    "Ledger",
    "LedgerCredentials",
]
