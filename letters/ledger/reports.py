"""Reads for people and dashboards: one job's whole history (``letters status JOB``,
``GET /v1/jobs/{id}``), the overview (``letters status``) and the metrics' counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from letters.clock import OSLO
from letters.ledger.db import Database
from letters.ledger.letters import letter_of
from letters.ledger.models import (
    AttemptRow,
    HoldRow,
    JobRow,
    PrintBatchLetterRow,
    PrintBatchRow,
)
from letters.ledger.states import IN_PROGRESS, JobStatus


def _iso(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str | None:
    if value is None:
        return None
    return (value.astimezone(zone) if zone else value).isoformat()


class Reports(Database):
    def history(self, job_id: str) -> dict[str, Any] | None:
        """Everything known about a job, for ``letters status``."""
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                return None
            letter = letter_of(s, job_id)
            holds = s.scalars(
                select(HoldRow).where(HoldRow.reference == job.reference).order_by(HoldRow.id)
            )
            out: dict[str, Any] = {
                "job": {
                    "id": job.id,
                    "kind": job.kind,
                    "reference": job.reference,
                    "status": job.status,
                    "letter_id": job.letter_id,
                    "content_sha256": job.content_sha256,
                    "accepted_at": _iso(job.accepted_at),
                    "error_class": job.error_class,
                    "error": job.error,
                },
                "events": [
                    {"at": _iso(e.at), "event": e.event, "detail": e.detail} for e in job.events
                ],
                "letter": None,
                "attempts": [],
                "holds": [
                    {
                        "reason": h.reason,
                        "placed_at": _iso(h.placed_at),
                        "released_at": _iso(h.released_at),
                        "release_reason": h.release_reason,
                    }
                    for h in holds
                ],
            }
            if letter is not None:
                out["letter"] = {
                    "id": letter.id,
                    "template": letter.template_name,
                    "template_version": letter.template_version,
                    "template_sha256": letter.template_sha256,
                    "renderer": letter.renderer,
                    "kid": letter.kid,
                    "due_date": letter.due_date.isoformat(),
                    "password_expires_at": _iso(letter.password_expires_at, OSLO),
                    "pdf_sha256": letter.pdf_sha256,
                    "pages": letter.page_count,
                    "archive_path": letter.archive_path,
                    "created_at": _iso(letter.created_at),
                }
                out["attempts"] = [
                    {
                        "at": _iso(a.at),
                        "channel": a.channel,
                        "status": a.status,
                        "external_id": a.external_id,
                        "receipt": a.receipt,
                        "error_class": a.error_class,
                        "error_code": a.error_code,
                        "error": a.error,
                    }
                    for a in letter.attempts
                ]
                member = s.get(PrintBatchLetterRow, letter.id)
                batch = s.get(PrintBatchRow, member.batch_id) if member else None
                if batch is not None:
                    out["print_batch"] = {
                        "id": batch.id,
                        "status": batch.status,
                        "joined_at": _iso(member.joined_at) if member else None,
                        "closed_at": _iso(batch.closed_at),
                        "handed_off_at": _iso(batch.handed_off_at),
                        "folder": batch.folder,
                    }
            return out

    def overview(self) -> dict[str, Any]:
        """Jobs by status, deliveries by channel and the newest print batches."""
        with self.session() as s:
            jobs = dict(
                s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
            )
            channels = dict(
                s.execute(
                    select(AttemptRow.channel, func.count())
                    .where(AttemptRow.status == "delivered")
                    .group_by(AttemptRow.channel)
                ).all()
            )
            batches = s.scalars(
                select(PrintBatchRow).order_by(PrintBatchRow.sequence.desc()).limit(10)
            )
            members = dict(
                s.execute(
                    select(PrintBatchLetterRow.batch_id, func.count()).group_by(
                        PrintBatchLetterRow.batch_id
                    )
                ).all()
            )
            return {
                "jobs": jobs,
                "delivered_by_channel": channels,
                "print_batches": [
                    {
                        "id": b.id,
                        "status": b.status,
                        "letters": members.get(b.id, 0),
                        "pages": b.pages,
                        "sheets": b.sheets,
                        "opened_at": _iso(b.opened_at),
                        "closed_at": _iso(b.closed_at),
                        "handed_off_at": _iso(b.handed_off_at),
                        "folder": b.folder,
                    }
                    for b in batches
                ],
            }

    # --- for the metrics (read at scrape time, so right across machines) ----------------

    def counts(self) -> dict[JobStatus, int]:
        """Jobs by status."""
        with self.session() as s:
            rows = s.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            return {status: n for status, n in rows}

    def oldest_unfinished(self) -> dt.datetime | None:
        """When the oldest job still in progress (not held) was accepted."""
        with self.session() as s:
            return s.scalar(
                select(func.min(JobRow.accepted_at)).where(JobRow.status.in_(IN_PROGRESS))
            )
