"""Retention in the ledger: which cases are due (:func:`plan`) and removing their personal
data while keeping the evidence (:func:`apply`), in one transaction with its audit line.

A case is **due** when its jobs are all finished (delivered or failed), no hold stands on
it, none of its letters waits in a print batch not yet written, it still has a job not
purged, and either

- it was **closed** (:mod:`letters.ledger.cases`) and both the closure and its last
  activity (the newest step in its jobs' histories, a hold placed or released) are older
  than the cut-off: a letter sent after the closure keeps the case for the whole period
  again; or
- nobody closed it and its last activity is older than the cut-off less the idle grace.

A case closed long enough but not finished (a job held, uncertain or still on its way, a
hold standing) **waits** and is listed as such.

Purging a job replaces the debtor's name, national id or organisation number, e-mail and
address lines, and the free text of its claims (descriptions, fee labels), by
:data:`PURGED` in the stored job; the same strings are scrubbed from the job's error, its
history and its letter's delivery attempts (an SMTP refusal may quote the address); a
login try on the case keeps its time and answer, not its source address. Kept: ids, the
job's fingerprint and the PDF's sha256, KID, reference, dates, amounts, statuses, template
and rule versions, every attempt's channel, status and time, holds and the audit log. The
letter and the job are marked ``purged_at`` in the same transaction: no row ever claims a
PDF that the archive no longer has without saying so (the files go after the commit,
:mod:`letters.retention`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from letters.clock import now
from letters.ledger.audit import record as audit_record
from letters.ledger.models import (
    AttemptRow,
    CaseClosureRow,
    EventRow,
    HoldRow,
    JobRow,
    LetterRow,
    LoginAttemptRow,
    PrintBatchLetterRow,
    PrintBatchRow,
)
from letters.ledger.redaction import personal_strings, redacted, scrub
from letters.ledger.states import FINAL, BatchStatus
from letters.wording import counted

_CHUNK = 500


@dataclass(frozen=True)
class DueCase:
    """A case whose personal data goes: closed (by whom, when) or idle since ``since``."""

    reference: str
    why: str  # closed | idle
    since: dt.datetime
    closed_by: str | None
    jobs: tuple[str, ...]
    letters: tuple[str, ...]


@dataclass(frozen=True)
class WaitingCase:
    """A case closed long enough whose personal data must still stay, and why."""

    reference: str
    why: str


@dataclass(frozen=True)
class Plan:
    """What a purge removes: the due cases and the print batches left with purged letters
    only (their folders go); and the cases that wait."""

    closed_before: dt.datetime
    idle_before: dt.datetime | None
    cases: list[DueCase] = field(default_factory=list)
    waiting: list[WaitingCase] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return sum(len(c.jobs) for c in self.cases)

    @property
    def letters(self) -> int:
        return sum(len(c.letters) for c in self.cases)


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _latest(values: Iterable[dt.datetime | None]) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _activity(s: Session, refs: Sequence[str]) -> dict[str, dt.datetime]:
    """The last activity of each case: its jobs' newest update or history step, or the
    newest hold placed or released on it."""
    found: dict[str, list[dt.datetime | None]] = {}
    for chunk in _chunks(refs):
        queries = (
            select(JobRow.reference, func.max(JobRow.updated_at))
            .where(JobRow.reference.in_(chunk))
            .group_by(JobRow.reference),
            select(JobRow.reference, func.max(EventRow.at))
            .join(EventRow, EventRow.job_id == JobRow.id)
            .where(JobRow.reference.in_(chunk))
            .group_by(JobRow.reference),
            select(HoldRow.reference, func.max(HoldRow.placed_at))
            .where(HoldRow.reference.in_(chunk))
            .group_by(HoldRow.reference),
            select(HoldRow.reference, func.max(HoldRow.released_at))
            .where(HoldRow.reference.in_(chunk))
            .group_by(HoldRow.reference),
        )
        for query in queries:
            for ref, at in s.execute(query):
                found.setdefault(ref, []).append(at)
    return {ref: at for ref, ats in found.items() if (at := _latest(ats)) is not None}


def plan(
    s: Session,
    closed_before: dt.datetime,
    idle_before: dt.datetime | None,
    *,
    handed_off_only: bool,
) -> Plan:
    """The cases due for purging and the print batches whose folders go with them. With
    ``handed_off_only`` (a hand-off is configured) a batch folder goes only once it was
    handed to the vendor."""
    result = Plan(closed_before, idle_before)
    # every case with a job not yet purged: how many, how many unfinished
    cases = {
        ref: (n, unfinished)
        for ref, n, unfinished in s.execute(
            select(
                JobRow.reference,
                func.count(),
                func.count().filter(JobRow.status.not_in(tuple(FINAL))),
            )
            .where(JobRow.purged_at.is_(None))
            .group_by(JobRow.reference)
        )
    }
    closures = {
        row.reference: row
        for row in s.scalars(
            select(CaseClosureRow)
            .where(CaseClosureRow.reopened_at.is_(None), CaseClosureRow.closed_at < closed_before)
            .order_by(CaseClosureRow.id.desc())
        )
        if row.reference in cases
    }
    standing = set(
        s.scalars(select(CaseClosureRow.reference).where(CaseClosureRow.reopened_at.is_(None)))
    )
    candidates = sorted(
        ref for ref in cases if ref in closures or (idle_before is not None and ref not in standing)
    )
    activity = _activity(s, candidates)
    held = set()
    unwritten = set()
    for chunk in _chunks(candidates):
        held |= set(
            s.scalars(
                select(HoldRow.reference).where(
                    HoldRow.reference.in_(chunk), HoldRow.released_at.is_(None)
                )
            )
        )
        unwritten |= set(
            s.scalars(
                select(LetterRow.reference)
                .join(PrintBatchLetterRow, PrintBatchLetterRow.letter_id == LetterRow.id)
                .join(PrintBatchRow, PrintBatchRow.id == PrintBatchLetterRow.batch_id)
                .where(
                    LetterRow.reference.in_(chunk),
                    PrintBatchRow.status.in_((BatchStatus.OPEN, BatchStatus.CLOSING)),
                )
            )
        )
    due: list[tuple[str, str, dt.datetime, str | None]] = []
    for ref in candidates:
        last = activity.get(ref)
        closure = closures.get(ref)
        if closure is not None:
            since = _latest((closure.closed_at, last))
            if since is None or since >= closed_before:
                continue  # a letter after the closure: the period runs from it
            why, by = "closed", closure.closed_by
        else:
            if idle_before is None or last is None or last >= idle_before:
                continue
            since, why, by = last, "idle", None
        unfinished = cases[ref][1]
        if unfinished or ref in held or ref in unwritten:
            reason = (
                f"{counted(unfinished, 'job')} not finished (held, uncertain or on their way)"
                if unfinished
                else "a hold stands on the case"
                if ref in held
                else "a letter waits in a print batch not yet written"
            )
            result.waiting.append(WaitingCase(ref, reason))
            continue
        due.append((ref, why, since, by))
    for chunk in _chunks([d[0] for d in due]):
        jobs: dict[str, list[str]] = {}
        letters: dict[str, list[str]] = {}
        for ref, job_id in s.execute(
            select(JobRow.reference, JobRow.id)
            .where(JobRow.reference.in_(chunk), JobRow.purged_at.is_(None))
            .order_by(JobRow.id)
        ):
            jobs.setdefault(ref, []).append(job_id)
        for ref, letter_id in s.execute(
            select(LetterRow.reference, LetterRow.id)
            .join(JobRow, JobRow.id == LetterRow.job_id)
            .where(LetterRow.reference.in_(chunk), JobRow.purged_at.is_(None))
            .order_by(LetterRow.id)
        ):
            letters.setdefault(ref, []).append(letter_id)
        for ref, why, since, by in (d for d in due if d[0] in set(chunk)):
            result.cases.append(
                DueCase(ref, why, since, by, tuple(jobs.get(ref, ())), tuple(letters.get(ref, ())))
            )
    result.batches.extend(_batches_left_purged(s, result, handed_off_only))
    return result


def _batches_left_purged(s: Session, due: Plan, handed_off_only: bool) -> list[str]:
    """Print batches, written and not yet purged, every letter of which is purged or due."""
    statuses: tuple[BatchStatus, ...] = (BatchStatus.HANDED_OFF,)
    if not handed_off_only:  # the vendor reads the folder itself
        statuses = (BatchStatus.CLOSED, BatchStatus.HANDED_OFF)
    remaining = {
        batch: n
        for batch, n in s.execute(
            select(PrintBatchLetterRow.batch_id, func.count())
            .join(LetterRow, LetterRow.id == PrintBatchLetterRow.letter_id)
            .join(PrintBatchRow, PrintBatchRow.id == PrintBatchLetterRow.batch_id)
            .where(
                LetterRow.purged_at.is_(None),
                PrintBatchRow.purged_at.is_(None),
                PrintBatchRow.status.in_(statuses),
            )
            .group_by(PrintBatchLetterRow.batch_id)
        )
    }
    going: dict[str, int] = {}
    due_letters = [letter for case in due.cases for letter in case.letters]
    for chunk in _chunks(due_letters):
        for batch, n in s.execute(
            select(PrintBatchLetterRow.batch_id, func.count())
            .where(PrintBatchLetterRow.letter_id.in_(chunk))
            .group_by(PrintBatchLetterRow.batch_id)
        ):
            going[batch] = going.get(batch, 0) + n
    emptied = {batch for batch, n in remaining.items() if going.get(batch, 0) >= n}
    # and batches whose letters were all purged before their folder could go (a hand-off
    # that came later)
    emptied |= set(
        s.scalars(
            select(PrintBatchRow.id).where(
                PrintBatchRow.purged_at.is_(None),
                PrintBatchRow.status.in_(statuses),
                PrintBatchRow.folder.is_not(None),
                select(PrintBatchLetterRow.letter_id)
                .where(PrintBatchLetterRow.batch_id == PrintBatchRow.id)
                .exists(),
                ~select(PrintBatchLetterRow.letter_id)
                .join(LetterRow, LetterRow.id == PrintBatchLetterRow.letter_id)
                .where(
                    PrintBatchLetterRow.batch_id == PrintBatchRow.id,
                    LetterRow.purged_at.is_(None),
                )
                .exists(),
            )
        )
    )
    return sorted(emptied)


@dataclass(frozen=True)
class Purged:
    """What one purge recorded in the ledger."""

    cases: int
    jobs: int
    letters: int
    batches: list[str]


def apply(s: Session, due: Plan, by: str, reason: str, days: int) -> Purged:
    """Remove the personal data of the cases in ``due`` and mark their jobs and letters,
    and the batches whose folders go, as purged; one audit line for the run. In the
    session's transaction: all of it, or (on any failure) none."""
    at = now()
    note = f"personal data and PDF removed (retention {days} days) by {by}: {reason}"
    job_ids = [j for case in due.cases for j in case.jobs]
    for chunk in _chunks(job_ids):
        for job in s.scalars(select(JobRow).where(JobRow.id.in_(chunk))):
            strings = personal_strings(job.payload)
            job.payload = redacted(job.payload)
            job.error = scrub(job.error, strings)
            job.purged_at = at
            for event in s.scalars(select(EventRow).where(EventRow.job_id == job.id)):
                if event.detail:
                    event.detail = scrub(event.detail, strings)
            s.add(EventRow(job_id=job.id, at=at, event="purged", detail=note))
            letter = s.scalar(select(LetterRow).where(LetterRow.job_id == job.id))
            if letter is None:
                continue
            letter.purged_at = at
            for attempt in s.scalars(select(AttemptRow).where(AttemptRow.letter_id == letter.id)):
                attempt.receipt = scrub(attempt.receipt, strings)
                attempt.error = scrub(attempt.error, strings)
    refs = [case.reference for case in due.cases]
    for chunk in _chunks(refs):
        s.execute(
            update(LoginAttemptRow).where(LoginAttemptRow.reference.in_(chunk)).values(source=None)
        )
    for chunk in _chunks(due.batches):
        s.execute(update(PrintBatchRow).where(PrintBatchRow.id.in_(chunk)).values(purged_at=at))
    done = Purged(len(due.cases), len(job_ids), due.letters, list(due.batches))
    if done.cases or done.batches:
        idle = f", idle before {due.idle_before.date().isoformat()}" if due.idle_before else ""
        audit_record(
            s,
            by,
            "purge",
            "retention",
            f"closed before {due.closed_before.date().isoformat()}",
            f"{counted(done.cases, 'case')}, {counted(done.jobs, 'job')}, "
            f"{counted(done.letters, 'letter')}, "
            f"{counted(len(done.batches), 'print batch folder')}; retention {days} days{idle}: "
            f"{reason}",
            at=at,
        )
    return done


