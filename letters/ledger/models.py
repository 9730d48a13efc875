"""The ledger's tables: the evidence of every job, letter, delivery attempt and hold."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from letters.ledger.states import BatchStatus, JobStatus


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Instants stored in UTC and read back timezone-aware on every database (SQLite keeps
    no zone, so an Oslo time written as-is would come back as the wrong instant)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores timezone-aware instants only")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


E = TypeVar("E", bound=StrEnum)


class Status(TypeDecorator[E]):
    """A status stored as its plain string (``VARCHAR(16)``, as the migrations made it) and
    read back as its enum; writing a value the enum does not know fails before the SQL."""

    impl = String(16)
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        return None if value is None else str(self.enum(value))

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON}  # noqa: RUF012


class JobRow(Base):
    """A job as accepted: the validated document, its fingerprint and where it stands."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_sha256: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    kind: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(32), index=True)
    letter_id: Mapped[str] = mapped_column(String(20), unique=True)
    #: accepted → rendered → delivering → delivered, or held / failed
    status: Mapped[JobStatus] = mapped_column(Status(JobStatus), index=True)
    error_class: Mapped[str | None] = mapped_column(String(64))
    #: a failed job's stable code (:mod:`letters.codes`), when its failure has one
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    accepted_at: Mapped[dt.datetime] = mapped_column()
    updated_at: Mapped[dt.datetime] = mapped_column(index=True)
    #: when retention removed the debtor's personal data from ``payload`` (and the job's
    #: history); its fingerprint ``content_sha256`` stays (letters.retention)
    purged_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    events: Mapped[list[EventRow]] = relationship(order_by="EventRow.id")


class EventRow(Base):
    """One step in a job's history (accepted, rendered, held, released, delivered, …)."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column()
    event: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)


class LetterRow(Base):
    """The letter made for a job: exactly one per job (unique ``job_id``)."""

    __tablename__ = "letters"
    __table_args__ = (
        # letters.credentials looks a password up by its tag, and asks for the last expiry
        # of the letters stored before tags: two partial indexes, one for each
        Index(
            "ix_letters_password_tag",
            "password_tag",
            postgresql_where=text("password_tag IS NOT NULL"),
            sqlite_where=text("password_tag IS NOT NULL"),
        ),
        Index(
            "ix_letters_untagged_expiry",
            "password_expires_at",
            postgresql_where=text("password_tag IS NULL"),
            sqlite_where=text("password_tag IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(2))
    template_name: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[str] = mapped_column(String(16))
    template_sha256: Mapped[str] = mapped_column(String(64))
    renderer: Mapped[str] = mapped_column(String(32))
    kid: Mapped[str] = mapped_column(String(25))
    #: a payment plan's instalment KIDs in order (what upstream matches payments by)
    instalment_kids: Mapped[list[str] | None] = mapped_column(JSON, nullable=True, default=None)
    reference: Mapped[str] = mapped_column(String(32), index=True)
    due_date: Mapped[dt.date] = mapped_column()
    password_hash: Mapped[str] = mapped_column(String(255))
    #: HMAC-SHA256 lookup tag of reference and password under the login key (None: stored
    #: before tags); see letters.credentials
    password_tag: Mapped[str | None] = mapped_column(String(64))
    password_expires_at: Mapped[dt.datetime] = mapped_column()
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    page_count: Mapped[int] = mapped_column(Integer)
    archive_path: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column()
    #: the version of each rule table the letter was checked with (table → version)
    rules_versions: Mapped[dict[str, Any] | None] = mapped_column()
    #: when retention removed the PDF from the archive (``pdf_sha256`` stays, as evidence)
    purged_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class AttemptRow(Base):
    """One try at handing a letter to a channel."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    letter_id: Mapped[str] = mapped_column(ForeignKey("letters.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # delivered | failed | skipped
    external_id: Mapped[str | None] = mapped_column(String(128))
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error_class: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column()


class HoldRow(Base):
    """A hold on a case reference: no letter of the case goes to a channel while it stands."""

    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_active", "reference", "released_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    placed_at: Mapped[dt.datetime] = mapped_column()
    released_at: Mapped[dt.datetime | None] = mapped_column()
    release_reason: Mapped[str | None] = mapped_column(Text)


