"""The ledger on SQLite and PostgreSQL: idempotent intake, one letter per job, holds,
credentials and the evidence trail."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from letters.credentials import Verdict, verify
from letters.ledger import JobConflict, JobStatus, Ledger, LedgerCredentials
from letters.ledger.models import LetterRow
from letters.validation import parse
from tests.conftest import load_job


@pytest.fixture
def ledger(database_url: str) -> Ledger:
    ledger = Ledger(database_url)
    ledger.migrate()
    ledger.migrate()  # a second upgrade is a no-op
    return ledger


def _letter(
    job_id: str, reference: str, password_hash: str = "h", password_tag: str | None = None
) -> LetterRow:
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
        password_tag=password_tag,
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
    assert [e.event for e in history.events] == ["accepted", "rendered"]


def test_instants_keep_their_meaning(ledger: Ledger, job: dict[str, Any]) -> None:
    ledger.accept(parse(job))
    ledger.record_letter(_letter(job["id"], "AX-2026-100041"))
    stored = ledger.letter_for_job(job["id"])
    assert stored is not None
    assert stored.password_expires_at == dt.datetime(2026, 12, 11, 22, 59, 59, tzinfo=dt.UTC)
    history = ledger.history(job["id"])
    assert history is not None
    assert history.model_dump(mode="json")["letter"]["password_expires_at"] == (
        "2026-12-11T23:59:59+01:00"
    )


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
    assert [h.reason for h in history.holds] == [
        "debtor disputes the claim",
        "payment reported",
    ]
    assert all(h.release_reason == "creditor confirmed" for h in history.holds)


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
    ledger.record_letter(_letter(job["id"], cred.reference, cred.password_hash, cred.tag))
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


def test_a_claim_and_an_intent_whose_commit_was_not_heard_are_taken_back_by_their_instant(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    """What a worker does once the ledger is back after losing the answer to a commit
    (tests/test_lost_commit.py has the outage itself)."""
    ledger.accept(parse(job))
    letter = _letter(job["id"], "AX-2026-100041")
    ledger.record_letter(letter)
    claimed = dt.datetime.now(dt.UTC)
    assert ledger.claim_delivery(job["id"], ("routed", "email → print"), at=claimed)
    someone_else = claimed + dt.timedelta(microseconds=1)
    assert ledger.withdraw_claim(job["id"], someone_else) is False  # not that claim
    assert ledger.job(job["id"]).status == JobStatus.DELIVERING  # type: ignore[union-attr]
    began = dt.datetime.now(dt.UTC)
    ledger.begin_attempt(letter.id, "email", began)
    assert ledger.withdraw_attempt(letter.id, "email", someone_else) is False
    assert ledger.withdraw_attempt(letter.id, "print", began) is False
    assert [a.status for a in ledger.stage(job["id"]).attempts] == ["sending"]
    assert ledger.withdraw_attempt(letter.id, "email", began) is True
    assert ledger.stage(job["id"]).attempts == []
    assert ledger.withdraw_claim(job["id"], claimed) is True
    assert ledger.job(job["id"]).status == JobStatus.RENDERED  # type: ignore[union-attr]
    assert "routed" not in _events(ledger, job["id"])
    assert ledger.withdraw_claim(job["id"], claimed) is False  # once
    # claimed again (the route told once), the job is one worker's again
    assert ledger.claim_delivery(job["id"], ("routed", "email → print"))
    assert ledger.claim_delivery(job["id"], ("routed", "email → print")) is False
    ledger.release_delivery(job["id"])
    assert ledger.claim_delivery(job["id"], ("routed", "email → print"))
    assert _events(ledger, job["id"]).count("routed") == 1


def test_the_sweeper_claims_each_stale_job_once_and_frees_stuck_deliveries(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    ledger.accept(parse(job))
    ledger.record_letter(_letter(job["id"], "AX-2026-100041"))
    ledger.claim_delivery(job["id"])  # then the worker dies
    assert ledger.claim_stale(dt.timedelta(seconds=-1)) == [job["id"]]
    assert ledger.claim_stale(dt.timedelta(seconds=60)) == []  # already claimed
    assert ledger.job(job["id"]).status == JobStatus.RENDERED  # type: ignore[union-attr]


def test_after_redis_lost_its_queues_only_jobs_waiting_for_a_stage_are_claimed_once(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    ids = {}
    for name in ("accepted", "rendered", "delivering", "delivered", "held"):
        ids[name] = f"{job['id']}-{name}"
        ledger.accept(parse({**job, "id": ids[name]}))
    for name in ("rendered", "delivering", "delivered"):
        ledger.record_letter(_letter(ids[name], job["reference"]))
    ledger.claim_delivery(ids["delivering"])  # a live worker is sending it: left alone
    ledger.set_status(ids["delivered"], JobStatus.DELIVERED, "delivered")
    ledger.set_status(ids["held"], JobStatus.HELD, "held", "a hold")
    before = dt.datetime.now(dt.UTC)
    assert sorted(ledger.claim_unqueued(before)) == sorted([ids["accepted"], ids["rendered"]])
    assert ledger.claim_unqueued(before) == []  # each claimed once, by one sweeper
    assert ledger.job(ids["delivering"]).status == JobStatus.DELIVERING  # type: ignore[union-attr]
    ledger.accept(parse({**job, "id": f"{job['id']}-later"}))  # queued on the new Redis
    assert ledger.claim_unqueued(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)) == []
    # Redis back with its data: only what moved while it was away
    outage = dt.datetime.now(dt.UTC)
    ledger.accept(parse({**job, "id": f"{job['id']}-meanwhile"}))
    after = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    assert ledger.claim_unqueued(after, since=outage) == [f"{job['id']}-meanwhile"]


def test_a_job_held_with_no_hold_left_is_resumed_by_the_sweeper(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    ledger.accept(parse(job))
    ledger.set_status(job["id"], JobStatus.HELD, "held", "a hold released in the same instant")
    assert ledger.claim_stale(dt.timedelta(seconds=-1)) == [job["id"]]
    assert ledger.job(job["id"]).status == JobStatus.ACCEPTED  # type: ignore[union-attr]


def _story(ledger: Ledger, job: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """One job's whole life on ``ledger``, on a clock that ticks a second per reading."""
    import itertools

    from letters.ledger import batches, holds, jobs
    from letters.ledger.batches import Batches
    from letters.ledger.models import AttemptRow

    start = dt.datetime(2026, 11, 20, 8, 0, 0, 123456, tzinfo=dt.UTC)
    ticks = (start + dt.timedelta(seconds=n) for n in itertools.count())
    for room in (batches, holds, jobs):
        monkeypatch.setattr(room, "now", lambda: next(ticks))
    ledger.migrate()
    ledger.accept(parse(job))
    ledger.place_hold(job["reference"], "debtor disputes the claim")
    ledger.set_status(job["id"], JobStatus.HELD, "held", "debtor disputes the claim")
    ledger.release_hold(job["reference"], "creditor confirmed")
    ledger.set_status(job["id"], JobStatus.ACCEPTED, "resumed", allowed_from=(JobStatus.HELD,))
    letter = _letter(job["id"], "AX-2026-100041")
    letter.created_at = next(ticks)
    ledger.record_letter(letter)
    ledger.claim_delivery(job["id"], ("routed", "email → print"))
    ledger.record_attempt(
        AttemptRow(
            letter_id=letter.id,
            channel="email",
            status="failed",
            error_class="PermanentError",
            error_code="email-refused",
            error="550 no such mailbox",
            at=next(ticks),
        )
    )
    joined = Batches(ledger).join(letter.id, "0|0150", 1)
    ledger.finish_delivery(
        job["id"],
        AttemptRow(
            letter_id=letter.id,
            channel="print",
            status="delivered",
            external_id=joined.batch_id,
            receipt={"batch": joined.batch_id, "via": "print"},
            at=next(ticks),
        ),
        detail=f"print {joined.batch_id}",
    )


