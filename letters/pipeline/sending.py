"""Handing a letter to a channel, so that no outage can leave a false trace: the job's
claim for delivery and each attempt's intent (committed before the channel is called) carry
their own instant. Should the ledger go away before a commit is heard of, the claim or the
intent is taken back by that instant once the ledger is back (it may have landed): a claim
left standing would keep every later try out until the stale sweep, an intent left
standing would read as a send that may have happened, and an e-mail would be left
``uncertain`` although nothing was sent.

An intent found unsettled on the next try means a worker stopped mid-send
(:func:`settle_interrupted`).
"""

from __future__ import annotations

import datetime as dt
import logging

from channels.base import (
    Channel,
    ChannelError,
    NotSent,
    Outgoing,
    PermanentError,
    Receipt,
    RetriableError,
    UncertainError,
)
from channels.breaker import Breaker
from letters.clock import OSLO
from letters.codes import Code
from letters.ledger.letters import SENDING
from letters.ledger.models import AttemptRow
from letters.ledger.views import Attempt
from letters.pipeline.faults import ledger_unavailable, persist
from letters.pipeline.runtime import Runtime

log = logging.getLogger("letters.pipeline.actors")


def claim(rt: Runtime, job_id: str, routed: tuple[str, str] | None) -> bool:
    """Claim the job for delivery. Should the ledger go away before the claim's commit is
    heard of, the claim is taken back once the ledger is back (it may have landed: left
    alone, it would keep every later try out until the stale sweep), then the stage
    waits the outage out like any other."""
    at = dt.datetime.now(dt.UTC)
    try:
        return rt.ledger.claim_delivery(job_id, routed, at=at)
    except Exception as exc:
        if ledger_unavailable(exc):
            persist(rt.ledger.withdraw_claim, job_id, at, what=f"job {job_id}: the lost claim")
        raise


def may_have_been_sent(channel: str, at: dt.datetime, why: str) -> str:
    """What an operator reads about an uncertain letter."""
    local = at.astimezone(OSLO)
    return (
        f"may have been sent by {channel} at {local:%H:%M} on {local:%Y-%m-%d} (Oslo); "
        f"not re-sent: {why}"
    )


def settle_interrupted(
    rt: Runtime,
    job_id: str,
    letter_id: str,
    attempts: list[Attempt],
    available: dict[str, Channel],
) -> list[Attempt] | None:
    """Attempts a worker began and never settled (it stopped mid-send). A channel that
    reconciles gets them marked as cut off and is tried again (it answers for itself); for
    one that cannot be asked the job becomes ``uncertain`` and None is returned."""
    settled = []
    for a in attempts:
        if a.status != SENDING:
            settled.append(a)
            continue
        channel = available.get(a.channel)
        if channel is None or not channel.reconciles:
            why = "a worker stopped while sending it, before it could record the outcome"
            detail = may_have_been_sent(a.channel, a.at, why)
            persist(
                rt.ledger.mark_uncertain,
                job_id,
                a.id,
                Code.DELIVERY_UNCERTAIN,
                detail,
                what=f"job {job_id}: recording it uncertain",
            )
            log.warning("job %s: %s [%s]", job_id, detail, Code.DELIVERY_UNCERTAIN)
            return None
        error = f"the worker stopped mid-send; {a.channel} reconciles on the next try"
        rt.ledger.record_attempt(
            failed(letter_id, a.channel, a.at, UncertainError(Code.DELIVERY_INTERRUPTED, error)),
            intent=a.id,
        )
        settled.append(
            a.model_copy(
                update={
                    "status": "failed",
                    "error_class": "UncertainError",
                    "error_code": str(Code.DELIVERY_INTERRUPTED),
                    "error": error,
                }
            )
        )
    return settled


def failed(letter_id: str, channel: str, at: dt.datetime, exc: Exception) -> AttemptRow:
    """The record of a try of ``channel`` that did not deliver, with the channel's error."""
    return AttemptRow(
        letter_id=letter_id,
        channel=channel,
        status="failed",
        error_class=type(exc).__name__,
        error_code=getattr(exc, "code", None),
        error=str(exc),
        at=at,
    )


def hand_over(
    rt: Runtime, channel: Channel, breaker: Breaker, letter_id: str, outgoing: Outgoing
) -> tuple[int | None, Receipt | ChannelError]:
    """One try of one channel through its breaker: the attempt's intent (committed before
    the send) and the receipt or the channel's error. While the breaker is open nothing is
    tried or recorded here: (None, the breaker's refusal)."""
    admission = breaker.admit()
    if admission is None:
        return None, breaker.refusal()
    outcome: Receipt | ChannelError | None = None
    try:
        at = dt.datetime.now(dt.UTC)
        try:
            intent = rt.ledger.begin_attempt(letter_id, channel.name, at)
        except Exception as exc:
            # the channel was not called: an intent whose commit landed unheard must not
            # stand as a send that may have happened (e-mail would be left uncertain)
            if ledger_unavailable(exc):
                what = f"letter {letter_id}: the lost intent to send by {channel.name}"
                persist(rt.ledger.withdraw_attempt, letter_id, channel.name, at, what=what)
            raise
        try:
            outcome = channel.deliver(outgoing)
        except (RetriableError, PermanentError) as exc:
            outcome = exc
        except NotSent as exc:
            what = f"letter {letter_id}: taking back the try of {channel.name} (nothing sent)"
            persist(rt.ledger.withdraw_attempt, letter_id, channel.name, at, what=what)
            raise (exc.__cause__ or exc) from None
    finally:
        breaker.settle(admission, outcome)  # None: cut off by something else
    return intent, outcome
