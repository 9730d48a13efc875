"""The letter kinds: what each must say and which channels it may use."""

from __future__ import annotations

from letters.job import Kind

#: Kinds that must say what each claim concerns (inkassoloven § 10 (b)); the enforcement
#: notice repeats the claim as the payment request described it.
KINDS_DESCRIBING_CLAIMS: frozenset[Kind] = frozenset({"payment_request", "enforcement_notice"})

#: Kinds that must state the interest rate and the date it runs from (inkassoloven § 10 (d));
#: the enforcement notice repeats the claim as the payment request stated it.
KINDS_STATING_INTEREST: frozenset[Kind] = frozenset({"payment_request", "enforcement_notice"})

#: The channels each kind may use. Electronic delivery of collection letters is lawful since
#: 2017 (inkassoloven § 3 a) for all four kinds when the debtor has consented; the consent
#: itself is checked by :mod:`letters.routing`.
CHANNELS_BY_KIND: dict[Kind, frozenset[str]] = {
    "reminder": frozenset({"digipost", "email", "print"}),
    "collection_notice": frozenset({"digipost", "email", "print"}),
    "payment_request": frozenset({"digipost", "email", "print"}),
    "enforcement_notice": frozenset({"digipost", "email", "print"}),
}
