"""The pipeline's stages as Dramatiq actors. Each takes a job id only.

- ``render_letter``: make the job's letter (once: the ledger allows one letter per job),
  archive the PDF, record the letter with its password hash, then hand on to delivery.
- ``deliver_letter``: hand the archived letter to its channel and record the attempt: its
  intent first (committed on its own), then its outcome. An intent found unsettled means a
  worker stopped mid-send: a channel that reconciles is tried again; one that cannot be
  asked (e-mail) leaves the job ``uncertain`` ("may have been sent"), never re-sent blind.

A hold on the case stops both before anything reaches a channel. Permanent problems (a job
the rules now refuse, a letter failing the print-safety check, a channel refusing for good)
are not retried; transient ones are, with backoff; either way a give-up lands in the ledger.
The ledger unreachable or the archive full is neither: a stage that meets one waits it out
(:mod:`letters.pipeline.faults`), and the outcome of a send made meanwhile is written once
the ledger is back, never lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import dramatiq

from channels import registry
from channels.base import (
    Channel,
    Outgoing,
    PaymentDetails,
    PermanentError,
    PostalAddress,
    Receipt,
    RetriableError,
    UncertainError,
)
from letters import metrics, rules
from letters.clock import today_oslo
from letters.codes import Code
from letters.compose import amount_due, next_payment
from letters.config import get_settings
from letters.credentials import expiry_instant
from letters.job import FieldError, Job, JobRejected
from letters.ledger import FINAL, Attempt, JobStatus
from letters.ledger.models import AttemptRow, JobRow, LetterRow
from letters.ledger.reviews import ReviewRefused
from letters.numbers import account, kid
from letters.pipeline import sending
from letters.pipeline.broker import DELIVER_QUEUE, RENDER_QUEUE, backoff_options, current
from letters.pipeline.faults import persist, waiting_out
from letters.pipeline.runtime import Runtime, get_runtime
from letters.produce import produce
from letters.renderers import RenderError
from letters.routing import Route, route
from letters.templating import letter_title
from letters.workbench import approval

log = logging.getLogger(__name__)


class PermanentFailure(Exception):
    """Retrying will not help; the job is marked failed with this reason and its stable
    ``code`` (letters.codes)."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code


def _not_today(job: JobRow, rt: Runtime) -> FieldError | None:
    """Why the job's letter may no longer be made or sent today (its date has passed)."""
    day = dt.date.fromisoformat(job.payload["letter_date"])
    return rules.letter_date_problem(day, today_oslo(rt.settings))


def _hold(rt: Runtime, job: JobRow, reason: str | None) -> bool:
    if reason is None:
        return False
    if job.status != JobStatus.HELD:
        held_from = (JobStatus.ACCEPTED, JobStatus.RENDERED)
        rt.ledger.set_status(job.id, JobStatus.HELD, "held", detail=reason, allowed_from=held_from)
    log.info("job %s held", job.id)
    return True


def render_stage(job_id: str) -> None:
    rt = get_runtime()
    view = rt.ledger.stage(job_id)
    job = view.job
    if job is None:
        log.warning("render: no job %s in the ledger", job_id)
        return
    if job.status in FINAL:
        return
    if view.letter is not None:
        deliver_letter.send(job_id)  # rendered before; continue where it stopped
        return
    if _hold(rt, job, view.hold):
        return
    stale = _not_today(job, rt)
    if stale:
        raise PermanentFailure(stale.code, f"the letter date passed while waiting: {stale.reason}")
    rt.ledger.touch([job_id])  # in progress: not stale for the sweeper
    started = time.perf_counter()
    metrics.QUEUE_LAG.observe((dt.datetime.now(dt.UTC) - job.accepted_at).total_seconds())
    rt.refresh_rules()
    try:
        template = approval.template_in_force(
            rt.ledger,
            rt.settings,
            job.kind,
            job.payload.get("language", "nb"),
            dt.date.fromisoformat(job.payload["letter_date"]),
        )
    except ReviewRefused as exc:  # the version in force was retired since intake
        raise PermanentFailure(exc.code, str(exc)) from None
    try:
        produced = produce(job.payload, rt.settings, template, draft=not template.approved)
    except JobRejected as exc:
        raise PermanentFailure(exc.errors[0].code, f"the job is refused now: {exc}") from None
    except RenderError as exc:
        raise PermanentFailure(exc.code, str(exc)) from None
    if not produced.safety.ok:
        first = produced.safety.findings[0]  # the first finding's code; every sentence
        raise PermanentFailure(first.code, "; ".join(produced.safety.failures))
    sha, path = rt.archive.put(produced.rendered.pdf)
    letter = produced.composed.letter
    row = LetterRow(
        id=letter.id,
        job_id=job_id,
        kind=letter.kind,
        language=letter.language,
        template_name=produced.template.name,
        template_version=produced.template.version,
        template_sha256=produced.template.sha256,
        renderer=produced.rendered.renderer,
        kid=letter.kid,
        instalment_kids=[i.kid for i in letter.instalments] or None,
        reference=produced.credential.reference,
        due_date=letter.due_date,
        password_hash=produced.credential.password_hash,
        password_tag=produced.credential.tag,
        password_expires_at=expiry_instant(letter.letter_date),
        pdf_sha256=sha,
        page_count=produced.safety.pages,
        archive_path=str(path),
        created_at=dt.datetime.now(dt.UTC),
        rules_versions=dict(rules.current().versions),
    )
    if rt.ledger.record_letter(row):
        metrics.LETTERS_RENDERED.inc()
        metrics.RENDER_SECONDS.observe(time.perf_counter() - started)
    else:
        log.info("job %s already has its letter; this render is discarded", job_id)
    deliver_letter.send(job_id)


