"""The ledger on SQLite and PostgreSQL: idempotent intake, one letter per job, holds,
credentials and the evidence trail."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest

from letters.credentials import Verdict, verify
from letters.job import parse
from letters.ledger import JobConflict, JobStatus, Ledger, LedgerCredentials
from letters.ledger.models import LetterRow
from tests.conftest import load_job


@pytest.fixture
def ledger(database_url: str) -> Ledger:
    ledger = Ledger(database_url)
    ledger.migrate()
    ledger.migrate()  # a second upgrade is a no-op
    return ledger


def _letter(job_id: str, reference: str, password_hash: str = "h") -> LetterRow:
    now = dt.datetime.now(dt.UTC)
    return LetterRow(
        id=f"{abs(hash(job_id)) % 10**20:020d}",
        job_id=job_id,
        kind="reminder",
        language="nb",
        template_name="reminder.nb.html",
        template_version="1.0",
        template_sha256="0" * 64,
        renderer="weasyprint",
        kid="123456782",
        reference=reference,
        due_date=dt.date(2026, 12, 4),
        password_hash=password_hash,
        password_expires_at=dt.datetime(
            2026, 12, 11, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=1))
        ),
        pdf_sha256="a" * 64,
        page_count=1,
        archive_path="x",
        created_at=now,
    )


def test_same_job_twice_is_one_job(ledger: Ledger, job: dict[str, Any]) -> None:
    first, created = ledger.accept(parse(job))
    again, created_again = ledger.accept(parse(job))
    assert created and not created_again
    assert first.letter_id == again.letter_id
    assert ledger.job(job["id"]).status == JobStatus.ACCEPTED  # type: ignore[union-attr]


def test_same_id_other_content_is_refused_and_nothing_changes(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    ledger.accept(parse(job))
    changed = dict(job, reference="AX-2026-999999")
    with pytest.raises(JobConflict, match="different content"):
        ledger.accept(parse(changed))
    assert ledger.job(job["id"]).reference == "AX-2026-100041"  # type: ignore[union-attr]


def test_one_letter_per_job_even_when_two_renders_race(ledger: Ledger, job: dict[str, Any]) -> None:
    ledger.accept(parse(job))
    results: list[bool] = []
    barrier = threading.Barrier(4)

    def record(i: int) -> None:
        barrier.wait()
        row = _letter(job["id"], "AX-2026-100041")
        row.id = f"{i:020d}"
        results.append(ledger.record_letter(row))

    threads = [threading.Thread(target=record, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    history = ledger.history(job["id"])
    assert history is not None
    assert [e["event"] for e in history["events"]] == ["accepted", "rendered"]


def test_instants_keep_their_meaning(ledger: Ledger, job: dict[str, Any]) -> None:
    ledger.accept(parse(job))
    ledger.record_letter(_letter(job["id"], "AX-2026-100041"))
    stored = ledger.letter_for_job(job["id"])
    assert stored is not None
    assert stored.password_expires_at == dt.datetime(2026, 12, 11, 22, 59, 59, tzinfo=dt.UTC)
    history = ledger.history(job["id"])
    assert history is not None
    assert history["letter"]["password_expires_at"] == "2026-12-11T23:59:59+01:00"


def test_holds_are_recorded_with_reasons(ledger: Ledger, job: dict[str, Any]) -> None:
    ledger.accept(parse(job))
    assert not ledger.is_held("AX-2026-100041")
    assert ledger.place_hold("ax-2026-100041", "debtor disputes the claim")
    assert not ledger.place_hold("AX-2026-100041", "payment reported")
    assert ledger.is_held("AX-2026-100041")
    ledger.set_status(job["id"], JobStatus.HELD, "held", "debtor disputes the claim")
    assert ledger.release_hold("AX-2026-100041", "creditor confirmed") == [job["id"]]
    assert not ledger.is_held("AX-2026-100041")
    history = ledger.history(job["id"])
    assert history is not None
    assert [h["reason"] for h in history["holds"]] == [
        "debtor disputes the claim",
        "payment reported",
    ]
    assert all(h["release_reason"] == "creditor confirmed" for h in history["holds"])


def test_stale_jobs_are_found_for_the_sweeper(ledger: Ledger, job: dict[str, Any]) -> None:
    ledger.accept(parse(job))
    assert ledger.stale(dt.timedelta(hours=1)) == []
    assert ledger.stale(dt.timedelta(seconds=-1)) == [job["id"]]
    ledger.set_status(job["id"], JobStatus.HELD, "held")
    assert ledger.stale(dt.timedelta(seconds=-1)) == []


def test_credentials_are_verified_against_the_ledger(ledger: Ledger) -> None:
    from letters import credentials

    job = load_job("reminder.en")
    ledger.accept(parse(job))
    secret, cred = credentials.issue(job["reference"], dt.date(2026, 11, 20))
    ledger.record_letter(_letter(job["id"], cred.reference, cred.password_hash))
    store = LedgerCredentials(ledger)
    oslo = dt.timezone(dt.timedelta(hours=1))
    assert (
        verify(store, job["reference"], secret, dt.datetime(2026, 12, 11, 23, 59, 59, tzinfo=oslo))
        is Verdict.VALID
    )
    assert (
        verify(store, job["reference"], secret, dt.datetime(2026, 12, 12, 0, 0, 0, tzinfo=oslo))
        is Verdict.EXPIRED
    )


def test_one_delivery_claim_and_no_going_back_from_delivered(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    ledger.accept(parse(job))
    ledger.record_letter(_letter(job["id"], "AX-2026-100041"))
    assert ledger.job(job["id"]).status == JobStatus.RENDERED  # type: ignore[union-attr]
    assert ledger.claim_delivery(job["id"]) is True
    assert ledger.claim_delivery(job["id"]) is False  # a second worker gets nothing
    ledger.set_status(job["id"], JobStatus.DELIVERED, "delivered")
    assert ledger.set_status(job["id"], JobStatus.FAILED, "failed", "late duplicate") is False
    assert ledger.job(job["id"]).status == JobStatus.DELIVERED  # type: ignore[union-attr]


def test_the_sweeper_claims_each_stale_job_once_and_frees_stuck_deliveries(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    ledger.accept(parse(job))
    ledger.record_letter(_letter(job["id"], "AX-2026-100041"))
    ledger.claim_delivery(job["id"])  # then the worker dies
    assert ledger.claim_stale(dt.timedelta(seconds=-1)) == [job["id"]]
    assert ledger.claim_stale(dt.timedelta(seconds=60)) == []  # already claimed
    assert ledger.job(job["id"]).status == JobStatus.RENDERED  # type: ignore[union-attr]


def test_a_job_held_with_no_hold_left_is_resumed_by_the_sweeper(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    ledger.accept(parse(job))
    ledger.set_status(job["id"], JobStatus.HELD, "held", "a hold released in the same instant")
    assert ledger.claim_stale(dt.timedelta(seconds=-1)) == [job["id"]]
    assert ledger.job(job["id"]).status == JobStatus.ACCEPTED  # type: ignore[union-attr]
