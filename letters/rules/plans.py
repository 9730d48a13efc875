"""The payment plan a ``payment_plan`` letter confirms: how many instalments, by when, what
they add up to, and the KID each is paid with.

The limits are the agency's own published terms for payment plans (its debtor pages,
"Can I suggest my custom payment plan?" and "When can I make the first payment?"); the
letter confirms a plan already agreed, so an agreed date is a term of the contract and is
never moved: a due date that is no business day is refused, not moved to the next one as
the deadlines of the other kinds are (:func:`letters.rules.calendar.payment_deadline`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

from stdnum.exceptions import ValidationError as NumberError

from letters.codes import Code
from letters.job import FieldError, Job, Kind, number_problem
from letters.numbers import kid as kid_number
from letters.rules.calendar import is_business_day

#: Kinds that confirm a payment plan and so carry ``plan``; no other kind may.
KINDS_WITH_PLAN: frozenset[Kind] = frozenset({"payment_plan"})

MAX_INSTALMENTS = 4
MAX_INSTALMENTS_SOURCE = (
    "the agency's published terms for payment plans (debtor pages, 'Can I suggest my custom "
    "payment plan?'): a payment plan has at most 4 instalments"
)
FIRST_DUE_DAYS = 14
FIRST_DUE_SOURCE = (
    "the agency's published terms for payment plans (debtor pages, 'When can I make the "
    "first payment?'): the first instalment is paid at once and at the latest 14 days after "
    "the agreement"
)
SUM_SOURCE = (
    "the plan settles the amount the letter states: the instalments add up to its total "
    "exactly, so the debtor who pays every instalment has paid what the letter asks"
)
BUSINESS_DAY_SOURCE = (
    "an agreed due date is a term of the plan and is not moved; it must be a day a bank "
    "settles a payment (gjeldsbrevloven § 5 moves a due date that is not: agree a business "
    "day instead)"
)
#: What the letter says about the plan (its template states each; the lint checks it):
#: breaking the plan lets collection go on, with further costs and a possible payment
#: remark, and the whole debt may be paid at any time.
CONSEQUENCE_SOURCE = (
    "the agency's published terms for payment plans (debtor pages, 'What is the consequence "
    "if I don't follow the payment plan?'): collection goes on, legal steps may be taken, "
    "costs may be added and a payment remark may follow"
)
PAY_ALL_SOURCE = (
    "the agency's published terms for payment plans (debtor pages, 'I have an active payment "
    "plan. Can I pay the outstanding in total?'): the full debt may be paid at all times"
)


def _refuse(code: Code, field: str, reason: str) -> FieldError:
    return FieldError(field=field, code=code, reason=reason)


def letter_total(job: Job) -> Decimal:
    """What the letter asks the debtor to pay: principal, interest and fees of every claim."""
    return sum(
        (
            c.principal + (c.interest or Decimal("0")) + sum((f.amount for f in c.fees), Decimal(0))
            for c in job.claims
        ),
        Decimal("0"),
    )


def check_plan(job: Job) -> list[FieldError]:
    """Every rule the job's plan (or its absence) breaks."""
    if job.kind not in KINDS_WITH_PLAN:
        if job.plan is None:
            return []
        return [
            _refuse(
                Code.NOT_ALLOWED,
                "plan",
                f"a {job.kind} confirms no payment plan; only a payment_plan letter has one",
            )
        ]
    found: list[FieldError] = []
    if job.payment.due_date is not None:
        found.append(
            _refuse(
                Code.NOT_ALLOWED,
                "payment.due_date",
                "a payment plan has no single due date: each instalment has its own "
                "(plan.instalments[].due_date)",
            )
        )
    plan = job.plan
    if plan is None:
        return [
            *found,
            _refuse(
                Code.PLAN_REQUIRED,
                "plan",
                "a payment_plan letter confirms a plan: give the day it was agreed (agreed_on) "
                "and its instalments (amount, due_date)",
            ),
        ]
    if plan.agreed_on > job.letter_date:
        found.append(
            _refuse(
                Code.PLAN_AGREED_AFTER_LETTER,
                "plan.agreed_on",
                f"the plan is agreed on {plan.agreed_on.isoformat()}, after the letter date "
                f"{job.letter_date.isoformat()}: a letter confirms a plan already agreed",
            )
        )
    count = len(plan.instalments)
    if count > MAX_INSTALMENTS:
        found.append(
            _refuse(
                Code.PLAN_TOO_MANY_INSTALMENTS,
                "plan.instalments",
                f"{count} instalments, at most {MAX_INSTALMENTS} ({MAX_INSTALMENTS_SOURCE})",
            )
        )
    total = letter_total(job)
    planned = sum((i.amount for i in plan.instalments), Decimal("0"))
    if planned != total:
        found.append(
            _refuse(
                Code.PLAN_SUM_MISMATCH,
                "plan.instalments",
                f"the instalments add up to {planned}, the letter's total is {total} "
                f"({SUM_SOURCE})",
            )
        )
    return found + list(_check_dates(job)) + _check_kids(job)


