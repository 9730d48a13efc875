"""What the ledger's reads return: typed, and serialised to the JSON that ``letters status
--json`` prints and ``GET /v1/jobs/{id}`` answers (FastAPI documents them in OpenAPI).

Instants are ISO 8601 with their offset (``2026-11-20T09:14:03.123456+00:00``; a
password's expiry in Oslo time), as the evidence has always been written.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from letters.ledger.states import BatchStatus, JobStatus


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


#: An instant, written in JSON as ``datetime.isoformat()`` does (``+00:00``, not ``Z``).
Instant = Annotated[
    dt.datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class JobRecord(_View):
    """The job as accepted and where it stands; a failed job has its reason and code."""

    id: str
    kind: str
    reference: str
    status: JobStatus
    letter_id: str
    content_sha256: str
    accepted_at: Instant
    error_class: str | None
    error_code: str | None = Field(description="a failed job's stable code (letters.codes)")
    error: str | None
    #: when retention removed the debtor's personal data from the job (only then present)
    purged_at: Instant | None = Field(default=None, exclude_if=lambda v: v is None)


class Event(_View):
    """One step in a job's history (accepted, routed, rendered, held, delivered, …)."""

    at: Instant
    event: str
    detail: str | None


class LetterEvidence(_View):
    """The letter made for the job: what was sent, made how, and where it is archived."""

    id: str
    template: str
    template_version: str
    template_sha256: str
    renderer: str
    kid: str
    #: a payment plan's instalment KIDs in order (empty for the other kinds)
    instalment_kids: list[str] = []
    due_date: dt.date
    password_expires_at: Instant  # in Oslo time
    pdf_sha256: str
    pages: int
    archive_path: str
    created_at: Instant
    #: when retention removed the PDF from the archive (only then present): its sha256 stays
    purged_at: Instant | None = Field(default=None, exclude_if=lambda v: v is None)


class Attempt(_View):
    """One try at handing the letter to a channel: delivered, or failed with its code;
    ``sending`` while the channel is called, ``uncertain`` when nobody can tell whether it
    got the letter (see ``letters resolve``)."""

    id: int = Field(default=0, exclude=True)
    at: Instant
    channel: str
    status: str  # sending | delivered | failed | uncertain
    external_id: str | None
    receipt: dict[str, Any] | None
    error_class: str | None
    error_code: str | None
    error: str | None


class HoldRecord(_View):
    """A hold on the job's case, with its reason and, once released, why."""

    reason: str
    placed_at: Instant
    released_at: Instant | None
    release_reason: str | None


class BatchMembership(_View):
    """The print batch the job's letter joined, and how far that batch has gone."""

    id: str
    status: BatchStatus
    joined_at: Instant
    closed_at: Instant | None
    handed_off_at: Instant | None
    folder: str | None
    #: when retention removed the batch's folder (only then present)
    purged_at: Instant | None = Field(default=None, exclude_if=lambda v: v is None)


class CaseClosure(_View):
    """The closure standing on the job's case: from then on its retention period runs."""

    closed_at: Instant
    closed_by: str
    reason: str


class JobHistory(_View):
    """Everything known about one job (``letters status JOB``, ``GET /v1/jobs/{id}``)."""

    job: JobRecord
    events: list[Event]
    letter: LetterEvidence | None
    attempts: list[Attempt]
    holds: list[HoldRecord]
    #: only for a letter in a print batch (the key is left out otherwise)
    print_batch: BatchMembership | None = Field(default=None, exclude_if=lambda v: v is None)
    #: only for a job of a closed case (the key is left out otherwise)
    closure: CaseClosure | None = Field(default=None, exclude_if=lambda v: v is None)


class BatchSummary(_View):
    """A print batch in the overview."""

    id: str
    status: BatchStatus
    letters: int
    pages: int
    sheets: int
    opened_at: Instant
    closed_at: Instant | None
    handed_off_at: Instant | None
    folder: str | None


class Overview(_View):
    """Jobs by status, deliveries by channel, letters waiting on a channel's open circuit
    breaker and the newest print batches (``letters status``)."""

    jobs: dict[JobStatus, int]
    delivered_by_channel: dict[str, int]
    #: unfinished letters whose last turn found the channel's breaker open, by channel
    waiting_on_breaker: dict[str, int] = {}
    print_batches: list[BatchSummary]
