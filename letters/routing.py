"""Which channels a letter may go through, in order: the one place for routing policy.

The job's ``channels`` preference (default Digipost, e-mail, print) filtered by what the
letter kind allows, by the debtor's consent (inkassoloven § 3 a: electronic delivery needs a
mailbox or address the debtor accepted) and by what is configured here. Print is always the
last resort. A channel that refuses a letter for good moves it to the next in the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from letters.job import Job

DEFAULT_PREFERENCE = ("digipost", "email", "print")

#: The channels each kind may use. Electronic delivery of collection letters is lawful since
#: 2017 (inkassoloven § 3 a) for all four kinds when the debtor has consented.
CHANNELS_BY_KIND = {
    "reminder": frozenset(DEFAULT_PREFERENCE),
    "collection_notice": frozenset(DEFAULT_PREFERENCE),
    "payment_request": frozenset(DEFAULT_PREFERENCE),
    "enforcement_notice": frozenset(DEFAULT_PREFERENCE),
}


@dataclass(frozen=True)
class Route:
    chain: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]  # (channel, why), for the ledger and the log


def route(job: Job, configured: frozenset[str]) -> Route:
    """The delivery chain for ``job`` given the channels configured in this installation."""
    debtor = job.debtor
    chain: list[str] = []
    skipped: list[tuple[str, str]] = []
    for channel in job.channels or DEFAULT_PREFERENCE:
        if channel == "print":
            continue  # always last, below
        if channel not in CHANNELS_BY_KIND[job.kind]:
            skipped.append((channel, f"a {job.kind} may not go by {channel}"))
        elif channel == "digipost" and not debtor.consents.digipost:
            skipped.append((channel, "no consent to Digipost"))
        elif channel == "digipost" and not (debtor.national_id or debtor.org_number):
            skipped.append((channel, "no national id or organisation number to identify by"))
        elif channel == "email" and not debtor.consents.email:
            skipped.append((channel, "no consent to e-mail"))
        elif channel == "email" and not debtor.email:
            skipped.append((channel, "no e-mail address"))
        elif channel not in configured:
            skipped.append((channel, "not configured here"))
        else:
            chain.append(channel)
    chain.append("print")
    return Route(tuple(chain), tuple(skipped))
