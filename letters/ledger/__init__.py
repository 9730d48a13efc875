"""The ledger (SQLAlchemy 2 + alembic): jobs, letters, delivery attempts, holds."""

from letters.ledger.jobs import JobConflict, Stage
from letters.ledger.logins import LedgerAttemptLog, LedgerCredentials
from letters.ledger.states import FINAL, BatchStatus, JobStatus
from letters.ledger.store import Ledger
from letters.ledger.tokens import create_token, revoke_token, token_scopes

__all__ = [
    "FINAL",
    "BatchStatus",
    "JobConflict",
    "JobStatus",
    "Ledger",
    "LedgerAttemptLog",
    "LedgerCredentials",
    "Stage",
    "create_token",
    "revoke_token",
    "token_scopes",
]