def test_a_jobs_history_is_the_same_typed_model_on_sqlite_and_postgresql(
    tmp_path: Path, job: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from letters.ledger import BatchStatus
    from tests.services import postgres_database

    read = []
    for url in (f"sqlite:///{tmp_path / 'ledger.db'}", postgres_database()):
        ledger = Ledger(url)
        with monkeypatch.context() as patch:
            _story(ledger, job, patch)
        history = ledger.history(job["id"])
        assert history is not None, url
        read.append(history)
    on_sqlite, on_postgresql = read
    assert on_sqlite == on_postgresql
    assert on_sqlite.model_dump_json() == on_postgresql.model_dump_json()
    history = on_postgresql
    assert history.job.status is JobStatus.DELIVERED
    assert history.job.accepted_at == dt.datetime(2026, 11, 20, 8, 0, 0, 123456, tzinfo=dt.UTC)
    assert [e.event for e in history.events] == [
        "accepted",
        "held",
        "released",
        "resumed",
        "rendered",
        "routed",
        "delivered",
    ]
    # each attempt at the instant it was made (to the microsecond, in UTC), in that order
    assert [a.at for a in history.attempts] == [
        dt.datetime(2026, 11, 20, 8, 0, s, 123456, tzinfo=dt.UTC) for s in (7, 10)
    ]
    assert [(a.channel, a.status, a.error_code) for a in history.attempts] == [
        ("email", "failed", "email-refused"),
        ("print", "delivered", None),
    ]
    assert history.letter is not None and history.letter.due_date == dt.date(2026, 12, 4)
    assert history.print_batch is not None
    assert history.print_batch.status is BatchStatus.OPEN
    assert [(h.reason, h.release_reason) for h in history.holds] == [
        ("debtor disputes the claim", "creditor confirmed")
    ]
    # the JSON is what `letters status --json` and GET /v1/jobs/{id} always wrote
    data = json.loads(history.model_dump_json())
    assert list(data) == ["job", "events", "letter", "attempts", "holds", "print_batch"]
    assert data["job"]["accepted_at"] == "2026-11-20T08:00:00.123456+00:00"
    assert data["job"]["status"] == "delivered"
    assert data["print_batch"]["status"] == "open"
    assert data["letter"]["due_date"] == "2026-12-04"
    assert data["attempts"][1]["receipt"] == {"batch": history.print_batch.id, "via": "print"}


def test_a_history_without_a_print_batch_has_no_print_batch_key(
    ledger: Ledger, job: dict[str, Any]
) -> None:
    ledger.accept(parse(job))
    history = ledger.history(job["id"])
    assert history is not None and history.print_batch is None
    data = json.loads(history.model_dump_json())
    assert list(data) == ["job", "events", "letter", "attempts", "holds"]
    assert (data["letter"], data["attempts"]) == (None, [])


def test_the_migrations_make_exactly_the_tables_the_models_describe(ledger: Ledger) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from letters.ledger.models import Base

    with ledger.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_a_ledger_from_before_error_codes_upgrades_in_place(
    database_url: str, job: dict[str, Any]
) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from letters.ledger.db import MIGRATIONS

    old = Ledger(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(
            text(
                "INSERT INTO jobs (id, content_sha256, payload, kind, reference, letter_id,"
                " status, error_class, error, accepted_at, updated_at) VALUES ('old-1', :sha,"
                " '{}', 'reminder', 'AX2026100041', '1', 'failed', 'RenderError', 'broken',"
                " :at, :at)"
            ),
            {"sha": "0" * 64, "at": dt.datetime(2026, 11, 2, tzinfo=dt.UTC)},
        )
    ledger = Ledger(database_url)
    ledger.migrate()
    history = ledger.history("old-1")
    assert history is not None
    assert (history.job.status, history.job.error_code, history.job.error) == (
        JobStatus.FAILED,
        None,
        "broken",
    )
    assert ledger.failures() == {None: 1}


def test_a_failed_job_keeps_its_stable_code(ledger: Ledger, job: dict[str, Any]) -> None:
    from letters.codes import Code

    ledger.accept(parse(job))
    assert ledger.set_status(
        job["id"],
        JobStatus.FAILED,
        "failed",
        "not sent: the letter date passed (while delivering)",
        error_class="PermanentFailure:letter_date_passed",
        code=Code.LETTER_DATE_PAST,
    )
    row = ledger.job(job["id"])
    assert row is not None and row.error_code == "letter-date-past"
    history = ledger.history(job["id"])
    assert history is not None and history.job.error_code == "letter-date-past"
    assert ledger.failures() == {"letter-date-past": 1}
    # a late duplicate changes nothing, its code included
    assert not ledger.set_status(job["id"], JobStatus.FAILED, "failed", "again", code="other")
    assert ledger.failures() == {"letter-date-past": 1}


def test_the_ledgers_modules_import_each_other_without_a_cycle() -> None:
    """Every import counts, function-local and TYPE_CHECKING ones too."""
    import ast

    from tests.conftest import ROOT

    folder = ROOT / "letters" / "ledger"
    names = {p.stem for p in folder.glob("*.py")} - {"__init__"}
    graph: dict[str, set[str]] = {}
    for name in names:
        tree = ast.parse((folder / f"{name}.py").read_text("utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names}
        graph[name] = {
            m.removeprefix("letters.ledger.").split(".")[0]
            for m in imported
            if m.startswith("letters.ledger")
        }
        assert "letters.ledger" not in imported, f"{name} imports the package it is part of"
    graph = {name: (deps & names) - {name} for name, deps in graph.items()}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            dep == goal or (dep not in seen and reaches(dep, goal, seen | {dep}))
            for dep in graph[start]
        )

    assert [name for name in sorted(graph) if reaches(name, name, set())] == []


def test_a_new_ledger_migrated_from_several_threads_and_processes_at_once(tmp_path: Path) -> None:
    """``letters serve`` and ``letters worker`` started together on a new SQLite file (and
    threads of one process opening the ledger at once) each bring the schema up to date
    without tripping over the other: alembic's ``op`` is one per process, and two upgrades
    of one file would both add the same column."""
    import subprocess
    import sys

    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'threads.db'}"
    errors: list[str] = []

    def migrate() -> None:
        try:
            Ledger(url).migrate()
        except Exception as exc:
            errors.append(repr(exc))

    threads = [threading.Thread(target=migrate) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    shared = f"sqlite:///{tmp_path / 'processes.db'}"
    code = f"from letters.ledger import Ledger; Ledger({shared!r}).migrate()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    assert [(p.wait(), p.stderr.read() if p.stderr else "") for p in procs] == [(0, "")] * 4
    for done in (url, shared):
        with Ledger(done).engine.connect() as conn:
            assert conn.scalar(text("select count(*) from alembic_version")) == 1


def _events(ledger: Ledger, job_id: str) -> list[str]:
    history = ledger.history(job_id)
    assert history is not None
    return [e.event for e in history.events]


def test_the_head_revision_read_from_the_file_names_is_alembics(database_url: str) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from letters.ledger.db import HEAD, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]
    ledger = Ledger(database_url)
    assert ledger.schema_version() is None  # nothing there yet
    ledger.migrate()
    assert ledger.schema_version() == HEAD
    ledger.migrate()  # at head: the short way, and nothing changes
    assert ledger.schema_version() == HEAD
    ledger.engine.dispose()
