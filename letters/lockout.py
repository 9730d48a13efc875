"""The limits on failed login tries, keyed so that nobody can lock a debtor out.

A try comes from a *source*: the debtor's address as the portal saw it (IPv6 counted by its
/64, which one subscriber holds whole), or the local command line. Three limits, all in one
window (``LETTERS_LOGINS__WINDOW_SECONDS``, default 15 minutes):

- **one reference from one source**: ``lock_after`` wrong passwords lock that pair
  (answer ``locked``, at the same hashing cost as any other answer). The debtor at another
  address is not affected, whoever hammers the printed reference.
- **one source, growing delays**: after ``delay_after`` failed tries (wrong or locked, on any
  references) each next try waits ``delay_seconds``, doubling per failed try up to
  ``max_delay_seconds``, after the source's last failed one;
- **one source, a ceiling**: ``source_limit`` failed tries and it is refused until the oldest
  leaves the window.

A try refused by the last two is ``throttled`` (HTTP 429 with Retry-After), answered before
any password check and not counted. Every answer is counted in ``letters_logins_total
{result}``; a source passing ``delay_after`` and a pair locking are logged (the source and a
case pseudonym, never the reference nor anything typed).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import math
from dataclasses import dataclass

from letters import metrics
from letters.attempts import FAILED, AttemptLog, MemoryAttemptLog, SourceTries
from letters.config import Settings, get_settings
from letters.credentials import Checks, CredentialStore, Secret, Verdict, case_pseudonym, verify
from letters.numbers import reference as ref

log = logging.getLogger("letters.logins")

#: The source of tries made at this machine's command line (``letters credentials verify``).
LOCAL = "local"


def source_key(address: str | None) -> str:
    """The source a try is counted under: an IPv4 address, an IPv6 /64, or the text given.

    >>> source_key('203.0.113.9'), source_key('2001:db8:1:2:aa::9'), source_key('::ffff:10.0.0.1')
    ('203.0.113.9', '2001:db8:1:2::/64', '10.0.0.1')
    >>> source_key(None), source_key('testclient')
    ('local', 'testclient')
    """
    if not address:
        return LOCAL
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64] or LOCAL
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Answer:
    """A login try's answer; ``retry_after`` (whole seconds) when it was throttled."""

    verdict: Verdict
    retry_after: int | None = None


def _wait(tries: SourceTries, at: dt.datetime, settings: Settings) -> float:
    """Seconds the source must still wait before a try is checked (0: none)."""
    limits = settings.logins
    window = dt.timedelta(seconds=limits.window_seconds)
    if tries.count >= limits.source_limit and tries.oldest is not None:
        return (tries.oldest + window - at).total_seconds()
    if tries.count >= limits.delay_after and tries.latest is not None:
        return (tries.latest + _delay(tries.count, settings) - at).total_seconds()
    return 0.0


def _delay(failed: int, settings: Settings) -> dt.timedelta:
    """The wait after a source's ``failed``-th failed try (``failed >= delay_after``)."""
    limits = settings.logins
    steps = min(failed - limits.delay_after, 30)
    seconds = min(limits.delay_seconds * 2**steps, limits.max_delay_seconds)
    return dt.timedelta(seconds=seconds)


def attempt(
    store: CredentialStore,
    attempts: AttemptLog,
    reference: str,
    password: str | Secret,
    at: dt.datetime,
    settings: Settings | None = None,
    source: str | None = None,
    checks: Checks | None = None,
) -> Answer:
    """A debtor's login try from ``source`` (see :func:`source_key`): the source's limits,
    then :func:`~letters.credentials.verify` behind the lock of the (reference, source) pair.
    A try counts as wrong from before its checks start, so parallel tries cannot slip past
    the counts; tries while locked cost the same hashing work and do not extend the lock."""
    s = settings or get_settings()
    limits = s.logins
    window = dt.timedelta(seconds=limits.window_seconds)
    origin = source_key(source)
    key = ref.compact(reference) if ref.is_valid(reference) else ""
    handle = attempts.record(key, origin, at, Verdict.WRONG)
    wait = _wait(attempts.failed_since(origin, at - window, handle), at, s)
    if wait > 0:
        attempts.settle(handle, Verdict.THROTTLED)
        metrics.LOGINS.labels(str(Verdict.THROTTLED)).inc()
        return Answer(Verdict.THROTTLED, max(1, math.ceil(wait)))
    verdict = verify(store, reference, password, at, s, checks)
    wrong = attempts.wrong_since(key, origin, at - window) if key else 0
    outcome = Verdict.LOCKED if wrong > limits.lock_after else verdict
    attempts.settle(handle, outcome)
    metrics.LOGINS.labels(str(outcome)).inc()
    if outcome in FAILED:
        locks = key != "" and outcome is Verdict.WRONG and wrong == limits.lock_after
        _tell(key, origin, locks, attempts.failed_since(origin, at - window, None).count, s)
    return Answer(outcome)


def _tell(key: str, origin: str, locks: bool, failed: int, settings: Settings) -> None:
    """The operator's log lines: a pair locking (once, on the wrong try that locks it), a
    source slowed down (on each failed try past ``delay_after``) or refused (on the try that
    reaches ``source_limit``; the refused ones after it are only counted)."""
    limits = settings.logins
    minutes = limits.window_seconds // 60
    if locks:
        log.warning(
            "login locked: %s from source %s after %d wrong passwords in %d min; other "
            "sources are not affected",
            case_pseudonym(key, settings),
            origin,
            limits.lock_after,
            minutes,
        )
    if failed >= limits.source_limit:
        log.warning(
            "login source %s refused: %d failed tries in %d min (limit %d)",
            origin,
            failed,
            minutes,
            limits.source_limit,
        )
    elif failed >= limits.delay_after:
        log.warning(
            "login source %s slowed down: %d failed tries in %d min, the next waits %d s",
            origin,
            failed,
            minutes,
            _delay(failed, settings).total_seconds(),
        )


def login(
    store: CredentialStore,
    attempts: AttemptLog,
    reference: str,
    password: str | Secret,
    at: dt.datetime,
    settings: Settings | None = None,
    source: str | None = None,
) -> Verdict:
    """:func:`attempt`'s verdict alone."""
    return attempt(store, attempts, reference, password, at, settings, source).verdict


__all__ = [
    "FAILED",
    "LOCAL",
    "Answer",
    "AttemptLog",
    "MemoryAttemptLog",
    "SourceTries",
    "attempt",
    "login",
    "source_key",
]
