"""The ledger: source of truth for jobs, letters, delivery attempts and holds.

SQLite by default (one file, no server); PostgreSQL when several machines share the work.
Every write commits before anything is enqueued, so a lost broker message loses nothing:
the sweeper finds the job again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from letters.clock import OSLO, now
from letters.credentials import AttemptLog, Credential, CredentialStore, Verdict
from letters.job import Job, fingerprint
from letters.ledger.models import (
    ApiTokenRow,
    AttemptRow,
    EventRow,
    HoldRow,
    JobRow,
    LetterRow,
    LoginAttemptRow,
    PrintBatchLetterRow,
    PrintBatchRow,
)
from letters.numbers import letter_id as letter_ids
from letters.numbers import reference as case_reference

MIGRATIONS = Path(__file__).parent / "migrations"

ACCEPTED, RENDERED, DELIVERING = "accepted", "rendered", "delivering"
DELIVERED, HELD, FAILED = "delivered", "held", "failed"
FINAL = frozenset({DELIVERED, FAILED})
UNFINISHED = (ACCEPTED, RENDERED, DELIVERING, HELD)


@dataclass(frozen=True)
class Stage:
    job: JobRow | None
    letter: LetterRow | None
    hold: str | None  # the reason of the active hold on the case, if any
    attempts: list[dict[str, Any]]


class JobConflict(Exception):
    """The job id is known with different content; nothing was changed."""


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # hide_parameters: error text must never carry hashes, national ids or addresses
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


class Ledger:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def migrate(self) -> None:
        """Bring the schema up to date (alembic ``upgrade head``)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # several workers may start at once
                connection.execute(text("SELECT pg_advisory_xact_lock(7305001)"))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    # --- jobs -------------------------------------------------------------------------------

    def accept(self, job: Job, digest: str | None = None) -> tuple[JobRow, bool]:
        """Record a validated job. Returns the row and whether it is new. The same id with the
        same content (``digest``: the fingerprint of the job as sent) returns the existing
        row; with other content raises :class:`JobConflict`."""
        digest = digest or fingerprint(job)
        with self.session() as s:
            existing = s.get(JobRow, job.id)
            if existing is None:
                at = now()
                row = JobRow(
                    id=job.id,
                    content_sha256=digest,
                    payload=job.model_dump(mode="json"),
                    kind=job.kind,
                    reference=case_reference.compact(job.reference),
                    letter_id=letter_ids.calc(job.id),
                    status=ACCEPTED,
                    accepted_at=at,
                    updated_at=at,
                )
                s.add(row)
                s.add(EventRow(job_id=job.id, at=at, event="accepted", detail=None))
                try:
                    s.flush()
                except IntegrityError:
                    s.rollback()
                    return self._existing(job.id, digest), False
                return row, True
        return self._existing(job.id, digest), False

    def _existing(self, job_id: str, digest: str) -> JobRow:
        row = self.job(job_id)
        if row is None:  # pragma: no cover - only after a concurrent delete
            raise JobConflict(f"job {job_id} vanished")
        if row.content_sha256 != digest:
            raise JobConflict(
                f"job {job_id} was already accepted with different content; "
                "send a new job id for a changed letter"
            )
        return row

    def job(self, job_id: str) -> JobRow | None:
        with self.session() as s:
            return s.get(JobRow, job_id)

    def job_by_letter(self, letter: str) -> JobRow | None:
        with self.session() as s:
            return s.scalar(select(JobRow).where(JobRow.letter_id == letter))

    def set_status(
        self,
        job_id: str,
        status: str,
        event_name: str,
        detail: str | None = None,
        error_class: str | None = None,
        allowed_from: tuple[str, ...] = UNFINISHED,
    ) -> bool:
        """Move a job to ``status`` if it is in one of ``allowed_from`` (never out of a final
        status: a late duplicate cannot turn ``delivered`` into ``failed``). True if moved."""
        at = now()
        with self.session() as s:
            values: dict[str, Any] = {"status": status, "updated_at": at}
            if status == FAILED:
                values |= {"error_class": error_class, "error": detail}
            moved = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(allowed_from))
                .values(**values)
            )
            if not getattr(moved, "rowcount", 0):
                return False
            s.add(EventRow(job_id=job_id, at=at, event=event_name, detail=detail))
        return True

    def claim_delivery(self, job_id: str, event: tuple[str, str] | None = None) -> bool:
        """Take a rendered job for delivery; False if another worker has it or it is done.
        ``event`` (name, detail) is recorded with the claim, in the same transaction."""
        with self.session() as s:
            at = now()
            claimed = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == RENDERED)
                .values(status=DELIVERING, updated_at=at)
            )
            if not getattr(claimed, "rowcount", 0):
                return False
            if event is not None:
                s.add(EventRow(job_id=job_id, at=at, event=event[0], detail=event[1]))
            return True

    def stage(self, job_id: str) -> Stage:
        """What a pipeline stage needs to decide, read in one transaction: the job, its
        letter, the active hold on its case and the letter's delivery attempts."""
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                return Stage(None, None, None, [])
            letter = s.scalar(select(LetterRow).where(LetterRow.job_id == job_id))
            hold = s.scalar(
                select(HoldRow.reason)
                .where(*self._active(case_reference.compact(job.reference)))
                .order_by(HoldRow.id)
                .limit(1)
            )
            attempts = [] if letter is None else self._attempts(s, letter.id)
            return Stage(job, letter, hold, attempts)

    def release_delivery(self, job_id: str) -> None:
        """Give a claimed job back (a transient failure: a retry will claim it again)."""
        with self.session() as s:
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == DELIVERING)
                .values(status=RENDERED, updated_at=now())
            )

    def finish_delivery(self, job_id: str, attempt: AttemptRow, detail: str) -> None:
        """Record the delivered attempt and the job's new status in one transaction."""
        at = now()
        with self.session() as s:
            s.add(attempt)
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status.in_(UNFINISHED))
                .values(status=DELIVERED, updated_at=at)
            )
            s.add(EventRow(job_id=job_id, at=at, event="delivered", detail=detail))

    def add_event(self, job_id: str, event_name: str, detail: str | None = None) -> None:
        with self.session() as s:
            s.add(EventRow(job_id=job_id, at=now(), event=event_name, detail=detail))

    def stale(self, older_than: dt.timedelta, limit: int = 1000) -> list[str]:
        """Jobs not yet finished and not held whose last progress is older than ``older_than``."""
        cutoff = now() - older_than
        with self.session() as s:
            rows = s.scalars(
                select(JobRow.id)
                .where(
                    JobRow.status.in_([ACCEPTED, RENDERED, DELIVERING]), JobRow.updated_at < cutoff
                )
                .order_by(JobRow.updated_at)
                .limit(limit)
            )
            return list(rows)

    def claim_stale(self, older_than: dt.timedelta, limit: int = 1000) -> list[str]:
        """Stale jobs, each claimed by exactly one sweeper (its ``updated_at`` moves on in the
        same statement); a delivery that died midway goes back to ``rendered``. Jobs held
        with no active hold left (a release that crossed a hold) are resumed too."""
        cutoff = now() - older_than
        at = now()
        claimed: list[str] = []
        for job_id in self.stale(older_than, limit):
            with self.session() as s:
                row = s.execute(
                    update(JobRow)
                    .where(
                        JobRow.id == job_id,
                        JobRow.updated_at < cutoff,
                        JobRow.status.in_([ACCEPTED, RENDERED, DELIVERING]),
                    )
                    .values(updated_at=at)
                    .returning(JobRow.status)
                ).first()
                if row is None:
                    continue
                if row[0] == DELIVERING:
                    s.execute(update(JobRow).where(JobRow.id == job_id).values(status=RENDERED))
                claimed.append(job_id)
        with self.session() as s:
            orphans = s.scalars(
                select(JobRow.id).where(
                    JobRow.status == HELD,
                    JobRow.updated_at < cutoff,
                    ~select(HoldRow.id)
                    .where(HoldRow.reference == JobRow.reference, HoldRow.released_at.is_(None))
                    .exists(),
                )
            ).all()
        for job_id in orphans:
            resumed = RENDERED if self.letter_for_job(job_id) else ACCEPTED
            if self.set_status(
                job_id, resumed, "resumed", "held with no active hold", allowed_from=(HELD,)
            ):
                claimed.append(job_id)
        return claimed

    def touch(self, job_ids: list[str]) -> None:
        with self.session() as s:
            s.execute(update(JobRow).where(JobRow.id.in_(job_ids)).values(updated_at=now()))

    def statuses(self, job_ids: list[str]) -> dict[str, str]:
        """The status of each of ``job_ids`` (read in chunks)."""
        out: dict[str, str] = {}
        with self.session() as s:
            for i in range(0, len(job_ids), 500):
                chunk = job_ids[i : i + 500]
                rows = s.execute(select(JobRow.id, JobRow.status).where(JobRow.id.in_(chunk)))
                out.update({job_id: status for job_id, status in rows})
        return out

    def oldest_unfinished(self) -> dt.datetime | None:
        with self.session() as s:
            return s.scalar(
                select(func.min(JobRow.accepted_at)).where(
                    JobRow.status.in_([ACCEPTED, RENDERED, DELIVERING])
                )
            )

    def counts(self) -> dict[str, int]:
        with self.session() as s:
            rows = s.execute(select(JobRow.status, func.count()).group_by(JobRow.status))
            return {status: n for status, n in rows}

    # --- letters ----------------------------------------------------------------------------

    def record_letter(self, row: LetterRow) -> bool:
        """Store the letter of a job. False (and nothing changed) if the job has one already."""
        try:
            with self.session() as s:
                if s.scalar(select(LetterRow.id).where(LetterRow.job_id == row.job_id)):
                    return False
                s.add(row)
                s.flush()
                at = row.created_at
                s.execute(
                    update(JobRow)
                    .where(JobRow.id == row.job_id)
                    .values(status=RENDERED, updated_at=at)
                )
                s.add(
                    EventRow(
                        job_id=row.job_id,
                        at=at,
                        event="rendered",
                        detail=f"{row.template_name} v{row.template_version} by {row.renderer}, "
                        f"{row.page_count} page(s), pdf {row.pdf_sha256[:12]}",
                    )
                )
        except IntegrityError:
            return False
        return True

    def letter(self, letter: str) -> LetterRow | None:
        with self.session() as s:
            return s.get(LetterRow, letter)

    def letter_for_job(self, job_id: str) -> LetterRow | None:
        with self.session() as s:
            return s.scalar(select(LetterRow).where(LetterRow.job_id == job_id))

    @staticmethod
    def _attempts(s: Session, letter_id: str) -> list[dict[str, Any]]:
        """A letter's delivery attempts, oldest first (what the deliver stage needs)."""
        rows = s.execute(
            select(
                AttemptRow.channel,
                AttemptRow.status,
                AttemptRow.error_class,
                AttemptRow.external_id,
            )
            .where(AttemptRow.letter_id == letter_id)
            .order_by(AttemptRow.id)
        )
        return [
            {"channel": c, "status": st, "error_class": e, "external_id": x} for c, st, e, x in rows
        ]

    def record_attempt(self, attempt: AttemptRow) -> None:
        with self.session() as s:
            s.add(attempt)

    # --- holds ------------------------------------------------------------------------------

    def place_hold(self, reference: str, reason: str) -> bool:
        """Hold a case. False when it is already held (the reason is still recorded)."""
        ref = case_reference.compact(reference)
        with self.session() as s:
            active = s.scalar(select(HoldRow).where(*self._active(ref)))
            s.add(HoldRow(reference=ref, reason=reason, placed_at=now()))
            if active is not None:
                return False
        return True

    def release_hold(self, reference: str, reason: str) -> list[str]:
        """Release every active hold on a case; returns the held job ids to continue."""
        ref = case_reference.compact(reference)
        at = now()
        with self.session() as s:
            s.execute(
                update(HoldRow)
                .where(*self._active(ref))
                .values(released_at=at, release_reason=reason)
            )
            held = list(
                s.scalars(select(JobRow.id).where(JobRow.reference == ref, JobRow.status == HELD))
            )
            for job_id in held:
                s.add(EventRow(job_id=job_id, at=at, event="released", detail=reason))
            return held

    def is_held(self, reference: str) -> bool:
        with self.session() as s:
            ref = case_reference.compact(reference)
            return s.scalar(select(HoldRow.id).where(*self._active(ref)).limit(1)) is not None

    def hold_reason(self, reference: str) -> str | None:
        with self.session() as s:
            ref = case_reference.compact(reference)
            return s.scalar(
                select(HoldRow.reason).where(*self._active(ref)).order_by(HoldRow.id).limit(1)
            )

    @staticmethod
    def _active(ref: str) -> tuple[Any, ...]:
        return (HoldRow.reference == ref, HoldRow.released_at.is_(None))

    # --- evidence ---------------------------------------------------------------------------

    def history(self, job_id: str) -> dict[str, Any] | None:
        """Everything known about a job, for ``letters status``."""
        with self.session() as s:
            job = s.get(JobRow, job_id)
            if job is None:
                return None
            letter = s.scalar(select(LetterRow).where(LetterRow.job_id == job_id))
            holds = s.scalars(
                select(HoldRow).where(HoldRow.reference == job.reference).order_by(HoldRow.id)
            )
            out: dict[str, Any] = {
                "job": {
                    "id": job.id,
                    "kind": job.kind,
                    "reference": job.reference,
                    "status": job.status,
                    "letter_id": job.letter_id,
                    "content_sha256": job.content_sha256,
                    "accepted_at": _iso(job.accepted_at),
                    "error_class": job.error_class,
                    "error": job.error,
                },
                "events": [
                    {"at": _iso(e.at), "event": e.event, "detail": e.detail} for e in job.events
                ],
                "letter": None,
                "attempts": [],
                "holds": [
                    {
                        "reason": h.reason,
                        "placed_at": _iso(h.placed_at),
                        "released_at": _iso(h.released_at),
                        "release_reason": h.release_reason,
                    }
                    for h in holds
                ],
            }
            if letter is not None:
                out["letter"] = {
                    "id": letter.id,
                    "template": letter.template_name,
                    "template_version": letter.template_version,
                    "template_sha256": letter.template_sha256,
                    "renderer": letter.renderer,
                    "kid": letter.kid,
                    "due_date": letter.due_date.isoformat(),
                    "password_expires_at": _iso(letter.password_expires_at, OSLO),
                    "pdf_sha256": letter.pdf_sha256,
                    "pages": letter.page_count,
                    "archive_path": letter.archive_path,
                    "created_at": _iso(letter.created_at),
                }
                out["attempts"] = [
                    {
                        "at": _iso(a.at),
                        "channel": a.channel,
                        "status": a.status,
                        "external_id": a.external_id,
                        "receipt": a.receipt,
                        "error_class": a.error_class,
                        "error_code": a.error_code,
                        "error": a.error,
                    }
                    for a in letter.attempts
                ]
                member = s.get(PrintBatchLetterRow, letter.id)
                batch = s.get(PrintBatchRow, member.batch_id) if member else None
                if batch is not None:
                    out["print_batch"] = {
                        "id": batch.id,
                        "status": batch.status,
                        "joined_at": _iso(member.joined_at) if member else None,
                        "closed_at": _iso(batch.closed_at),
                        "handed_off_at": _iso(batch.handed_off_at),
                        "folder": batch.folder,
                    }
            return out

    def overview(self) -> dict[str, Any]:
        """Jobs by status, deliveries by channel and the newest print batches."""
        with self.session() as s:
            jobs = dict(
                s.execute(select(JobRow.status, func.count()).group_by(JobRow.status)).all()
            )
            channels = dict(
                s.execute(
                    select(AttemptRow.channel, func.count())
                    .where(AttemptRow.status == "delivered")
                    .group_by(AttemptRow.channel)
                ).all()
            )
            batches = s.scalars(
                select(PrintBatchRow).order_by(PrintBatchRow.sequence.desc()).limit(10)
            )
            members = dict(
                s.execute(
                    select(PrintBatchLetterRow.batch_id, func.count()).group_by(
                        PrintBatchLetterRow.batch_id
                    )
                ).all()
            )
            return {
                "jobs": jobs,
                "delivered_by_channel": channels,
                "print_batches": [
                    {
                        "id": b.id,
                        "status": b.status,
                        "letters": members.get(b.id, 0),
                        "pages": b.pages,
                        "sheets": b.sheets,
                        "opened_at": _iso(b.opened_at),
                        "closed_at": _iso(b.closed_at),
                        "handed_off_at": _iso(b.handed_off_at),
                        "folder": b.folder,
                    }
                    for b in batches
                ],
            }


