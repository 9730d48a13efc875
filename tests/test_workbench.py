"""The compliance workbench as compliance uses it: versions of templates and rule tables,
approved by a second person who names the exact version reviewed, and production making
letters only from what is approved and in force."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from letters.codes import Code
from letters.job import JobRejected
from letters.ledger import JobStatus, Ledger
from letters.ledger.reviews import ReviewRefused, Reviews, SubjectKind, VersionState
from letters.ledger.users import Role, User
from letters.paths import TEMPLATE_DIR
from letters.rules import tables
from letters.workbench import accounts, approval, shipped
from tests.conftest import Pipeline, load_job

PASSWORD = "correct horse battery"


def people(ledger: Ledger) -> tuple[User, User]:
    author = accounts.create(ledger, "anna", Role.AUTHOR, PASSWORD, by="test")
    reviewer = accounts.create(ledger, "bjorn", Role.REVIEWER, PASSWORD, by="test")
    return author, reviewer


def letter_text(pipeline: Pipeline, letter_id: str) -> str:
    pdf = PdfReader(BytesIO(pipeline.pdf(letter_id)))
    return " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)


@pytest.fixture
def authoring(pipeline: Pipeline, tmp_path: Path) -> Path:
    """The pipeline with its own templates folder for authors to edit."""
    folder = tmp_path / "authoring"
    shutil.copytree(TEMPLATE_DIR, folder)
    review = pipeline.runtime.settings.review.model_copy(update={"templates_dir": folder})
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"review": review})
    return folder


def reword(folder: Path, subject: str, old: str, new: str) -> None:
    path = folder / f"{subject}.html"
    content = path.read_text("utf-8")
    assert old in content
    path.write_text(content.replace(old, new), "utf-8")


def test_the_shipped_approvals_match_the_shipped_templates() -> None:
    from letters import bundles

    listed = shipped.read().templates
    assert set(listed) == set(bundles.SUBJECTS)
    changed = [s for s, sha in listed.items() if bundles.read_folder(TEMPLATE_DIR, s).sha256 != sha]
    assert changed == [], (
        f"{changed} changed after the release review: review them, then run scripts/approve-shipped"
    )


def test_a_new_wording_reaches_letters_only_once_a_second_person_approves_it(
    pipeline: Pipeline, authoring: Path
) -> None:
    ledger, settings = pipeline.runtime.ledger, pipeline.runtime.settings
    author, reviewer = people(ledger)
    reword(authoring, "reminder.nb", "kan du se bort fra", "ber vi deg se bort fra")
    draft = approval.submit_template(ledger, settings, "reminder.nb", author, "vennligere")
    assert draft.state is VersionState.DRAFT

    # until it is approved, letters keep the wording in force
    job = load_job("reminder.nb")
    old = pipeline.submit(job)
    pipeline.drain()
    assert "kan du se bort fra" in letter_text(pipeline, old)

    with pytest.raises(ReviewRefused) as own:  # four eyes: not the author's own
        author_as_reviewer = User(author.name, Role.REVIEWER, None, False)
        approval.decide(
            ledger, draft.id, author_as_reviewer, approve=True, sha256=draft.sha256, comment="x"
        )
    assert own.value.code is Code.OWN_VERSION
    with pytest.raises(ReviewRefused) as stale:  # not the version the reviewer saw
        approval.decide(ledger, draft.id, reviewer, approve=True, sha256="0" * 64, comment="x")
    assert stale.value.code is Code.STALE_HASH

    approved = approval.decide(
        ledger,
        draft.id,
        reviewer,
        approve=True,
        sha256=draft.sha256,
        comment="checked both paragraphs",
        effective_from=settings.clock_date,
        today=settings.clock_date,
    )
    assert (approved.state, approved.reviewed_by) == (VersionState.APPROVED, "bjorn")
    job2 = dict(job, id="rem-nb-0002")
    new = pipeline.submit(job2)
    pipeline.drain()
    assert "ber vi deg se bort fra" in letter_text(pipeline, new)
    row = ledger.letter(new)
    assert row is not None
    assert (row.template_version, row.template_sha256) == (str(draft.id), draft.sha256)
    assert ledger.letter(old) is not None and ledger.letter(old).template_version != str(draft.id)
    # the audit log has it all, in order
    actions = [(e.actor, e.action, e.version_id) for e in Reviews(ledger).audit_log()][:2]
    assert actions == [("bjorn", "approve", draft.id), ("anna", "submit", draft.id)]


def test_a_version_changed_after_submission_is_a_new_draft_not_the_approved_one(
    pipeline: Pipeline, authoring: Path
) -> None:
    ledger, settings = pipeline.runtime.ledger, pipeline.runtime.settings
    author, reviewer = people(ledger)
    reword(authoring, "reminder.en", "please disregard", "you may ignore")
    first = approval.submit_template(ledger, settings, "reminder.en", author, None)
    with pytest.raises(ReviewRefused) as again:
        approval.submit_template(ledger, settings, "reminder.en", author, None)
    assert again.value.code is Code.NOTHING_CHANGED
    reword(authoring, "reminder.en", "you may ignore", "you can ignore")
    second = approval.submit_template(ledger, settings, "reminder.en", author, None)
    assert second.sha256 != first.sha256
    with pytest.raises(ReviewRefused) as stale:  # approving the first under the second's hash
        approval.decide(ledger, first.id, reviewer, approve=True, sha256=second.sha256, comment="x")
    assert stale.value.code is Code.STALE_HASH


def test_without_an_approved_template_a_job_is_refused_before_it_is_stored(
    pipeline: Pipeline,
) -> None:
    review = pipeline.runtime.settings.review.model_copy(update={"trust_shipped": False})
    settings = pipeline.runtime.settings.model_copy(update={"review": review})
    fresh = Ledger(f"sqlite:///{pipeline.tmp / 'own.db'}")
    fresh.migrate()
    pipeline.runtime.settings, pipeline.runtime.ledger = settings, fresh
    with pytest.raises(JobRejected) as refused:
        pipeline.submit(load_job("collection_notice.en"))
    assert [(e.field, e.code) for e in refused.value.errors] == [
        ("kind", Code.TEMPLATE_NOT_APPROVED)
    ]
    assert fresh.counts() == {}


def test_development_mode_letters_say_not_approved(pipeline: Pipeline, authoring: Path) -> None:
    reword(authoring, "reminder.en", "please disregard", "you may ignore")
    review = pipeline.runtime.settings.review.model_copy(update={"development": True})
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"review": review})
    letter_id = pipeline.submit(load_job("reminder.en"))
    pipeline.drain()
    words = letter_text(pipeline, letter_id)
    assert "you may ignore" in words and "NOT APPROVED" in words
    row = pipeline.runtime.ledger.letter(letter_id)
    assert row is not None and row.template_version == "working copy"


def test_an_approved_version_of_a_rule_table_lets_next_years_letters_through(
    pipeline: Pipeline,
) -> None:
    ledger, rt = pipeline.runtime.ledger, pipeline.runtime
    author, reviewer = people(ledger)
    book = tables.shipped()
    proposals = []
    for name, value in (("inkassosats", "780"), ("interest_rate", "12.00")):
        doc = tables.document(book.tables[name])
        doc["entry"].append(
            {"valid_from": "2027-01-01", "value": value, "source": "test", "confirmed": True}
        )
        doc["known_until"] = "2027-06-30"
        proposals.append(approval.submit_table(ledger, doc, author, f"{name} for 2027"))
    scale = tables.document(book.collection_fee_scale)
    scale["known_until"] = "2027-12-31"
    proposals.append(approval.submit_table(ledger, scale, author, "the scale holds in 2027"))

    new_year = dict(load_job("reminder.nb"), letter_date="2027-01-04")
    new_year["claims"] = [dict(new_year["claims"][0], fees=[])]
    rt.settings = rt.settings.model_copy(update={"clock_date": dt.date(2027, 1, 4)})
    rt._rules_read_at = -1e9  # read the tables again now
    with pytest.raises(JobRejected) as unknown:
        pipeline.submit(new_year)
    assert unknown.value.errors[0].code is Code.RULE_UNKNOWN

    for version in proposals:
        approval.decide(
            ledger, version.id, reviewer, approve=True, sha256=version.sha256, comment="Lovdata"
        )
    rt._rules_read_at = -1e9
    letter_id = pipeline.submit(new_year)
    pipeline.drain()
    assert pipeline.status(new_year["id"]) == JobStatus.DELIVERED
    row = ledger.letter(letter_id)
    assert row is not None and row.rules_versions is not None
    assert row.rules_versions["inkassosats"] == str(proposals[0].id)


def test_a_bad_table_proposal_is_refused_naming_the_place(pipeline: Pipeline) -> None:
    author, _ = people(pipeline.runtime.ledger)
    doc = tables.document(tables.shipped().inkassosats)
    doc["entry"][0]["value"] = 700
    with pytest.raises(ReviewRefused, match=r"entry\.0\.value") as bad:
        approval.submit_table(pipeline.runtime.ledger, doc, author, None)
    assert bad.value.code is Code.BAD_TABLE


def test_the_audit_log_cannot_be_changed(database_url: str) -> None:
    ledger = Ledger(database_url)
    ledger.migrate()
    Reviews(ledger).audit("test", "something", "user", "x", "first")
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), ledger.session() as s:
            s.execute(text(statement))
    assert [e.actor for e in Reviews(ledger).audit_log()] == ["test"]


def test_sign_in_locks_after_five_failures_whoever_tries(pipeline: Pipeline) -> None:
    ledger = pipeline.runtime.ledger
    people(ledger)
    for _ in range(5):
        with pytest.raises(ReviewRefused) as failed:
            accounts.sign_in(ledger, "anna", "wrong password")
        assert failed.value.code is Code.SIGN_IN_FAILED
    with pytest.raises(ReviewRefused) as locked:
        accounts.sign_in(ledger, "anna", PASSWORD)
    assert locked.value.code is Code.SIGN_IN_LOCKED
    with pytest.raises(ReviewRefused) as unknown:  # an unknown name reads the same
        accounts.sign_in(ledger, "nobody", PASSWORD)
    assert unknown.value.code is Code.SIGN_IN_FAILED
    assert accounts.sign_in(ledger, "bjorn", PASSWORD).name == "bjorn"


def test_an_author_cannot_decide_and_a_decision_needs_a_comment(pipeline: Pipeline) -> None:
    ledger = pipeline.runtime.ledger
    author, reviewer = people(ledger)
    doc = tables.document(tables.shipped().interest_rate)
    doc["known_until"] = "2027-01-31"
    version = approval.submit_table(ledger, doc, author, None)
    with pytest.raises(ReviewRefused) as role:
        approval.decide(
            ledger, version.id, author, approve=False, sha256=version.sha256, comment="no"
        )
    assert role.value.code is Code.ROLE_LACKS_RIGHT
    with pytest.raises(ValueError, match="comment"):
        approval.decide(
            ledger, version.id, reviewer, approve=True, sha256=version.sha256, comment=" "
        )
    rejected = approval.decide(
        ledger, version.id, reviewer, approve=False, sha256=version.sha256, comment="no source"
    )
    assert rejected.state is VersionState.REJECTED
    assert (
        Reviews(ledger).in_force(SubjectKind.RULES, "interest_rate", dt.date(2026, 12, 2)) is None
    )


def letters_cli(
    tmp_path: Path, *args: str, stdin: str = "", clock: str = "2026-12-02"
) -> subprocess.CompletedProcess[str]:
    """``letters ARGS`` as compliance runs it, on a ledger of its own."""
    return letters_cli_env(tmp_path, {}, *args, stdin=stdin, clock=clock)


def letters_cli_env(
    tmp_path: Path, extra: dict[str, str], *args: str, stdin: str = "", clock: str = "2026-12-02"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **extra,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "LETTERS_CLOCK_DATE": clock,
        "LETTERS_REVIEW__CACHE_DIR": str(tmp_path / "templates"),
    }
    return subprocess.run(
        [sys.executable, "-m", "letters", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


def test_compliance_adds_next_years_inkassosats_from_the_command_line(tmp_path: Path) -> None:
    run = functools.partial(letters_cli, tmp_path)
    assert run("users", "create", "anna", "--role", "author", stdin=PASSWORD).returncode == 0
    assert run("users", "create", "bjorn", "--role", "reviewer", stdin=PASSWORD).returncode == 0
    # a month before the tables run out, `letters rules list` says so and exits 1
    listed = run("rules", "list")
    assert listed.returncode == 1 and "[table-runs-out]" in listed.stderr
    doc = tables.document(tables.shipped().inkassosats)
    doc["entry"].append(
        {"valid_from": "2027-01-01", "value": "780", "source": "test", "confirmed": True}
    )
    doc["known_until"] = "2027-12-31"
    proposal = tmp_path / "inkassosats.json"
    proposal.write_text(json.dumps(doc), "utf-8")
    proposed = run("rules", "propose", str(proposal), "--user", "anna", stdin=PASSWORD)
    assert proposed.returncode == 0, proposed.stderr
    version_id, sha = re.search(r"draft v(\d+) \(([0-9a-f]{64})\)", proposed.stdout).groups()
    own = run(
        *("rules", "approve", version_id, "--sha256", sha, "--comment", "ok", "--user", "anna"),
        stdin=PASSWORD,
    )
    assert own.returncode == 2 and "[role-lacks-right]" in own.stderr
    approved = run(
        *("rules", "approve", version_id, "--sha256", sha, "--comment", "Lovdata", "--user"),
        "bjorn",
        stdin=PASSWORD,
    )
    assert approved.returncode == 0, approved.stderr
    assert "approved by bjorn" in approved.stdout
    tables_now = {t["table"]: t for t in json.loads(run("rules", "list", "--json").stdout)}
    assert tables_now["inkassosats"]["version"] == version_id
    assert tables_now["inkassosats"]["known_until"] == "2027-12-31"
    assert tables_now["interest_rate"]["running_out"] is True  # still to do
    audit = json.loads(run("audit", "--json").stdout)
    assert [a["action"] for a in audit[:2]] == ["approve", "submit"]
    assert audit[0]["sha256"] == sha and audit[0]["actor"] == "bjorn"


def test_templates_list_shows_the_shipped_versions_in_force(tmp_path: Path) -> None:
    refused = letters_cli(tmp_path, "templates", "list")  # a read makes no ledger
    assert refused.returncode == 2 and "no ledger at" in refused.stderr
    made = letters_cli(tmp_path, "users", "create", "anna", "--role", "author", stdin="a" * 16)
    assert made.returncode == 0, made.stderr  # the ledger an installation starts with
    listed = letters_cli(tmp_path, "templates", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["subject"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == set(shipped.read().templates)
    assert rows["reminder.nb"]["in_force"]["reviewed_by"] == "letters-release"
    assert rows["reminder.nb"]["working_copy"]["state"] == "approved"


def test_operators_see_a_table_running_out_weeks_ahead(
    pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    from letters import metrics

    ledger = pipeline.runtime.ledger
    body, _ = metrics.exposition(ledger, dt.date(2026, 11, 20))
    exported = body.decode()
    # the fixtures' day is 2026-11-20: 41 days before the shipped tables end
    assert 'letters_rule_table_days_left{table="inkassosats"} 41.0' in exported
    assert approval.warn_running_out(ledger, dt.date(2026, 11, 20)) == []
    with caplog.at_level("WARNING"):
        ending = approval.warn_running_out(ledger, dt.date(2026, 12, 2))
    assert [t.name for t in ending] == list(tables.TABLE_NAMES)
    assert "inkassosats is known only until 2026-12-31 (29 days left)" in caplog.text


def test_a_reviewer_sees_a_one_word_change_in_the_rendered_diff(tmp_path: Path) -> None:
    folder = tmp_path / "authoring"
    shutil.copytree(TEMPLATE_DIR, folder)
    reword(folder, "reminder.nb", "kan du se bort fra", "ber vi deg se bort fra")
    env_folder = {"LETTERS_REVIEW__TEMPLATES_DIR": str(folder)}
    run = functools.partial(letters_cli_env, tmp_path, env_folder)
    shown = run("templates", "diff", "reminder.nb", "-o", str(tmp_path / "diff"))
    assert shown.returncode == 0, shown.stderr
    assert "standard: 1 changed region" in shown.stdout
    text = (tmp_path / "diff" / "standard.diff").read_text("utf-8")
    assert "-du betalt i løpet av de siste dagene, kan du se bort fra denne påminnelsen." in text
    assert (
        "+du betalt i løpet av de siste dagene, ber vi deg se bort fra denne påminnelsen." in text
    )
    assert (tmp_path / "diff" / "many-claims.png").stat().st_size > 10_000
    same = run("templates", "diff", "reminder.nb", "--new", "in-force", "-o", str(tmp_path / "s"))
    assert "standard: the same" in same.stdout
    proofs = run("templates", "proof", "reminder.nb", "-o", str(tmp_path / "proof"))
    assert proofs.returncode == 0, proofs.stderr
    assert {p.name for p in (tmp_path / "proof").iterdir()} >= {
        "contact-sheet.png",
        "standard.pdf",
        "many-claims-p2.png",
    }


def test_a_changed_shipped_template_is_warned_of_until_its_change_is_approved(
    pipeline: Pipeline, authoring: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger, settings = pipeline.runtime.ledger, pipeline.runtime.settings
    author, reviewer = people(ledger)
    reword(authoring, "reminder.nb", "kan du se bort fra", "ber vi deg se bort fra")
    with caplog.at_level("WARNING"):
        shipped.record(ledger, authoring)
    assert "the shipped template reminder.nb was changed" in caplog.text
    draft = approval.submit_template(ledger, settings, "reminder.nb", author, "vennligere")
    approval.decide(
        ledger, draft.id, reviewer, approve=True, sha256=draft.sha256, comment="read it"
    )
    caplog.clear()
    with caplog.at_level("WARNING"):
        shipped.record(ledger, authoring)  # every start of every command does this
    assert "reminder.nb" not in caplog.text  # the change was reviewed: nothing to warn of


def test_processes_starting_together_record_the_shipped_approvals_once(database_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    Ledger(database_url).migrate()

    def start() -> list[str]:
        return shipped.record(Ledger(database_url))

    with ThreadPoolExecutor(4) as pool:
        recorded = [s for result in pool.map(lambda _: start(), range(4)) for s in result]
    assert sorted(recorded) == sorted(shipped.read().templates)  # each once, by someone
    versions = Reviews(Ledger(database_url)).versions(SubjectKind.TEMPLATE)
    assert len(versions) == len(shipped.read().templates)


def test_the_email_body_sent_is_the_approved_version(
    pipeline: Pipeline, authoring: Path, smtp_server: Any
) -> None:
    from pydantic import SecretStr

    inbox, port, _ = smtp_server
    rt = pipeline.runtime
    smtp = rt.settings.smtp.model_copy(
        update={
            "host": "localhost",
            "port": port,
            "username": "letters",
            "password": SecretStr("s3cret"),
            "ca_file": pipeline.tmp / "cert.pem",
        }
    )
    rt.settings = rt.settings.model_copy(update={"smtp": smtp})
    author, reviewer = people(rt.ledger)
    body = authoring / "email" / "nb.txt"
    body.write_text(body.read_text("utf-8").replace("vedlagt finner du", "her er"), "utf-8")
    draft = approval.submit_template(rt.ledger, rt.settings, "email.nb", author, "kortere")

    def sent_text(job_id: str) -> str:
        pipeline.submit(dict(load_job("reminder.nb"), id=job_id))
        pipeline.drain()
        message = inbox.received[-1][1]
        return str(message.get_body(preferencelist=("plain",)).get_content())

    assert "vedlagt finner du et brev" in sent_text("mail-1")  # the draft is not sent
    approval.decide(
        rt.ledger,
        draft.id,
        reviewer,
        approve=True,
        sha256=draft.sha256,
        comment="ok",
        today=rt.settings.clock_date,
    )
    assert "her er et brev" in sent_text("mail-2")


def test_a_retired_version_no_longer_makes_letters(pipeline: Pipeline, authoring: Path) -> None:
    ledger, settings = pipeline.runtime.ledger, pipeline.runtime.settings
    author, reviewer = people(ledger)
    reword(authoring, "reminder.en", "please disregard", "you may ignore")
    draft = approval.submit_template(ledger, settings, "reminder.en", author, None)
    approval.decide(
        ledger,
        draft.id,
        reviewer,
        approve=True,
        sha256=draft.sha256,
        comment="ok",
        today=settings.clock_date,
    )
    day = settings.clock_date
    assert Reviews(ledger).in_force(SubjectKind.TEMPLATE, "reminder.en", day).id == draft.id
    approval.retire(ledger, draft.id, reviewer, draft.sha256, "wrong tone after all")
    back = Reviews(ledger).in_force(SubjectKind.TEMPLATE, "reminder.en", day)
    assert back is not None and back.reviewed_by == "letters-release"  # the one before
    letter_id = pipeline.submit(load_job("reminder.en"))
    pipeline.drain()
    assert "please disregard" in letter_text(pipeline, letter_id)
    assert Reviews(ledger).audit_log()[0].action == "retire"
