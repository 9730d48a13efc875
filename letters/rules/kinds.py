"""The letter kinds: what each must say and which channels it may use."""

from __future__ import annotations

from letters.job import Claim, Kind

#: Kinds that must say what each claim concerns (inkassoloven § 10 (b)); the enforcement
#: notice repeats the claim as the payment request described it.
KINDS_DESCRIBING_CLAIMS: frozenset[Kind] = frozenset({"payment_request", "enforcement_notice"})

#: Whatever its kind, a letter that charges a reminder or notice fee on a claim must say what
#: the claim concerns (inkassoforskriften § 1-2 first and second ledd).
FEE_NEEDS_DESCRIPTION_SOURCE = (
    "inkassoforskriften § 1-2 first and second ledd: a reminder or notice fee may be charged "
    "only by a letter that says what the claim concerns"
)

#: Kinds that follow a collection notice and may name it (``claims[].notice``); a payment
#: request must (inkassoloven § 10 first ledd).
KINDS_AFTER_NOTICE: frozenset[Kind] = frozenset({"payment_request", "enforcement_notice"})
KINDS_NEEDING_NOTICE: frozenset[Kind] = frozenset({"payment_request"})
NOTICE_SOURCE = (
    "inkassoloven § 10 first ledd: a payment request only when the deadline of the collection "
    "notice under § 9 has run out"
)
NOTICE_DEADLINE_SOURCE = (
    "inkassoloven § 9 second ledd: the collection notice's deadline is at least 14 days from "
    "the day it was sent"
)

#: Kinds that must state the interest rate and the date it runs from (inkassoloven § 10 (d));
#: the enforcement notice repeats the claim as the payment request stated it.
KINDS_STATING_INTEREST: frozenset[Kind] = frozenset({"payment_request", "enforcement_notice"})


def shows_interest(kind: str, claim: Claim) -> bool:
    """Whether the letter prints the claim's interest line (the rate and the day it runs
    from): when the claim gives interest, and always in the kinds stating interest."""
    return claim.interest is not None or kind in KINDS_STATING_INTEREST


#: The channels each kind may use. Electronic delivery of collection letters is lawful since
#: 2017 (inkassoloven § 3 a) for every kind when the debtor has consented (the payment-plan
#: confirmation goes the same ways as the letters before it); the consent itself is checked
#: by :mod:`letters.routing`.
CHANNELS_BY_KIND: dict[Kind, frozenset[str]] = {
    "reminder": frozenset({"digipost", "email", "print"}),
    "collection_notice": frozenset({"digipost", "email", "print"}),
    "payment_request": frozenset({"digipost", "email", "print"}),
    "enforcement_notice": frozenset({"digipost", "email", "print"}),
    "payment_plan": frozenset({"digipost", "email", "print"}),
}
