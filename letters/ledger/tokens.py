"""API tokens for the HTTP service: only a token's SHA-256 is stored, with its scopes.

``submit`` (send jobs), ``read`` (a job's history and evidence), ``pdf`` (download a
letter's PDF, which carries the debtor's live password: a scope of its own, not part of
``read``), ``hold`` (hold and release cases), ``verify`` (check a debtor's login).
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select, update

from letters.clock import now
from letters.ledger.db import Database
from letters.ledger.models import ApiTokenRow

SCOPES = frozenset({"submit", "read", "pdf", "hold", "verify"})


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ledger: Database, name: str, scopes: set[str]) -> str:
    """A new API token; only its SHA-256 is stored (it is 256 random bits, so a fast hash
    is enough). The plaintext is returned once, to be handed to the upstream team."""
    unknown = scopes - SCOPES
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(sorted(SCOPES))}")
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
    return token


def token_scopes(ledger: Database, token: str) -> frozenset[str] | None:
    """The scopes of a live token, or None for an unknown or revoked one."""
    with ledger.session() as s:
        row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == _token_digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        return frozenset(row.scopes.split())


def revoke_token(ledger: Database, name: str) -> bool:
    with ledger.session() as s:
        result = s.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        return bool(getattr(result, "rowcount", 0))
