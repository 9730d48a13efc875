"""Taking jobs in: validate, commit to the ledger, then enqueue (in that order, so a lost
message never loses a job: the sweeper finds it in the ledger)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from letters import documents, rules
from letters.clock import today_oslo
from letters.codes import Code
from letters.job import Job, JobRejected, fingerprint_document
from letters.ledger import JobStatus
from letters.pipeline.runtime import Runtime, get_runtime
from letters.validation import parse
from letters.wording import counted
from letters.workbench import approval

log = logging.getLogger(__name__)


class BrokerUnreachable(Exception):
    """The job was accepted and committed to the ledger, but its message could not be put on
    the broker: nothing is lost, the sweeper of a running worker queues it once the broker is
    back (``stale_after_seconds``). Callers report it as accepted, with this note."""

    def __init__(self, job_id: str, letter_id: str, cause: Exception) -> None:
        self.job_id, self.letter_id = job_id, letter_id
        super().__init__(
            f"job {job_id} is accepted and kept in the ledger, but the broker is unreachable "
            f"({type(cause).__name__}): the sweeper queues it when the broker is back"
        )


#: An unreachable broker is logged at most this often (with the count), not once per job.
BROKER_WARNING_SECONDS = 60.0
_warned_at = -BROKER_WARNING_SECONDS
_unqueued_since_warning = 0


def _send(job_id: str, letter_id: str = "") -> None:
    """Queue the job's next stage; a broker that cannot be reached raises
    :class:`BrokerUnreachable` (the job is committed: the sweeper will find it)."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from letters.pipeline.actors import render_letter

    global _unqueued_since_warning, _warned_at
    try:
        render_letter.send(job_id)
    except (RedisConnectionError, RedisTimeoutError, ConnectionError, TimeoutError) as exc:
        _unqueued_since_warning += 1
        if time.monotonic() - _warned_at >= BROKER_WARNING_SECONDS:  # once a minute, counted
            log.warning(
                "%s accepted but not queued, the last %s: the broker is unreachable "
                "(%s); the sweeper queues them when the broker is back [broker-unreachable]",
                counted(_unqueued_since_warning, "job"),
                job_id,
                type(exc).__name__,
            )
            _warned_at, _unqueued_since_warning = time.monotonic(), 0
        raise BrokerUnreachable(job_id, letter_id, exc) from None


def _document(job: Job | dict[str, Any] | str | bytes) -> Any:
    if isinstance(job, Job):
        return job.model_dump(mode="json", exclude_unset=True)
    if isinstance(job, str | bytes):
        return documents.loads(job)
    return job


def _dated_today(job: Job, runtime: Runtime) -> None:
    problem = rules.letter_date_problem(job.letter_date, today_oslo(runtime.settings))
    if problem:
        raise JobRejected([problem], job.id)


def _template_approved(job: Job, runtime: Runtime) -> None:
    """A job is accepted only when its letter can be made: an approved version of its
    template is in force on its date (refused before anything is stored)."""
    if not approval.template_approved(
        runtime.ledger, runtime.settings, job.kind, job.language, job.letter_date
    ):
        raise JobRejected.one(
            "kind",
            Code.TEMPLATE_NOT_APPROVED,
            f"no approved version of the template {job.kind}.{job.language} is in force on "
            f"{job.letter_date.isoformat()}: compliance must approve one first",
            job.id,
        )


@dataclass(frozen=True)
class Taken:
    """What intake did with a job: its letter id, and whether it is new (False: the same
    job was accepted before, by this or a parallel submission)."""

    letter_id: str
    created: bool


def submit(job: Job | dict[str, Any] | str | bytes, runtime: Runtime | None = None) -> str:
    """Accept one job and return its letter id (see :func:`take`)."""
    return take(job, runtime).letter_id


def take(job: Job | dict[str, Any] | str | bytes, runtime: Runtime | None = None) -> Taken:
    """Accept one job.

    Raises :class:`letters.job.JobRejected` (with field errors) for a bad job,
    :class:`letters.ledger.JobConflict` when the id is known with other content, and
    :class:`BrokerUnreachable` when the job was committed but could not be queued.
    Submitting the same job again returns the same letter id and changes nothing.
    """
    rt = runtime or get_runtime()
    document = _document(job)
    digest = fingerprint_document(document)  # the job as sent, before defaults
    if isinstance(document, dict) and "letter_date" not in document:
        document = {**document, "letter_date": today_oslo(rt.settings).isoformat()}
    rt.refresh_rules()  # the rule tables approved and in force today
    valid = parse(document)
    _dated_today(valid, rt)
    _template_approved(valid, rt)
    row, created = rt.ledger.accept(valid, digest)
    if created:
        _send(valid.id, row.letter_id)
    return Taken(row.letter_id, created)


def release(
    reference: str, reason: str, runtime: Runtime | None = None, *, by: str = "unnamed"
) -> list[str]:
    """Release the holds on a case on the word of ``by`` (audited) and let its held jobs
    continue (with the broker down, the sweeper queues them when it is back)."""
    rt = runtime or get_runtime()
    held = rt.ledger.release_hold(reference, reason, by=by)
    for job_id in held:
        status = JobStatus.RENDERED if rt.ledger.letter_for_job(job_id) else JobStatus.ACCEPTED
        rt.ledger.set_status(job_id, status, "resumed", allowed_from=(JobStatus.HELD,))
        with contextlib.suppress(BrokerUnreachable):  # logged; the sweeper resumes it
            _send(job_id)
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
        log.info("sweeper re-enqueued %s", counted(len(stale), "job"))
    return stale


def requeue_lost(
    before: dt.datetime, since: dt.datetime | None = None, runtime: Runtime | None = None
) -> int:
    """Enqueue again every job waiting for a render or a delivery, last moved before
    ``before``: the broker lost its queues (a Redis restarted empty); with ``since``, only
    what moved from then on (the broker was away: what could not be queued meanwhile). Each
    job is claimed once (by one sweeper); a job being delivered is left to its worker.
    Returns how many were queued."""
    from letters.pipeline.actors import render_letter

    rt = runtime or get_runtime()
    queued = 0
    while batch := rt.ledger.claim_unqueued(before, since):
        for job_id in batch:
            render_letter.send(job_id)  # renders, or hands a rendered letter on to delivery
        queued += len(batch)
    return queued


__all__ = ["BrokerUnreachable", "Taken", "release", "requeue_lost", "submit", "sweep", "take"]
