"""Closed cases: upstream (or an operator) says a case is over (paid, withdrawn, sent to
court), and from then on its retention period runs (:mod:`letters.retention`).

A case has at most one standing closure: closing a closed case changes nothing (the first
closure's time stands); reopening it records who and why on that closure. Every change is
written with its audit line in one transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from letters.clock import now
from letters.ledger.audit import record as audit_record
from letters.ledger.db import Database
from letters.ledger.models import CaseClosureRow
from letters.ledger.views import CaseClosure
from letters.numbers import reference as case_reference


def standing_closure(s: Session, ref: str) -> CaseClosureRow | None:
    """The closure standing on the (compact) case reference, if any."""
    return s.scalar(
        select(CaseClosureRow)
        .where(CaseClosureRow.reference == ref, CaseClosureRow.reopened_at.is_(None))
        .order_by(CaseClosureRow.id)
        .limit(1)
    )


def closure_view(row: CaseClosureRow) -> CaseClosure:
    return CaseClosure(closed_at=row.closed_at, closed_by=row.closed_by, reason=row.reason)


class Cases(Database):
    def close_case(self, reference: str, by: str, reason: str) -> tuple[CaseClosure, bool]:
        """Close a case. Returns its standing closure and whether this call made it (False:
        it was closed already, and nothing changed)."""
        ref = case_reference.compact(reference)
        with self.session() as s:
            standing = standing_closure(s, ref)
            if standing is not None:
                return closure_view(standing), False
            row = CaseClosureRow(reference=ref, closed_at=now(), closed_by=by[:64], reason=reason)
            s.add(row)
            audit_record(s, by, "close-case", "case", ref, reason, at=row.closed_at)
            return closure_view(row), True

    def reopen_case(self, reference: str, by: str, reason: str) -> bool:
        """Reopen a closed case (its retention clock stops). False: it was not closed."""
        ref = case_reference.compact(reference)
        with self.session() as s:
            standing = standing_closure(s, ref)
            if standing is None:
                return False
            standing.reopened_at = now()
            standing.reopened_by = by[:64]
            standing.reopen_reason = reason
            audit_record(s, by, "reopen-case", "case", ref, reason, at=standing.reopened_at)
            return True

    def closure(self, reference: str) -> CaseClosure | None:
        """The closure standing on the case, if any."""
        with self.session() as s:
            row = standing_closure(s, case_reference.compact(reference))
            return None if row is None else closure_view(row)
