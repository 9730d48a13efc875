"""The ledger (SQLAlchemy 2 + alembic): jobs, letters, delivery attempts, holds."""

from letters.ledger.jobs import JobConflict, Stage
from letters.ledger.logins import LedgerAttemptLog, LedgerCredentials
from letters.ledger.states import FINAL, BatchStatus, JobStatus
from letters.ledger.store import Ledger
from letters.ledger.tokens import create_token, revoke_token, token_holder, token_scopes
from letters.ledger.views import (
    Attempt,
    BatchMembership,
    BatchSummary,
    CaseClosure,
    Event,
    HoldRecord,
    JobHistory,
    JobRecord,
    LetterEvidence,
    Overview,
)

__all__ = [
    "FINAL",
    "Attempt",
    "BatchMembership",
    "BatchStatus",
    "BatchSummary",
    "CaseClosure",
    "Event",
    "HoldRecord",
    "JobConflict",
    "JobHistory",
    "JobRecord",
    "JobStatus",
    "Ledger",
    "LedgerAttemptLog",
    "LedgerCredentials",
    "LetterEvidence",
    "Overview",
    "Stage",
    "create_token",
    "revoke_token",
    "token_holder",
    "token_scopes",
]