def _check_dates(job: Job) -> Iterator[FieldError]:
    assert job.plan is not None
    agreed = job.plan.agreed_on
    latest_first = agreed + dt.timedelta(days=FIRST_DUE_DAYS)
    previous: dt.date | None = None
    for i, instalment in enumerate(job.plan.instalments):
        field = f"plan.instalments[{i}].due_date"
        due = instalment.due_date
        if due < job.letter_date:
            yield _refuse(
                Code.PLAN_DUE_BEFORE_LETTER,
                field,
                f"due on {due.isoformat()}, before the letter date {job.letter_date.isoformat()}: "
                "the debtor could not pay it on time; agree the plan again",
            )
        if i == 0 and due > latest_first:
            yield _refuse(
                Code.PLAN_FIRST_DUE_TOO_LATE,
                field,
                f"the first instalment is due on {due.isoformat()}, more than {FIRST_DUE_DAYS} "
                f"days after the agreement on {agreed.isoformat()}; the latest is "
                f"{latest_first.isoformat()} ({FIRST_DUE_SOURCE})",
            )
        if previous is not None and due <= previous:
            yield _refuse(
                Code.PLAN_DATES_NOT_INCREASING,
                field,
                f"due on {due.isoformat()}, not after the instalment before it "
                f"({previous.isoformat()}): list the instalments in the order they fall due, "
                "each on its own day",
            )
        if not is_business_day(due):
            yield _refuse(
                Code.PLAN_DUE_NOT_BUSINESS_DAY,
                field,
                f"{due.isoformat()} is a weekend, a public holiday or 24/31 December "
                f"({BUSINESS_DAY_SOURCE})",
            )
        previous = due


def _check_kids(job: Job) -> list[FieldError]:
    """Each KID upstream gives an instalment is valid in the job's KID scheme and differs
    from the letter's KID and from every other instalment's."""
    assert job.plan is not None
    scheme = job.payment.kid_scheme or "mod10"
    found: list[FieldError] = []
    seen: dict[str, str] = {}
    if job.payment.kid is not None:
        seen[job.payment.kid] = "the letter's own KID (payment.kid)"
    for i, instalment in enumerate(job.plan.instalments):
        if instalment.kid is None:
            continue
        field = f"plan.instalments[{i}].kid"
        try:
            value = kid_number.validate(instalment.kid, scheme)
        except NumberError as exc:
            found.append(
                _refuse(Code.BAD_KID, field, f"not a valid {scheme} KID: {number_problem(exc)}")
            )
            continue
        if value in seen:
            found.append(
                _refuse(
                    Code.DUPLICATE_KID,
                    field,
                    f"the same KID as {seen[value]}: each instalment is paid with its own KID",
                )
            )
        seen.setdefault(value, f"plan.instalments[{i}].kid")
    return found