def deliver_stage(job_id: str) -> None:
    rt = get_runtime()
    view = rt.ledger.stage(job_id)
    job, letter, attempts = view.job, view.letter, view.attempts
    if job is None or job.status in FINAL or job.status == JobStatus.UNCERTAIN:
        return  # uncertain: an operator decides (letters resolve), never a retry
    if letter is None:
        render_letter.send(job_id)
        return
    if _hold(rt, job, view.hold):
        return
    passed = _not_today(job, rt)
    if passed:  # held or retried past its date: its deadline and password no longer hold
        raise PermanentFailure(passed.code, f"not sent: {passed.reason}")
    done = next((a for a in attempts if a.status == "delivered"), None)
    if done:  # delivered before a crash could record it on the job: never send again
        rt.ledger.set_status(
            job_id,
            JobStatus.DELIVERED,
            "delivered",
            detail=f"{done.channel} {done.external_id}",
        )
        return
    parsed = Job.model_validate(job.payload)
    available = registry.configured(rt)
    plan = route(parsed, frozenset(available))
    routed = None
    if not attempts:  # the first try: the route is recorded with the claim
        skipped = "; ".join(f"{s.channel} ({s.why} [{s.code}])" for s in plan.skipped)
        routed = ("routed", " → ".join(plan.chain) + (f"; skipped: {skipped}" if skipped else ""))
        for skip in plan.skipped:
            log.info("job %s: %s skipped: %s (%s)", job_id, skip.channel, skip.code, skip.why)
    if not sending.claim(rt, job_id, routed):
        log.info("job %s is being delivered by another worker", job_id)
        return
    try:
        _deliver(rt, job, parsed, letter, attempts, available, plan)
    except PermanentFailure:
        raise
    except BaseException:
        # a retry (or the sweeper) may claim it again; with the ledger away, once it is back
        persist(rt.ledger.release_delivery, job_id, what=f"job {job_id}: giving the claim back")
        raise


def _outgoing(rt: Runtime, job: Job, letter: LetterRow) -> Outgoing:
    """What a channel gets: the archived PDF and the addressing, never the password."""
    debtor = job.debtor
    addr = debtor.address
    return Outgoing(
        letter.id,
        job.id,
        letter.reference,
        debtor.name,
        rt.archive.get(letter.pdf_sha256),
        language=letter.language,
        email=debtor.email,
        kind=letter.kind,
        letter_date=job.letter_date,
        subject=letter_title(letter.kind, letter.language),
        address=PostalAddress(
            debtor.name, tuple(addr.lines), addr.postal_code, addr.city, addr.country
        ),
        national_id=debtor.national_id,
        org_number=debtor.org_number,
        payment=_payment(rt, job, letter),
        page_count=letter.page_count,
        checked=True,  # the render stage checked it; Archive.get verified the bytes
    )


def _payment(rt: Runtime, job: Job, letter: LetterRow) -> PaymentDetails:
    """What the debtor is asked to pay next: the letter's amount, deadline and KID; for a
    payment plan its first instalment (amount, agreed due date and its own KID)."""
    due, amount, pay_kid = letter.due_date, amount_due(job), letter.kid
    if job.plan is not None:
        due, amount, pay_kid = next_payment(job, rt.settings)
        if letter.instalment_kids:  # as printed, whatever the KID settings are now
            pay_kid = letter.instalment_kids[0]
    return PaymentDetails(
        due_date=due,
        amount=amount,
        account=account.compact(job.payment.account_number),
        kid=kid.compact(pay_kid),
    )


