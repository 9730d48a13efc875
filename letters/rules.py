"""Every legal and business rule the letters follow, in one place for compliance review.

Rules that change over time are *dated configuration*: a list of :class:`Dated` values,
each with the day it takes effect and its source. Values marked "(unconfirmed)" come from
secondary sources and must be checked against Lovdata before relying on them.

Nothing in the templates decides a deadline, a fee or an amount; they only print what
this module computed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING, Generic, TypeVar

import holidays

if TYPE_CHECKING:
    from letters.job import Job

T = TypeVar("T")


@dataclass(frozen=True)
class Dated(Generic[T]):
    """A rule value in force from ``valid_from`` until the next entry's date."""

    valid_from: dt.date
    value: T
    source: str


def in_force(table: list[Dated[T]], on: dt.date) -> Dated[T]:
    """The entry of ``table`` in force on ``on``.

    >>> in_force(INKASSOSATS, dt.date(2025, 12, 31)).value
    Decimal('700')
    >>> in_force(INKASSOSATS, dt.date(2026, 1, 1)).value
    Decimal('750')
    """
    current = None
    for entry in sorted(table, key=lambda e: e.valid_from):
        if entry.valid_from <= on:
            current = entry
    if current is None:
        raise LookupError(f"no rule in force on {on.isoformat()}")
    return current


# --- Letter kinds ------------------------------------------------------------------------

KINDS = ("reminder", "collection_notice", "payment_request", "enforcement_notice")

#: The statute each kind rests on, printed nowhere but shown to compliance.
KIND_SOURCES = {
    "reminder": "not statutory; fees: inkassoforskriften § 1-2 (1), § 1-3",
    "collection_notice": "inkassoloven § 9",
    "payment_request": "inkassoloven § 10",
    "enforcement_notice": "tvangsfullbyrdelsesloven § 4-18",
}

# --- Deadlines and the login password ------------------------------------------------------

#: Days from the letter date to the payment deadline, for all four kinds.
PAYMENT_DAYS = Dated(
    dt.date(1988, 1, 1),
    14,
    "inkassoloven §§ 9 and 10, tvangsfullbyrdelsesloven § 4-18: at least 14 days; "
    "moved to the next business day as gjeldsbrevloven § 5 moves due dates",
)

#: Days the login password printed on a letter stays valid (until 23:59:59 Oslo time).
PASSWORD_VALID_DAYS = 21

OSLO = "Europe/Oslo"


@lru_cache(maxsize=64)
def _norwegian_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NO", years=year)


def is_business_day(day: dt.date) -> bool:
    """Monday to Friday and not a Norwegian public holiday.

    >>> is_business_day(dt.date(2026, 5, 18)), is_business_day(dt.date(2026, 5, 17))
    (True, False)
    """
    return day.weekday() < 5 and day not in _norwegian_holidays(day.year)


def next_business_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a business day, else the next one."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def payment_deadline(letter_date: dt.date) -> dt.date:
    """Letter date + 14 days, moved forward to the next business day.

    >>> payment_deadline(dt.date(2025, 4, 3))   # lands on Maundy Thursday
    datetime.date(2025, 4, 22)
    >>> payment_deadline(dt.date(2026, 5, 3))   # lands on 17 May, a Sunday
    datetime.date(2026, 5, 18)
    """
    return next_business_day(letter_date + dt.timedelta(days=PAYMENT_DAYS.value))


def minimum_deadline(letter_date: dt.date) -> dt.date:
    """The earliest due date the law allows a letter to give."""
    return letter_date + dt.timedelta(days=PAYMENT_DAYS.value)


def password_expiry_date(letter_date: dt.date) -> dt.date:
    """The last day the letter's password works (valid until 23:59:59 that day, Oslo)."""
    return letter_date + dt.timedelta(days=PASSWORD_VALID_DAYS)


# --- Fees and interest ---------------------------------------------------------------------

INKASSOSATS: list[Dated[Decimal]] = [
    Dated(dt.date(2019, 1, 1), Decimal("700"), "inkassoforskriften § 1-1, 2019-2025"),
    Dated(dt.date(2026, 1, 1), Decimal("750"), "inkassoforskriften § 1-1, from 2026-01-01"),
]

