"""The letter evidence: the one letter made for a job (template, renderer, KID, password
hash and expiry, PDF digest, archive path) and its delivery attempts."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from letters.ledger.db import Database
from letters.ledger.models import AttemptRow, EventRow, JobRow, LetterRow
from letters.ledger.states import JobStatus
from letters.ledger.views import Attempt


def letter_of(s: Session, job_id: str) -> LetterRow | None:
    """The letter made for the job, if one was."""
    return s.scalar(select(LetterRow).where(LetterRow.job_id == job_id))


def attempts(s: Session, letter_id: str) -> list[Attempt]:
    """A letter's delivery attempts, oldest first."""
    rows = s.scalars(
        select(AttemptRow).where(AttemptRow.letter_id == letter_id).order_by(AttemptRow.id)
    )
    return [
        Attempt(
            at=a.at,
            channel=a.channel,
            status=a.status,
            external_id=a.external_id,
            receipt=a.receipt,
            error_class=a.error_class,
            error_code=a.error_code,
            error=a.error,
        )
        for a in rows
    ]


class Letters(Database):
    def record_letter(self, row: LetterRow) -> bool:
        """Store the letter of a job, which is then rendered. False (and nothing changed) if
        the job has one already: one letter per job is a unique constraint."""
        try:
            with self.session() as s:
                if s.scalar(select(LetterRow.id).where(LetterRow.job_id == row.job_id)):
                    return False
                s.add(row)
                s.flush()
                at = row.created_at
                s.execute(
                    update(JobRow)
                    .where(JobRow.id == row.job_id)
                    .values(status=JobStatus.RENDERED, updated_at=at)
                )
                s.add(
                    EventRow(
                        job_id=row.job_id,
                        at=at,
                        event="rendered",
                        detail=f"{row.template_name} v{row.template_version} by {row.renderer}, "
                        f"{row.page_count} page(s), pdf {row.pdf_sha256[:12]}",
                    )
                )
        except IntegrityError:
            return False
        return True

    def letter(self, letter: str) -> LetterRow | None:
        with self.session() as s:
            return s.get(LetterRow, letter)

    def letter_for_job(self, job_id: str) -> LetterRow | None:
        with self.session() as s:
            return letter_of(s, job_id)

    def record_attempt(self, attempt: AttemptRow) -> None:
        """A delivery attempt that did not deliver (a delivered one ends the job's delivery:
        :meth:`letters.ledger.jobs.Jobs.finish_delivery`)."""
        with self.session() as s:
            s.add(attempt)