def _iso(value: dt.datetime | None, zone: dt.tzinfo | None = None) -> str | None:
    if value is None:
        return None
    return (value.astimezone(zone) if zone else value).isoformat()


class LedgerCredentials(CredentialStore):
    """The credentials of every letter, read from the ledger (hash and expiry only)."""

    def __init__(self, ledger: Ledger) -> None:
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

    def __init__(self, ledger: Ledger) -> None:
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


SCOPES = frozenset({"submit", "read", "hold", "verify"})


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ledger: Ledger, name: str, scopes: set[str]) -> str:
    """A new API token; only its SHA-256 is stored (it is 256 random bits, so a fast hash
    is enough). The plaintext is returned once, to be handed to the upstream team."""
    unknown = scopes - SCOPES
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(sorted(SCOPES))}")
    token = "lt_" + secrets.token_urlsafe(32)
    with ledger.session() as s:
        # a revoked token keeps its row (evidence) under another name, freeing its name
        for old in s.scalars(
            select(ApiTokenRow).where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_not(None))
        ):
            old.name = f"{name[:40]}~revoked~{old.id}"
        s.flush()
        s.add(
            ApiTokenRow(
                name=name,
                token_sha256=_token_digest(token),
                scopes=" ".join(sorted(scopes)),
                created_at=now(),
            )
        )
    return token


def token_scopes(ledger: Ledger, token: str) -> frozenset[str] | None:
    """The scopes of a live token, or None for an unknown or revoked one."""
    with ledger.session() as s:
        row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == _token_digest(token)))
        if row is None or row.revoked_at is not None:
            return None
        return frozenset(row.scopes.split())


def revoke_token(ledger: Ledger, name: str) -> bool:
    with ledger.session() as s:
        result = s.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=now())
        )
        return bool(getattr(result, "rowcount", 0))
