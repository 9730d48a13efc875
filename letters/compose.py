"""Turn a validated :class:`~letters.job.Job` into the content of one letter.

Everything a template prints is decided here or in :mod:`letters.rules`: amounts and
totals, the deadline, the KID, the interest rate, the address lines in the window, the
password and its expiry. The result is a plain frozen :class:`Letter` the sandboxed
templates can read but not change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from letters import credentials, rules, window
from letters.config import Sender, Settings, get_settings
from letters.job import Job
from letters.numbers import account, kid, reference
from letters.numbers import letter_id as letter_ids
from letters.numbers import password as pw
from letters.rules.plans import letter_total


@dataclass(frozen=True)
class Line:
    """One amount line of the claims table. ``label`` is the creditor's own wording when the
    job gives one; otherwise the template prints the fee code's label from
    ``labels/<language>.html``."""

    label: str | None
    amount: Decimal
    code: str  # a fee code


@dataclass(frozen=True)
class ClaimView:
    invoice_number: str
    invoice_date: dt.date
    due_date: dt.date
    description: str | None
    principal: Decimal
    interest: Decimal | None
    interest_from: dt.date
    show_interest: bool
    #: the late-payment interest rates from ``interest_from`` through the letter date, each
    #: with the days it applied (inkassoloven § 10 second ledd (d)); empty for the kinds
    #: that do not state interest
    rate_periods: tuple[rules.RatePeriod, ...]
    fees: tuple[Line, ...]
    total: Decimal


@dataclass(frozen=True)
class ObjectionView:
    """What an enforcement notice says about the debtor's objection: none received, or
    received and answered on these days (an open one is refused before a letter is made)."""

    received: bool
    received_on: dt.date | None
    answered_on: dt.date | None


@dataclass(frozen=True)
class InstalmentView:
    """One instalment of a payment plan as printed: its number (1, 2, …), amount, agreed
    due date and its own KID."""

    number: int
    amount: Decimal
    due_date: dt.date
    kid: str


@dataclass(frozen=True)
class Party:
    name: str
    org_number: str | None


@dataclass(frozen=True)
class Letter:
    """The content of one letter, ready for a template."""

    id: str
    id_formatted: str
    job_id: str
    kind: str
    language: str
    letter_date: dt.date
    reference: str
    creditor: Party
    debtor: Party
    debtor_is_company: bool
    #: The window's return-address line; for letters abroad it ends with the country.
    return_address: str
    #: The recipient block as printed in the window, one string a printed line (a long
    #: name or street line takes two: :mod:`letters.window`).
    address_lines: tuple[str, ...]
    claims: tuple[ClaimView, ...]
    total_principal: Decimal
    total_interest: Decimal
    total_fees: Decimal
    total: Decimal
    interest_rate: Decimal
    #: the rate periods of every claim together, from the earliest ``interest_from`` through
    #: the letter date: each claim's own periods are the part from its own date on, so one
    #: note under the table states them all (empty for kinds that do not state interest)
    interest_periods: tuple[rules.RatePeriod, ...]
    due_date: dt.date
    #: for an enforcement notice, whether the debtor objected and when we answered
    objection: ObjectionView | None
    account_number: str
    #: For a debtor abroad: the IBAN of ``account_number`` and its bank's BIC (else None).
    iban: str | None
    bic: str | None
    kid: str
    #: a payment plan's agreement day and instalments (empty for the other kinds)
    plan_agreed_on: dt.date | None
    instalments: tuple[InstalmentView, ...]
    password: credentials.Secret
    password_expires: dt.date
    sender: Sender

    def __repr__(self) -> str:
        return f"Letter(id={self.id!r}, job_id={self.job_id!r}, kind={self.kind!r})"


@dataclass(frozen=True)
class Composed:
    letter: Letter
    credential: credentials.Credential


def address_lines(job: Job, settings: Settings | None = None) -> tuple[str, ...]:
    """The recipient block as the window prints it, one string a printed line: name, street
    lines, postal code and city, and for addresses abroad the country in Norwegian capitals
    (SVERIGE). National identity numbers are never part of it."""
    return window.lines(window.block(job.debtor), (settings or get_settings()).window)


def return_address(job: Job, sender: Sender) -> str:
    """The return-address line: with the agency's country when the letter goes abroad."""
    if job.debtor.address.country == "NO":
        return sender.return_address
    return f"{sender.return_address}, {sender.return_country}"


def amount_due(job: Job) -> Decimal:
    """What the letter asks the debtor to pay: principal, interest and fees of every claim."""
    return letter_total(job)


def _unique_kid(seed: str, taken: set[str], s: Settings, scheme: kid.Scheme) -> str:
    """The KID derived from ``seed``, or, in the (astronomically rare) case it is already
    taken in this letter, from ``seed#1``, ``seed#2``, …: the same job always gives the same
    KIDs, and no two payments of one letter share one."""
    n = 0
    while True:
        value = kid.generate(seed if n == 0 else f"{seed}#{n}", s.kid_length, scheme)
        if value not in taken:
            return value
        n += 1