class CaseClosureRow(Base):
    """A case closed by upstream (paid, withdrawn, sent to court): who closed it, when and
    why, and, if it was reopened, who reopened it, when and why. The retention period runs
    from the closure that stands (letters.retention)."""

    __tablename__ = "case_closures"
    __table_args__ = (Index("ix_case_closures_standing", "reference", "reopened_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(32))
    closed_at: Mapped[dt.datetime] = mapped_column()
    closed_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    reopened_at: Mapped[dt.datetime | None] = mapped_column()
    reopened_by: Mapped[str | None] = mapped_column(String(64))
    reopen_reason: Mapped[str | None] = mapped_column(Text)


class LoginAttemptRow(Base):
    """One login try on a case reference from a source (for the limits of letters.lockout):
    never the password typed."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_reference_at", "reference", "at"),
        Index("ix_login_attempts_source_at", "source", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(32))
    #: an IPv4 address, an IPv6 /64 or "local" (None: recorded before sources were kept)
    source: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16))  # valid|expired|wrong|locked|throttled


class ApiTokenRow(Base):
    """A bearer token for the HTTP API: only its SHA-256 is kept, with its scopes."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(128))  # space-separated
    created_at: Mapped[dt.datetime] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class PrintBatchRow(Base):
    """A print batch for the print vendor: open (letters join it) → closing → closed (its
    folder written, READY last) → handed_off (in the vendor's drop folder or SFTP)."""

    __tablename__ = "print_batches"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # PB000001
    sequence: Mapped[int] = mapped_column(Integer, unique=True)
    status: Mapped[BatchStatus] = mapped_column(Status(BatchStatus), index=True)
    #: 1 while the batch is open, NULL after: the unique index allows one open batch only.
    open_slot: Mapped[int | None] = mapped_column(Integer, unique=True)
    opened_at: Mapped[dt.datetime] = mapped_column()
    closing_at: Mapped[dt.datetime | None] = mapped_column()
    #: Renewed while a process writes the batch; a lease older than a few minutes means
    #: that process died and another may resume the close.
    lease_at: Mapped[dt.datetime | None] = mapped_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column()
    handed_off_at: Mapped[dt.datetime | None] = mapped_column()
    letters: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    sheets: Mapped[int] = mapped_column(Integer, default=0)
    folder: Mapped[str | None] = mapped_column(Text)
    sums_sha256: Mapped[str | None] = mapped_column(String(64))
    handoff: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: when retention removed the batch's folder (all its letters were purged)
    purged_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class PrintBatchLetterRow(Base):
    """A letter in a print batch: a letter joins one batch only, ever (primary key)."""

    __tablename__ = "print_batch_letters"
    __table_args__ = (Index("ix_print_batch_letters_batch_sort", "batch_id", "sort_key"),)

    letter_id: Mapped[str] = mapped_column(ForeignKey("letters.id"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("print_batches.id"))
    #: Postal order: Norwegian addresses by postal code, then foreign ones by country.
    sort_key: Mapped[str] = mapped_column(String(40))
    page_count: Mapped[int] = mapped_column(Integer)
    joined_at: Mapped[dt.datetime] = mapped_column()


# --- the compliance workbench -------------------------------------------------------------


class UserRow(Base):
    """A named person who may sign in to the workbench: an author, reviewer or admin."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column()
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()
    disabled_at: Mapped[dt.datetime | None] = mapped_column()


class VersionRow(Base):
    """One version of a template or a rule table: exactly what was submitted (its sha256),
    its state, and who approved or rejected it, when, and from which day it applies."""

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("subject_kind", "subject", "sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_kind: Mapped[str] = mapped_column(String(16))  # template | rules
    subject: Mapped[str] = mapped_column(String(64), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    #: what the version is: a template's files (path → sha256 of a blob) and renderer, or a
    #: rule table's document
    content: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), index=True)
    author: Mapped[str] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column()
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column()
    review_comment: Mapped[str | None] = mapped_column(Text)
    effective_from: Mapped[dt.date | None] = mapped_column(Date)


class BlobRow(Base):
    """A file of a template version, stored once under its SHA-256."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class AuditRow(Base):
    """One privileged action, appended and never changed (the database refuses UPDATE and
    DELETE on this table)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_kind", "subject"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class ReviewSessionRow(Base):
    """A signed-in session on the review page: only the SHA-256 of its cookie is kept."""

    __tablename__ = "review_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column()
    last_seen: Mapped[dt.datetime] = mapped_column()
