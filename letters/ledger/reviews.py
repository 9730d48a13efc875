"""The workbench's room in the ledger: versions of templates and rule tables, their
approvals (four eyes, the exact hash reviewed, the day it takes effect), the files of each
version, and the append-only audit log.

A version is ``draft`` when submitted, then ``approved`` or ``rejected`` by a second person,
and ``retired`` when withdrawn. Every state change and the audit line that records it are
written in one transaction, so no approval exists without its audit line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from letters.clock import now
from letters.codes import Code
from letters.ledger.db import Database
from letters.ledger.models import AuditRow, BlobRow, VersionRow


class SubjectKind(StrEnum):
    TEMPLATE = "template"
    RULES = "rules"


class VersionState(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETIRED = "retired"


#: The account the product's own shipped approvals are recorded under.
SHIPPED = "letters-release"


class ReviewRefused(Exception):
    """A workbench action refused: a stable code and the reason."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Version:
    """One version as the workbench shows it."""

    id: int
    subject_kind: SubjectKind
    subject: str
    sha256: str
    content: Mapping[str, Any]
    state: VersionState
    author: str
    note: str | None
    created_at: dt.datetime
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    review_comment: str | None
    effective_from: dt.date | None

    @classmethod
    def of(cls, row: VersionRow) -> Version:
        return cls(
            id=row.id,
            subject_kind=SubjectKind(row.subject_kind),
            subject=row.subject,
            sha256=row.sha256,
            content=row.content,
            state=VersionState(row.state),
            author=row.author,
            note=row.note,
            created_at=row.created_at,
            reviewed_by=row.reviewed_by,
            reviewed_at=row.reviewed_at,
            review_comment=row.review_comment,
            effective_from=row.effective_from,
        )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    action: str
    subject_kind: str
    subject: str
    version_id: int | None
    sha256: str | None
    detail: str | None


