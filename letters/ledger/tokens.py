"""API tokens for the HTTP service: only a token's SHA-256 is stored, with its scopes.

``submit`` (send jobs), ``read`` (a job's history and evidence), ``pdf`` (download a
letter's PDF, which carries the debtor's live password: a scope of its own, not part of
``read``), ``hold`` (hold and release cases), ``close`` (close and reopen cases: the start
of their retention period, after which their personal data is purged), ``verify`` (check a
debtor's login). Creating and revoking a token are audited, naming who did it.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from letters.clock import now
from letters.ledger.audit import record as audit_record
from letters.ledger.db import Database
from letters.ledger.models import ApiTokenRow

SCOPES = frozenset({"submit", "read", "pdf", "hold", "close", "verify"})


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ledger: Database, name: str, scopes: set[str], *, by: str = "unnamed") -> str:
    """A new API token; only its SHA-256 is stored (it is 256 random bits, so a fast hash
    is enough). The plaintext is returned once, to be handed to the upstream team."""
    unknown = scopes - SCOPES
    if unknown or not scopes:
        which = f"{', '.join(sorted(unknown))} unknown: " if unknown else "none given: "
        raise ValueError(f"{which}scopes must be among {', '.join(sorted(SCOPES))}")
    token = "lt_" + secrets.token_urlsafe(32)
    with ledger.session() as s:
        # a revoked token keeps its row (evidence) under another name, freeing its name
        for old in s.scalars(
            select(ApiTokenRow).where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_not(None))
        ):
            old.name = f"{name[:40]}~revoked~{old.id}"
        s.flush()
        s.add(
            ApiTokenRow(
                name=name,
                token_sha256=_token_digest(token),
                scopes=" ".join(sorted(scopes)),
                created_at=now(),
            )
        )
        audit_record(s, by, "create-token", "token", name, "scopes " + " ".join(sorted(scopes)))
    return token


def token_holder(ledger: Database, token: str) -> tuple[str, frozenset[str]] | None:
    """The name and scopes of a live token, or None for an unknown or revoked one."""
    with ledger.session() as s:
        row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == _token_digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        return row.name, frozenset(row.scopes.split())


def token_scopes(ledger: Database, token: str) -> frozenset[str] | None:
    """The scopes of a live token, or None for an unknown or revoked one."""
    holder = token_holder(ledger, token)
    return None if holder is None else holder[1]


def revoke_token(ledger: Database, name: str, *, by: str = "unnamed") -> bool:
    """Revoke the live token named ``name`` (audited). False: there is none."""
    with ledger.session() as s:
        result = s.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        if not getattr(result, "rowcount", 0):
            return False
        audit_record(s, by, "revoke-token", "token", name)
        return True