#: Late-payment interest (forsinkelsesrente), % per year, set for each half year.
INTEREST_RATE: list[Dated[Decimal]] = [
    Dated(dt.date(2024, 1, 1), Decimal("12.50"), "Finansdepartementet, 2024 H1"),
    Dated(dt.date(2024, 7, 1), Decimal("12.50"), "Finansdepartementet, 2024 H2"),
    Dated(dt.date(2025, 1, 1), Decimal("12.50"), "Finansdepartementet, 2025 H1"),
    Dated(dt.date(2025, 7, 1), Decimal("12.25"), "Finansdepartementet, 2025 H2 (unconfirmed)"),
    Dated(dt.date(2026, 1, 1), Decimal("12.00"), "Finansdepartementet, 2026 H1"),
    Dated(dt.date(2026, 7, 1), Decimal("12.25"), "Finansdepartementet, 2026 H2 (unconfirmed)"),
]


@dataclass(frozen=True)
class FeeRule:
    """What one fee code may be: its cap as a fraction of the inkassosats, which letter kinds
    may charge it, how many times per claim, and whether it needs 14 days past due."""

    code: str
    label_nb: str
    label_en: str
    cap_fraction: Fraction | None  # None: capped by the scale in collection_fee_cap
    charged_by: tuple[str, ...]
    max_per_claim: int
    days_after_due: int
    source: str


FEES: dict[str, FeeRule] = {
    rule.code: rule
    for rule in (
        FeeRule(
            "reminder_fee",
            "Purregebyr",
            "Reminder fee",
            Fraction(1, 20),
            ("reminder",),
            2,
            14,
            "inkassoforskriften § 1-2 (1) and § 1-3: 1/20 of the inkassosats; only when sent "
            "at least 14 days after the due date; at most two reminders carry a fee",
        ),
        FeeRule(
            "notice_fee",
            "Inkassovarselgebyr",
            "Debt collection notice fee",
            Fraction(1, 20),
            ("collection_notice",),
            1,
            14,
            "inkassoforskriften § 1-2 (1) and § 1-3: 1/20 of the inkassosats; only when sent "
            "at least 14 days after the due date; with a notice fee only one reminder fee",
        ),
        FeeRule(
            "payment_request_fee",
            "Gebyr for betalingsoppfordring",
            "Payment request fee",
            Fraction(3, 20),
            ("payment_request",),
            1,
            0,
            "inkassoforskriften § 1-2 (2): the creditor's own payment request, 3/20 of the "
            "inkassosats",
        ),
        FeeRule(
            "collection_fee",
            "Inkassosalær",
            "Debt collection fee",
            None,
            ("payment_request", "enforcement_notice"),
            1,
            0,
            "inkassoforskriften § 2-2: light collection fee, scaled by the principal",
        ),
    )
}

#: Light collection fee caps (inkassoforskriften § 2-2): principal up to the limit → times
#: the inkassosats. ``None`` as limit: above the last limit.
COLLECTION_FEE_SCALE: list[Dated[tuple[tuple[Decimal | None, Decimal], ...]]] = [
    Dated(
        dt.date(2019, 1, 1),
        (
            (Decimal("500"), Decimal("0.25")),
            (Decimal("1000"), Decimal("0.35")),
            (Decimal("2500"), Decimal("0.4")),
            (Decimal("10000"), Decimal("0.8")),
            (Decimal("50000"), Decimal("1.6")),
            (Decimal("250000"), Decimal("3.6")),
            (None, Decimal("7.2")),
        ),
        "inkassoforskriften § 2-2",
    )
]
#: Business debtors may be charged more (unconfirmed).
COMPANY_COLLECTION_FEE_FACTOR = Decimal("1.5")

CENT = Decimal("0.01")


def fee_cap(code: str, on: dt.date, *, principal: Decimal, company: bool) -> Decimal:
    """The largest lawful amount of fee ``code`` charged on day ``on``.

    >>> fee_cap("reminder_fee", dt.date(2025, 6, 1), principal=Decimal(1000), company=False)
    Decimal('35.00')
    >>> fee_cap("notice_fee", dt.date(2026, 6, 1), principal=Decimal(1000), company=False)
    Decimal('37.50')
    >>> fee_cap("payment_request_fee", dt.date(2026, 6, 1), principal=Decimal(1), company=False)
    Decimal('112.50')
    >>> fee_cap("collection_fee", dt.date(2026, 6, 1), principal=Decimal(2000), company=False)
    Decimal('300.00')
    """
    sats = in_force(INKASSOSATS, on).value
    rule = FEES[code]
    if rule.cap_fraction is not None:
        cap = sats * rule.cap_fraction.numerator / rule.cap_fraction.denominator
    else:
        factor = next(
            f
            for limit, f in in_force(COLLECTION_FEE_SCALE, on).value
            if limit is None or principal <= limit
        )
        cap = sats * factor * (COMPANY_COLLECTION_FEE_FACTOR if company else 1)
    return cap.quantize(CENT)


