"""The `letters` command as a newcomer or an operator runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from tests.conftest import FIXTURES, REHEARSAL_RULES, Pipeline, load_job
from tests.letters_command import run


def test_render_one_job(tmp_path: Path) -> None:
    out = tmp_path / "letter.pdf"
    result = run("render", FIXTURES / "jobs" / "reminder.nb.json", "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    assert "1 rendered, 0 refused, 0 failed" in result.stdout


def test_bad_job_gives_exit_2_and_a_message_per_field(tmp_path: Path) -> None:
    result = run("render", FIXTURES / "invalid" / "several-errors.json", "-o", tmp_path / "x.pdf")
    assert result.returncode == 2
    for field in (
        "creditor.org_number",
        "debtor.address.postal_code",
        "claims[0].principal",
        "payment.kid",
    ):
        assert f"  {field}: " in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "x.pdf").exists()


def test_unreadable_json_is_a_clear_error(tmp_path: Path) -> None:
    result = run("render", FIXTURES / "invalid" / "not-json.json", "-o", tmp_path / "x.pdf")
    assert result.returncode == 2
    assert "not valid JSON: it ends too early, after column 19" in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_renders_the_good_jobs_and_reports_the_bad(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(FIXTURES / "jobs" / "reminder.en.json", src)
    shutil.copy(FIXTURES / "invalid" / "fee-over-cap.json", src)
    result = run("render", src, "-o", tmp_path / "out")
    assert result.returncode == 2
    assert (tmp_path / "out" / "reminder.en.pdf").exists()
    assert not (tmp_path / "out" / "fee-over-cap.pdf").exists()
    assert "claims[0].fees[0].amount" in result.stderr and "cap 37.50" in result.stderr
    assert "1 rendered, 1 refused, 0 failed" in result.stdout


def test_missing_input(tmp_path: Path) -> None:
    result = run("render", tmp_path / "nope.json")
    assert result.returncode == 2 and "no such file" in result.stderr


def test_schema_is_json_schema() -> None:
    result = run("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["title"].startswith("Letter job")
    assert "claims" in schema["properties"]


def test_check_command(tmp_path: Path) -> None:
    out = tmp_path / "letter.pdf"
    assert run("render", FIXTURES / "jobs" / "reminder.en.json", "-o", out).returncode == 0
    result = run("check", out)
    assert result.returncode == 0 and "1 page, ok" in result.stdout
    junk = tmp_path / "junk.pdf"
    junk.write_text("not a pdf")
    result = run("check", junk)
    assert result.returncode == 2 and "not a readable PDF" in result.stderr
    assert "[pdf-unreadable]" in result.stderr
    # a letter-size page: one finding for the document, with its code
    from reportlab.lib.pagesizes import letter  # type: ignore[import-untyped,unused-ignore]
    from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped,unused-ignore]

    us = tmp_path / "us.pdf"
    canvas = Canvas(str(us), pagesize=letter)
    for _ in range(3):
        canvas.showPage()
    canvas.save()
    result = run("check", us)
    assert result.returncode == 1
    assert result.stdout.count("[not-a4]") == 1 and "pages 1–3" in result.stdout


def test_no_password_in_cli_output(tmp_path: Path) -> None:
    from pypdf import PdfReader

    out = tmp_path / "letter.pdf"
    result = run("render", FIXTURES / "jobs" / "reminder.nb.json", "-o", out)
    text = PdfReader(out).pages[0].extract_text()
    line = next(ln for ln in text.splitlines() if ln.startswith("Passord"))
    secret = line.removeprefix("Passord").strip()
    assert len(secret.replace(" ", "")) >= 10
    assert secret.replace(" ", "") not in (result.stdout + result.stderr).replace(" ", "")


def test_enqueue_csv_accepts_good_rows_and_names_bad_ones(tmp_path: Path) -> None:
    from tests.csv_jobs import REMINDER_ROW as base
    from tests.csv_jobs import write_csv

    rows = [
        base,
        dict(base, id="csv-0002", reference="AX-2026-700002"),
        dict(base, id="csv-0003", principal="12,49"),
    ]
    path = write_csv(tmp_path / "jobs.csv", rows)
    result = run(
        "enqueue",
        path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}",
        LETTERS_BROKER="stub",
        LETTERS_CLOCK_DATE="2026-11-20",
        LETTERS_REHEARSAL_RULES=str(REHEARSAL_RULES),
    )
    assert result.returncode == 2
    assert "2 accepted, 1 refused" in result.stdout
    assert f"{path}:4: claims[0].principal: not an amount" in result.stderr


def test_a_revoked_tokens_name_can_be_used_again(tmp_path: Path) -> None:

    def token(*args: str) -> subprocess.CompletedProcess[str]:
        return run("token", *args, DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}")

    first = token("create", "billing", "--scopes", "submit")
    assert first.returncode == 0 and first.stdout.startswith("lt_")
    assert token("create", "billing").returncode == 2  # a live token has that name
    assert token("revoke", "billing").returncode == 0
    second = token("create", "billing", "--scopes", "read")
    assert second.returncode == 0 and second.stdout != first.stdout


def test_enqueue_csv_refuses_a_row_with_extra_cells(tmp_path: Path) -> None:

    path = tmp_path / "jobs.csv"
    path.write_text("id,kind\njob-1,reminder,surplus\n")
    result = run(
        "enqueue", path, DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}", LETTERS_BROKER="stub"
    )
    assert result.returncode == 2
    assert f"{path}:2: (row): more cells than the header has columns" in result.stderr


def test_batch_close_as_an_operator_runs_it(tmp_path: Path) -> None:
    env = {
        "LETTERS_CLOCK_DATE": "2026-11-20",
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "LETTERS_ARCHIVE_DIR": str(tmp_path / "archive"),
        "LETTERS_PRINTING__FOLDER": str(tmp_path / "print"),
        "LETTERS_PRINTING__HANDOFF__KIND": "folder",
        "LETTERS_PRINTING__HANDOFF__FOLDER": str(tmp_path / "vendor"),
    }
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    for name in ("reminder.nb", "edge.many-claims"):
        shutil.copy(FIXTURES / "jobs" / f"{name}.json", jobs)
    done = run("run", jobs, "--keep-batch-open", **env)
    assert done.returncode == 0, done.stderr
    assert "Print batch" not in done.stdout  # left open
    listed = run("batch", "list", **env)
    assert "PB000001" in listed.stdout and "open" in listed.stdout
    closing = run("batch", "close", **env)
    # the vendor's drop folder does not exist yet: closed, but not handed off (exit 1)
    assert closing.returncode == 1
    assert "print batch PB000001 closed: 2 letters, 6 printed sides on 3 sheets" in closing.stdout
    assert "NOT handed off: handoff-unavailable: drop folder" in closing.stderr
    (tmp_path / "vendor").mkdir()
    again = run("batch", "close", **env)
    assert again.returncode == 0, again.stderr
    assert "no open print batch" in again.stdout
    assert "print batch PB000001 handed off" in again.stdout
    assert (tmp_path / "vendor" / "PB000001" / "READY").exists()
    assert "handed_off" in run("batch", "list", **env).stdout
    unknown = run("batch", "close", "--batch", "PB000009", **env)
    assert unknown.returncode == 2 and "no print batch PB000009" in unknown.stderr


def test_status_of_a_failed_job_shows_its_stable_code(pipeline: Pipeline) -> None:
    import datetime as dt

    from letters.pipeline.intake import release

    job = load_job("reminder.en")
    pipeline.runtime.ledger.place_hold(job["reference"], "dispute")
    pipeline.submit(job)
    pipeline.drain()
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={"clock_date": dt.date(2026, 11, 23)}  # released three days later
    )
    release(job["reference"], "resolved", pipeline.runtime)
    pipeline.drain()
    env = {"DATABASE_URL": pipeline.runtime.settings.database_url}
    as_json = run("status", job["id"], "--json", **env)
    assert as_json.returncode == 0, as_json.stderr
    history = json.loads(as_json.stdout)
    assert list(history) == ["job", "events", "letter", "attempts", "holds"]
    assert list(history["job"]) == [
        "id",
        "kind",
        "reference",
        "status",
        "letter_id",
        "content_sha256",
        "accepted_at",
        "error_class",
        "error_code",
        "error",
    ]
    assert history["job"]["status"] == "failed"
    assert history["job"]["error_code"] == "letter-date-past"
    assert history["events"][-1]["event"] == "failed"
    as_text = run("status", job["id"], **env)
    assert as_text.returncode == 0, as_text.stderr
    assert "error letter-date-past: " in as_text.stdout and "(while " in as_text.stdout
    assert "PermanentFailure" not in as_text.stdout and "render_letter" not in as_text.stdout


def test_status_prints_the_codes_in_a_history_as_text(pipeline: Pipeline) -> None:
    job = load_job("reminder.nb")
    pipeline.submit(job)
    pipeline.drain()
    shown = run("status", job["id"], DATABASE_URL=pipeline.runtime.settings.database_url)
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "[route-not-configured]" in text  # the skip's code, not eaten as markup
