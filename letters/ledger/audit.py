"""The audit log's one writer for the ledger's rooms: a privileged action (a hold, a
release, a case closed or reopened, an API token created or revoked, a purge) is recorded
in the same transaction as the change it makes, so neither exists without the other.

The log is append-only (the database refuses UPDATE and DELETE on it, migration 0005); the
workbench's approvals write to it too (:mod:`letters.ledger.reviews`). ``letters audit``
and the review page show it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from letters.clock import now
from letters.ledger.models import AuditRow


def actor_of_token(name: str) -> str:
    """How an API token is named as the actor of what it did.

    >>> actor_of_token("billing-system")
    'token:billing-system'
    """
    return f"token:{name}"[:64]


def record(
    s: Session,
    actor: str,
    action: str,
    subject_kind: str,
    subject: str,
    detail: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append one audit line in the session's transaction."""
    s.add(
        AuditRow(
            at=at or now(),
            actor=(actor.strip() or "unnamed")[:64],
            action=action[:32],
            subject_kind=subject_kind[:16],
            subject=subject[:64],
            detail=detail,
        )
    )
