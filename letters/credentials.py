"""Login credentials printed on letters: issue, store (hashed only) and verify.

A letter carries a fresh random password for its case reference. Kept are a keyed hash, the
expiry instant and a lookup tag, both HMAC-SHA256 of reference and password under the login
key (a server secret, :func:`login_key`; two domains, so neither is the other), useless
without that key. :func:`verify` finds the one letter whose tag matches and verifies its
hash, or a dummy when none does: one verification per answer, whether the reference is
unknown, the password wrong, or it belongs to the newest or the ninth letter of the case. It
answers ``valid``, ``expired`` or ``wrong``; the limits on failed tries are
:mod:`letters.lockout`'s.

Why a keyed hash and not argon2: these passwords are not chosen by people but drawn at
random (12 characters of a 56-character alphabet, about 70 bits; at least 10, 58 bits). A
slow hash protects weak, reused secrets; for a random one, even a thief holding both the
ledger and the login key would need about 2^69 HMAC computations on average per password
(2^57 at the shortest length allowed): centuries of a GPU farm, for a letter valid 21 days.
Argon2 cost about 5 ms a letter to issue and bought nothing more. Letters issued before
keep their argon2id hashes (``$argon2id$…``), still verified as such.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import logging
import os
import secrets
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from letters import rules
from letters.clock import end_of_day_oslo
from letters.config import Settings, get_settings
from letters.numbers import password as pw
from letters.numbers import reference as ref

log = logging.getLogger(__name__)


class Verdict(enum.StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    WRONG = "wrong"
    LOCKED = "locked"
    #: refused before any check: the source has failed too often (:mod:`letters.lockout`)
    THROTTLED = "throttled"


#: Letters stored before lookup tags (ledger migration 0006) have none. While any of them
#: may still be live, every check also verifies this many of the case's untagged
#: credentials, padded with dummies: the same number for every reference, and none at all
#: once the last untagged password has expired (21 days after the upgrade).
LEGACY_CHECKS = 4


@dataclass(frozen=True)
class Credential:
    """What is stored for one letter's password: never the password itself."""

    reference: str
    #: ``hmac-sha256$…`` (:func:`keyed_hash`), or ``$argon2id$…`` for letters issued before
    password_hash: str
    expires_at: dt.datetime  # aware; 23:59:59 Europe/Oslo on letter date + 21 days
    #: HMAC-SHA256 of reference and password under the login key (:func:`password_tag`);
    #: None for letters stored before tags, and for specimens
    tag: str | None = None

    def __repr__(self) -> str:  # keep hashes and tags out of logs and tracebacks
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


_KEYS: dict[Path, bytes] = {}
_KEYS_LOCK = threading.Lock()
_KEY_BYTES = 32


class LoginKeyMissing(RuntimeError):
    """No login key where several machines may need the same one."""


def login_key(settings: Settings | None = None) -> bytes:
    """The server secret behind lookup tags and case pseudonyms: ``LETTERS_LOGINS__KEY``,
    else the key file (``LETTERS_LOGINS__KEY_FILE``), created the first time it is needed
    when the ledger is SQLite (one machine). With any other ledger the machines must share
    one key, so a missing key file is an error rather than a new key on each machine."""
    s = settings or get_settings()
    logins = s.logins
    if logins.key is not None:
        return logins.key.get_secret_value().encode()
    path = logins.key_file.resolve()
    with _KEYS_LOCK:
        if path not in _KEYS:
            _KEYS[path] = _read_or_create(path, create=s.database_url.startswith("sqlite"))
        return _KEYS[path]


