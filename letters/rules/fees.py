"""Fees: what each fee code may be, its cap on the day it is charged, and the rules on how
fees follow each other on one claim (inkassoforskriften §§ 1-2, 1-3 and 2-2)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

from letters.codes import Code
from letters.job import FEE_CODES, FieldError, Job
from letters.rules.calendar import payment_deadline
from letters.rules.tables import RuleUnconfirmed, RuleUnknown, current

#: Days between any two fees of the reminder/notice family on one claim: a reminder fee and
#: a notice fee count together (inkassoforskriften § 1-2 first and second ledd, § 1-3).
MIN_DAYS_BETWEEN_FEES = 14
#: The fees of that family.
REMINDER_FAMILY = frozenset({"reminder_fee", "notice_fee"})
FAMILY_SOURCE = (
    "inkassoforskriften § 1-2 first and second ledd and § 1-3: reminder and notice fees count "
    "together; a further one needs 14 days after the last"
)
#: A later fee only once the earlier fee's letter's deadline (its letter date + 14 days, moved
#: to the next business day: :func:`payment_deadline`) has run out, i.e. on a day after it.
DEADLINE_SOURCE = (
    "inkassoforskriften § 1-2 first and second ledd (a new fee only when the earlier letter's "
    "deadline has run out), inkassoloven § 9 first ledd (b) and second ledd and § 10 first "
    "ledd (at least 14 days' deadline), gjeldsbrevloven § 5 (moved to the next business day)"
)


@dataclass(frozen=True)
class FeeRule:
    """What one fee code may be: its cap as a fraction of the inkassosats, which letter kinds
    may charge it, how many times per claim, and whether it needs 14 days past due. No fee
    names the payment-plan confirmation: it charges none, only lists earlier letters' fees."""

    code: str
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
            Fraction(1, 20),
            ("reminder",),
            2,
            14,
            "inkassoforskriften § 1-2 (1) and § 1-3: 1/20 of the inkassosats; only when sent "
            "at least 14 days after the due date; at most two reminders carry a fee",
        ),
        FeeRule(
            "notice_fee",
            Fraction(1, 20),
            ("collection_notice",),
            1,
            14,
            "inkassoforskriften § 1-2 (2) and § 1-3: 1/20 of the inkassosats; only when sent "
            "at least 14 days after the due date; with a notice fee only one reminder fee",
        ),
        FeeRule(
            "payment_request_fee",
            Fraction(3, 20),
            (),  # the agency never sends the creditor's own payment request
            1,
            0,
            "inkassoforskriften § 1-2 (3): the creditor's own payment request, 3/20 of the "
            "inkassosats; it can only appear here as an earlier fee (charged_on)",
        ),
        FeeRule(
            "collection_fee",
            None,
            ("payment_request", "enforcement_notice"),
            1,
            0,
            "inkassoforskriften § 2-2: light collection fee, scaled by the principal",
        ),
    )
}
assert tuple(FEES) == FEE_CODES, "every fee code of the contract has its rule"

CENT = Decimal("0.01")


def fee_cap(code: str, on: dt.date, *, principal: Decimal) -> Decimal:
    """The largest lawful amount of fee ``code`` charged on day ``on``. The collection fee
    follows the scale of inkassoforskriften § 2-2 (``collection_fee_scale``), the same for a
    person and a company: the regulation has no factor for business debtors.

    >>> fee_cap("reminder_fee", dt.date(2025, 6, 1), principal=Decimal(1000))
    Decimal('35.00')
    >>> fee_cap("notice_fee", dt.date(2026, 6, 1), principal=Decimal(1000))
    Decimal('37.50')
    >>> fee_cap("payment_request_fee", dt.date(2026, 6, 1), principal=Decimal(1))
    Decimal('112.50')
    >>> fee_cap("collection_fee", dt.date(2026, 6, 1), principal=Decimal(2000))
    Decimal('300.00')
    """
    book = current()
    sats = book.inkassosats.relied_on(on).value
    rule = FEES[code]
    if rule.cap_fraction is not None:
        cap = sats * rule.cap_fraction.numerator / rule.cap_fraction.denominator
    else:
        factor = next(
            f
            for limit, f in book.collection_fee_scale.relied_on(on).value
            if limit is None or principal <= limit
        )
        cap = sats * factor
    return cap.quantize(CENT)


def refuse(code: Code, field: str, reason: str) -> FieldError:
    return FieldError(field=field, code=code, reason=reason)


