"""Jobs in the ledger: accepting them (idempotently), moving them from status to status,
claiming a delivery, and finding the stale ones for the sweeper.

Every write commits before anything is enqueued, so a lost broker message loses nothing:
the sweeper finds the job again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from letters.clock import now
from letters.job import Job, fingerprint
from letters.ledger.db import Database
from letters.ledger.holds import standing_reason
from letters.ledger.letters import attempts, letter_of
from letters.ledger.models import AttemptRow, EventRow, HoldRow, JobRow, LetterRow
from letters.ledger.states import IN_PROGRESS, UNFINISHED, JobStatus
from letters.ledger.views import Attempt
from letters.numbers import letter_id as letter_ids
from letters.numbers import reference as case_reference


@dataclass(frozen=True)
class Stage:
    """What a pipeline stage needs to decide, read in one transaction."""

    job: JobRow | None
    letter: LetterRow | None
    hold: str | None  # the reason of the active hold on the case, if any
    attempts: list[Attempt]  # the letter's, oldest first


class JobConflict(Exception):
    """The job id is known with different content; nothing was changed."""


class Jobs(Database):
    def accept(self, job: Job, digest: str | None = None) -> tuple[JobRow, bool]:
        """Record a validated job. Returns the row and whether it is new. The same id with the
        same content (``digest``: the fingerprint of the job as sent) returns the existing
        row; with other content raises :class:`JobConflict`."""
        digest = digest or fingerprint(job)
        with self.session() as s:
            existing = s.get(JobRow, job.id)
            if existing is None:
                at = now()
                row = JobRow(
                    id=job.id,
                    content_sha256=digest,
                    payload=job.model_dump(mode="json"),
                    kind=job.kind,
                    reference=case_reference.compact(job.reference),
                    letter_id=letter_ids.calc(job.id),
                    status=JobStatus.ACCEPTED,
                    accepted_at=at,
                    updated_at=at,
                )
                s.add(row)
                s.add(EventRow(job_id=job.id, at=at, event="accepted", detail=None))
                try:
                    s.flush()
                except IntegrityError:
                    s.rollback()
                    return self._existing(job.id, digest), False
                return row, True
        return self._existing(job.id, digest), False

    def _existing(self, job_id: str, digest: str) -> JobRow:
        row = self.job(job_id)
        if row is None:  # pragma: no cover - only after a concurrent delete
            raise JobConflict(f"job {job_id} vanished")
        if row.content_sha256 != digest:
            raise JobConflict(
                f"job {job_id} was already accepted with different content; "
                "send a new job id for a changed letter"
            )
        return row

    def job(self, job_id: str) -> JobRow | None:
        with self.session() as s:
            return s.get(JobRow, job_id)

    def statuses(self, job_ids: list[str]) -> dict[str, JobStatus]:
        """The status of each of ``job_ids`` (read in chunks)."""
        out: dict[str, JobStatus] = {}
        with self.session() as s:
            for i in range(0, len(job_ids), 500):
                chunk = job_ids[i : i + 500]
                rows = s.execute(select(JobRow.id, JobRow.status).where(JobRow.id.in_(chunk)))
                out.update({job_id: status for job_id, status in rows})
        return out

    def set_status(
        self,
        job_id: str,
        status: JobStatus,
        event_name: str,
        detail: str | None = None,
        error_class: str | None = None,
        allowed_from: tuple[JobStatus, ...] = UNFINISHED,
        code: str | None = None,
    ) -> bool:
        """Move a job to ``status`` if it is in one of ``allowed_from`` (never out of a final
        status: a late duplicate cannot turn ``delivered`` into ``failed``). True if moved.

        A job moved to ``failed`` keeps ``detail`` as its reason, ``error_class`` and
        ``code``, the failure's stable code (a :class:`letters.codes.Code`), if it has one."""
        at = now()
        with self.session() as s:
            values: dict[str, Any] = {"status": status, "updated_at": at}
            if status == JobStatus.FAILED:
                error_code = None if code is None else str(code)[:64]
                values |= {"error_class": error_class, "error_code": error_code, "error": detail}
            moved = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(allowed_from))
                .values(**values)
            )
            if not getattr(moved, "rowcount", 0):
                return False
            s.add(EventRow(job_id=job_id, at=at, event=event_name, detail=detail))
        return True

    def note_waiting(self, job_id: str, code: str, detail: str) -> bool:
        """A job in progress waits for a fault outside it to pass (a full archive): its last
        error says so (``code`` and ``detail``; cleared when it is delivered), and its history
        once for each new code. Its status stays. True if noted now."""
        at = now()
        with self.session() as s:
            moved = s.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status.in_(IN_PROGRESS),
                    JobRow.error_code.is_(None) | (JobRow.error_code != str(code)),
                )
                .values(error_class="waiting", error_code=str(code)[:64], error=detail)
            )
            if not getattr(moved, "rowcount", 0):
                return False
            s.add(EventRow(job_id=job_id, at=at, event="waiting", detail=f"{detail} [{code}]"))
        return True

    def stage(self, job_id: str) -> Stage:
        """What a pipeline stage needs to decide, read in one transaction: the job, its
        letter, the active hold on its case and the letter's delivery attempts."""
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                return Stage(None, None, None, [])
            letter = letter_of(s, job_id)
            hold = standing_reason(s, case_reference.compact(job.reference))
            tries = [] if letter is None else attempts(s, letter.id)
            return Stage(job, letter, hold, tries)

    # --- delivery -----------------------------------------------------------------------

    def claim_delivery(
        self,
        job_id: str,
        event: tuple[str, str] | None = None,
        at: dt.datetime | None = None,
    ) -> bool:
        """Take a rendered job for delivery; False if another worker has it or it is done.
        ``event`` (name, detail) is recorded with the claim, in the same transaction, unless
        the job's history already tells it (a claim given back after an outage). ``at``
        (now by default) is the claim's instant, which :meth:`withdraw_claim` knows it by."""
        with self.session() as s:
            at = at or now()
            claimed = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.RENDERED)
                .values(status=JobStatus.DELIVERING, updated_at=at)
            )
            if not getattr(claimed, "rowcount", 0):
                return False
            if event is not None and not s.scalar(  # told once, however often it is claimed
                select(EventRow.id).where(
                    EventRow.job_id == job_id,
                    EventRow.event == event[0],
                    EventRow.detail == event[1],
                )
            ):
                s.add(EventRow(job_id=job_id, at=at, event=event[0], detail=event[1]))
            return True

    def release_delivery(self, job_id: str) -> None:
        """Give a claimed job back (a transient failure: a retry will claim it again)."""
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.DELIVERING)
                .values(status=JobStatus.RENDERED, updated_at=now())
            )

    def withdraw_claim(self, job_id: str, at: dt.datetime) -> bool:
        """Take back the claim made at ``at`` whose commit the worker never heard about (the
        ledger went away): the job is rendered again and the claim's event is gone, as if
        it had not been made. Nothing changes if that claim never landed, or the job has
        moved on since (another worker's claim has an instant of its own). True if a claim
        was taken back."""
        with self.session() as s:
            moved = s.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status == JobStatus.DELIVERING,
                    JobRow.updated_at == at,
                )
                .values(status=JobStatus.RENDERED, updated_at=now())
            )
            if not getattr(moved, "rowcount", 0):
                return False
            s.execute(delete(EventRow).where(EventRow.job_id == job_id, EventRow.at == at))
        return True

    def finish_delivery(
        self, job_id: str, attempt: AttemptRow, detail: str, intent: int | None = None
    ) -> None:
        """Record the delivered attempt (the outcome of the attempt ``intent``, when one was
        begun) and the job's new status in one transaction. A job found ``uncertain`` (a
        slow send outlived its claim) is delivered too: now it is known."""
        at = now()
        with self.session() as s:
            if intent is not None:
                attempt.id = intent
                s.merge(attempt)
            else:
                s.add(attempt)
            moved = s.execute(
                update(JobRow)
                .where(
                    JobRow.id == job_id,
                    JobRow.status.in_((*UNFINISHED, JobStatus.UNCERTAIN)),
                )
                .values(
                    status=JobStatus.DELIVERED,
                    updated_at=at,
                    error_class=None,
                    error_code=None,
                    error=None,
                )
            )
            if getattr(moved, "rowcount", 0):  # written again after a lost commit: once
                s.add(EventRow(job_id=job_id, at=at, event="delivered", detail=detail))

    # --- the sweeper --------------------------------------------------------------------

    def touch(self, job_ids: list[str]) -> None:
        """Mark jobs as in progress now (not stale for the sweeper)."""
        with self.session() as s:
            s.execute(update(JobRow).where(JobRow.id.in_(job_ids)).values(updated_at=now()))

    def stale(self, older_than: dt.timedelta, limit: int = 1000) -> list[str]:
        """Jobs not yet finished and not held whose last progress is older than ``older_than``."""
        cutoff = now() - older_than
        with self.session() as s:
            rows = s.scalars(
                select(JobRow.id)
                .where(JobRow.status.in_(IN_PROGRESS), JobRow.updated_at < cutoff)
                .order_by(JobRow.updated_at)
                .limit(limit)
            )
            return list(rows)

    def claim_unqueued(
        self, before: dt.datetime, since: dt.datetime | None = None, limit: int = 1000
    ) -> list[str]:
        """After the broker lost messages: jobs waiting for a render or a delivery
        (``accepted``, ``rendered``) last touched before ``before`` (and, given ``since``, not
        before it: what moved while the broker was away), each claimed by exactly one caller
        (``updated_at`` moves on). A job being delivered is left to its worker (or, if that
        worker is gone, to :meth:`claim_stale`): taking it back could send it twice."""
        waiting = (JobStatus.ACCEPTED, JobStatus.RENDERED)
        at = max(now(), before)  # never claimed again with the same ``before``
        claimed: list[str] = []
        window = [JobRow.status.in_(waiting), JobRow.updated_at < before]
        if since is not None:
            window.append(JobRow.updated_at >= since)
        with self.session() as s:
            candidates = list(
                s.scalars(select(JobRow.id).where(*window).order_by(JobRow.updated_at).limit(limit))
            )
        for job_id in candidates:
            with self.session() as s:
                moved = s.execute(
                    update(JobRow).where(JobRow.id == job_id, *window).values(updated_at=at)
                )
                if getattr(moved, "rowcount", 0):
                    claimed.append(job_id)
        return claimed

    def claim_stale(self, older_than: dt.timedelta, limit: int = 1000) -> list[str]:
        """Stale jobs, each claimed by exactly one sweeper (its ``updated_at`` moves on in the
        same statement); a delivery that died midway goes back to ``rendered``. Jobs held
        with no active hold left (a release that crossed a hold) are resumed too."""
        cutoff = now() - older_than
        at = now()
        claimed: list[str] = []
        for job_id in self.stale(older_than, limit):
            with self.session() as s:
                row = s.execute(
                    update(JobRow)
                    .where(
                        JobRow.id == job_id,
                        JobRow.updated_at < cutoff,
                        JobRow.status.in_(IN_PROGRESS),
                    )
                    .values(updated_at=at)
                    .returning(JobRow.status)
                ).first()
                if row is None:
                    continue
                if row[0] == JobStatus.DELIVERING:
                    s.execute(
                        update(JobRow).where(JobRow.id == job_id).values(status=JobStatus.RENDERED)
                    )
                claimed.append(job_id)
        with self.session() as s:
            orphans = [
                (job_id, letter_of(s, job_id) is not None)
                for job_id in s.scalars(
                    select(JobRow.id).where(
                        JobRow.status == JobStatus.HELD,
                        JobRow.updated_at < cutoff,
                        ~select(HoldRow.id)
                        .where(HoldRow.reference == JobRow.reference, HoldRow.released_at.is_(None))
                        .exists(),
                    )
                ).all()
            ]
        for job_id, rendered in orphans:
            resumed = JobStatus.RENDERED if rendered else JobStatus.ACCEPTED
            if self.set_status(
                job_id,
                resumed,
                "resumed",
                "held with no active hold",
                allowed_from=(JobStatus.HELD,),
            ):
                claimed.append(job_id)
        return claimed
