"""Taking jobs in: validate, commit to the ledger, then enqueue (in that order, so a lost
message never loses a job: the sweeper finds it in the ledger)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from letters import rules
from letters.clock import today_oslo
from letters.codes import Code
from letters.job import Job, JobRejected, fingerprint_document
from letters.ledger import JobStatus
from letters.pipeline.runtime import Runtime, get_runtime
from letters.validation import parse
from letters.workbench import approval

log = logging.getLogger(__name__)


def _document(job: Job | dict[str, Any] | str | bytes) -> Any:
    if isinstance(job, Job):
        return job.model_dump(mode="json", exclude_unset=True)
    if isinstance(job, str | bytes):
        try:
            return json.loads(job)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise JobRejected.one("(job)", Code.NOT_JSON, f"not valid JSON: {exc}") from None
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
    rt.refresh_rules()  # the rule tables approved and in force today
    valid = parse(document)
    _dated_today(valid, rt)
    _template_approved(valid, rt)
    row, created = rt.ledger.accept(valid, digest)
    if created:
        render_letter.send(valid.id)
    return row.letter_id


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
