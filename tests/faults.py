"""The counts every fault test prints at its end, read from the ledger (and, where a test
has one, from the peer: what the SMTP server or the Digipost contract server received).

A fault test asserts on these and prints them, so a run of the suite with ``-s`` (or the
captured output of a failure) shows what the fault did::

    FAULT postgres-restart: jobs 40, letters 40, deliveries 40, duplicates 0, lost 0

``lost`` counts jobs that ended nowhere: still in progress at the end of the test, or a
letter without a settled delivery. ``duplicates`` counts letters handed over more than once
(more than one delivered attempt in the ledger, or more than one copy at the peer).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select

from letters.ledger import Ledger
from letters.ledger.models import AttemptRow, JobRow, LetterRow
from letters.ledger.states import IN_PROGRESS


@dataclass(frozen=True)
class Tally:
    name: str
    jobs: int
    letters: int
    deliveries: int
    duplicates: int
    lost: int
    by_status: dict[str, int]

    def line(self) -> str:
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.by_status.items()))
        return (
            f"FAULT {self.name}: jobs {self.jobs}, letters {self.letters}, deliveries "
            f"{self.deliveries}, duplicates {self.duplicates}, lost {self.lost} ({statuses})"
        )


def tally(name: str, ledger: Ledger, received: Iterable[str] | None = None) -> Tally:
    """Count what the ledger holds; ``received`` is what the peer got, one item per copy
    (message ids, document uuids, letter ids), to count duplicates at the peer too."""
    with ledger.session() as s:
        jobs = s.scalar(select(func.count()).select_from(JobRow)) or 0
        letters = s.scalar(select(func.count()).select_from(LetterRow)) or 0
        by_status = {
            str(status): n
            for status, n in s.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
        }
        delivered = Counter(
            s.scalars(select(AttemptRow.letter_id).where(AttemptRow.status == "delivered"))
        )
        in_progress = (
            s.scalar(select(func.count()).select_from(JobRow).where(JobRow.status.in_(IN_PROGRESS)))
            or 0
        )
    duplicates = sum(n - 1 for n in delivered.values() if n > 1)
    if received is not None:
        duplicates += sum(n - 1 for n in Counter(received).values() if n > 1)
    result = Tally(
        name=name,
        jobs=jobs,
        letters=letters,
        deliveries=len(delivered),
        duplicates=duplicates,
        lost=in_progress,
        by_status=by_status,
    )
    print(result.line())
    return result
