"""Debtor logins, as :mod:`letters.credentials` sees them: the credential store (the hash
and expiry recorded with each letter) and the attempt log behind the lockout, shared by
every HTTP and CLI process."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update

from letters.credentials import AttemptLog, Credential, CredentialStore, Verdict
from letters.ledger.db import Database
from letters.ledger.models import LetterRow, LoginAttemptRow
from letters.numbers import reference as case_reference


class LedgerCredentials(CredentialStore):
    """The credentials of every letter, read from the ledger (hash and expiry only)."""

    def __init__(self, ledger: Database) -> None:
        self.ledger = ledger

    def add(self, credential: Credential) -> None:
        raise NotImplementedError("credentials are stored with their letter (record_letter)")

    def for_reference(self, reference: str) -> list[Credential]:
        ref = case_reference.compact(reference)
        with self.ledger.session() as s:
            rows = s.execute(
                select(LetterRow.password_hash, LetterRow.password_expires_at)
                .where(LetterRow.reference == ref)
                .order_by(LetterRow.created_at.desc())
            )
            return [Credential(ref, h, e) for h, e in rows]


class LedgerAttemptLog(AttemptLog):
    """Login tries counted in the ledger, shared by every HTTP and CLI process."""

    def __init__(self, ledger: Database) -> None:
        self.ledger = ledger

    def record(self, reference: str, at: dt.datetime, outcome: Verdict) -> object:
        with self.ledger.session() as s:
            row = LoginAttemptRow(reference=reference, at=at, outcome=str(outcome))
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

    def wrong_since(self, reference: str, since: dt.datetime) -> int:
        with self.ledger.session() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(LoginAttemptRow)
                    .where(
                        LoginAttemptRow.reference == reference,
                        LoginAttemptRow.at >= since,
                        LoginAttemptRow.outcome == str(Verdict.WRONG),
                    )
                )
                or 0
            )
