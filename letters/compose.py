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
    fees: tuple[Line, ...]
    total: Decimal


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
    due_date: dt.date
    account_number: str
    #: For a debtor abroad: the IBAN of ``account_number`` and its bank's BIC (else None).
    iban: str | None
    bic: str | None
    kid: str
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
    return sum(
        (
            c.principal + (c.interest or Decimal("0")) + sum((f.amount for f in c.fees), Decimal(0))
            for c in job.claims
        ),
        Decimal("0"),
    )


def compose(job: Job, settings: Settings | None = None, *, specimen: bool = False) -> Composed:
    """Build the letter for a job that :func:`letters.validation.parse` accepted."""
    s = settings or get_settings()
    rate = rules.current().interest_rate.on(job.letter_date).value
    claims = []
    for c in job.claims:
        fees = tuple(Line(f.label, f.amount, f.code) for f in c.fees)
        interest = c.interest or Decimal("0")
        claims.append(
            ClaimView(
                invoice_number=c.invoice_number,
                invoice_date=c.invoice_date,
                due_date=c.due_date,
                description=c.description,
                principal=c.principal,
                interest=c.interest,
                interest_from=c.interest_from or c.due_date,
                show_interest=c.interest is not None or job.kind in rules.KINDS_STATING_INTEREST,
                fees=fees,
                total=c.principal + interest + sum((f.amount for f in fees), Decimal("0")),
            )
        )
    total_principal = sum((c.principal for c in claims), Decimal("0"))
    total_interest = sum((c.interest or Decimal("0") for c in claims), Decimal("0"))
    total_fees = sum((f.amount for c in claims for f in c.fees), Decimal("0"))
    kid_value = job.payment.kid or kid.generate(
        f"{job.creditor.org_number}:{job.id}",
        s.kid_length,
        job.payment.kid_scheme or s.kid_scheme,
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
        due_date=rules.due_date(job),
        account_number=account.format(job.payment.account_number),
        iban=abroad.printed_iban if abroad else None,
        bic=abroad.bic if abroad else None,
        kid=kid.format(kid_value),
        password=credentials.Secret(pw.format(secret.reveal())),
        password_expires=rules.password_expiry_date(job.letter_date),
        sender=s.sender,
    )
    return Composed(letter, credential)
