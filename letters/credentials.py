"""Login credentials printed on letters: issue, store (hashed only) and verify.

A letter carries a fresh random password for its case reference. Only an argon2id hash and
the expiry instant are kept; :func:`verify` answers ``valid``, ``expired`` or ``wrong`` and
does the same hashing work whether the reference is known or not.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from letters import rules
from letters.clock import end_of_day_oslo
from letters.config import Settings, get_settings
from letters.numbers import password as pw
from letters.numbers import reference as ref


class Verdict(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WRONG = "wrong"
    LOCKED = "locked"


#: A reference is locked for LOCK_WINDOW after LOCK_AFTER wrong tries within LOCK_WINDOW.
LOCK_AFTER = 5
LOCK_WINDOW = dt.timedelta(minutes=15)
#: Every check costs this many argon2 verifications (real ones padded with dummies), so the
#: answer takes the same time whether the reference exists, has one letter or several.
CHECKS_PER_LOGIN = 4


@dataclass(frozen=True)
class Credential:
    """What is stored for one letter's password: never the password itself."""

    reference: str
    password_hash: str
    expires_at: dt.datetime  # aware; 23:59:59 Europe/Oslo on letter date + 21 days

    def __repr__(self) -> str:  # keep hashes out of logs and tracebacks
        return f"Credential(reference={self.reference!r}, expires_at={self.expires_at})"


def expiry_instant(letter_date: dt.date) -> dt.datetime:
    """The last instant the password works: 23:59:59 Oslo time, letter date + 21 days.

    >>> expiry_instant(dt.date(2026, 3, 10)).isoformat()
    '2026-03-31T23:59:59+02:00'
    """
    day = rules.password_expiry_date(letter_date)
    return end_of_day_oslo(day)


def hasher(settings: Settings | None = None) -> PasswordHasher:
    s = settings or get_settings()
    return PasswordHasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib)


class Secret:
    """A plaintext password that shows itself only when asked by name: not in ``str()``,
    f-strings, ``%s`` logging, reprs or tracebacks. The letter template calls
    :meth:`reveal`; nothing else should.

    >>> s = Secret('Ab3dEf4gHjK5')
    >>> repr(s), str(s), f'{s}', '%s' % s
    ("Secret('***')", "Secret('***')", "Secret('***')", "Secret('***')")
    >>> s.reveal()
    'Ab3dEf4gHjK5'
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


def issue(
    reference: str,
    letter_date: dt.date,
    settings: Settings | None = None,
    specimen: bool = False,
) -> tuple[Secret, Credential]:
    """A new password for a letter and the credential to store for it. ``specimen`` gives
    the same printed password every time, for proofs (their credentials are never stored)."""
    s = settings or get_settings()
    plain = pw.specimen(s.password_length) if specimen else pw.generate(s.password_length)
    cred = Credential(
        reference=ref.compact(reference),
        password_hash=hasher(s).hash(plain),
        expires_at=expiry_instant(letter_date),
    )
    return Secret(plain), cred


class CredentialStore(ABC):
    """Where credentials are kept. The ledger adds a database-backed store."""

    @abstractmethod
    def add(self, credential: Credential) -> None: ...

    @abstractmethod
    def for_reference(self, reference: str) -> list[Credential]:
        """The credentials of the case's letters, newest first."""


class MemoryCredentialStore(CredentialStore):
    """A process-local store (tests and one-off previews)."""

    def __init__(self) -> None:
        self._by_ref: dict[str, list[Credential]] = {}
        self._lock = threading.Lock()

    def add(self, credential: Credential) -> None:
        with self._lock:
            self._by_ref.setdefault(credential.reference, []).append(credential)

    def for_reference(self, reference: str) -> list[Credential]:
        with self._lock:
            return list(reversed(self._by_ref.get(ref.compact(reference), [])))


_DUMMY: dict[tuple[int, int], str] = {}


def _dummy_hash(ph: PasswordHasher) -> str:
    key = (ph.time_cost, ph.memory_cost)
    if key not in _DUMMY:
        _DUMMY[key] = ph.hash(pw.generate())
    return _DUMMY[key]


def verify(
    store: CredentialStore,
    reference: str,
    password: str | Secret,
    at: dt.datetime,
    settings: Settings | None = None,
) -> Verdict:
    """Check a login: ``valid`` if the password belongs to one of the case's recent letters
    and has not expired at ``at``, ``expired`` if it belonged to one whose time has passed,
    else ``wrong``. Always does :data:`CHECKS_PER_LOGIN` hash verifications."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    ph = hasher(settings)
    typed = pw.compact(password.reveal() if isinstance(password, Secret) else password)
    recent = store.for_reference(reference)[:CHECKS_PER_LOGIN] if ref.is_valid(reference) else []
    candidates: list[Credential | None] = [*recent]
    candidates += [None] * (CHECKS_PER_LOGIN - len(candidates))
    verdict = Verdict.WRONG
    for cred in candidates:
        stored = cred.password_hash if cred else _dummy_hash(ph)
        try:
            ph.verify(stored, typed)
        except (VerificationError, InvalidHashError):
            continue
        if cred is None:  # pragma: no cover - the dummy's password is never known
            continue
        if at <= cred.expires_at:
            verdict = Verdict.VALID
        elif verdict is Verdict.WRONG:
            verdict = Verdict.EXPIRED
    return verdict


class AttemptLog(ABC):
    """Where login tries are counted for the lockout (the ledger, or memory in tests)."""

    @abstractmethod
    def record(self, reference: str, at: dt.datetime, outcome: Verdict) -> object:
        """Record a try; returns a handle for :meth:`settle`."""

    @abstractmethod
    def settle(self, handle: object, outcome: Verdict) -> None:
        """Replace a recorded try's outcome once it is known."""

    @abstractmethod
    def wrong_since(self, reference: str, since: dt.datetime) -> int: ...


class MemoryAttemptLog(AttemptLog):
    def __init__(self) -> None:
        self._tries: list[tuple[str, dt.datetime, Verdict]] = []
        self._lock = threading.Lock()

    def record(self, reference: str, at: dt.datetime, outcome: Verdict) -> object:
        with self._lock:
            self._tries.append((reference, at, outcome))
            return len(self._tries) - 1

    def settle(self, handle: object, outcome: Verdict) -> None:
        assert isinstance(handle, int)
        with self._lock:
            reference, at, _ = self._tries[handle]
            self._tries[handle] = (reference, at, outcome)

    def wrong_since(self, reference: str, since: dt.datetime) -> int:
        with self._lock:
            return sum(
                1
                for r, at, o in self._tries
                if r == reference and at >= since and o is Verdict.WRONG
            )


def login(
    store: CredentialStore,
    attempts: AttemptLog,
    reference: str,
    password: str | Secret,
    at: dt.datetime,
    settings: Settings | None = None,
) -> Verdict:
    """A debtor's login try: :func:`verify`, behind the lockout. Five wrong tries on a
    reference within 15 minutes lock it for 15 minutes; tries while locked do not extend the
    lock, and cost the same hashing work as any other answer. A try counts as wrong from
    before its hashing starts, so parallel tries cannot slip past the count."""
    if not ref.is_valid(reference):  # nothing to look up or count; the same work all the same
        verify(store, "", password, at, settings)
        return Verdict.WRONG
    key = ref.compact(reference)
    handle = attempts.record(key, at, Verdict.WRONG)
    locked = attempts.wrong_since(key, at - LOCK_WINDOW) > LOCK_AFTER
    verdict = verify(store, reference, password, at, settings)
    outcome = Verdict.LOCKED if locked else verdict
    attempts.settle(handle, outcome)
    return outcome
