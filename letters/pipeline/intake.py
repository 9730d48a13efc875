"""Taking jobs in: validate, commit to the ledger, then enqueue (in that order, so a lost
message never loses a job: the sweeper finds it in the ledger)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from letters.clock import today_oslo
from letters.job import FieldError, Job, JobRejected, fingerprint_document, parse
from letters.ledger import JobStatus
from letters.pipeline.runtime import Runtime, get_runtime

log = logging.getLogger(__name__)


def not_today(letter_date: dt.date, runtime: Runtime) -> str | None:
    """Why a letter with this date may not be sent today, or None. The deadline counts from
    the letter date, so a letter sent after its date gives the debtor less than the 14 days
    it promises; and the rules (a claim overdue, a fee 14 days after the due date) were
    checked against the letter date, so a letter sent before its date may break them."""
    today = today_oslo(runtime.settings)
    if letter_date == today:
        return None
    if letter_date < today:
        return (
            f"{letter_date.isoformat()} is before today ({today.isoformat()}): sent now, the "
            "letter would give the debtor less time than it states; date it today (omit "
            "letter_date for today)"
        )
    return (
        f"{letter_date.isoformat()} is after today ({today.isoformat()}): the rules were "
        "checked for that day; submit the job on its letter date"
    )


def _document(job: Job | dict[str, Any] | str | bytes) -> Any:
    if isinstance(job, Job):
        return job.model_dump(mode="json", exclude_unset=True)
    if isinstance(job, str | bytes):
        try:
            return json.loads(job)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise JobRejected(
                [FieldError(field="(job)", reason=f"not valid JSON: {exc}")]
            ) from None
    return job


def _not_backdated(job: Job, runtime: Runtime) -> None:
    reason = not_today(job.letter_date, runtime)
    if reason:
        raise JobRejected([FieldError(field="letter_date", reason=reason)], job.id)


def submit(job: Job | dict[str, Any] | str | bytes, runtime: Runtime | None = None) -> str:
    """Accept one job and return its letter id.

    Raises :class:`letters.job.JobRejected` (with field errors) for a bad job and
    :class:`letters.ledger.JobConflict` when the id is known with other content.
    Submitting the same job again returns the same letter id and changes nothing.
    """
    from letters.pipeline.actors import render_letter

    rt = runtime or get_runtime()
    document = _document(job)
    digest = fingerprint_document(document)  # the job as sent, before defaults
    if isinstance(document, dict) and "letter_date" not in document:
        document = {**document, "letter_date": today_oslo(rt.settings).isoformat()}
    valid = parse(document)
    _not_backdated(valid, rt)
    row, created = rt.ledger.accept(valid, digest)
    if created:
        render_letter.send(valid.id)
    return row.letter_id


def submit_counted(job: Job | dict[str, Any] | str | bytes, runtime: Runtime | None = None) -> str:
    """:func:`submit`, counted in the intake metrics."""
    from letters import metrics
    from letters.job import JobRejected
    from letters.ledger import JobConflict

    try:
        letter_id = submit(job, runtime)
    except (JobRejected, JobConflict):
        metrics.JOBS_REFUSED.inc()
        raise
    metrics.JOBS_ACCEPTED.inc()
    return letter_id


def release(reference: str, reason: str, runtime: Runtime | None = None) -> list[str]:
    """Release the holds on a case and let its held jobs continue."""
    from letters.pipeline.actors import render_letter

    rt = runtime or get_runtime()
    held = rt.ledger.release_hold(reference, reason)
    for job_id in held:
        status = JobStatus.RENDERED if rt.ledger.letter_for_job(job_id) else JobStatus.ACCEPTED
        rt.ledger.set_status(job_id, status, "resumed", allowed_from=(JobStatus.HELD,))
        render_letter.send(job_id)
    return held


def sweep(older_than: dt.timedelta | None = None, runtime: Runtime | None = None) -> list[str]:
    """Enqueue again every unfinished job with no progress for ``older_than``: what survives a
    broker that lost its queue. Held jobs wait for their release instead."""
    from letters.pipeline.actors import render_letter

    rt = runtime or get_runtime()
    age = older_than or dt.timedelta(seconds=rt.settings.stale_after_seconds)
    stale = rt.ledger.claim_stale(age)
    if stale:
        for job_id in stale:
            render_letter.send(job_id)
        log.info("sweeper re-enqueued %d job(s)", len(stale))
    return stale


__all__ = ["release", "submit", "sweep"]
