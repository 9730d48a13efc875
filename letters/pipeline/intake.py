"""Taking jobs in: validate, commit to the ledger, then enqueue (in that order, so a lost
message never loses a job: the sweeper finds it in the ledger)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from letters.job import FieldError, Job, JobRejected, parse, today_oslo
from letters.ledger import HELD, RENDERED
from letters.pipeline.runtime import Runtime, get_runtime

log = logging.getLogger(__name__)


def backdated(letter_date: dt.date, runtime: Runtime) -> str | None:
    """Why a letter with this date may not be sent today, or None. The deadline counts from
    the letter date, so a letter sent after its date would give the debtor less than the
    14 days it promises."""
    today = today_oslo(runtime.settings)
    if letter_date >= today:
        return None
    return (
        f"{letter_date.isoformat()} is before today ({today.isoformat()}): sent now, the "
        "letter would give the debtor less time than it states; date it today or later "
        "(omit letter_date for today)"
    )


def _not_backdated(job: Job, runtime: Runtime) -> None:
    reason = backdated(job.letter_date, runtime)
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
    valid = parse(job)
    _not_backdated(valid, rt)
    row, created = rt.ledger.accept(valid)
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
        status = RENDERED if rt.ledger.letter_for_job(job_id) else "accepted"
        rt.ledger.set_status(job_id, status, "resumed")
        render_letter.send(job_id)
    return held


def sweep(older_than: dt.timedelta | None = None, runtime: Runtime | None = None) -> list[str]:
    """Enqueue again every unfinished job with no progress for ``older_than``: what survives a
    broker that lost its queue. Held jobs wait for their release instead."""
    from letters.pipeline.actors import render_letter

    rt = runtime or get_runtime()
    age = older_than or dt.timedelta(seconds=rt.settings.stale_after_seconds)
    stale = [j for j in rt.ledger.stale(age) if j]
    if stale:
        rt.ledger.touch(stale)
        for job_id in stale:
            render_letter.send(job_id)
        log.info("sweeper re-enqueued %d job(s)", len(stale))
    return stale


__all__ = ["HELD", "release", "submit", "sweep"]