def purged_files(s: Session) -> tuple[list[str], list[str]]:
    """What the ledger says is purged and whose files may still lie about (an earlier
    purge interrupted after its commit): the sha256 of every purged letter no letter still
    kept shares, and the folder of every purged print batch."""
    kept = select(LetterRow.pdf_sha256).where(LetterRow.purged_at.is_(None))
    digests = s.scalars(
        select(LetterRow.pdf_sha256)
        .where(LetterRow.purged_at.is_not(None), LetterRow.pdf_sha256.not_in(kept))
        .distinct()
    )
    folders = s.scalars(
        select(PrintBatchRow.folder).where(
            PrintBatchRow.purged_at.is_not(None), PrintBatchRow.folder.is_not(None)
        )
    )
    return sorted(digests), sorted(f for f in folders if f)


def due_files(s: Session, due: Plan) -> tuple[list[str], list[str]]:
    """The sha256 of the due letters' PDFs and the folders of the batches that go."""
    letters = [letter for case in due.cases for letter in case.letters]
    digests: set[str] = set()
    for chunk in _chunks(letters):
        digests |= set(s.scalars(select(LetterRow.pdf_sha256).where(LetterRow.id.in_(chunk))))
    folders: list[str] = []
    for chunk in _chunks(due.batches):
        rows = s.scalars(select(PrintBatchRow.folder).where(PrintBatchRow.id.in_(chunk)))
        folders += [f for f in rows if f]
    return sorted(digests), sorted(folders)
