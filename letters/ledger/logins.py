"""Debtor logins, as :mod:`letters.credentials` and :mod:`letters.attempts` see them: the
credential store (the hash, lookup tag and expiry recorded with each letter) and the
attempt log behind the limits on failed tries, shared by every HTTP and CLI process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from letters.attempts import FAILED, AttemptLog, SourceTries
from letters.credentials import Credential, CredentialStore, Verdict
from letters.ledger.db import Database
from letters.ledger.models import LetterRow, LoginAttemptRow
from letters.numbers import reference as case_reference

#: At most this many untagged credentials of a case are read (letters.credentials checks
#: LEGACY_CHECKS of them).
_UNTAGGED_READ = 50


class LedgerCredentials(CredentialStore):
    """The credentials of every letter, read from the ledger (hash, tag and expiry only)."""

    def __init__(self, ledger: Database) -> None:
        self.ledger = ledger

    def add(self, credential: Credential) -> None:
        raise NotImplementedError("credentials are stored with their letter (record_letter)")

    def find(self, reference: str, tag: str) -> Credential | None:
        ref = case_reference.compact(reference)
        with self.ledger.session() as s:
            row = s.execute(
                select(LetterRow.password_hash, LetterRow.password_expires_at)
                .where(LetterRow.password_tag == tag, LetterRow.reference == ref)
                .order_by(LetterRow.password_expires_at.desc())
                .limit(1)
            ).first()
        return Credential(ref, row[0], row[1], tag) if row else None

    def untagged(self, reference: str) -> list[Credential]:
        ref = case_reference.compact(reference)
        with self.ledger.session() as s:
            rows = s.execute(
                select(LetterRow.password_hash, LetterRow.password_expires_at)
                .where(LetterRow.reference == ref, LetterRow.password_tag.is_(None))
                .order_by(LetterRow.created_at.desc())
                .limit(_UNTAGGED_READ)
            )
            return [Credential(ref, h, e) for h, e in rows]

    def legacy_until(self) -> dt.datetime | None:
        with self.ledger.session() as s:
            return s.scalar(  # one step down ix_letters_untagged_expiry
                select(LetterRow.password_expires_at)
                .where(LetterRow.password_tag.is_(None))
                .order_by(LetterRow.password_expires_at.desc())
                .limit(1)
            )


class LedgerAttemptLog(AttemptLog):
    """Login tries counted in the ledger, shared by every HTTP and CLI process."""

    def __init__(self, ledger: Database) -> None:
        self.ledger = ledger

    def record(self, reference: str, source: str, at: dt.datetime, outcome: Verdict) -> object:
        with self.ledger.session() as s:
            row = LoginAttemptRow(reference=reference, source=source, at=at, outcome=str(outcome))
            s.add(row)
            s.flush()
            return row.id

    def settle(self, handle: object, outcome: Verdict) -> None:
        with self.ledger.session() as s:
            s.execute(
                update(LoginAttemptRow)
                .where(LoginAttemptRow.id == handle)
                .values(outcome=str(outcome))
            )

    def wrong_since(self, reference: str, source: str, since: dt.datetime) -> int:
        with self.ledger.session() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(LoginAttemptRow)
                    .where(
                        LoginAttemptRow.reference == reference,
                        LoginAttemptRow.source == source,
                        LoginAttemptRow.at >= since,
                        LoginAttemptRow.outcome == str(Verdict.WRONG),
                    )
                )
                or 0
            )

    def failed_since(self, source: str, since: dt.datetime, besides: object) -> SourceTries:
        at = LoginAttemptRow.at
        query = select(func.count(), func.min(at), func.max(at)).where(
            LoginAttemptRow.source == source,
            at >= since,
            LoginAttemptRow.outcome.in_([str(v) for v in FAILED]),
        )
        if besides is not None:
            query = query.where(LoginAttemptRow.id != besides)
        with self.ledger.session() as s:
            count, oldest, latest = s.execute(query).one()
        return SourceTries(int(count or 0), oldest, latest)
