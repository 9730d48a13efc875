"""The ledger (SQLAlchemy 2 + alembic): jobs, letters, delivery attempts, holds."""

from letters.ledger.store import (
    ACCEPTED,
    DELIVERED,
    DELIVERING,
    FAILED,
    FINAL,
    HELD,
    RENDERED,
    JobConflict,
    Ledger,
    LedgerAttemptLog,
    LedgerCredentials,
    create_token,
    revoke_token,
    token_scopes,
)

__all__ = [
    "ACCEPTED",
    "DELIVERED",
    "DELIVERING",
    "FAILED",
    "FINAL",
    "HELD",
    "RENDERED",
    "JobConflict",
    "Ledger",
    "LedgerAttemptLog",
    "LedgerCredentials",
    "create_token",
    "revoke_token",
    "token_scopes",
]
