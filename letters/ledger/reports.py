"""Reads for people and dashboards: one job's whole history (``letters status JOB``,
``GET /v1/jobs/{id}``), the overview (``letters status``) and the metrics' counts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from letters.clock import OSLO
from letters.codes import Code
from letters.ledger.cases import closure_view, standing_closure
from letters.ledger.db import Database
from letters.ledger.letters import attempts, letter_of
from letters.ledger.models import (
    AttemptRow,
    HoldRow,
    JobRow,
    LetterRow,
    PrintBatchLetterRow,
    PrintBatchRow,
)
from letters.ledger.states import IN_PROGRESS, JobStatus
from letters.ledger.views import (
    BatchMembership,
    BatchSummary,
    Event,
    HoldRecord,
    JobHistory,
    JobRecord,
    LetterEvidence,
    Overview,
)


class Reports(Database):
    def history(self, job_id: str) -> JobHistory | None:
        """Everything known about a job, for ``letters status`` and ``GET /v1/jobs/{id}``."""
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                return None
            letter = letter_of(s, job_id)
            closure = standing_closure(s, job.reference)
            holds = s.scalars(
                select(HoldRow).where(HoldRow.reference == job.reference).order_by(HoldRow.id)
            )
            evidence = member = batch = None
            if letter is not None:
                evidence = LetterEvidence(
                    id=letter.id,
                    template=letter.template_name,
                    template_version=letter.template_version,
                    template_sha256=letter.template_sha256,
                    renderer=letter.renderer,
                    kid=letter.kid,
                    instalment_kids=list(letter.instalment_kids or ()),
                    due_date=letter.due_date,
                    password_expires_at=letter.password_expires_at.astimezone(OSLO),
                    pdf_sha256=letter.pdf_sha256,
                    pages=letter.page_count,
                    archive_path=letter.archive_path,
                    created_at=letter.created_at,
                    purged_at=letter.purged_at,
                )
                member = s.get(PrintBatchLetterRow, letter.id)
                batch = s.get(PrintBatchRow, member.batch_id) if member else None
            return JobHistory(
                job=JobRecord(
                    id=job.id,
                    kind=job.kind,
                    reference=job.reference,
                    status=job.status,
                    letter_id=job.letter_id,
                    content_sha256=job.content_sha256,
                    accepted_at=job.accepted_at,
                    error_class=job.error_class,
                    error_code=job.error_code,
                    error=job.error,
                    purged_at=job.purged_at,
                ),
                events=[Event(at=e.at, event=e.event, detail=e.detail) for e in job.events],
                letter=evidence,
                attempts=[] if letter is None else attempts(s, letter.id),
                holds=[
                    HoldRecord(
                        reason=h.reason,
                        placed_at=h.placed_at,
                        released_at=h.released_at,
                        release_reason=h.release_reason,
                    )
                    for h in holds
                ],
                print_batch=None
                if batch is None or member is None
                else BatchMembership(
                    id=batch.id,
                    status=batch.status,
                    joined_at=member.joined_at,
                    closed_at=batch.closed_at,
                    handed_off_at=batch.handed_off_at,
                    folder=batch.folder,
                    purged_at=batch.purged_at,
                ),
                closure=None if closure is None else closure_view(closure),
            )

    def overview(self) -> Overview:
        """Jobs by status, deliveries by channel, the letters waiting on a channel's open
        breaker (their last turn found it open) and the newest print batches."""
        with self.session() as s:
            jobs = {
                status: n
                for status, n in s.execute(
                    select(JobRow.status, func.count()).group_by(JobRow.status)
                )
            }
            channels = {
                channel: n
                for channel, n in s.execute(
                    select(AttemptRow.channel, func.count())
                    .where(AttemptRow.status == "delivered")
                    .group_by(AttemptRow.channel)
                )
            }
            later = aliased(AttemptRow)
            last = (
                select(func.max(later.id))
                .where(later.letter_id == AttemptRow.letter_id)
                .scalar_subquery()
            )
            waiting = {
                channel: n
                for channel, n in s.execute(
                    select(AttemptRow.channel, func.count())
                    .join(LetterRow, LetterRow.id == AttemptRow.letter_id)
                    .join(JobRow, JobRow.id == LetterRow.job_id)
                    .where(
                        JobRow.status.in_(IN_PROGRESS),
                        AttemptRow.error_code == str(Code.CHANNEL_BREAKER_OPEN),
                        AttemptRow.id == last,
                    )
                    .group_by(AttemptRow.channel)
                )
            }
            batches = s.scalars(
                select(PrintBatchRow).order_by(PrintBatchRow.sequence.desc()).limit(10)
            )
            members = {
                batch: n
                for batch, n in s.execute(
                    select(PrintBatchLetterRow.batch_id, func.count()).group_by(
                        PrintBatchLetterRow.batch_id
                    )
                )
            }
            return Overview(
                jobs=jobs,
                delivered_by_channel=channels,
                waiting_on_breaker=waiting,
                print_batches=[
                    BatchSummary(
                        id=b.id,
                        status=b.status,
                        letters=members.get(b.id, 0),
                        pages=b.pages,
                        sheets=b.sheets,
                        opened_at=b.opened_at,
                        closed_at=b.closed_at,
                        handed_off_at=b.handed_off_at,
                        folder=b.folder,
                    )
                    for b in batches
                ],
            )

    # --- for the metrics (read at scrape time, so right across machines) ----------------

    def counts(self) -> dict[JobStatus, int]:
        """Jobs by status."""
        with self.session() as s:
            rows = s.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            return {status: n for status, n in rows}

    def in_progress(self) -> int:
        """Jobs the workers still owe (accepted, rendered, delivering): the depth the HTTP
        intake holds back at (:mod:`letters.backpressure`). Counted on the status index."""
        with self.session() as s:
            count = select(func.count()).select_from(JobRow)
            return s.scalar(count.where(JobRow.status.in_(IN_PROGRESS))) or 0

    def failures(self) -> dict[str | None, int]:
        """Failed jobs by their stable code (None: the failure recorded none)."""
        with self.session() as s:
            rows = s.execute(
                select(JobRow.error_code, func.count())
                .where(JobRow.status == JobStatus.FAILED)
                .group_by(JobRow.error_code)
            )
            return {code: n for code, n in rows}

    def oldest_unfinished(self) -> dt.datetime | None:
        """When the oldest job still in progress (not held) was accepted."""
        with self.session() as s:
            return s.scalar(
                select(func.min(JobRow.accepted_at)).where(JobRow.status.in_(IN_PROGRESS))
            )

    def deliveries(self) -> dict[tuple[str, str], int]:
        """Letters delivered, by (kind, channel): what the dashboard's throughput is the
        rate of (read at each scrape, so right across machines)."""
        with self.session() as s:
            rows = s.execute(
                select(JobRow.kind, AttemptRow.channel, func.count())
                .join(LetterRow, LetterRow.id == AttemptRow.letter_id)
                .join(JobRow, JobRow.id == LetterRow.job_id)
                .where(AttemptRow.status == "delivered")
                .group_by(JobRow.kind, AttemptRow.channel)
            )
            return {(kind, channel): n for kind, channel, n in rows}

    def batch_states(self) -> dict[str, int]:
        """Print batches by status (open, closing, closed, handed_off)."""
        with self.session() as s:
            rows = s.execute(
                select(PrintBatchRow.status, func.count()).group_by(PrintBatchRow.status)
            )
            return {str(status): n for status, n in rows}
