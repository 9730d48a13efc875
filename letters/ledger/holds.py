"""Holds on a case reference: no letter of a held case goes to a channel while one stands.

A case may be held several times (each reason is evidence); releasing it releases them all
and names the held jobs that may continue. Each hold, and each release that released one,
is written with its audit line (who, the case, the reason) in one transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from letters.clock import now
from letters.ledger.audit import record as audit_record
from letters.ledger.db import Database
from letters.ledger.models import EventRow, HoldRow, JobRow
from letters.ledger.states import UNFINISHED, JobStatus
from letters.numbers import reference as case_reference


def active(ref: str) -> tuple[Any, ...]:
    """The WHERE clause of the holds standing on the (compact) case reference ``ref``."""
    return (HoldRow.reference == ref, HoldRow.released_at.is_(None))


def standing_reason(s: Session, ref: str) -> str | None:
    """The reason of the first hold standing on the (compact) case reference, if any."""
    return s.scalar(select(HoldRow.reason).where(*active(ref)).order_by(HoldRow.id).limit(1))


class Holds(Database):
    def place_hold(self, reference: str, reason: str, *, by: str = "unnamed") -> bool:
        """Hold a case on the word of ``by``. False when it is already held (the reason is
        still recorded, and audited)."""
        ref = case_reference.compact(reference)
        with self.session() as s:
            standing = s.scalar(select(HoldRow).where(*active(ref)).limit(1))
            at = now()
            s.add(HoldRow(reference=ref, reason=reason, placed_at=at))
            audit_record(s, by, "hold", "case", ref, reason, at=at)
            if standing is not None:
                return False
        return True

    def release_hold(self, reference: str, reason: str, *, by: str = "unnamed") -> list[str]:
        """Release every active hold on a case on the word of ``by`` (audited when one was
        standing); returns the held job ids to continue."""
        ref = case_reference.compact(reference)
        at = now()
        with self.session() as s:
            released = s.execute(
                update(HoldRow).where(*active(ref)).values(released_at=at, release_reason=reason)
            )
            if getattr(released, "rowcount", 0):
                audit_record(s, by, "release", "case", ref, reason, at=at)
            held = list(
                s.scalars(
                    select(JobRow.id).where(
                        JobRow.reference == ref, JobRow.status == JobStatus.HELD
                    )
                )
            )
            for job_id in held:
                s.add(EventRow(job_id=job_id, at=at, event="released", detail=reason))
            return held

    def unfinished_jobs(self, reference: str) -> int:
        """How many jobs of the case are not yet delivered or failed: the letters a hold
        stops (it stops those that arrive later as well)."""
        from sqlalchemy import func

        ref = case_reference.compact(reference)
        with self.session() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(JobRow)
                    .where(JobRow.reference == ref, JobRow.status.in_(UNFINISHED))
                )
                or 0
            )

    def is_held(self, reference: str) -> bool:
        with self.session() as s:
            ref = case_reference.compact(reference)
            return s.scalar(select(HoldRow.id).where(*active(ref)).limit(1)) is not None

    def hold_reason(self, reference: str) -> str | None:
        """The reason of the first hold standing on the case, if any."""
        with self.session() as s:
            return standing_reason(s, case_reference.compact(reference))
