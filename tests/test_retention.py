"""Personal data and retention as an operator and upstream meet them: a closed case's
letters, jobs and print batches lose their personal data once the retention period has
passed (`letters purge`), the evidence stays, a dry run changes nothing, a second purge
does nothing, and a case not closed, closed recently or not finished is left alone."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from channels.printing.batch import BatchCloser
from letters import retention
from letters.ledger import JobStatus, create_token, revoke_token
from letters.ledger.models import AttemptRow, Base
from letters.ledger.reviews import Reviews
from tests.conftest import REHEARSAL_RULES, Pipeline, load_job
from tests.letters_command import run
from tests.pdftext import page_texts

#: Today, five years and some weeks after the cases below were closed (on the real clock).
LATER = dt.date.today() + dt.timedelta(days=1826 + 40)
NAME, EMAIL, STREET = "Signe Vetlesen-Purgetest", "signe.purgetest@example.no", "Purgeveien 17"
NATIONAL_ID = "15038512363"


def _case_a() -> list[dict[str, Any]]:
    """Two letters of one case, to one debtor whose details the purge must remove."""
    first = load_job("reminder.nb")
    first["debtor"] |= {"name": NAME, "email": EMAIL}
    first["debtor"]["address"]["lines"] = [STREET]
    second = copy.deepcopy(first)
    second["id"] = "rem-nb-0001-again"
    second["claims"][0]["description"] = "Strøm oktober 2026 (Purgeveien 17)"
    return [first, second]


def _rows(pipeline: Pipeline) -> dict[str, list[str]]:
    """Every row of every table, as text: what "nothing changed" compares."""
    found = {}
    with pipeline.runtime.ledger.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(text(f"SELECT * FROM {table.name}"))
            found[table.name] = sorted(repr(tuple(r)) for r in rows)
    return found


def _files(*folders: Path) -> dict[str, str]:
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest()
        for folder in folders
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _ledger_bytes(pipeline: Pipeline) -> bytes:
    """The SQLite ledger's files as they lie on disk. This process's connections are
    closed first: closing any other descriptor of those files drops the POSIX locks
    SQLite holds through them, and another process would then rebuild the shared WAL index
    under their feet."""
    pipeline.runtime.ledger.engine.dispose()
    db = Path(pipeline.runtime.settings.database_url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def _env(pipeline: Pipeline, today: dt.date) -> dict[str, str]:
    s = pipeline.runtime.settings
    return {
        "DATABASE_URL": s.database_url,
        "LETTERS_ARCHIVE_DIR": str(s.archive_dir),
        "LETTERS_PRINTING__FOLDER": str(s.printing.folder),
        "LETTERS_REVIEW__CACHE_DIR": str(s.review.cache_dir),
        "LETTERS_CLOCK_DATE": today.isoformat(),
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
    }


def _later(pipeline: Pipeline, today: dt.date = LATER) -> None:
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"clock_date": today})


def _close_batch(pipeline: Pipeline) -> Path:
    rt = pipeline.runtime
    [closed] = BatchCloser(rt.settings, rt.ledger, rt.archive).close()
    return closed.folder


def _archive_text(pipeline: Pipeline) -> str:
    """The text of every letter in the archive (its PDFs are compressed: bytes say little)."""
    return " ".join(
        " ".join(page_texts(p.read_bytes())) for p in pipeline.runtime.archive.root.rglob("*.pdf")
    )


def _purges(pipeline: Pipeline) -> list[Any]:
    return [e for e in Reviews(pipeline.runtime.ledger).audit_log() if e.action == "purge"]


def test_a_closed_case_is_purged_after_retention_and_keeps_its_evidence(
    pipeline: Pipeline,
) -> None:
    rt, ledger = pipeline.runtime, pipeline.runtime.ledger
    jobs_a = _case_a()
    letters_a = [pipeline.submit(job) for job in jobs_a]
    pipeline.drain()
    folder_a = _close_batch(pipeline)  # PB000001: case A's letters only
    job_b = load_job("reminder.en")  # another case, never closed
    letter_b = pipeline.submit(job_b)
    pipeline.drain()
    folder_b = _close_batch(pipeline)
    # what the e-mail channel records when a relay refuses an address (it quotes it)
    ledger.record_attempt(
        AttemptRow(
            letter_id=letters_a[0],
            channel="email",
            status="failed",
            receipt={"to": EMAIL},
            error_code="email-refused",
            error=f"550 5.1.1 <{EMAIL}>: Recipient address rejected",
            at=dt.datetime.now(dt.UTC),
        )
    )
    before = {lid: ledger.letter(lid) for lid in letters_a}
    assert NAME.encode() in _ledger_bytes(pipeline)
    assert NAME.encode() in (folder_a / "manifest.json").read_bytes()
    assert NAME in _archive_text(pipeline)

    closure, made = ledger.close_case(jobs_a[0]["reference"], "alice", "paid in full")
    assert made and closure.closed_by == "alice"
    assert retention.survey(rt).nothing  # closed today: five years to go

    _later(pipeline)
    env = _env(pipeline, LATER)
    rows, files = _rows(pipeline), _files(rt.archive.root, folder_a.parent)
    dry = run("purge", "--dry-run", **env)
    assert dry.returncode == 0, dry.stderr
    shown = " ".join(dry.stdout.split())
    assert "would purge 1 case: 2 jobs, 2 letters, 2 PDFs in the archive, 1 print" in shown
    assert "AX-2026-100041 closed by alice" in shown and "dry run: nothing changed" in shown
    assert NAME not in dry.stdout and EMAIL not in dry.stdout
    assert (_rows(pipeline), _files(rt.archive.root, folder_a.parent)) == (rows, files)

    refused = run("purge", **env)
    assert refused.returncode == 2 and "--by and --reason" in refused.stderr
    done = run("purge", "--by", "bob", "--reason", "yearly retention run", **env)
    assert done.returncode == 0, done.stderr
    assert "purged 1 case: 2 jobs, 2 letters, 2 PDFs" in " ".join(done.stdout.split())

    # the personal data is gone: from the ledger's file, the archive, the print folder
    stored = _ledger_bytes(pipeline)
    for personal in (NAME, EMAIL, STREET, NATIONAL_ID, "Strøm september 2026"):
        assert personal.encode() not in stored, personal
    for lid in letters_a:
        assert not rt.archive.path_for(before[lid].pdf_sha256).exists()
    assert not folder_a.exists()
    assert NAME not in _archive_text(pipeline) and job_b["debtor"]["name"] in _archive_text(
        pipeline
    )
    assert all(
        NAME.encode() not in p.read_bytes() for p in rt.archive.root.rglob("*") if p.is_file()
    )
    # the evidence stays
    for job, lid in zip(jobs_a, letters_a, strict=True):
        history = ledger.history(job["id"])
        assert history is not None and history.letter is not None
        old = before[lid]
        assert old is not None
        assert (history.letter.pdf_sha256, history.letter.kid) == (old.pdf_sha256, old.kid)
        assert (
            history.job.status == JobStatus.DELIVERED and history.job.reference == "AX-2026-100041"
        )
        assert history.job.purged_at is not None and history.letter.purged_at is not None
        assert history.events[-1].event == "purged" and "bob" in (history.events[-1].detail or "")
        assert history.print_batch is not None and history.print_batch.purged_at is not None
        assert history.closure is not None and history.closure.reason == "paid in full"
        row = ledger.job(job["id"])
        assert row is not None and row.payload["debtor"]["name"] == "[purged]"
        assert row.payload["claims"][0]["principal"] == job["claims"][0]["principal"]
    [refusal] = [a for a in ledger.history(jobs_a[0]["id"]).attempts if a.channel == "email"]
    assert (refusal.status, refusal.error_code) == ("failed", "email-refused")
    assert refusal.receipt == {"to": "[purged]"} and "[purged]" in (refusal.error or "")
    [line] = _purges(pipeline)
    assert (line.actor, line.subject_kind) == ("bob", "retention")
    assert line.detail is not None and line.detail.startswith("1 case, 2 jobs, 2 letters")

    status = run("status", jobs_a[0]["id"], **env)
    assert status.returncode == 0, status.stderr
    said = " ".join(status.stdout.split())
    assert "purged on" in said and "(retention)" in said and "case closed" in said
    token = create_token(ledger, "viewer", {"pdf", "read"})
    with TestClient(_app(pipeline)) as client:
        gone = client.get(f"/v1/letters/{letters_a[0]}/pdf", headers=_auth(token))
        assert gone.status_code == 410
        assert gone.json()["errors"][0]["code"] == "letter-purged"
        kept = client.get(f"/v1/letters/{letter_b}/pdf", headers=_auth(token))
        assert kept.status_code == 200
        evidence = client.get(f"/v1/jobs/{jobs_a[0]['id']}", headers=_auth(token)).json()
        assert evidence["job"]["purged_at"] and evidence["letter"]["purged_at"]

    # the other case is untouched
    assert folder_b.exists() and rt.archive.get(ledger.letter(letter_b).pdf_sha256)
    kept_b = ledger.job(job_b["id"])
    assert kept_b is not None and kept_b.purged_at is None
    assert kept_b.payload["debtor"]["name"] == job_b["debtor"]["name"]
    # a second purge does nothing, not even an audit line
    rows = _rows(pipeline)
    again = retention.purge(rt, "bob", "again")
    assert again.nothing and _rows(pipeline) == rows and len(_purges(pipeline)) == 1


def _app(pipeline: Pipeline) -> Any:
    from letters.http import create_app

    return create_app(pipeline.runtime)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_purge_interrupted_after_its_commit_is_finished_by_the_next(
    pipeline: Pipeline,
) -> None:
    """The ledger first, then the files: a crash in between leaves PDFs the ledger already
    calls purged (never a letter claiming a PDF that is gone); the next run removes them."""
    from letters.ledger.retention import apply, plan

    rt, ledger = pipeline.runtime, pipeline.runtime.ledger
    job = _case_a()[0]
    letter_id = pipeline.submit(job)
    pipeline.drain()
    folder = _close_batch(pipeline)
    ledger.close_case(job["reference"], "alice", "withdrawn")
    _later(pipeline)
    closed, idle = retention.window(rt)
    with ledger.session() as s:  # what purge commits before it touches a file
        apply(s, plan(s, closed, idle, handed_off_only=False), "bob", "run", 1826)
    letter = ledger.letter(letter_id)
    assert letter is not None and letter.purged_at is not None
    assert rt.archive.path_for(letter.pdf_sha256).exists() and folder.exists()
    left = retention.survey(rt)
    assert (left.plan.cases, left.leftovers, len(left.pdfs), left.folders) == ([], 2, 1, [folder])
    finished = retention.purge(rt, "bob", "after the crash")
    assert not rt.archive.path_for(letter.pdf_sha256).exists() and not folder.exists()
    assert finished.plan.cases == [] and len(_purges(pipeline)) == 1  # no second audit line
    assert retention.survey(rt).nothing


def test_cases_not_closed_not_finished_or_written_to_after_closing_are_kept(
    pipeline: Pipeline,
) -> None:
    rt, ledger = pipeline.runtime, pipeline.runtime.ledger
    held = load_job("collection_notice.nb")  # closed, but a hold stops its letter
    ledger.place_hold(held["reference"], "dispute", by="carol")
    pipeline.submit(held)
    idle = load_job("reminder.en")  # never closed: kept until idle for days + grace
    pipeline.submit(idle)
    pipeline.drain()
    _close_batch(pipeline)
    ledger.close_case(held["reference"], "alice", "sent to court")
    _later(pipeline)
    due = retention.survey(rt)
    assert due.plan.cases == []
    [waiting] = due.plan.waiting
    assert waiting.reference == "AX-2026-200011" and "not finished" in waiting.why
    assert retention.purge(rt, "bob", "run").nothing and ledger.job(held["id"]).purged_at is None
    # a case nobody closed goes once it has been idle for the period and the grace
    _later(pipeline, LATER + dt.timedelta(days=365))
    [case] = retention.survey(rt).plan.cases
    assert (case.reference, case.why) == ("AX-2026-100042", "idle")
    explicit_only = rt.settings.retention.model_copy(update={"idle_cases": False})
    rt.settings = rt.settings.model_copy(update={"retention": explicit_only})
    assert retention.survey(rt).plan.cases == []
    # reopened, the closed case's clock stops
    assert ledger.reopen_case(held["reference"], "alice", "appeal")
    assert ledger.closure(held["reference"]) is None
    assert not ledger.reopen_case(held["reference"], "alice", "twice")


def test_a_letter_after_the_closure_restarts_the_period(pipeline: Pipeline) -> None:
    rt, ledger = pipeline.runtime, pipeline.runtime.ledger
    first, second = _case_a()
    pipeline.submit(first)
    pipeline.drain()
    ledger.close_case(first["reference"], "alice", "paid")
    pipeline.submit(second)  # the case goes on after all (its activity is now)
    pipeline.drain()
    _close_batch(pipeline)
    with ledger.session() as s:  # the closure is five years old, the new letter is not
        s.execute(
            text("UPDATE case_closures SET closed_at = :at"),
            {"at": dt.datetime(2020, 1, 1, tzinfo=dt.UTC)},
        )
    assert retention.survey(rt).plan.cases == []
    _later(pipeline)
    [case] = retention.survey(rt).plan.cases
    assert case.why == "closed" and len(case.jobs) == 2


def test_every_privileged_action_leaves_one_audit_line(pipeline: Pipeline) -> None:
    """Token created and revoked, hold and release, case closed and reopened (CLI and
    HTTP), purge: one line each, naming who, what and on what; `letters audit` shows them."""
    rt, ledger = pipeline.runtime, pipeline.runtime.ledger
    env = _env(pipeline, rt.settings.clock_date or LATER)
    ref = "AX-2026-100041"

    def lines() -> list[tuple[str, str, str]]:
        return [(e.actor, e.action, e.subject) for e in Reviews(ledger).audit_log()][::-1]

    start = len(lines())
    made = run("token", "create", "billing", "--scopes", "hold,close", "--by", "dora", **env)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert run("hold", ref, "--reason", "dispute", "--by", "erik", **env).returncode == 0
    closed = run("case", "close", ref, "--by", "frida", "--reason", "paid", **env)
    assert closed.returncode == 0 and "closed" in closed.stdout, closed.stderr
    assert not ledger.close_case(ref, "frida", "paid")[1]  # closed already: no audit line
    with TestClient(_app(pipeline)) as client:
        h = _auth(token)
        assert (
            client.delete(f"/v1/cases/{ref}/hold", params={"reason": "ok"}, headers=h).json()[
                "held"
            ]
            is False
        )
        assert (
            client.post(f"/v1/cases/{ref}/hold", json={"reason": "again"}, headers=h).status_code
            == 201
        )
        reopened = client.delete(f"/v1/cases/{ref}/close", params={"reason": "appeal"}, headers=h)
        assert reopened.json() == {"reference": "AX-2026-100041", "closed": False, "reopened": True}
        shut = client.post(f"/v1/cases/{ref}/close", json={"reason": "paid"}, headers=h)
        assert shut.status_code == 201 and shut.json()["closed_by"] == "token:billing"
        assert client.post(f"/v1/cases/{ref}/close", json={"reason": "x"}, headers=h).json()[
            "already_closed"
        ]
        unscoped = create_token(ledger, "holder", {"hold"})
        denied = client.post(
            f"/v1/cases/{ref}/close", json={"reason": "x"}, headers=_auth(unscoped)
        )
        assert denied.status_code == 403
    assert revoke_token(ledger, "billing", by="dora")
    assert lines()[start:] == [
        ("dora", "create-token", "billing"),
        ("erik", "hold", "AX-2026-100041"),
        ("frida", "close-case", "AX-2026-100041"),
        ("token:billing", "release", "AX-2026-100041"),
        ("token:billing", "hold", "AX-2026-100041"),
        ("token:billing", "reopen-case", "AX-2026-100041"),
        ("token:billing", "close-case", "AX-2026-100041"),
        ("unnamed", "create-token", "holder"),
        ("dora", "revoke-token", "billing"),
    ]
    shown = run("audit", "--json", **env)
    assert shown.returncode == 0, shown.stderr
    listed = json.loads(shown.stdout)
    seen = {(e["actor"], e["action"], e["kind"], e["subject"], e["detail"]) for e in listed}
    assert ("frida", "close-case", "case", "AX-2026-100041", "paid") in seen
    assert ("dora", "create-token", "token", "billing", "scopes close hold") in seen
    assert token not in shown.stdout  # the token itself is never recorded


def test_a_retention_of_less_than_a_year_is_refused() -> None:
    from pydantic import ValidationError

    from letters.config import Retention

    with pytest.raises(ValidationError, match="days"):
        Retention(days=30)
    assert (Retention().days, Retention().idle_cases, Retention().idle_grace_days) == (
        1826,
        True,
        365,
    )


def test_the_ledgers_purge_on_sqlite_and_postgresql(database_url: str) -> None:
    """The plan and the purge are the same SQL on both databases; a second one is a no-op."""
    from letters.ledger import Ledger
    from letters.ledger.retention import apply, plan
    from letters.validation import parse
    from tests.test_ledger import _letter

    ledger = Ledger(database_url)
    ledger.migrate()
    job = _case_a()[0]
    ledger.accept(parse(job))
    ledger.record_letter(_letter(job["id"], "AX-2026-100041"))
    ledger.finish_delivery(
        job["id"],
        AttemptRow(
            letter_id=ledger.letter_for_job(job["id"]).id,  # type: ignore[union-attr]
            channel="email",
            status="delivered",
            external_id="<m@x>",
            receipt={"to": EMAIL},
            at=dt.datetime.now(dt.UTC),
        ),
        "email",
    )
    ledger.close_case("AX-2026-100041", "alice", "paid")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with ledger.session() as s:
        due = plan(s, soon, None, handed_off_only=True)
        assert [c.reference for c in due.cases] == ["AX-2026-100041"]
        done = apply(s, due, "bob", "test", 1826)
    assert (done.cases, done.jobs, done.letters) == (1, 1, 1)
    history = ledger.history(job["id"])
    assert history is not None and history.letter is not None and history.letter.purged_at
    assert history.attempts[0].receipt == {"to": "[purged]"}
    assert NAME not in json.dumps(ledger.job(job["id"]).payload)  # type: ignore[union-attr]
    with ledger.session() as s:
        again = plan(s, soon, soon, handed_off_only=True)
        assert again.cases == [] and apply(s, again, "bob", "again", 1826).cases == 0
    assert [e.action for e in Reviews(ledger).audit_log()][:2] == ["purge", "close-case"]