class Reviews:
    """Versions, approvals and the audit log of one ledger."""

    def __init__(self, ledger: Database) -> None:
        self.ledger = ledger

    # --- the audit log ---------------------------------------------------------------------

    @staticmethod
    def _audit(
        s: Session,
        actor: str,
        action: str,
        subject_kind: str,
        subject: str,
        *,
        version: VersionRow | None = None,
        detail: str | None = None,
    ) -> None:
        s.add(
            AuditRow(
                at=now(),
                actor=actor,
                action=action,
                subject_kind=subject_kind,
                subject=subject,
                version_id=version.id if version else None,
                sha256=version.sha256 if version else None,
                detail=detail,
            )
        )

    def audit(self, actor: str, action: str, subject_kind: str, subject: str, detail: str) -> None:
        """Record a privileged action that is not a version's state change."""
        with self.ledger.session() as s:
            self._audit(s, actor, action, subject_kind, subject, detail=detail)

    def audit_log(self, limit: int = 200, subject: str | None = None) -> list[AuditEntry]:
        """The newest audit lines first."""
        with self.ledger.session() as s:
            query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
            if subject is not None:
                query = query.where(AuditRow.subject == subject)
            return [
                AuditEntry(
                    r.id,
                    r.at,
                    r.actor,
                    r.action,
                    r.subject_kind,
                    r.subject,
                    r.version_id,
                    r.sha256,
                    r.detail,
                )
                for r in s.scalars(query)
            ]

    # --- files ---------------------------------------------------------------------------------

    def blobs(self, digests: Iterable[str]) -> dict[str, bytes]:
        wanted = sorted(set(digests))
        with self.ledger.session() as s:
            rows = s.scalars(select(BlobRow).where(BlobRow.sha256.in_(wanted)))
            return {r.sha256: r.data for r in rows}

    # --- versions ------------------------------------------------------------------------------

    def submit(
        self,
        subject_kind: SubjectKind,
        subject: str,
        sha256: str,
        content: Mapping[str, Any],
        author: str,
        note: str | None = None,
        files: Mapping[str, bytes] | None = None,
    ) -> Version:
        """A new draft of ``subject`` with exactly this content. Submitting content that is
        already a version of the subject is refused (``nothing-changed``), naming it."""
        with self.ledger.session() as s:
            existing = _with_content(s, subject_kind, subject, sha256)
            if existing is not None:
                raise ReviewRefused(
                    Code.NOTHING_CHANGED,
                    f"{subject} with this content is version {existing.id} already "
                    f"({existing.state})",
                )
            _put_blobs(s, files or {})
            row = VersionRow(
                subject_kind=subject_kind,
                subject=subject,
                sha256=sha256,
                content=dict(content),
                state=VersionState.DRAFT,
                author=author,
                note=note,
                created_at=now(),
            )
            s.add(row)
            try:
                s.flush()
            except IntegrityError:  # the same content submitted at the same moment
                raise ReviewRefused(
                    Code.NOTHING_CHANGED, f"{subject} with this content was just submitted"
                ) from None
            self._audit(s, author, "submit", subject_kind, subject, version=row, detail=note)
            return Version.of(row)

    def version(self, version_id: int) -> Version:
        with self.ledger.session() as s:
            row = s.get(VersionRow, version_id)
            if row is None:
                raise ReviewRefused(Code.UNKNOWN_VERSION, f"no version {version_id}")
            return Version.of(row)

    def versions(
        self, subject_kind: SubjectKind | None = None, subject: str | None = None
    ) -> list[Version]:
        """Every version, newest first."""
        with self.ledger.session() as s:
            query = select(VersionRow).order_by(VersionRow.id.desc())
            if subject_kind is not None:
                query = query.where(VersionRow.subject_kind == subject_kind)
            if subject is not None:
                query = query.where(VersionRow.subject == subject)
            return [Version.of(r) for r in s.scalars(query)]

    def in_force(self, subject_kind: SubjectKind, subject: str, day: dt.date) -> Version | None:
        """The approved version of ``subject`` that applies on ``day``: of those taking
        effect on or before it, the one taking effect last (the later approval on a tie)."""
        with self.ledger.session() as s:
            row = s.scalar(
                select(VersionRow)
                .where(
                    VersionRow.subject_kind == subject_kind,
                    VersionRow.subject == subject,
                    VersionRow.state == VersionState.APPROVED,
                    or_(VersionRow.effective_from.is_(None), VersionRow.effective_from <= day),
                )
                .order_by(
                    func.coalesce(VersionRow.effective_from, dt.date.min).desc(),
                    VersionRow.reviewed_at.desc(),
                )
                .limit(1)
            )
            return Version.of(row) if row else None

    def approved(self, subject_kind: SubjectKind, subject: str, sha256: str) -> Version | None:
        """The approved version of ``subject`` with exactly this content, if there is one."""
        with self.ledger.session() as s:
            row = _with_content(s, subject_kind, subject, sha256)
            if row is not None and row.state != VersionState.APPROVED:
                row = None
            return Version.of(row) if row else None

    def decide(
        self,
        version_id: int,
        reviewer: str,
        *,
        approve: bool,
        sha256: str,
        comment: str,
        effective_from: dt.date | None = None,
    ) -> Version:
        """Approve or reject a draft. The reviewer names the exact sha256 they reviewed;
        a version whose content is not that (changed since, or another version) is refused
        (``stale-hash``), and so is the author's own version (``own-version``)."""
        with self.ledger.session() as s:
            row = s.get(VersionRow, version_id, with_for_update=True)
            if row is None:
                raise ReviewRefused(Code.UNKNOWN_VERSION, f"no version {version_id}")
            if row.sha256 != sha256:
                raise ReviewRefused(
                    Code.STALE_HASH,
                    f"version {version_id} is {row.sha256[:12]}…, not the {sha256[:12]}… "
                    "reviewed: review the version as it is now",
                )
            if row.author == reviewer:
                raise ReviewRefused(
                    Code.OWN_VERSION,
                    f"{reviewer} wrote version {version_id}: a second person must review it",
                )
            if row.state != VersionState.DRAFT:
                raise ReviewRefused(
                    Code.NOT_A_DRAFT, f"version {version_id} is {row.state}, not a draft"
                )
            row.state = VersionState.APPROVED if approve else VersionState.REJECTED
            row.reviewed_by, row.reviewed_at, row.review_comment = reviewer, now(), comment
            row.effective_from = effective_from if approve else None
            when = f" from {effective_from.isoformat()}" if approve and effective_from else ""
            self._audit(
                s,
                reviewer,
                "approve" if approve else "reject",
                row.subject_kind,
                row.subject,
                version=row,
                detail=f"{comment}{when}",
            )
            s.flush()
            return Version.of(row)

    def retire(self, version_id: int, actor: str, comment: str) -> Version:
        """Withdraw an approved version: it no longer applies to new letters."""
        with self.ledger.session() as s:
            row = s.get(VersionRow, version_id, with_for_update=True)
            if row is None:
                raise ReviewRefused(Code.UNKNOWN_VERSION, f"no version {version_id}")
            if row.state != VersionState.APPROVED:
                raise ReviewRefused(
                    Code.NOT_A_DRAFT,
                    f"version {version_id} is {row.state}; only approved versions are retired",
                )
            row.state = VersionState.RETIRED
            self._audit(
                s, actor, "retire", row.subject_kind, row.subject, version=row, detail=comment
            )
            return Version.of(row)

    def record_shipped(
        self,
        subject_kind: SubjectKind,
        subject: str,
        sha256: str,
        content: Mapping[str, Any],
        *,
        approved_at: dt.datetime,
        effective_from: dt.date | None,
        comment: str,
        files: Mapping[str, bytes] | None = None,
    ) -> bool:
        """Record an approval that ships with the product (once; True when it was new).
        Several processes starting at once may try together: one records it, and the
        others find it recorded."""
        try:
            with self.ledger.session() as s:
                if _with_content(s, subject_kind, subject, sha256) is not None:
                    return False
                _put_blobs(s, files or {})
                row = VersionRow(
                    subject_kind=subject_kind,
                    subject=subject,
                    sha256=sha256,
                    content=dict(content),
                    state=VersionState.APPROVED,
                    author=SHIPPED,
                    note="shipped with the product",
                    created_at=approved_at,
                    reviewed_by=SHIPPED,
                    reviewed_at=approved_at,
                    review_comment=comment,
                    effective_from=effective_from,
                )
                s.add(row)
                s.flush()
                self._audit(
                    s, SHIPPED, "record-shipped", subject_kind, subject, version=row, detail=comment
                )
        except IntegrityError:  # another process recorded it a moment ago
            return False
        return True


def _with_content(s: Session, kind: str, subject: str, sha256: str) -> VersionRow | None:
    """The version of ``subject`` with exactly this content (at most one: unique)."""
    return s.scalar(
        select(VersionRow).where(
            VersionRow.subject_kind == kind,
            VersionRow.subject == subject,
            VersionRow.sha256 == sha256,
        )
    )


def _put_blobs(s: Session, files: Mapping[str, bytes]) -> None:
    """Store files by digest; one already there (from any process) is left as it is."""
    if not files:
        return
    rows = [{"sha256": digest, "data": data} for digest, data in files.items()]
    dialect = s.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    s.execute(insert(BlobRow).values(rows).on_conflict_do_nothing(index_elements=["sha256"]))