def _read_or_create(path: Path, create: bool) -> bytes:
    try:
        if not create and not path.exists():
            raise LoginKeyMissing(
                f"no login key: set LETTERS_LOGINS__KEY (at least 32 characters, the same on "
                f"every machine of this ledger) or install the key file {path}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it this moment
            key = path.read_bytes().strip()
            if len(key) >= _KEY_BYTES:
                return key
            time.sleep(0.02)
        raise ValueError(f"the login key file {path} is shorter than {_KEY_BYTES} bytes") from None
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(_KEY_BYTES))
    log.warning(
        "created the login key %s: back it up apart from the ledger; on several machines "
        "set LETTERS_LOGINS__KEY (the same everywhere) instead",
        path,
    )
    return path.read_bytes().strip()


def _typed(password: str | Secret) -> bytes:
    plain = password.reveal() if isinstance(password, Secret) else password
    # surrogatepass: a lone surrogate in a JSON string is a wrong password, not an error
    return pw.compact(plain).encode("utf-8", "surrogatepass")


#: The scheme of the hashes stored for new letters (:func:`keyed_hash`).
KEYED = "hmac-sha256$"


def keyed_hash(reference: str, password: str | Secret, settings: Settings | None = None) -> str:
    """The stored hash of a letter's password: HMAC-SHA256 of reference and password under
    the login key, in a domain of its own (the lookup tag is another).

    >>> from letters.config import Logins, Settings
    >>> s = Settings(logins=Logins(key='k' * 32))
    >>> h = keyed_hash('AX-2026-100041', 'ABCD EFGH JKLM', s)
    >>> h.startswith('hmac-sha256$'), len(h), h == keyed_hash('ax-2026-100041', 'ABCDEFGHJKLM', s)
    (True, 76, True)
    >>> h == password_tag('AX-2026-100041', 'ABCD EFGH JKLM', s)
    False
    """
    case = ref.compact(reference).encode()
    message = b"letters-login-hash-v1\0" + case + b"\0" + _typed(password)
    return KEYED + hmac.new(login_key(settings), message, hashlib.sha256).hexdigest()


def password_tag(reference: str, password: str | Secret, settings: Settings | None = None) -> str:
    """The lookup tag of a password typed for ``reference`` (compacted first)."""
    message = b"letters-login-tag-v1\0" + ref.compact(reference).encode() + b"\0" + _typed(password)
    return hmac.new(login_key(settings), message, hashlib.sha256).hexdigest()


def case_pseudonym(reference: str, settings: Settings | None = None) -> str:
    """How log lines name a case: the same for every line about it, and not the reference
    printed on the letter (which is the debtor's login name).

    >>> from letters.config import Logins, Settings
    >>> s = Settings(logins=Logins(key='k' * 32))
    >>> case_pseudonym('ax-2026-100041', s) == case_pseudonym('AX-2026-100041', s)
    True
    >>> case_pseudonym('AX-2026-100041', s).startswith('case-'), len(case_pseudonym('AX-1', s))
    (True, 17)
    """
    message = b"letters-log-case-v1\0" + ref.compact(reference).encode()
    return "case-" + hmac.new(login_key(settings), message, hashlib.sha256).hexdigest()[:12]


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
        password_hash=keyed_hash(reference, plain, s),
        expires_at=expiry_instant(letter_date),
        tag=None if specimen else password_tag(reference, plain, s),
    )
    return Secret(plain), cred


class CredentialStore(ABC):
    """Where credentials are kept. The ledger adds a database-backed store."""

    @abstractmethod
    def add(self, credential: Credential) -> None: ...

    @abstractmethod
    def find(self, reference: str, tag: str) -> Credential | None:
        """The case's credential with this lookup tag (the latest to expire if several)."""

    @abstractmethod
    def untagged(self, reference: str) -> list[Credential]:
        """The case's credentials stored without a tag, newest first."""

    @abstractmethod
    def legacy_until(self) -> dt.datetime | None:
        """The last instant any untagged credential (of any case) is valid, if any."""


