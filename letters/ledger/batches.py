"""Print batches in the ledger: letters join the one open batch; closing claims it.

At most one batch is open at a time (a unique ``open_slot``). Joining locks the open batch's
row (``FOR UPDATE`` on PostgreSQL; SQLite has one writer anyway) and closing moves it to
``closing`` with an update on that same row, so a letter either joined before the close took
its snapshot or lands in the next batch: never in a batch whose files are already written.
A letter joins one batch only, ever (its id is the primary key), so joining again returns
the batch it is in.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from letters.clock import now
from letters.ledger.db import Database
from letters.ledger.models import (
    AttemptRow,
    EventRow,
    JobRow,
    LetterRow,
    PrintBatchLetterRow,
    PrintBatchRow,
)
from letters.ledger.states import BatchStatus, JobStatus


def batch_id(sequence: int) -> str:
    """The batch's name, also its folder's name.

    >>> batch_id(42)
    'PB000042'
    """
    return f"PB{sequence:06d}"


def sort_key(postal_code: str, country: str) -> str:
    """Postal order: Norwegian addresses by postal code first, then addresses abroad by
    country and postal code (what the vendor's franking and Posten's sorting expect).

    >>> sorted([sort_key("11122", "SE"), sort_key("9990", "NO"), sort_key("0150", "NO")])
    ['0|0150', '0|9990', '1|SE|11122']
    """
    if country == "NO":
        return f"0|{postal_code}"
    return f"1|{country}|{postal_code.upper()}"[:40]


@dataclass(frozen=True)
class Joined:
    batch_id: str
    sequence: int
    new: bool  # False: the letter was in this batch already


@dataclass(frozen=True)
class BatchLetter:
    """One letter of a batch as the closer needs it, in postal order."""

    letter_id: str
    job_id: str
    reference: str
    page_count: int
    pdf_sha256: str
    payload: dict[str, Any]


class _ClosedMeanwhile(Exception):
    """The batch closed between finding it and joining it: join the next one."""


class Batches:
    def __init__(self, ledger: Database) -> None:
        self.ledger = ledger

    def join(self, letter_id: str, key: str, page_count: int) -> Joined:
        """Put a letter into the open batch (opening one if none is), or return the batch it
        is in already."""
        for attempt in range(8):
            try:
                return self._join(letter_id, key, page_count)
            except (IntegrityError, OperationalError, _ClosedMeanwhile):
                # two workers opened a batch at once, or SQLite's writer lock moved under us
                time.sleep(0.01 * (attempt + 1))
        return self._join(letter_id, key, page_count)

    def _join(self, letter_id: str, key: str, page_count: int) -> Joined:
        with self.ledger.session() as s:
            there = s.get(PrintBatchLetterRow, letter_id)
            if there is not None:
                batch = s.get(PrintBatchRow, there.batch_id)
                assert batch is not None
                return Joined(batch.id, batch.sequence, new=False)
            batch = s.scalar(
                select(PrintBatchRow)
                .where(PrintBatchRow.status == BatchStatus.OPEN)
                .with_for_update()
            )
            if batch is None:
                sequence = (s.scalar(select(func.max(PrintBatchRow.sequence))) or 0) + 1
                batch = PrintBatchRow(
                    id=batch_id(sequence),
                    sequence=sequence,
                    status=BatchStatus.OPEN,
                    open_slot=1,
                    opened_at=now(),
                    letters=0,
                    pages=0,
                    sheets=0,
                )
                s.add(batch)
                s.flush()
            s.add(
                PrintBatchLetterRow(
                    letter_id=letter_id,
                    batch_id=batch.id,
                    sort_key=key,
                    page_count=page_count,
                    joined_at=now(),
                )
            )
            s.flush()
            # The guard that holds on every database: inside this write transaction, the
            # batch must still be open (SQLite runs the SELECT above outside it).
            still_open = s.execute(
                update(PrintBatchRow)
                .where(PrintBatchRow.id == batch.id, PrintBatchRow.status == BatchStatus.OPEN)
                .values(letters=PrintBatchRow.letters + 1)
            )
            if not getattr(still_open, "rowcount", 0):
                raise _ClosedMeanwhile(batch.id)
            return Joined(batch.id, batch.sequence, new=True)

    def get(self, batch: str) -> PrintBatchRow | None:
        with self.ledger.session() as s:
            return s.get(PrintBatchRow, batch)

    def of_letter(self, letter_id: str) -> PrintBatchRow | None:
        with self.ledger.session() as s:
            row = s.get(PrintBatchLetterRow, letter_id)
            return s.get(PrintBatchRow, row.batch_id) if row else None

    def listing(self, limit: int = 50) -> list[PrintBatchRow]:
        """The newest batches first."""
        with self.ledger.session() as s:
            return list(
                s.scalars(
                    select(PrintBatchRow).order_by(PrintBatchRow.sequence.desc()).limit(limit)
                )
            )

    def waiting(self, *statuses: BatchStatus) -> list[PrintBatchRow]:
        with self.ledger.session() as s:
            return list(
                s.scalars(
                    select(PrintBatchRow)
                    .where(PrintBatchRow.status.in_(statuses))
                    .order_by(PrintBatchRow.sequence)
                )
            )

    def claim_close(self, batch: str | None = None) -> PrintBatchRow | None:
        """Move the open batch (or the named one, if open) to ``closing``. None if there is
        no such open batch. Waits for joins in progress (the row lock)."""
        with self.ledger.session() as s:
            query = select(PrintBatchRow).where(PrintBatchRow.status == BatchStatus.OPEN)
            if batch is not None:
                query = query.where(PrintBatchRow.id == batch)
            row = s.scalar(query.with_for_update())
            if row is None:
                return None
            at = now()
            claimed = s.execute(  # the status in the WHERE: two closers, one wins
                update(PrintBatchRow)
                .where(PrintBatchRow.id == row.id, PrintBatchRow.status == BatchStatus.OPEN)
                .values(status=BatchStatus.CLOSING, open_slot=None, closing_at=at, lease_at=at)
            )
            if not getattr(claimed, "rowcount", 0):
                return None
            s.expire(row)
            s.refresh(row)
            return row

    def claim_resume(self, batch: str, stale_after: dt.timedelta) -> bool:
        """Take over a batch left in ``closing`` whose writer stopped renewing its lease."""
        with self.ledger.session() as s:
            moved = s.execute(
                update(PrintBatchRow)
                .where(
                    PrintBatchRow.id == batch,
                    PrintBatchRow.status == BatchStatus.CLOSING,
                    (PrintBatchRow.lease_at.is_(None))
                    | (PrintBatchRow.lease_at < now() - stale_after),
                )
                .values(lease_at=now())
            )
            return bool(getattr(moved, "rowcount", 0))

    def leave_out(
        self, letter_id: str, job_id: str, reason: str, code: str = "print_batch"
    ) -> None:
        """A letter that cannot be printed leaves its batch, and its job fails with the
        reason and ``code`` (on the attempt and the job), in one transaction: it is neither
        printed nor shown as delivered."""
        at = now()
        with self.ledger.session() as s:
            s.execute(delete(PrintBatchLetterRow).where(PrintBatchLetterRow.letter_id == letter_id))
            s.add(
                AttemptRow(
                    letter_id=letter_id,
                    channel="print",
                    status="failed",
                    error_class="PermanentError",
                    error_code=code,
                    error=reason,
                    at=at,
                )
            )
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(
                    status=JobStatus.FAILED,
                    error_class="PermanentError:print_batch",
                    error_code=code,
                    error=reason,
                )
            )
            s.add(EventRow(job_id=job_id, at=at, event="print_failed", detail=reason))

    def release_lease(self, batch: str) -> None:
        """Give up the close of a batch in ``closing`` (it stopped: a full disk), so the next
        close takes it over at once instead of after the lease."""
        with self.ledger.session() as s:
            s.execute(
                update(PrintBatchRow)
                .where(PrintBatchRow.id == batch, PrintBatchRow.status == BatchStatus.CLOSING)
                .values(lease_at=None)
            )

    def renew(self, batch: str) -> None:
        with self.ledger.session() as s:
            s.execute(
                update(PrintBatchRow)
                .where(PrintBatchRow.id == batch, PrintBatchRow.status == BatchStatus.CLOSING)
                .values(lease_at=now())
            )

    def size(self, batch: str) -> int:
        """How many letters the batch holds."""
        with self.ledger.session() as s:
            count = select(func.count()).select_from(PrintBatchLetterRow)
            return int(s.scalar(count.where(PrintBatchLetterRow.batch_id == batch)) or 0)

    def letters(self, batch: str, chunk: int = 500) -> Iterator[BatchLetter]:
        """The batch's letters in postal order, read in chunks (a batch may hold tens of
        thousands: never all at once)."""
        after: tuple[str, str] | None = None
        while True:
            with self.ledger.session() as s:
                query = (
                    select(
                        PrintBatchLetterRow.sort_key,
                        LetterRow.id,
                        LetterRow.job_id,
                        LetterRow.reference,
                        LetterRow.page_count,
                        LetterRow.pdf_sha256,
                        JobRow.payload,
                    )
                    .join(LetterRow, LetterRow.id == PrintBatchLetterRow.letter_id)
                    .join(JobRow, JobRow.id == LetterRow.job_id)
                    .where(PrintBatchLetterRow.batch_id == batch)
                    .order_by(PrintBatchLetterRow.sort_key, LetterRow.id)
                    .limit(chunk)
                )
                if after is not None:
                    query = query.where(
                        (PrintBatchLetterRow.sort_key > after[0])
                        | ((PrintBatchLetterRow.sort_key == after[0]) & (LetterRow.id > after[1]))
                    )
                rows = s.execute(query).all()
            if not rows:
                return
            for _key, lid, job_id, ref, pages, sha, payload in rows:
                yield BatchLetter(lid, job_id, ref, pages, sha, payload)
            after = (rows[-1][0], rows[-1][1])

    def mark_closed(
        self, batch: str, letters: int, pages: int, sheets: int, folder: str, sums_sha256: str
    ) -> None:
        with self.ledger.session() as s:
            s.execute(
                update(PrintBatchRow)
                .where(PrintBatchRow.id == batch, PrintBatchRow.status == BatchStatus.CLOSING)
                .values(
                    status=BatchStatus.CLOSED,
                    closed_at=now(),
                    letters=letters,
                    pages=pages,
                    sheets=sheets,
                    folder=folder,
                    sums_sha256=sums_sha256,
                )
            )

    def mark_handed_off(self, batch: str, receipt: dict[str, Any]) -> None:
        with self.ledger.session() as s:
            s.execute(
                update(PrintBatchRow)
                .where(PrintBatchRow.id == batch, PrintBatchRow.status == BatchStatus.CLOSED)
                .values(status=BatchStatus.HANDED_OFF, handed_off_at=now(), handoff=receipt)
            )

    def opened_before(self, instant: dt.datetime) -> PrintBatchRow | None:
        """The open batch, if it was opened before ``instant`` (the daily cut-off)."""
        with self.ledger.session() as s:
            return s.scalar(
                select(PrintBatchRow).where(
                    PrintBatchRow.status == BatchStatus.OPEN, PrintBatchRow.opened_at < instant
                )
            )
