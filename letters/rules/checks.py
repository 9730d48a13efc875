"""The rules applied to one job: every refusal it earns, and the due date it gets."""

from __future__ import annotations

import datetime as dt

from letters.codes import Code
from letters.job import FieldError, Job
from letters.rules.calendar import (
    PAYMENT_DAYS,
    minimum_deadline,
    next_business_day,
    payment_deadline,
)
from letters.rules.fees import check_fees, refuse
from letters.rules.interest import interest_cap, relied_on
from letters.rules.kinds import (
    FEE_NEEDS_DESCRIPTION_SOURCE,
    KINDS_AFTER_NOTICE,
    KINDS_DESCRIBING_CLAIMS,
    KINDS_NEEDING_NOTICE,
    NOTICE_DEADLINE_SOURCE,
    NOTICE_SOURCE,
    shows_interest,
)
from letters.rules.objection import check_objection
from letters.rules.plans import KINDS_WITH_PLAN, check_plan
from letters.rules.tables import RuleUnconfirmed, RuleUnknown, current


def check(job: Job) -> list[FieldError]:
    """All the rules ``job`` breaks (an empty list when it may be sent)."""
    found: list[FieldError] = []
    book = current()
    for table in (book.inkassosats, book.interest_rate):
        try:
            table.on(job.letter_date)
        except RuleUnknown as exc:
            found.append(refuse(Code.RULE_UNKNOWN, "letter_date", str(exc)))
    if found:
        return found
    seen_invoices: dict[str, int] = {}
    for i, claim in enumerate(job.claims):
        if claim.invoice_number in seen_invoices:
            found.append(
                refuse(
                    Code.DUPLICATE_INVOICE,
                    f"claims[{i}].invoice_number",
                    f"the same invoice as claims[{seen_invoices[claim.invoice_number]}]: a claim "
                    "may appear only once in a letter",
                )
            )
        seen_invoices.setdefault(claim.invoice_number, i)
        found += _check_claim(job, i)
    found += check_objection(job)
    found += check_plan(job)
    if job.payment.due_date is not None and job.kind not in KINDS_WITH_PLAN:
        earliest = minimum_deadline(job.letter_date)
        if job.payment.due_date < earliest:
            found.append(
                refuse(
                    Code.DEADLINE_TOO_SHORT,
                    "payment.due_date",
                    f"{job.payment.due_date.isoformat()} is less than {PAYMENT_DAYS.value} days "
                    f"after the letter date {job.letter_date.isoformat()}; the earliest lawful due "
                    f"date is {earliest.isoformat()} ({PAYMENT_DAYS.source})",
                )
            )
    return found


def _check_claim(job: Job, i: int) -> list[FieldError]:
    claim = job.claims[i]
    where = f"claims[{i}]"
    letter_date = job.letter_date
    found: list[FieldError] = []
    if claim.due_date >= letter_date:
        found.append(
            refuse(
                Code.CLAIM_NOT_OVERDUE,
                f"{where}.due_date",
                f"the claim falls due on {claim.due_date.isoformat()}, not before the letter "
                f"date {letter_date.isoformat()}: a {job.kind} may only be sent for an "
                "overdue claim",
            )
        )
    charges = [f.code for f in claim.fees if (f.charged_on or letter_date) == letter_date]
    if job.kind in KINDS_DESCRIBING_CLAIMS and not claim.description:
        found.append(
            refuse(
                Code.DESCRIPTION_REQUIRED,
                f"{where}.description",
                f"a {job.kind} must say what the claim concerns (inkassoloven § 10 (b))",
            )
        )
    elif charges and not claim.description:
        found.append(
            refuse(
                Code.DESCRIPTION_REQUIRED,
                f"{where}.description",
                f"a {job.kind} charging a {charges[0]} must say what the claim concerns "
                f"({FEE_NEEDS_DESCRIPTION_SOURCE})",
            )
        )
    start = claim.interest_from or claim.due_date
    if not claim.due_date <= start <= letter_date:
        found.append(
            refuse(
                Code.INTEREST_START,
                f"{where}.interest_from",
                f"interest may run from the due date {claim.due_date.isoformat()} at the "
                f"earliest and no later than the letter date {letter_date.isoformat()}",
            )
        )
    else:
        found += _check_interest(job, i, start)
    return found + _check_notice(job, i) + check_fees(job, i)


