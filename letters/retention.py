"""Retention (``letters purge``): the letters, jobs and print batches of cases closed longer
than ``retention.days`` lose their personal data; the evidence stays.

Which cases are due and what is kept: :mod:`letters.ledger.retention`. The order makes a
crash harmless: **the ledger first**, in one transaction (jobs redacted, letters and print
batches marked purged, the run's audit line), **then the files** (the letters' PDFs in the
archive, the print-batch folders left with purged letters only). A crash between the two
leaves files the ledger already calls purged, never a letter that claims a PDF the archive
no longer has; the next purge (or its dry run, which lists them) removes what was left.
Running it again when nothing is due changes nothing, not even the audit log.

On SQLite the ledger overwrites what it deletes (``secure_delete``,
:mod:`letters.ledger.db`) and the purge checkpoints the write-ahead log, so the removed
data is gone from the file too. On PostgreSQL the old row versions stay in the table files
until ``VACUUM`` reuses their space (``VACUUM FULL jobs, job_events, delivery_attempts,
login_attempts`` rewrites them at once).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from letters.clock import OSLO, today_oslo
from letters.ledger.retention import Plan, apply, due_files, plan, purged_files
from letters.pipeline.runtime import Runtime

_BATCH_FOLDER = re.compile(r"PB\d{6}")
#: Two purges never run at once on PostgreSQL (one writer at a time on SQLite anyway).
_LOCK = 7305002


@dataclass(frozen=True)
class Survey:
    """What a purge does (dry run) or did: the ledger's plan, and the files that go."""

    plan: Plan
    pdfs: list[Path] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    #: of those, what an earlier purge left behind (interrupted after its commit)
    leftovers: int = 0

    @property
    def nothing(self) -> bool:
        return not (self.plan.cases or self.plan.batches or self.pdfs or self.folders)


def window(rt: Runtime) -> tuple[dt.datetime, dt.datetime | None]:
    """The cut-offs: a case closed before the first is due; an idle one (never closed, all
    done) whose last activity is before the second (None: idle cases are never due)."""
    retention = rt.settings.retention
    today = today_oslo(rt.settings)
    closed = dt.datetime.combine(today - dt.timedelta(days=retention.days), dt.time(), OSLO)
    if not retention.idle_cases:
        return closed, None
    return closed, closed - dt.timedelta(days=retention.idle_grace_days)


def _handed_off_only(rt: Runtime) -> bool:
    return rt.settings.printing.handoff.kind != "none"


def _files(rt: Runtime, digests: list[str], folders: list[str]) -> tuple[list[Path], list[Path]]:
    pdfs = [p for d in digests if (p := rt.archive.path_for(d)).exists()]
    batches = [p for f in folders if _BATCH_FOLDER.fullmatch((p := Path(f)).name) and p.is_dir()]
    return pdfs, batches


def survey(rt: Runtime) -> Survey:
    """What ``letters purge`` would remove now (the dry run): nothing is changed."""
    closed, idle = window(rt)
    with rt.ledger.session() as s:
        due = plan(s, closed, idle, handed_off_only=_handed_off_only(rt))
        going, folders = due_files(s, due)
        done_digests, done_folders = purged_files(s)
    pdfs, batch_folders = _files(rt, going, folders)
    old_pdfs, old_folders = _files(rt, done_digests, done_folders)
    return Survey(
        due,
        sorted({*pdfs, *old_pdfs}),
        sorted({*batch_folders, *old_folders}),
        leftovers=len(old_pdfs) + len(old_folders),
    )


def purge(rt: Runtime, by: str, reason: str) -> Survey:
    """Purge every case due now: the ledger first (one transaction with its audit line),
    then the files, with what an interrupted purge left. Returns what it removed."""
    closed, idle = window(rt)
    ledger = rt.ledger
    with ledger.session() as s:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
        due = plan(s, closed, idle, handed_off_only=_handed_off_only(rt))
        apply(s, due, by, reason, rt.settings.retention.days)
    with ledger.session() as s:
        digests, folders = purged_files(s)
    pdfs, batch_folders = _files(rt, digests, folders)
    for pdf in pdfs:
        pdf.unlink(missing_ok=True)
        for parent in (pdf.parent, pdf.parent.parent):  # the archive's empty fan-out folders
            with contextlib.suppress(OSError):
                parent.rmdir()
    for folder in batch_folders:
        shutil.rmtree(folder)
    ledger.checkpoint()
    return Survey(due, pdfs, batch_folders)