@dataclass(frozen=True)
class Violation:
    """A rule a job breaks: the field it concerns and the rule, in words."""

    field: str
    reason: str


def check(job: Job) -> list[Violation]:
    """All the rules ``job`` breaks (an empty list when it may be sent)."""
    found: list[Violation] = []
    letter_date = job.letter_date
    company = job.debtor.type == "company"
    for i, claim in enumerate(job.claims):
        where = f"claims[{i}]"
        if claim.due_date >= letter_date:
            found.append(
                Violation(
                    f"{where}.due_date",
                    f"the claim falls due on {claim.due_date.isoformat()}, not before the letter "
                    f"date {letter_date.isoformat()}: a {job.kind} may only be sent for an "
                    "overdue claim",
                )
            )
        counts: dict[str, int] = {}
        for j, fee in enumerate(claim.fees):
            field = f"{where}.fees[{j}]"
            rule = FEES.get(fee.code)
            if rule is None:
                found.append(
                    Violation(
                        f"{field}.code",
                        f"unknown fee code {fee.code!r}; allowed: {', '.join(sorted(FEES))}",
                    )
                )
                continue
            counts[fee.code] = counts.get(fee.code, 0) + 1
            charged_on = fee.charged_on or letter_date
            if charged_on > letter_date:
                found.append(
                    Violation(
                        f"{field}.charged_on", "a fee cannot be charged after the letter date"
                    )
                )
                continue
            if charged_on == letter_date and job.kind not in rule.charged_by:
                found.append(
                    Violation(
                        f"{field}.code",
                        f"a {job.kind} cannot charge a {fee.code} (charged by: "
                        f"{', '.join(rule.charged_by)}); "
                        "give charged_on for an earlier letter's fee",
                    )
                )
            cap = fee_cap(fee.code, charged_on, principal=claim.principal, company=company)
            if fee.amount > cap:
                found.append(
                    Violation(
                        f"{field}.amount",
                        f"{fee.code} {fee.amount} exceeds the cap {cap} on "
                        f"{charged_on.isoformat()} ({rule.source})",
                    )
                )
            earliest = claim.due_date + dt.timedelta(days=rule.days_after_due)
            if charged_on < earliest:
                found.append(
                    Violation(
                        f"{field}.charged_on" if fee.charged_on else f"{field}.code",
                        f"{fee.code} charged on {charged_on.isoformat()}, less than "
                        f"{rule.days_after_due} days after the due date "
                        f"{claim.due_date.isoformat()} ({rule.source})",
                    )
                )
        for code, n in counts.items():
            limit = FEES[code].max_per_claim
            if code == "reminder_fee" and counts.get("notice_fee"):
                limit = 1
            if n > limit:
                found.append(
                    Violation(
                        f"{where}.fees",
                        f"{n} × {code} on one claim, at most {limit} allowed ({FEES[code].source})",
                    )
                )
    if job.payment.due_date is not None:
        earliest = minimum_deadline(letter_date)
        if job.payment.due_date < earliest:
            found.append(
                Violation(
                    "payment.due_date",
                    f"{job.payment.due_date.isoformat()} is less than {PAYMENT_DAYS.value} days "
                    f"after the letter date {letter_date.isoformat()}; the earliest lawful due "
                    f"date is {earliest.isoformat()} ({PAYMENT_DAYS.source})",
                )
            )
    return found


def due_date(job: Job) -> dt.date:
    """The payment deadline printed on the letter: the job's own (moved to a business day)
    when it gives one that the law allows, else :func:`payment_deadline`."""
    if job.payment.due_date is not None:
        return next_business_day(job.payment.due_date)
    return payment_deadline(job.letter_date)