def _check_interest(job: Job, i: int, start: dt.date) -> list[FieldError]:
    """The interest a claim shows: every rate the letter states from ``start`` confirmed, and
    the amount, when given, not over what the law allows (forsinkelsesrenteloven § 3)."""
    claim = job.claims[i]
    where = f"claims[{i}]"
    letter_date = job.letter_date
    field = f"{where}.interest" if claim.interest is not None else f"{where}.interest_from"
    try:
        if shows_interest(job.kind, claim):
            relied_on(start, letter_date)  # the rates the letter prints
        if claim.interest is None:
            return []
        cap = interest_cap(claim.principal, start, letter_date)
    except RuleUnknown as exc:
        return [refuse(Code.RULE_UNKNOWN, f"{where}.interest_from", str(exc))]
    except RuleUnconfirmed as exc:
        return [refuse(Code.RULE_UNCONFIRMED, field, str(exc))]
    if claim.interest > cap:
        return [
            refuse(
                Code.INTEREST_OVER_CAP,
                f"{where}.interest",
                f"{claim.interest} is more than the late-payment interest on "
                f"{claim.principal} from {start.isoformat()} to {letter_date.isoformat()} "
                f"can be ({cap}; forsinkelsesrenteloven)",
            )
        ]
    return []


def _check_notice(job: Job, i: int) -> list[FieldError]:
    """The collection notice a payment request (or the enforcement notice after it) follows:
    given when required, with a lawful deadline that has run out before the letter date."""
    notice = job.claims[i].notice
    where = f"claims[{i}].notice"
    if notice is None:
        if job.kind in KINDS_NEEDING_NOTICE:
            return [
                refuse(
                    Code.NOTICE_REQUIRED,
                    where,
                    f"a {job.kind} follows a collection notice: give the day it was sent and "
                    f"its deadline ({NOTICE_SOURCE})",
                )
            ]
        return []
    if job.kind not in KINDS_AFTER_NOTICE:
        return [
            refuse(
                Code.NOT_ALLOWED,
                where,
                f"a {job.kind} does not follow a collection notice; only a payment request or "
                "an enforcement notice names one",
            )
        ]
    found: list[FieldError] = []
    earliest = minimum_deadline(notice.sent_on)
    if notice.deadline < earliest:
        found.append(
            refuse(
                Code.DEADLINE_TOO_SHORT,
                f"{where}.deadline",
                f"the collection notice sent {notice.sent_on.isoformat()} gave until "
                f"{notice.deadline.isoformat()}, less than {PAYMENT_DAYS.value} days; the "
                f"earliest lawful deadline is {earliest.isoformat()} ({NOTICE_DEADLINE_SOURCE})",
            )
        )
    if job.letter_date <= notice.deadline:
        found.append(
            refuse(
                Code.NOTICE_DEADLINE_NOT_PASSED,
                f"{where}.deadline",
                f"the collection notice's deadline {notice.deadline.isoformat()} has not run out "
                f"on the letter date {job.letter_date.isoformat()}: a {job.kind} from "
                f"{(notice.deadline + dt.timedelta(days=1)).isoformat()} ({NOTICE_SOURCE})",
            )
        )
    return found


def due_date(job: Job) -> dt.date:
    """The payment deadline printed on the letter: a payment plan's first instalment's due
    date (agreed, never moved); else the job's own (moved to a business day) when it gives
    one that the law allows, else :func:`payment_deadline`."""
    if job.plan is not None and job.kind in KINDS_WITH_PLAN:
        return job.plan.instalments[0].due_date
    if job.payment.due_date is not None:
        return next_business_day(job.payment.due_date)
    return payment_deadline(job.letter_date)