def _deliver(
    rt: Runtime,
    row: JobRow,
    job: Job,
    letter: LetterRow,
    attempts: list[Attempt],
    available: dict[str, Channel],
    plan: Route,
) -> None:
    job_id = row.id
    settled = sending.settle_interrupted(rt, job_id, letter.id, attempts, available)
    if settled is None:
        return
    attempts = settled
    refused = {a.channel for a in attempts if a.error_class == "PermanentError"}
    #: a channel that may hold the letter is never left for another (no second copy)
    uncertain = {a.channel for a in attempts if a.error_class == "UncertainError"}
    for name in plan.chain:  # a channel down for long enough counts as refusing
        transient = sum(
            1 for a in attempts if a.channel == name and a.error_class == "RetriableError"
        )
        if name != plan.chain[-1] and transient >= rt.settings.channel_attempts:
            refused.add(name)
    refused -= uncertain
    outgoing = _outgoing(rt, job, letter)
    breakers = registry.breakers(rt)
    for name in plan.chain:
        if name in refused:
            continue
        at = dt.datetime.now(dt.UTC)
        channel = available[name]
        intent, outcome = sending.hand_over(rt, channel, breakers[name], letter.id, outgoing)
        if isinstance(outcome, Receipt):  # sent: recorded even if the ledger is away now
            persist(
                rt.ledger.finish_delivery,
                job_id,
                AttemptRow(
                    letter_id=letter.id,
                    channel=name,
                    status="delivered",
                    external_id=outcome.external_id,
                    receipt={**outcome.details, "via": outcome.channel},
                    error_class=None,  # over what a slow send's uncertain mark may have said
                    error_code=None,
                    error=None,
                    at=at,
                ),
                detail=f"{name} {outcome.external_id}",
                intent=intent,
                what=f"job {job_id}: recording its delivery by {name}",
            )
            return
        exc = outcome
        if intent is None:  # the breaker is open: a turn without a try, counted as one
            log.info("job %s: %s not tried [%s]; the letter waits", job_id, name, exc.code)
        elif isinstance(exc, UncertainError) and not channel.reconciles:
            detail = sending.may_have_been_sent(name, at, f"{exc} [{exc.code}]")
            persist(
                rt.ledger.mark_uncertain,
                job_id,
                intent,
                Code.DELIVERY_UNCERTAIN,
                detail,
                what=f"job {job_id}: recording it uncertain",
            )
            log.warning("job %s: %s [%s]", job_id, detail, Code.DELIVERY_UNCERTAIN)
            return
        persist(
            rt.ledger.record_attempt,
            sending.failed(letter.id, name, at, exc),
            intent=intent,
            what=f"job {job_id}: recording a failed try of {name}",
        )
        tries = 1 + sum(
            1 for a in attempts if a.channel == name and a.error_class == "RetriableError"
        )
        if isinstance(exc, UncertainError) or name in uncertain:
            raise exc  # the same channel again: it reconciles, and nothing goes elsewhere
        if isinstance(exc, RetriableError) and (
            name == plan.chain[-1] or tries < rt.settings.channel_attempts
        ):
            raise exc  # the same channel again, after a backoff
        why = "refused the letter for good" if isinstance(exc, PermanentError) else "gave up"
        log.info("job %s: %s %s (%s); next channel", job_id, name, why, exc.code)
    raise PermanentFailure(Code.ROUTE_NO_CHANNEL, "every channel in the route refused the letter")


_settings = get_settings()
_options: dict[str, Any] = {
    "broker": current(),
    "max_retries": _settings.max_retries,
    "min_backoff": 1_000,
    "max_backoff": 300_000,
    "time_limit": _settings.stage_time_limit_seconds * 1000,
    "throws": (PermanentFailure,),
}
render_letter = dramatiq.actor(
    actor_name="render_letter", queue_name=RENDER_QUEUE, priority=10, **_options
)(waiting_out(render_stage))
deliver_letter = dramatiq.actor(
    actor_name="deliver_letter",
    queue_name=DELIVER_QUEUE,
    priority=0,
    **{
        **_options,
        # a channel may be down for a while: back off longer, and move on after
        # channel_attempts tries (see _deliver), before Dramatiq gives up; the runtime's
        # settings apply to each message (broker.DeliveryBackoff)
        "max_retries": max(_settings.max_retries, _settings.channel_attempts * 3),
        **backoff_options(_settings),
    },
)(waiting_out(deliver_stage))

__all__ = ["PermanentFailure", "deliver_letter", "render_letter"]
