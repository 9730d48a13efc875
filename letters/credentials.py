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
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from letters import rules
from letters.numbers import password as pw
from letters.numbers import reference as ref
from letters.settings import Settings, get_settings


class Verdict(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WRONG = "wrong"


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
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=ZoneInfo(rules.OSLO))


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
    reference: str, letter_date: dt.date, settings: Settings | None = None
) -> tuple[Secret, Credential]:
    """A new password for a letter and the credential to store for it."""
    s = settings or get_settings()
    plain = pw.generate(s.password_length)
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
    def for_reference(self, reference: str) -> list[Credential]: ...


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
            return list(self._by_ref.get(ref.compact(reference), []))


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
    """Check a login: ``valid`` if the password belongs to a letter of this reference and
    has not expired at ``at``, ``expired`` if it belonged to one whose time has passed,
    else ``wrong``. An unknown reference costs one hash check like a known one."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    ph = hasher(settings)
    candidates: list[Credential | None] = [*store.for_reference(reference)] or [None]
    typed = pw.compact(password.reveal() if isinstance(password, Secret) else password)
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
            return Verdict.VALID
        verdict = Verdict.EXPIRED
    return verdict
