"""What each kind of letter must say, for the template lint (``letters templates lint``).

Each statement names the kinds it applies to, its source, and a pattern per language that
the letter's text (as rendered for a proof case) must match. The patterns look for the
substance, not the exact wording, so compliance may reword a sentence freely; a template
that drops the substance is refused with ``missing-statement`` and the source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from letters.job import Kind
from letters.rules.kinds import KINDS_STATING_INTEREST
from letters.rules.plans import CONSEQUENCE_SOURCE, PAY_ALL_SOURCE


@dataclass(frozen=True)
class Statement:
    id: str
    kinds: frozenset[Kind]
    source: str
    says: str  # what it is about, for the finding
    patterns: dict[str, str]  # language → regular expression (case-insensitive)

    def found_in(self, text: str, language: str) -> bool:
        return re.search(self.patterns[language], text, re.I | re.S) is not None


#: The kinds that ask for payment by one deadline (the payment-plan confirmation gives a due
#: date per instalment: its statements are at the end).
_ALL: frozenset[Kind] = frozenset(
    {"reminder", "collection_notice", "payment_request", "enforcement_notice"}
)
_PLAN: frozenset[Kind] = frozenset({"payment_plan"})

STATEMENTS: tuple[Statement, ...] = (
    Statement(
        "pay-by-deadline",
        _ALL,
        "inkassoloven §§ 9, 10; tvangsfullbyrdelsesloven § 4-18",
        "a request to pay by the deadline",
        {"nb": r"betal\w*\b.*\binnen\b", "en": r"\bpay\b.*\bby\b"},
    ),
    Statement(
        "reminder-heading",
        frozenset({"reminder"}),
        "inkassoforskriften § 1-2 (1): the reminder is recognisable as one",
        "that the letter is a payment reminder",
        {"nb": r"påminnelse|purring", "en": r"reminder"},
    ),
    Statement(
        "notice-heading",
        frozenset({"collection_notice"}),
        "inkassoloven § 9 (1): the heading 'Inkassovarsel'",
        "the heading Inkassovarsel (debt collection notice)",
        {"nb": r"\binkassovarsel\b", "en": r"debt collection notice"},
    ),
    Statement(
        "notice-consequence",
        frozenset({"collection_notice"}),
        "inkassoloven § 9 (1): the claim goes to debt collection if unpaid",
        "that the claim will be sent to debt collection if unpaid by the deadline",
        {"nb": r"sendt til inkasso", "en": r"sent to debt collection"},
    ),
    Statement(
        "notice-costs",
        frozenset({"collection_notice"}),
        "inkassoloven § 9 (1): costs may accrue",
        "that debt collection costs may accrue",
        {"nb": r"inkassokostnad", "en": r"collection costs"},
    ),
    Statement(
        "request-pay-or-object",
        frozenset({"payment_request"}),
        "inkassoloven § 10 (1): pay or object",
        "the right to object instead of paying",
        {"nb": r"innsigelse", "en": r"objection|object\b"},
    ),
    Statement(
        "request-interest",
        KINDS_STATING_INTEREST,
        "inkassoloven § 10 (2) (d): the interest rate and the date interest runs from, each "
        "rate with its period when it ran through several (the enforcement notice repeats it)",
        "the late-payment interest rate and the date it runs from",
        {
            # the words, a rate ("12,25 %") and a date interest runs from ("fra 15.08.2026")
            "nb": r"forsinkelsesrente.*\b\d{1,2},\d{2}\s?%.*\bfra \d{2}\.\d{2}\.\d{4}",
            "en": r"late-payment interest.*\b\d{1,2}\.\d{2}\s?%.*\bfrom \d{1,2} [a-z]{3} \d{4}",
        },
    ),
    Statement(
        "request-consequences",
        frozenset({"payment_request"}),
        "inkassoloven § 10 (2) (e): costs and legal collection if unpaid",
        "that non-payment may bring further costs and legal collection",
        {"nb": r"rettslig.*kostnad|kostnad.*rettslig", "en": r"legal.*costs|costs.*legal"},
    ),
    Statement(
        "request-board",
        frozenset({"payment_request"}),
        "inkassoloven § 10 (2) (f) and § 22: the complaints board's review",
        "the right to the complaints board's review",
        {"nb": r"finansklagenemnda|klagenemnd", "en": r"finansklagenemnda|complaints board"},
    ),
    Statement(
        "enforcement-warning",
        frozenset({"enforcement_notice"}),
        "tvangsfullbyrdelsesloven § 4-18: enforcement will be requested if unpaid",
        "that legal enforcement will be requested if the claim is not paid",
        {
            "nb": r"begjær\w* tvangsfullbyrdelse",
            "en": r"enforcement will be requested|request\w* (legal )?enforcement",
        },
    ),
    Statement(
        "plan-instalments",
        _PLAN,
        "the agreed plan itself: each instalment with its due date and its own KID",
        "the instalments, each to be paid with its own KID",
        {"nb": r"avdrag.*\bKID\b", "en": r"instalment.*\bKID\b"},
    ),
    Statement(
        "plan-broken",
        _PLAN,
        CONSEQUENCE_SOURCE,
        "that a missed instalment breaks the plan: collection goes on, with further costs and "
        "a possible payment remark",
        {
            "nb": r"(?=.*(betalingsplan\w*.{0,12}\bbrutt\b|bryt\w* betalingsplan))(?=.*kostnad)"
            r"(?=.*betalingsanmerkning)",
            "en": r"(?=.*(plan is broken|break\w* the (payment )?plan))(?=.*costs)"
            r"(?=.*payment remark)",
        },
    ),
    Statement(
        "plan-pay-all",
        _PLAN,
        PAY_ALL_SOURCE,
        "that the whole debt may be paid at any time",
        {
            "nb": r"når som helst.*hele|hele.*når som helst",
            "en": r"whole debt.*any time|any time.*whole",
        },
    ),
)


def for_kind(kind: str) -> tuple[Statement, ...]:
    return tuple(s for s in STATEMENTS if kind in s.kinds)