def kids(job: Job, settings: Settings | None = None) -> tuple[str, tuple[str, ...]]:
    """The letter's KID and, for a payment plan, each instalment's (compact digits): the
    job's own when it gives them, else derived from the creditor and the job id, so a retry
    of the same job gets the same KIDs. Every one differs from the others."""
    s = settings or get_settings()
    scheme = job.payment.kid_scheme or s.kid_scheme
    given = [
        kid.validate(i.kid, scheme) if i.kid is not None else None
        for i in (job.plan.instalments if job.plan is not None else ())
    ]
    taken = {k for k in given if k is not None}
    seed = f"{job.creditor.org_number}:{job.id}"
    letter_kid = job.payment.kid or _unique_kid(seed, taken, s, scheme)
    taken.add(letter_kid)
    out = []
    for n, value in enumerate(given, start=1):
        if value is None:
            value = _unique_kid(f"{seed}:instalment:{n}", taken, s, scheme)
            taken.add(value)
        out.append(value)
    return letter_kid, tuple(out)


def next_payment(job: Job, settings: Settings | None = None) -> tuple[dt.date, Decimal, str]:
    """(due date, amount, KID) of the payment the letter asks for next: a payment plan's
    first instalment, else the whole amount by the letter's deadline (what Digipost's
    inkasso data-type carries)."""
    letter_kid, instalment_kids = kids(job, settings)
    if job.plan is not None and instalment_kids:
        first = job.plan.instalments[0]
        return first.due_date, first.amount, instalment_kids[0]
    return rules.due_date(job), amount_due(job), letter_kid


def compose(job: Job, settings: Settings | None = None, *, specimen: bool = False) -> Composed:
    """Build the letter for a job that :func:`letters.validation.parse` accepted."""
    s = settings or get_settings()
    rate = rules.current().interest_rate.on(job.letter_date).value
    stating = job.kind in rules.KINDS_STATING_INTEREST
    claims = []
    for c in job.claims:
        fees = tuple(Line(f.label, f.amount, f.code) for f in c.fees)
        interest = c.interest or Decimal("0")
        start = c.interest_from or c.due_date
        claims.append(
            ClaimView(
                invoice_number=c.invoice_number,
                invoice_date=c.invoice_date,
                due_date=c.due_date,
                description=c.description,
                principal=c.principal,
                interest=c.interest,
                interest_from=start,
                show_interest=rules.shows_interest(job.kind, c),
                rate_periods=rules.periods(start, job.letter_date) if stating else (),
                fees=fees,
                total=c.principal + interest + sum((f.amount for f in fees), Decimal("0")),
            )
        )
    total_principal = sum((c.principal for c in claims), Decimal("0"))
    total_interest = sum((c.interest or Decimal("0") for c in claims), Decimal("0"))
    total_fees = sum((f.amount for c in claims for f in c.fees), Decimal("0"))
    kid_value, instalment_kids = kids(job, s)
    instalments = tuple(
        InstalmentView(n, i.amount, i.due_date, kid.format(k))
        for n, (i, k) in enumerate(
            zip(job.plan.instalments if job.plan else (), instalment_kids, strict=True), start=1
        )
    )
    secret, credential = credentials.issue(job.reference, job.letter_date, s, specimen=specimen)
    lid = letter_ids.calc(job.id)
    abroad = None
    if job.debtor.address.country != "NO":
        abroad = s.sender.abroad(job.payment.account_number)
        if abroad is None:  # parse refuses such a job (no-iban-for-account)
            raise ValueError("a debtor abroad, and no IBAN and BIC for the payment account")
    letter = Letter(
        id=lid,
        id_formatted=letter_ids.format(lid),
        job_id=job.id,
        kind=job.kind,
        language=job.language,
        letter_date=job.letter_date,
        reference=reference.format(job.reference),
        creditor=Party(job.creditor.name, job.creditor.org_number),
        debtor=Party(job.debtor.name, job.debtor.org_number),
        debtor_is_company=job.debtor.type == "company",
        return_address=return_address(job, s.sender),
        address_lines=address_lines(job, s),
        claims=tuple(claims),
        total_principal=total_principal,
        total_interest=total_interest,
        total_fees=total_fees,
        total=amount_due(job),
        interest_rate=rate,
        interest_periods=(
            rules.periods(min(c.interest_from for c in claims), job.letter_date) if stating else ()
        ),
        due_date=rules.due_date(job),
        objection=(
            ObjectionView(o.received, o.received_on, o.answered_on)
            if (o := job.objection) is not None
            else None
        ),
        account_number=account.format(job.payment.account_number),
        iban=abroad.printed_iban if abroad else None,
        bic=abroad.bic if abroad else None,
        kid=kid.format(kid_value),
        plan_agreed_on=job.plan.agreed_on if job.plan else None,
        instalments=instalments,
        password=credentials.Secret(pw.format(secret.reveal())),
        password_expires=rules.password_expiry_date(job.letter_date),
        sender=s.sender,
    )
    return Composed(letter, credential)
