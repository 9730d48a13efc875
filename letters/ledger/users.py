"""The workbench's people: authors, reviewers and admins, with an argon2id hash of the
password each chose and a lockout after repeated failed sign-ins."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from letters.clock import now
from letters.ledger.db import Database
from letters.ledger.models import ReviewSessionRow, UserRow
from letters.names import Role as Role  # kept here too, with the users


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    locked_until: dt.datetime | None
    disabled: bool

    def may_review(self) -> bool:
        return self.role in (Role.REVIEWER, Role.ADMIN) and not self.disabled


class Users:
    def __init__(self, ledger: Database) -> None:
        self.ledger = ledger

    def create(self, name: str, role: Role, password_hash: str) -> bool:
        """A new user; False if the name is taken."""
        with self.ledger.session() as s:
            if s.get(UserRow, name) is not None:
                return False
            s.add(
                UserRow(
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    created_at=now(),
                    failed_logins=0,
                )
            )
            return True

    def get(self, name: str) -> tuple[User, str] | None:
        """The user and their password hash."""
        with self.ledger.session() as s:
            row = s.get(UserRow, name)
            if row is None:
                return None
            return _user(row), row.password_hash

    def all(self) -> list[User]:
        with self.ledger.session() as s:
            return [_user(r) for r in s.scalars(select(UserRow).order_by(UserRow.name))]

    def failed(self, name: str, lock_after: int, lock_for: dt.timedelta) -> bool:
        """Count a failed sign-in; True when that locked the user."""
        with self.ledger.session() as s:
            row = s.get(UserRow, name, with_for_update=True)
            if row is None:
                return False
            row.failed_logins += 1
            if row.failed_logins >= lock_after:
                row.locked_until, row.failed_logins = now() + lock_for, 0
                return True
            return False

    def succeeded(self, name: str) -> None:
        with self.ledger.session() as s:
            row = s.get(UserRow, name, with_for_update=True)
            if row is not None:
                row.failed_logins, row.locked_until = 0, None

    def set_password(self, name: str, password_hash: str) -> bool:
        with self.ledger.session() as s:
            row = s.get(UserRow, name, with_for_update=True)
            if row is None:
                return False
            row.password_hash = password_hash
            return True


def _user(row: UserRow) -> User:
    return User(row.name, Role(row.role), row.locked_until, row.disabled_at is not None)


class Sessions:
    """Sign-in sessions of the review page (the cookie's SHA-256 is the key)."""

    def __init__(self, ledger: Database) -> None:
        self.ledger = ledger

    def open(self, user: str) -> tuple[str, str]:
        """A new session for ``user``: the cookie value and the form (CSRF) token."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        at = now()
        with self.ledger.session() as s:
            s.add(
                ReviewSessionRow(
                    token_sha256=_digest(token), user=user, csrf=csrf, created_at=at, last_seen=at
                )
            )
        return token, csrf

    def find(self, token: str, idle: dt.timedelta) -> tuple[str, str] | None:
        """(user, csrf token) of a live session, which this use keeps alive; None when it is
        unknown or idle for longer than ``idle`` (then it is closed)."""
        with self.ledger.session() as s:
            row = s.get(ReviewSessionRow, _digest(token), with_for_update=True)
            if row is None:
                return None
            if now() - row.last_seen > idle:
                s.delete(row)
                return None
            row.last_seen = now()
            return row.user, row.csrf

    def close(self, token: str) -> None:
        with self.ledger.session() as s:
            row = s.get(ReviewSessionRow, _digest(token))
            if row is not None:
                s.delete(row)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
