"""Every legal and business rule the letters follow, in one place for compliance review.

The package is that place: :mod:`~letters.rules.tables` (dated values: the inkassosats,
late-payment interest, the collection fee scale, whose numbers are data in
``letters/rules/data/*.toml`` and approved versions in the ledger), :mod:`~letters.rules.calendar`
(deadlines, business days, the password's life, the letter date),
:mod:`~letters.rules.fees` (fee codes, caps and spacing), :mod:`~letters.rules.plans`
(the payment plan a payment-plan letter confirms), :mod:`~letters.rules.kinds`
(what each kind must say, its channels), :mod:`~letters.rules.objection` (the debtor's
objection before an enforcement notice) and :mod:`~letters.rules.checks` (every rule
applied to one job). Every refusal carries a stable code from :mod:`letters.codes`.

Rules that change over time are *dated configuration*: a list of :class:`Dated` values,
each with the day it takes effect and its source. Values marked "(unconfirmed)" come from
secondary sources and must be checked against Lovdata before relying on them.

Nothing in the templates decides a deadline, a fee or an amount; they only print what
these modules computed.
"""

from __future__ import annotations

from letters.rules.calendar import (
    PASSWORD_VALID_DAYS,
    PAYMENT_DAYS,
    is_business_day,
    letter_date_problem,
    minimum_deadline,
    next_business_day,
    password_expiry_date,
    payment_deadline,
)
from letters.rules.checks import check, due_date
from letters.rules.fees import (
    FEES,
    MIN_DAYS_BETWEEN_FEES,
    FeeRule,
    fee_cap,
)
from letters.rules.interest import RatePeriod, interest_cap, periods
from letters.rules.kinds import (
    CHANNELS_BY_KIND,
    KINDS_DESCRIBING_CLAIMS,
    KINDS_STATING_INTEREST,
    shows_interest,
)
from letters.rules.objection import KINDS_NEEDING_OBJECTION
from letters.rules.tables import (
    TABLE_NAMES,
    Dated,
    Rulebook,
    RuleTable,
    RuleUnconfirmed,
    RuleUnknown,
    TableProblem,
    current,
    parse_table,
    shipped,
    use,
)

__all__ = [
    "CHANNELS_BY_KIND",
    "FEES",
    "KINDS_DESCRIBING_CLAIMS",
    "KINDS_NEEDING_OBJECTION",
    "KINDS_STATING_INTEREST",
    "MIN_DAYS_BETWEEN_FEES",
    "PASSWORD_VALID_DAYS",
    "PAYMENT_DAYS",
    "TABLE_NAMES",
    "Dated",
    "FeeRule",
    "RatePeriod",
    "RuleTable",
    "RuleUnconfirmed",
    "RuleUnknown",
    "Rulebook",
    "TableProblem",
    "check",
    "current",
    "due_date",
    "fee_cap",
    "interest_cap",
    "is_business_day",
    "letter_date_problem",
    "minimum_deadline",
    "next_business_day",
    "parse_table",
    "password_expiry_date",
    "payment_deadline",
    "periods",
    "shipped",
    "shows_interest",
    "use",
]