class MemoryCredentialStore(CredentialStore):
    """A process-local store (tests and one-off previews)."""

    def __init__(self) -> None:
        self._by_ref: dict[str, list[Credential]] = {}
        self._lock = threading.Lock()

    def add(self, credential: Credential) -> None:
        with self._lock:
            self._by_ref.setdefault(credential.reference, []).append(credential)

    def _of(self, reference: str) -> list[Credential]:
        with self._lock:
            return list(reversed(self._by_ref.get(ref.compact(reference), [])))

    def find(self, reference: str, tag: str) -> Credential | None:
        found = [c for c in self._of(reference) if c.tag is not None and c.tag == tag]
        return max(found, key=lambda c: c.expires_at) if found else None

    def untagged(self, reference: str) -> list[Credential]:
        return [c for c in self._of(reference) if c.tag is None]

    def legacy_until(self) -> dt.datetime | None:
        with self._lock:
            ends = [c.expires_at for cs in self._by_ref.values() for c in cs if c.tag is None]
        return max(ends, default=None)


_DUMMY: dict[tuple[int, int], str] = {}


class Checks:
    """The one door to password verification for logins, counting what passes through it:
    every answer must cost the same number (the tests count them here). A keyed hash is
    compared in constant time; an argon2id hash (a letter issued before keyed hashes, or a
    legacy one without a tag) is verified as argon2."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings or get_settings()
        self._ph = hasher(self._settings)
        self.verifications = 0
        self.argon2 = 0  # of which argon2: zero once every live letter has a keyed hash

    def matches(self, stored: Credential | None, password: str | Secret, argon2: bool) -> bool:
        """Whether ``password`` is that of credential ``stored`` (None: a dummy, whose
        password nobody knows, as costly as an argon2 check when ``argon2``)."""
        self.verifications += 1
        if stored is not None and stored.password_hash.startswith(KEYED):
            typed_hash = keyed_hash(stored.reference, password, self._settings)
            return hmac.compare_digest(typed_hash, stored.password_hash)
        if stored is None and not argon2:
            keyed_hash("", password, self._settings)  # the same work as a real comparison
            return False
        self.argon2 += 1
        try:
            hashed = stored.password_hash if stored else self._dummy()
            return bool(self._ph.verify(hashed, _typed(password))) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def _dummy(self) -> str:
        key = (self._ph.time_cost, self._ph.memory_cost)
        if key not in _DUMMY:
            _DUMMY[key] = self._ph.hash(pw.generate())
        return _DUMMY[key]


def verify(
    store: CredentialStore,
    reference: str,
    password: str | Secret,
    at: dt.datetime,
    settings: Settings | None = None,
    checks: Checks | None = None,
) -> Verdict:
    """Check a login: ``valid`` if the password belongs to one of the case's letters and has
    not expired at ``at``, ``expired`` if it belonged to one whose time has passed, else
    ``wrong``. Costs one verification (plus :data:`LEGACY_CHECKS` argon2 ones while untagged
    credentials may be live), whatever the reference and however many letters it has."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    s = settings or get_settings()
    checks = checks or Checks(s)
    key = ref.compact(reference) if ref.is_valid(reference) else ""
    # (credential or dummy, whether a dummy costs an argon2 check)
    candidates: list[tuple[Credential | None, bool]] = [
        (store.find(key, password_tag(key, password, s)), False)
    ]
    until = store.legacy_until()
    if until is not None and at <= until:  # the same for every reference at this instant
        old = store.untagged(key) if key else []
        live = [c for c in old if at <= c.expires_at]
        legacy = [*live, *(c for c in old if c not in live)][:LEGACY_CHECKS]
        candidates += [(c, True) for c in [*legacy, *[None] * (LEGACY_CHECKS - len(legacy))]]
    verdict = Verdict.WRONG
    for cred, argon2 in candidates:
        if not checks.matches(cred, password, argon2):
            continue
        assert cred is not None  # the dummy never matches
        if at <= cred.expires_at:
            verdict = Verdict.VALID
        elif verdict is Verdict.WRONG:
            verdict = Verdict.EXPIRED
    return verdict
