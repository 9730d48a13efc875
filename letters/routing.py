"""Which channels a letter may go through, in order: the one place for routing policy.

The job's ``channels`` preference (default Digipost, e-mail, print) filtered by what the
letter kind allows (:data:`letters.rules.CHANNELS_BY_KIND`), by the debtor's consent
(inkassoloven § 3 a: electronic delivery needs a mailbox or address the debtor accepted) and
by what is configured here. Print is always the last resort. A channel that refuses a letter
for good moves it to the next in the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from letters import rules
from letters.codes import Code
from letters.job import Job

DEFAULT_PREFERENCE = ("digipost", "email", "print")


@dataclass(frozen=True)
class Skip:
    """A channel routing left out for a letter, with the stable code and the reason."""

    channel: str
    code: Code
    why: str


@dataclass(frozen=True)
class Route:
    chain: tuple[str, ...]
    skipped: tuple[Skip, ...]  # for the ledger and the log


def _skip(job: Job, channel: str, configured: frozenset[str]) -> Skip | None:
    debtor = job.debtor
    if channel not in rules.CHANNELS_BY_KIND[job.kind]:
        return Skip(channel, Code.ROUTE_NOT_FOR_KIND, f"a {job.kind} may not go by {channel}")
    if channel == "digipost" and not debtor.consents.digipost:
        return Skip(channel, Code.ROUTE_NO_CONSENT, "no consent to Digipost")
    if channel == "digipost" and not (debtor.national_id or debtor.org_number):
        return Skip(
            channel,
            Code.ROUTE_NO_ADDRESS,
            "no national id or organisation number to identify by",
        )
    if channel == "email" and not debtor.consents.email:
        return Skip(channel, Code.ROUTE_NO_CONSENT, "no consent to e-mail")
    if channel == "email" and not debtor.email:
        return Skip(channel, Code.ROUTE_NO_ADDRESS, "no e-mail address")
    if channel not in configured:
        return Skip(channel, Code.ROUTE_NOT_CONFIGURED, "not configured here")
    return None


def route(job: Job, configured: frozenset[str]) -> Route:
    """The delivery chain for ``job`` given the channels configured in this installation."""
    chain: list[str] = []
    skipped: list[Skip] = []
    for channel in job.channels or DEFAULT_PREFERENCE:
        if channel == "print":
            continue  # always last, below
        skip = _skip(job, channel, configured)
        if skip is None:
            chain.append(channel)
        else:
            skipped.append(skip)
    chain.append("print")
    return Route(tuple(chain), tuple(skipped))