def check_fees(job: Job, i: int) -> list[FieldError]:
    claim = job.claims[i]
    where = f"claims[{i}]"
    letter_date = job.letter_date
    found: list[FieldError] = []
    charged: dict[str, list[dt.date]] = {}
    timeline: list[tuple[dt.date, int, str]] = []  # (charged_on, index, code)
    for j, fee in enumerate(claim.fees):
        field = f"{where}.fees[{j}]"
        rule = FEES.get(fee.code)
        if rule is None:
            found.append(
                refuse(
                    Code.FEE_UNKNOWN,
                    f"{field}.code",
                    f"unknown fee code {fee.code!r}; allowed: {', '.join(sorted(FEES))}",
                )
            )
            continue
        charged_on = fee.charged_on or letter_date
        if charged_on > letter_date:
            found.append(
                refuse(
                    Code.FEE_AFTER_LETTER,
                    f"{field}.charged_on",
                    "a fee cannot be charged after the letter date",
                )
            )
            continue
        charged.setdefault(fee.code, []).append(charged_on)
        timeline.append((charged_on, j, fee.code))
        if charged_on == letter_date and job.kind not in rule.charged_by:
            by = ", ".join(rule.charged_by) or "no letter this engine sends"
            found.append(
                refuse(
                    Code.FEE_NOT_FOR_KIND,
                    f"{field}.code",
                    f"a {job.kind} cannot charge a {fee.code} (charged by: {by}); "
                    "give charged_on for an earlier letter's fee",
                )
            )
        try:
            cap = fee_cap(fee.code, charged_on, principal=claim.principal)
        except RuleUnknown as exc:
            found.append(refuse(Code.RULE_UNKNOWN, f"{field}.charged_on", str(exc)))
            continue
        except RuleUnconfirmed as exc:
            found.append(refuse(Code.RULE_UNCONFIRMED, f"{field}.amount", str(exc)))
            continue
        if fee.amount > cap:
            found.append(
                refuse(
                    Code.FEE_OVER_CAP,
                    f"{field}.amount",
                    f"{fee.code} {fee.amount} exceeds the cap {cap} on {charged_on.isoformat()} "
                    f"({rule.source})",
                )
            )
        earliest = claim.due_date + dt.timedelta(days=rule.days_after_due)
        if charged_on < earliest:
            found.append(
                refuse(
                    Code.FEE_TOO_EARLY,
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
                refuse(
                    Code.FEE_TOO_MANY,
                    f"{where}.fees",
                    f"{len(days)} × {code} on one claim, at most {limit} allowed "
                    f"({FEES[code].source})",
                )
            )
    found += _check_timing(where, sorted(timeline))
    if "payment_request_fee" in charged and "collection_fee" in charged:
        found.append(
            refuse(
                Code.FEE_TWICE_FOR_PAYMENT_REQUEST,
                f"{where}.fees",
                "a creditor's payment request fee and a debt collection fee on the same claim: "
                "only "
                "one payment request may carry a fee (inkassoforskriften § 1-3)",
            )
        )
    return found


def _check_timing(where: str, timeline: list[tuple[dt.date, int, str]]) -> list[FieldError]:
    """The order in time of a claim's fees (``timeline`` sorted by day): 14 days between any
    two of the reminder/notice family, and each fee only after the deadline of the letter
    that charged the fee before it. One refusal per pair of fees."""
    found: list[FieldError] = []
    too_close: set[tuple[int, int]] = set()
    family = [entry for entry in timeline if entry[2] in REMINDER_FAMILY]
    for (earlier, i, first), (later, j, second) in pairwise(family):
        if later < earlier + dt.timedelta(days=MIN_DAYS_BETWEEN_FEES):
            too_close.add((i, j))
            found.append(
                refuse(
                    Code.FEES_TOO_CLOSE,
                    f"{where}.fees",
                    f"a {first} charged {earlier.isoformat()} and a {second} charged "
                    f"{later.isoformat()}: a second fee needs {MIN_DAYS_BETWEEN_FEES} days after "
                    f"the first ({FAMILY_SOURCE})",
                )
            )
    for (earlier, i, first), (later, j, second) in pairwise(timeline):
        deadline = payment_deadline(earlier)
        if later <= deadline and (i, j) not in too_close:
            found.append(
                refuse(
                    Code.FEE_BEFORE_DEADLINE,
                    f"{where}.fees",
                    f"a {second} charged {later.isoformat()}, but the letter that charged the "
                    f"{first} on {earlier.isoformat()} gave until {deadline.isoformat()}: a new "
                    f"fee only from {(deadline + dt.timedelta(days=1)).isoformat()} "
                    f"({DEADLINE_SOURCE})",
                )
            )
    return found
