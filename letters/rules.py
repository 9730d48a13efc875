"""Every legal and business rule the letters follow, in one place for compliance review.

Rules that change over time are *dated configuration*: a list of :class:`Dated` values,
each with the day it takes effect and its source. Values marked "(unconfirmed)" come from
secondary sources and must be checked against Lovdata before relying on them.

Nothing in the templates decides a deadline, a fee or an amount; they only print what
this module computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import pairwise
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


class RuleUnknown(LookupError):
    """No value of a dated rule is known for the day asked about."""


@dataclass(frozen=True)
class RuleTable(Generic[T]):
    """A dated rule: its values with the day each takes effect, and the last day the table is
    known to be right. Past ``known_until`` the rule is unknown (a new half-year rate, a new
    inkassosats or a new act may apply) and letters are refused until compliance adds it."""

    name: str
    entries: tuple[Dated[T], ...]
    known_until: dt.date

    def on(self, day: dt.date) -> Dated[T]:
        current = None
        for entry in sorted(self.entries, key=lambda e: e.valid_from):
            if entry.valid_from <= day:
                current = entry
        if current is None or day > self.known_until:
            first = min(e.valid_from for e in self.entries)
            raise RuleUnknown(
                f"no {self.name} is known for {day.isoformat()} (known from "
                f"{first.isoformat()} to {self.known_until.isoformat()}); compliance must add "
                "it to letters/rules.py"
            )
        return current

    def __iter__(self) -> Iterator[Dated[T]]:
        return iter(self.entries)


def in_force(table: RuleTable[T], on: dt.date) -> Dated[T]:
    """The entry of ``table`` in force on ``on``.

    >>> in_force(INKASSOSATS, dt.date(2025, 12, 31)).value
    Decimal('700')
    >>> in_force(INKASSOSATS, dt.date(2026, 1, 1)).value
    Decimal('750')
    >>> in_force(INKASSOSATS, dt.date(2027, 1, 1)).value  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    letters.rules.RuleUnknown: no inkassosats is known for 2027-01-01 (known from ...
    """
    return table.on(on)


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

#: Days between two fees of the same kind on one claim (a second reminder fee is lawful only
#: when the first reminder's 14-day deadline has run out).
MIN_DAYS_BETWEEN_FEES = 14

#: Days the login password printed on a letter stays valid (until 23:59:59 Oslo time).
PASSWORD_VALID_DAYS = 21


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

INKASSOSATS = RuleTable(
    "inkassosats",
    (
        Dated(dt.date(2019, 1, 1), Decimal("700"), "inkassoforskriften § 1-1, 2019-2025"),
        Dated(dt.date(2026, 1, 1), Decimal("750"), "inkassoforskriften § 1-1, from 2026-01-01"),
    ),
    # A new Debt Collection Act may apply from 2027-01-01 (unconfirmed): confirm before then.
    known_until=dt.date(2026, 12, 31),
)

#: Late-payment interest (forsinkelsesrente), % per year, set for each half year.
INTEREST_RATE = RuleTable(
    "late-payment interest rate",
    (
        Dated(dt.date(2024, 1, 1), Decimal("12.50"), "Finansdepartementet, 2024 H1"),
        Dated(dt.date(2024, 7, 1), Decimal("12.50"), "Finansdepartementet, 2024 H2"),
        Dated(dt.date(2025, 1, 1), Decimal("12.50"), "Finansdepartementet, 2025 H1"),
        Dated(dt.date(2025, 7, 1), Decimal("12.25"), "Finansdepartementet, 2025 H2 (unconfirmed)"),
        Dated(dt.date(2026, 1, 1), Decimal("12.00"), "Finansdepartementet, 2026 H1"),
        Dated(dt.date(2026, 7, 1), Decimal("12.25"), "Finansdepartementet, 2026 H2 (unconfirmed)"),
    ),
    known_until=dt.date(2026, 12, 31),  # the 2027 H1 rate is set in December
)


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
            (),  # the agency never sends the creditor's own payment request
            1,
            0,
            "inkassoforskriften § 1-2 (2): the creditor's own payment request, 3/20 of the "
            "inkassosats; it can only appear here as an earlier fee (charged_on)",
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
COLLECTION_FEE_SCALE: RuleTable[tuple[tuple[Decimal | None, Decimal], ...]] = RuleTable(
    "light collection fee scale",
    (
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
        ),
    ),
    known_until=dt.date(2026, 12, 31),
)
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
    for table in (INKASSOSATS, INTEREST_RATE):
        try:
            table.on(job.letter_date)
        except RuleUnknown as exc:
            found.append(Violation("letter_date", str(exc)))
    if found:
        return found
    seen_invoices: dict[str, int] = {}
    for i, claim in enumerate(job.claims):
        if claim.invoice_number in seen_invoices:
            found.append(
                Violation(
                    f"claims[{i}].invoice_number",
                    f"the same invoice as claims[{seen_invoices[claim.invoice_number]}]: a claim "
                    "may appear only once in a letter",
                )
            )
        seen_invoices.setdefault(claim.invoice_number, i)
        found += _check_claim(job, i)
    if job.payment.due_date is not None:
        earliest = minimum_deadline(job.letter_date)
        if job.payment.due_date < earliest:
            found.append(
                Violation(
                    "payment.due_date",
                    f"{job.payment.due_date.isoformat()} is less than {PAYMENT_DAYS.value} days "
                    f"after the letter date {job.letter_date.isoformat()}; the earliest lawful due "
                    f"date is {earliest.isoformat()} ({PAYMENT_DAYS.source})",
                )
            )
    return found


#: Kinds that must say what each claim concerns (inkassoloven § 10 (b)); the enforcement
#: notice repeats the claim as the payment request described it.
KINDS_DESCRIBING_CLAIMS = frozenset({"payment_request", "enforcement_notice"})


def interest_cap(principal: Decimal, start: dt.date, end: dt.date) -> Decimal:
    """The most late-payment interest ``principal`` can have earned from ``start`` to ``end``
    (simple interest at each half year's rate; an upper bound for what a claim may show).

    >>> interest_cap(Decimal("1000"), dt.date(2026, 1, 1), dt.date(2027, 1, 1))
    Decimal('121.27')
    """
    total = Decimal(0)
    day = start
    while day < end:
        rate = INTEREST_RATE.on(day).value
        total += principal * rate / 100 / 365
        day += dt.timedelta(days=1)
    return total.quantize(CENT, rounding=ROUND_UP)


def _check_claim(job: Job, i: int) -> list[Violation]:
    claim = job.claims[i]
    where = f"claims[{i}]"
    letter_date = job.letter_date
    found: list[Violation] = []
    if claim.due_date >= letter_date:
        found.append(
            Violation(
                f"{where}.due_date",
                f"the claim falls due on {claim.due_date.isoformat()}, not before the letter "
                f"date {letter_date.isoformat()}: a {job.kind} may only be sent for an "
                "overdue claim",
            )
        )
    if job.kind in KINDS_DESCRIBING_CLAIMS and not claim.description:
        found.append(
            Violation(
                f"{where}.description",
                f"a {job.kind} must say what the claim concerns (inkassoloven § 10 (b))",
            )
        )
    start = claim.interest_from or claim.due_date
    if not claim.due_date <= start <= letter_date:
        found.append(
            Violation(
                f"{where}.interest_from",
                f"interest may run from the due date {claim.due_date.isoformat()} at the "
                f"earliest and no later than the letter date {letter_date.isoformat()}",
            )
        )
    elif claim.interest is not None:
        try:
            cap = interest_cap(claim.principal, start, letter_date)
        except RuleUnknown as exc:
            found.append(Violation(f"{where}.interest_from", str(exc)))
        else:
            if claim.interest > cap:
                found.append(
                    Violation(
                        f"{where}.interest",
                        f"{claim.interest} is more than the late-payment interest on "
                        f"{claim.principal} from {start.isoformat()} to {letter_date.isoformat()} "
                        f"can be ({cap}; forsinkelsesrenteloven)",
                    )
                )
    return found + _check_fees(job, i)


def _check_fees(job: Job, i: int) -> list[Violation]:
    claim = job.claims[i]
    where = f"claims[{i}]"
    letter_date = job.letter_date
    company = job.debtor.type == "company"
    found: list[Violation] = []
    charged: dict[str, list[dt.date]] = {}
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
        charged_on = fee.charged_on or letter_date
        if charged_on > letter_date:
            found.append(
                Violation(f"{field}.charged_on", "a fee cannot be charged after the letter date")
            )
            continue
        charged.setdefault(fee.code, []).append(charged_on)
        if charged_on == letter_date and job.kind not in rule.charged_by:
            by = ", ".join(rule.charged_by) or "no letter this engine sends"
            found.append(
                Violation(
                    f"{field}.code",
                    f"a {job.kind} cannot charge a {fee.code} (charged by: {by}); "
                    "give charged_on for an earlier letter's fee",
                )
            )
        try:
            cap = fee_cap(fee.code, charged_on, principal=claim.principal, company=company)
        except RuleUnknown as exc:
            found.append(Violation(f"{field}.charged_on", str(exc)))
            continue
        if fee.amount > cap:
            found.append(
                Violation(
                    f"{field}.amount",
                    f"{fee.code} {fee.amount} exceeds the cap {cap} on {charged_on.isoformat()} "
                    f"({rule.source})",
                )
            )
        earliest = claim.due_date + dt.timedelta(days=rule.days_after_due)
        if charged_on < earliest:
            found.append(
                Violation(
                    f"{field}.charged_on" if fee.charged_on else f"{field}.code",
                    f"{fee.code} charged on {charged_on.isoformat()}, less than "
                    f"{rule.days_after_due} days after the due date {claim.due_date.isoformat()} "
                    f"({rule.source})",
                )
            )
    for code, days in charged.items():
        limit = FEES[code].max_per_claim
        if code == "reminder_fee" and "notice_fee" in charged:
            limit = 1
        if len(days) > limit:
            found.append(
                Violation(
                    f"{where}.fees",
                    f"{len(days)} × {code} on one claim, at most {limit} allowed "
                    f"({FEES[code].source})",
                )
            )
        ordered = sorted(days)
        for earlier, later in pairwise(ordered):
            if later < earlier + dt.timedelta(days=MIN_DAYS_BETWEEN_FEES):
                found.append(
                    Violation(
                        f"{where}.fees",
                        f"two {code}s charged {earlier.isoformat()} and {later.isoformat()}: "
                        f"a second fee needs {MIN_DAYS_BETWEEN_FEES} days after the first "
                        "(inkassoforskriften "
                        "§ 1-2)",
                    )
                )
    if "payment_request_fee" in charged and "collection_fee" in charged:
        found.append(
            Violation(
                f"{where}.fees",
                "a creditor's payment request fee and a debt collection fee on the same claim: "
                "only "
                "one payment request may carry a fee (inkassoforskriften § 1-3)",
            )
        )
    return found


def due_date(job: Job) -> dt.date:
    """The payment deadline printed on the letter: the job's own (moved to a business day)
    when it gives one that the law allows, else :func:`payment_deadline`."""
    if job.payment.due_date is not None:
        return next_business_day(job.payment.due_date)
    return payment_deadline(job.letter_date)
