"""The letter evidence: the one letter made for a job (template, renderer, KID, password
hash and expiry, PDF digest, archive path) and its delivery attempts.

An attempt is recorded twice: as ``sending`` (the intent, committed on its own before the
channel is called) and then with its outcome (``delivered``, ``failed`` or ``uncertain``)
in the same row. A row still ``sending`` when the next try comes means the worker stopped
mid-send: a channel that can be asked reconciles; one that cannot (e-mail) may hold the
letter, and the job becomes ``uncertain`` until an operator decides
(:meth:`Letters.resolve_uncertain`).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from letters.clock import now
from letters.ledger.db import Database
from letters.ledger.models import AttemptRow, AuditRow, EventRow, JobRow, LetterRow
from letters.ledger.states import JobStatus
from letters.ledger.views import Attempt
from letters.wording import counted

#: An attempt begun and not (yet) settled: the channel has been, or is being, called.
SENDING = "sending"
#: An attempt whose outcome nobody can tell: the channel may hold the letter.
UNCERTAIN = "uncertain"


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
            id=a.id,
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
                        f"{counted(row.page_count, 'page')}, pdf {row.pdf_sha256[:12]}",
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

    def begin_attempt(self, letter_id: str, channel: str, at: dt.datetime | None = None) -> int:
        """Record the intent to hand the letter to ``channel``, committed before the channel
        is called; returns the attempt's id for its outcome. ``at`` (now by default) is the
        intent's instant, which :meth:`withdraw_attempt` knows it by."""
        with self.session() as s:
            row = AttemptRow(letter_id=letter_id, channel=channel, status=SENDING, at=at or now())
            s.add(row)
            s.flush()
            return row.id

    def withdraw_attempt(self, letter_id: str, channel: str, at: dt.datetime) -> bool:
        """Take back the intent begun at ``at`` whose commit the worker never heard about
        (the ledger went away before it answered): the channel was not called, so the
        intent must not stand as a send that may have happened. True if one was there."""
        with self.session() as s:
            gone = s.execute(
                delete(AttemptRow).where(
                    AttemptRow.letter_id == letter_id,
                    AttemptRow.channel == channel,
                    AttemptRow.status == SENDING,
                    AttemptRow.at == at,
                )
            )
            return bool(getattr(gone, "rowcount", 0))

    def record_attempt(self, attempt: AttemptRow, intent: int | None = None) -> None:
        """A delivery attempt that did not deliver (a delivered one ends the job's delivery:
        :meth:`letters.ledger.jobs.Jobs.finish_delivery`); with ``intent``, the outcome of
        the attempt :meth:`begin_attempt` recorded."""
        with self.session() as s:
            if intent is not None:
                attempt.id = intent
                s.merge(attempt)
            else:
                s.add(attempt)

    def mark_uncertain(self, job_id: str, intent: int, code: str, detail: str) -> bool:
        """The attempt ``intent`` may have reached its channel, which cannot be asked: the
        attempt and the job become ``uncertain`` (nothing retries it), in one transaction.
        False (nothing changed) if the job is no longer being delivered."""
        at = now()
        with self.session() as s:
            moved = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.DELIVERING)
                .values(
                    status=JobStatus.UNCERTAIN,
                    updated_at=at,
                    error_class=None,
                    error_code=code,
                    error=detail,
                )
            )
            if not getattr(moved, "rowcount", 0):
                return False
            s.execute(
                update(AttemptRow)
                .where(AttemptRow.id == intent)
                .values(status=UNCERTAIN, error_code=code, error=detail)
            )
            s.add(EventRow(job_id=job_id, at=at, event="uncertain", detail=detail))
        return True

    def resolve_uncertain(
        self, job_id: str, decision: Literal["sent", "resend"], by: str, reason: str
    ) -> bool:
        """An operator's decision on an ``uncertain`` job, recorded with who and why (in the
        job's history and the audit log): ``sent`` (the letter went out: delivered, nothing
        is sent) or ``resend`` (send it again: the job goes back to ``rendered``; the
        debtor may get it twice). False (nothing changed) if the job is not uncertain."""
        at = now()
        detail = f"by {by}: {reason}"
        target = JobStatus.DELIVERED if decision == "sent" else JobStatus.RENDERED
        with self.session() as s:
            moved = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.UNCERTAIN)
                .values(status=target, updated_at=at, error_class=None, error_code=None, error=None)
            )
            if not getattr(moved, "rowcount", 0):
                return False
            if decision == "sent":
                letter = letter_of(s, job_id)
                last = s.scalars(
                    select(AttemptRow)
                    .where(AttemptRow.letter_id == (letter.id if letter else None))
                    .where(AttemptRow.status == UNCERTAIN)
                    .order_by(AttemptRow.id.desc())
                ).first()
                if letter is not None and last is not None:
                    s.add(
                        AttemptRow(
                            letter_id=letter.id,
                            channel=last.channel,
                            status="delivered",
                            external_id=last.external_id,
                            receipt={"confirmed_by": by, "reason": reason},
                            at=at,
                        )
                    )
            event = "sent-confirmed" if decision == "sent" else "resend-decided"
            s.add(EventRow(job_id=job_id, at=at, event=event, detail=detail))
            s.add(
                AuditRow(
                    at=at,
                    actor=by,
                    action="confirm-sent" if decision == "sent" else "resend",
                    subject_kind="job",
                    subject=job_id,
                    detail=reason,
                )
            )
        return True
