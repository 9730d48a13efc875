"""The workbench's people and their sign-in: names, roles, argon2id password hashes, and a
lockout after repeated failures (the same work is done whether the name exists or not)."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from letters.clock import now
from letters.codes import Code
from letters.ledger.reviews import SHIPPED, ReviewRefused, Reviews
from letters.ledger.store import Ledger
from letters.ledger.users import Role, User, Users

#: A user is locked for LOCK_FOR after LOCK_AFTER failed sign-ins in a row.
LOCK_AFTER = 5
LOCK_FOR = dt.timedelta(minutes=15)
MIN_PASSWORD = 12
_NAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # people choose these passwords: OWASP's argon2id minimum (19 MiB, 2 passes)
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024)


@lru_cache(maxsize=1)
def _dummy() -> str:
    return _hasher().hash("not a password of anyone's")


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name) or name == SHIPPED:
        raise ValueError(
            "a user name is 2–64 of a–z, 0–9, '.', '_' and '-', starting with a letter"
        )
    return name


def create(ledger: Ledger, name: str, role: Role, password: str, by: str) -> User:
    """A new user with ``role``; the password is kept only as an argon2id hash."""
    check_name(name)
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password is at least {MIN_PASSWORD} characters")
    if not Users(ledger).create(name, role, _hasher().hash(password)):
        raise ValueError(f"there is a user {name!r} already")
    Reviews(ledger).audit(by, "create-user", "user", name, f"role {role}")
    found = Users(ledger).get(name)
    assert found is not None
    return found[0]


def sign_in(ledger: Ledger, name: str, password: str) -> User:
    """The user, if the password is theirs; else :class:`ReviewRefused` (``sign-in-failed``
    for an unknown name or a wrong password alike, ``sign-in-locked`` while locked)."""
    users = Users(ledger)
    found = users.get(name)
    stored = found[1] if found else _dummy()
    ok: bool
    try:
        ok = _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        ok = False
    if found is None:
        raise ReviewRefused(Code.SIGN_IN_FAILED, "unknown user or wrong password")
    user = found[0]
    if user.locked_until is not None and user.locked_until > now():
        raise ReviewRefused(Code.SIGN_IN_LOCKED, "too many failed sign-ins: try again later")
    if not ok or user.disabled:
        users.failed(name, LOCK_AFTER, LOCK_FOR)
        raise ReviewRefused(Code.SIGN_IN_FAILED, "unknown user or wrong password")
    users.succeeded(name)
    return user
