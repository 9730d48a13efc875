"""The command line as an operator, a clerk and an upstream team expect it (issue 13): one
wording for one situation, nothing created by a command that reads, and the rehearsal
clock honoured everywhere."""

from __future__ import annotations

import sqlite3
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import FIXTURES, REHEARSAL_RULES, Pipeline, load_job, password_on
from tests.letters_command import run


def rehearsal_env(tmp_path: Path, ledger: str = "l.db") -> dict[str, str]:
    """What a command needs to run on a ledger, archive and print folder of ``tmp_path``,
    on the fixtures' rehearsal day with the in-memory broker."""
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / ledger}",
        "LETTERS_ARCHIVE_DIR": str(tmp_path / "archive"),
        "LETTERS_PRINTING__FOLDER": str(tmp_path / "print"),
        "LETTERS_BROKER": "stub",
        "LETTERS_CLOCK_DATE": "2026-11-20",
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
    }


def test_version_is_the_installed_one() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"letters {version('letters')}"


@pytest.mark.parametrize(
    "args",
    [
        ("token", "create", ""),
        ("token", "create", "   "),
        ("hold", "AX-2026-100041", "--reason", ""),
        ("hold", "AX-2026-100041", "--reason", "two\nlines"),
        ("case", "close", "AX-2026-100041", "--by", "kari", "--reason", " "),
    ],
)
def test_an_empty_name_or_reason_is_refused_before_anything_is_recorded(
    args: tuple[str, ...], tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.db"
    result = run(*args, DATABASE_URL=f"sqlite:///{ledger}")
    assert result.returncode == 2, result.stdout
    assert "must not be empty" in result.stderr or "one line of text" in result.stderr
    assert "Traceback" not in result.stderr
    assert not ledger.exists()  # refused before the ledger was even opened


def test_status_reads_an_existing_ledger_and_never_creates_one(tmp_path: Path) -> None:
    result = run("status", DATABASE_URL=f"sqlite:///{tmp_path / 'nothing-here.db'}")
    assert result.returncode == 2
    assert f"no ledger at {tmp_path / 'nothing-here.db'}" in result.stderr
    assert not (tmp_path / "nothing-here.db").exists()
    result = run("status", "some-job", DATABASE_URL=f"sqlite:///{tmp_path / 'nothing-here.db'}")
    assert result.returncode == 2 and not (tmp_path / "nothing-here.db").exists()


def test_status_says_which_ledger_it_read(pipeline: Pipeline, tmp_path: Path) -> None:
    pipeline.submit(load_job("reminder.nb"))
    pipeline.drain()
    ledger = tmp_path / "ledger.db"
    result = run("status", DATABASE_URL=f"sqlite:///{ledger}")
    assert result.returncode == 0, result.stderr
    assert f"ledger: {ledger}" in result.stdout
    assert "1 delivered" in result.stdout


def test_credentials_verify_uses_the_rehearsal_clock(pipeline: Pipeline, tmp_path: Path) -> None:
    job = load_job("reminder.nb")
    letter_id = pipeline.submit(job)
    pipeline.drain()
    password = password_on(pipeline.pdf(letter_id))
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}",
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
    }
    # the letter is dated 2026-11-20; its password works 21 days, to 2026-12-11
    on_the_day = run(
        "credentials", "verify", job["reference"], password, LETTERS_CLOCK_DATE="2026-11-20", **env
    )
    assert (on_the_day.returncode, on_the_day.stdout.strip()) == (0, "valid"), on_the_day.stderr
    last_day = run(
        "credentials", "verify", job["reference"], password, LETTERS_CLOCK_DATE="2026-12-11", **env
    )
    assert last_day.stdout.strip() == "valid"
    after = run(
        "credentials", "verify", job["reference"], password, LETTERS_CLOCK_DATE="2026-12-12", **env
    )
    assert (after.returncode, after.stdout.strip()) == (1, "expired")


def test_credentials_verify_refuses_a_malformed_reference_as_hold_does(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}"}
    verify = run("credentials", "verify", "bad ref!", "whatever", **env)
    hold = run("hold", "bad ref!", "--reason", "dispute", **env)
    assert verify.returncode == hold.returncode == 2
    said = "'bad ref!' is not a valid case reference [bad-reference]"
    assert verify.stderr.strip() == hold.stderr.strip() == said


def test_render_one_file_without_o_writes_into_out(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    shutil.copy(FIXTURES / "jobs" / "reminder.en.json", tmp_path / "my job.json")
    env_run = subprocess.run(
        [sys.executable, "-m", "letters", "render", "my job.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={
            **__import__("os").environ,
            "LETTERS_CLOCK_DATE": "2026-11-20",
            "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
        },
    )
    assert env_run.returncode == 0, env_run.stderr
    assert (tmp_path / "out" / "my_job.pdf").read_bytes().startswith(b"%PDF-")
    assert {p.name for p in tmp_path.iterdir()} == {"my job.json", "out"}
    assert "PDF: out/my_job.pdf" in env_run.stdout


def test_render_a_folder_into_a_pdf_name_is_refused(tmp_path: Path) -> None:
    result = run("render", FIXTURES / "jobs", "-o", tmp_path / "x.pdf")
    assert result.returncode == 2
    assert "give -o a folder, not a file" in result.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_render_table_names_the_job_id_and_a_past_letter_date(tmp_path: Path) -> None:
    import json

    job = load_job("reminder.nb")
    job["id"] = "job-id-not-the-file-name"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "some-file.json").write_text(json.dumps(job), "utf-8")
    on_time = run(
        "render",
        tmp_path / "in",
        "-o",
        tmp_path / "out",
        LETTERS_CLOCK_DATE="2026-11-20",
        LETTERS_REHEARSAL_RULES=str(REHEARSAL_RULES),
    )
    assert on_time.returncode == 0, on_time.stderr
    assert "job-id-not-the-file-name" in on_time.stdout
    assert "some-file" not in on_time.stdout.split("PDF: ")[0]
    assert "refuses" not in on_time.stdout + on_time.stderr
    late = run(
        "render",
        tmp_path / "in",
        "-o",
        tmp_path / "out",
        LETTERS_CLOCK_DATE="2026-11-23",
        LETTERS_REHEARSAL_RULES=str(REHEARSAL_RULES),
    )
    assert late.returncode == 0, late.stderr  # a preview is still made
    assert "letter-date-past" in late.stdout and "letter-date-past" in late.stderr
    assert "1 preview carries a letter date the pipeline refuses today" in late.stdout


def test_a_folder_rendered_in_two_processes_reports_as_one(tmp_path: Path) -> None:
    """Twenty jobs (enough for two processes): the same report, in file order, as one
    process gives, and every PDF written."""
    import json

    src = tmp_path / "in"
    src.mkdir()
    names = sorted(p for p in (FIXTURES / "jobs").glob("*.json") if "edge." not in p.name)
    for n in range(20):
        job = json.loads(names[n % len(names)].read_text("utf-8"))
        job["id"] = f"par-{n:02d}"
        (src / f"{n:02d}.json").write_text(json.dumps(job), "utf-8")
    (src / "99-bad.json").write_text("{", "utf-8")
    env = {"LETTERS_CLOCK_DATE": "2026-11-20", "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES)}
    two = run("render", src, "-o", tmp_path / "two", "--jobs", "2", **env)
    one = run("render", src, "-o", tmp_path / "one", "--jobs", "1", **env)
    assert two.returncode == one.returncode == 2  # the bad file
    assert two.stderr == one.stderr and "99-bad.json" in two.stderr
    rows = [line.split("│")[1].strip() for line in two.stdout.splitlines() if "par-" in line]
    assert rows == [f"par-{n:02d}" for n in range(20)]
    assert "20 rendered, 1 refused, 0 failed" in two.stdout
    assert len(list((tmp_path / "two").glob("*.pdf"))) == 20


def test_a_refused_hold_leaves_no_ledger_row(tmp_path: Path) -> None:
    """Sanity for the refusals above: a good hold does write (so the refusal test's 'no
    ledger' is the argument check, not a command that never writes)."""
    ledger = tmp_path / "ledger.db"
    result = run(
        "hold", "AX-2026-100041", "--reason", "dispute", DATABASE_URL=f"sqlite:///{ledger}"
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(ledger) as conn:
        assert conn.execute("select count(*) from holds").fetchone() == (1,)


def test_run_reads_a_csv_file_as_enqueue_does(tmp_path: Path) -> None:
    from tests.csv_jobs import REMINDER_ROW, write_csv

    row = dict(REMINDER_ROW, id="csv-run-1", reference="AX-2026-700011")
    path = write_csv(tmp_path / "jobs.csv", [row, dict(row, id="csv-run-2", principal="12,49")])
    result = run(
        "run",
        path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}",
        LETTERS_ARCHIVE_DIR=str(tmp_path / "archive"),
        LETTERS_PRINTING__FOLDER=str(tmp_path / "print"),
        LETTERS_CLOCK_DATE="2026-11-20",
        LETTERS_REHEARSAL_RULES=str(REHEARSAL_RULES),
    )
    assert "Traceback" not in result.stderr
    assert "csv-run-1" in result.stdout, result.stdout + result.stderr
    assert f"{path}:3" in result.stdout + result.stderr  # the bad row, by its line
    assert "claims[0].principal" in result.stdout + result.stderr
    assert "not valid JSON" not in result.stdout + result.stderr


def test_a_line_cut_short_says_where_it_ends(tmp_path: Path) -> None:
    whole = (FIXTURES / "jobs" / "reminder.nb.json").read_text("utf-8").replace("\n", " ")
    path = tmp_path / "jobs.jsonl"
    path.write_text(whole + "\n" + whole[:200] + "\n", "utf-8")
    result = run(
        "enqueue", path, DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}", LETTERS_BROKER="stub"
    )
    assert result.returncode == 2
    assert f"{path}:2: (line): not valid JSON: it ends too early, after column 200" in (
        result.stderr
    )


def test_hold_and_release_say_what_they_did(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}", "LETTERS_BROKER": "stub"}
    ref = "AX-2026-100041"
    never = run("release", ref, "--reason", "x", **env)
    assert (never.returncode, never.stdout.strip()) == (
        0,
        f"case {ref} was not held; nothing changed",
    )
    held = run("hold", ref, "--reason", "disputed by phone", **env)
    assert held.stdout.strip() == (
        f"case {ref} held: no job of it is waiting to be sent; jobs that arrive wait for the "
        "release"
    )
    again = run("hold", ref, "--reason", "and in writing", **env)
    assert again.stdout.startswith(f"case {ref} was held already; the reason is added")
    released = run("release", ref, "--reason", "resolved", **env)
    assert released.stdout.strip() == f"case {ref} released: no job of it was waiting"
    with sqlite3.connect(tmp_path / "l.db") as conn:
        rows = conn.execute("select action from audit_log order by id")
        actions = [a for (a,) in rows if a in ("hold", "release")]
    assert actions == ["hold", "hold", "release"]  # the release of nothing is not audited


def test_hold_counts_the_jobs_it_stops(pipeline: Pipeline, tmp_path: Path) -> None:
    job = load_job("reminder.nb")
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ledger.db'}", "LETTERS_BROKER": "stub"}
    assert run("hold", job["reference"], "--reason", "dispute", **env).returncode == 0
    pipeline.submit(job)
    pipeline.drain()
    assert pipeline.status(job["id"]) == "held"
    again = run("hold", job["reference"], "--reason", "in writing too", **env)
    assert again.stdout.strip() == (
        f"case {job['reference']} was held already; the reason is added: 1 job of it not yet "
        "sent waits for the release"
    )


def _parsers() -> list[tuple[str, Any]]:
    """(command path, parser) for every command and subcommand of ``letters``."""
    import argparse

    from letters.cli import build_parser

    found: list[tuple[str, Any]] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        found.append((path, parser))
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, f"{path} {name}")

    walk(build_parser(), "letters")
    return found


def test_help_lists_every_command_once_under_who_uses_it() -> None:
    from letters.cli import AUDIENCES

    commands = {path.split()[1] for path, _ in _parsers() if len(path.split()) == 2}
    grouped = [name for _, names in AUDIENCES for name in names]
    assert sorted(grouped) == sorted(commands)  # each once, none left out
    shown = run("--help").stdout
    for audience, names in AUDIENCES:
        assert f"{audience}:" in shown
        for name in names:
            assert f"\n  {name} " in shown


def test_every_command_describes_itself_and_every_argument() -> None:
    import argparse

    unexplained = []
    for path, parser in _parsers():
        if path != "letters" and not parser.description:
            unexplained.append(path)
        for action in parser._actions:
            if not isinstance(action, argparse._HelpAction) and not action.help:
                unexplained.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert unexplained == []


def test_options_show_their_defaults() -> None:
    shown = run("audit", "--help").stdout
    assert "newest first (default: 100)" in " ".join(shown.split())
    shown = run("serve", "--help").stdout
    assert "(default: 127.0.0.1)" in shown and "(default: 8000)" in shown


def test_the_readme_command_reference_is_the_help() -> None:
    from letters.cli import build_parser

    readme = (FIXTURES.parent / "README.md").read_text("utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    block = section.split("```\n", 2)[1]
    assert block == str(build_parser().epilog).rstrip("\n") + "\n"


def test_status_shows_times_in_oslo_and_each_event_as_it_was(pipeline: Pipeline) -> None:
    import re

    from channels.printing.batch import BatchCloser

    job = load_job("reminder.en")
    job["channels"] = ["print"]
    pipeline.submit(job)
    pipeline.drain()
    rt = pipeline.runtime
    BatchCloser(rt.settings, rt.ledger, rt.archive).close()
    env = {"DATABASE_URL": f"sqlite:///{pipeline.tmp / 'ledger.db'}"}
    history = run("status", job["id"], **env).stdout
    times = re.findall(r"│ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T) +│", history)
    assert len(times) >= 5, history
    assert "+00:00" not in history and not re.search(r"\d\d:\d\d:\d\d\.\d", history)
    assert "password expires 2026-12-11 23:59:59 CET" in history
    joined = next(line for line in history.splitlines() if "joined print batch" in line)
    assert "PB000001" in joined and "closed" not in joined  # what happened then, not now
    assert "print batch closed" in history
    overview = run("status", **env).stdout
    assert re.search(r"│ closed +│ 1 +│.*│ \d{4}-\d\d-\d\d \d\d:\d\d:\d\d CES?T", overview)


def test_status_says_when_jobs_wait_and_no_worker_runs(tmp_path: Path) -> None:
    import json

    import redis

    from tests.services import redis_url

    url = redis_url()
    redis.Redis.from_url(url).flushdb()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}",
        "LETTERS_BROKER": "redis",
        "REDIS_URL": url,
        "LETTERS_CLOCK_DATE": "2026-11-20",
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
    }
    path = tmp_path / "jobs.jsonl"
    path.write_text(json.dumps(load_job("reminder.nb")) + "\n", "utf-8")
    assert run("enqueue", path, **env).returncode == 0
    status = run("status", **env)
    assert "1 job waiting, and no worker is running on the broker" in status.stderr
    redis.Redis.from_url(url).set("dramatiq:letters:worker:somehost:123", "1", ex=30)
    status = run("status", **env)  # a worker's key (as a live one renews it): no hint
    assert "no worker" not in status.stderr
    redis.Redis.from_url(url).flushdb()


def test_refusals_speak_the_products_words_not_the_librarys(tmp_path: Path) -> None:
    path = tmp_path / "jobs.jsonl"
    path.write_text('[]\n{}\n"a job as text"\n{"id": "x", "kind": "reminder", "language": 7}\n')
    result = run(
        "enqueue", path, DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}", LETTERS_BROKER="stub"
    )
    assert result.returncode == 2
    said = result.stderr
    for library in ("Field required", "Input should", "instance of Job", "dictionary"):
        assert library not in said
    assert f"{path}:1: (line): a job is an object ({{…}}), not a list [not-an-object]" in said
    assert f"{path}:2: id: required, and missing (see `letters schema`) [required]" in said
    assert f"{path}:3: (line): a job is an object ({{…}}), not text [not-an-object]" in said
    assert f"{path}:4: language: must be 'nb' or 'en'" in said
    assert "0 accepted, 4 refused" in result.stdout


@pytest.mark.parametrize(
    ("line", "offered"),
    [
        ("letters tem", ["templates"]),
        ("letters templates ap", ["approve"]),
        ("letters templates approve 3 --c", ["--comment"]),
        ("letters batch c", ["close"]),
        ("letters render jobs/ --j", ["--jobs", "--json"]),
        ("letters render jobs/ --jo", ["--jobs"]),
        ("letters completion ", ["--help", "bash", "zsh"]),
    ],
)
def test_bash_completion_offers_what_help_shows(line: str, offered: list[str]) -> None:
    import shutil
    import subprocess

    if shutil.which("bash") is None:
        pytest.skip("no bash here")
    script = run("completion", "bash")
    assert script.returncode == 0
    words = line.split() + ([""] if line.endswith(" ") else [])
    probe = (
        f"{script.stdout}\nCOMP_WORDS=({' '.join(repr(w) for w in words)}); "
        f"COMP_CWORD={len(words) - 1}; _letters; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    done = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    assert sorted(done.stdout.split()) == sorted(offered)


def test_zsh_completion_loads_where_zsh_is() -> None:
    import shutil
    import subprocess

    script = run("completion", "zsh")
    assert script.returncode == 0 and "bashcompinit" in script.stdout
    if shutil.which("zsh") is None:
        pytest.skip("no zsh here (the script is bash's, through zsh's bashcompinit)")
    done = subprocess.run(
        ["zsh", "-f", "-c", script.stdout + "\nwhence -w _letters"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "_letters: function" in done.stdout, done.stderr


@given(st.lists(st.text(alphabet="ab{}", min_size=1, max_size=30), max_size=40), st.booleans())
def test_a_progress_total_counts_the_lines_of_jobs(lines: list[str], newline_at_end: bool) -> None:
    import tempfile

    from letters.cli.console import job_lines

    with tempfile.TemporaryDirectory() as folder:
        for suffix, header in ((".jsonl", []), (".csv", ["id,kind"])):
            path = Path(folder) / f"jobs{suffix}"
            text = "\n".join(header + lines) + ("\n" if newline_at_end and header + lines else "")
            path.write_text(text, "utf-8")
            assert job_lines(path) == len(lines)


def test_a_batch_close_tells_its_progress(pipeline: Pipeline) -> None:
    from channels.printing.batch import BatchCloser

    for name in ("reminder.en", "reminder.nb", "collection_notice.en"):
        job = load_job(name)
        job["channels"] = ["print"]
        pipeline.submit(job)
    pipeline.drain()
    rt = pipeline.runtime
    closer = BatchCloser(rt.settings, rt.ledger, rt.archive)
    told: list[tuple[str, int, int]] = []
    closer.on_progress = lambda batch, done, total: told.append((batch, done, total))
    [closed] = closer.close()
    assert told == [(closed.id, n, 3) for n in (1, 2, 3)]


def test_more_than_a_screenful_is_a_summary_unless_verbose(tmp_path: Path) -> None:
    import json

    src = tmp_path / "in"
    src.mkdir()
    job = load_job("reminder.nb")
    lines = []
    for n in range(35):
        one = dict(job, id=f"many-{n:02d}", reference=f"AX-2026-2{n:05d}")
        (src / f"{n:02d}.json").write_text(json.dumps(one), "utf-8")
        lines.append(json.dumps(one))
    env = {"LETTERS_CLOCK_DATE": "2026-11-20", "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES)}
    brief = run("render", src, "-o", tmp_path / "out", **env)
    assert "Rendered letters: 35 (a summary; --verbose lists each)" in brief.stdout
    assert "many-07" not in brief.stdout
    assert "│ reminder │ nb   │ 1     │ ok    │ 35" in brief.stdout
    every = run("render", src, "-o", tmp_path / "out", "--verbose", **env)
    assert all(f"many-{n:02d}" in every.stdout for n in range(35))
    (tmp_path / "jobs.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    ran = run(
        "run",
        tmp_path / "jobs.jsonl",
        DATABASE_URL=f"sqlite:///{tmp_path / 'l.db'}",
        LETTERS_ARCHIVE_DIR=str(tmp_path / "archive"),
        LETTERS_PRINTING__FOLDER=str(tmp_path / "print"),
        **env,
    )
    assert ran.returncode == 0, ran.stderr
    assert "Letters: 35 (a summary; --verbose lists each)" in ran.stdout
    assert "print batch PB000001" in ran.stdout and "35 accepted and handled" in ran.stdout
    assert "many-07" not in ran.stdout


def test_reporting_commands_answer_in_json_when_asked(tmp_path: Path) -> None:
    import json

    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'l.db'}", "LETTERS_BROKER": "stub"}
    junk = tmp_path / "junk.pdf"
    junk.write_text("not a pdf")
    checked = run("check", junk, "--json")
    assert checked.returncode == 2
    assert json.loads(checked.stdout)["findings"][0]["code"] == "pdf-unreadable"
    assert "PDFium" not in checked.stdout
    path = tmp_path / "jobs.jsonl"
    path.write_text("{}\n", "utf-8")
    enqueued = run("enqueue", path, "--json", **env)
    report = json.loads(enqueued.stdout)
    assert enqueued.returncode == 2 and report["accepted"] == 0
    assert {"line": 1, "field": "id", "code": "required"}.items() <= report["refused"][0].items()
    ref = "AX-2026-100041"
    held = json.loads(run("hold", ref, "--reason", "dispute", "--json", **env).stdout)
    assert held == {"reference": ref, "held": True, "already_held": False, "unfinished_jobs": 0}
    released = json.loads(run("release", ref, "--reason", "ok", "--json", **env).stdout)
    assert released == {"reference": ref, "held": False, "was_held": True, "resumed": []}
    verified = run("credentials", "verify", ref, "nope", "--json", **env)
    assert verified.returncode == 1
    assert json.loads(verified.stdout) == {"result": "wrong", "retry_after": None}


def test_render_and_run_answer_in_json_too(tmp_path: Path) -> None:
    import json

    env = rehearsal_env(tmp_path)
    folder = tmp_path / "jobs"
    folder.mkdir()
    good = load_job("reminder.nb")
    (folder / "good.json").write_text(json.dumps(good), "utf-8")
    (folder / "bad.json").write_text(json.dumps({**good, "id": "bad", "kind": "x"}), "utf-8")
    rendered = run("render", folder, "-o", tmp_path / "out", "--json", **env)
    assert rendered.returncode == 2  # one refused
    report = json.loads(rendered.stdout)  # stdout is the JSON and nothing else
    assert (report["rendered"], report["refused"], report["failed"]) == (1, 1, 0)
    bad, ok = report["letters"]  # in the order of the files
    assert bad["outcome"] == "refused" and bad["errors"][0]["field"] == "kind"
    assert ok["outcome"] == "rendered" and ok["job"] == good["id"] and ok["pages"] == 1
    assert Path(ok["pdf"]).read_bytes().startswith(b"%PDF")
    assert ok["refused_today"] is None and ok["findings"] == []
    dated = run(
        "render", folder / "good.json", "--json", **{**env, "LETTERS_CLOCK_DATE": "2026-12-01"}
    )
    [late] = json.loads(dated.stdout)["letters"]
    assert late["refused_today"]["code"] == "letter-date-past"
    ran = run("run", folder, "--json", **env)
    assert ran.returncode == 2
    told = json.loads(ran.stdout)
    assert (told["handled"], told["refused"], told["failed"]) == (1, 1, 0)
    refused, handled = told["letters"]
    assert refused["status"] == "refused" and refused["errors"][0]["code"]
    assert (handled["job"], handled["status"], handled["channel"]) == (
        good["id"],
        "delivered",
        "print",
    )
    [batch] = told["print_batches"]
    assert (batch["batch"], batch["letters"]) == (handled["delivered_as"], 1)
    assert "accepting" in ran.stderr  # the progress is on stderr, out of the JSON's way


def test_batch_case_and_token_answer_in_json_too(pipeline: Pipeline, tmp_path: Path) -> None:
    import json

    job = load_job("reminder.en")
    job["channels"] = ["print"]
    pipeline.submit(job)
    pipeline.drain()
    env = rehearsal_env(tmp_path, "ledger.db")
    closed = run("batch", "close", "--json", **env)
    report = json.loads(closed.stdout)
    [batch] = report["closed"]
    assert (batch["batch"], batch["letters"], batch["files"]) == ("PB000001", 1, ["C5-001.pdf"])
    listed = json.loads(run("batch", "list", "--json", **env).stdout)
    assert listed["print_batches"][0]["id"] == "PB000001"
    ref = job["reference"]
    close = run("case", "close", ref, "--by", "kari", "--reason", "paid", "--json", **env)
    answer = json.loads(close.stdout)
    assert (answer["closed"], answer["already_closed"]) == (True, False)
    assert answer["closed_by"] == "kari"
    reopen = run("case", "reopen", ref, "--by", "kari", "--reason", "no", "--json", **env)
    assert json.loads(reopen.stdout) == {"reference": ref, "closed": False, "reopened": True}
    created = run("token", "create", "billing", "--scopes", "submit", "--json", **env)
    made = json.loads(created.stdout)
    assert made["name"] == "billing" and made["token"].startswith("lt_")
    gone = run("token", "revoke", "billing", "--json", **env)
    assert json.loads(gone.stdout) == {"name": "billing", "revoked": True}


def test_every_command_says_its_exit_status_and_the_readme_lists_them() -> None:
    from letters.cli import EXIT_STATUS

    readme = (FIXTURES.parent / "README.md").read_text("utf-8")
    for path, parser in _parsers():
        if len(path.split()) == 2:
            name = path.split()[1]
            assert parser.epilog == f"Exit status: 0 all well; {EXIT_STATUS[name]}."
            assert f"| `{name}` | {EXIT_STATUS[name]} |" in readme


#: Each command's statuses other than 0, as its --help says them: (arguments, extra
#: environment, status, what stderr says). 1 of `worker` (a process keeps dying) is
#: tests/test_supervisor.py's, 1 of `check` and `batch` tests/test_cli.py's, 1 of `templates`
#: tests/test_workbench.py's: each needs more than a command line to bring about.
STATUSES: list[tuple[tuple[str, ...], dict[str, str], int, str]] = [
    (("run", "{bad}"), {}, 2, "payment: required, and missing"),
    (("enqueue", "{bad}"), {}, 2, "[required]"),
    (
        ("enqueue", "{good}"),
        {"LETTERS_BROKER": "redis", "REDIS_URL": "redis://127.0.0.1:1/0"},
        1,
        "[broker-unreachable]",
    ),
    (("worker",), {"LETTERS_MAX_RETRIES": "many"}, 2, "LETTERS_MAX_RETRIES: must be a valid"),
    (("serve", "--port", "99999"), {}, 2, "must be a port number from 1 to 65535"),
    (("serve",), {"LETTERS_MAX_RETRIES": "many"}, 2, "LETTERS_MAX_RETRIES: must be a valid"),
    (("status", "no-such-job"), {}, 2, "no-such-job"),
    (("status",), {"DATABASE_URL": "sqlite:///{tmp}/none.db"}, 2, "no ledger at"),
    (("batch", "close", "--batch", "PB999999"), {}, 2, "PB999999"),
    (("hold", "not a ref!", "--reason", "x"), {}, 2, "not a valid case reference"),
    (("release", "not a ref!", "--reason", "x"), {}, 2, "not a valid case reference"),
    (
        ("resolve", "no-such-job", "--sent", "--by", "kari", "--reason", "x"),
        {},
        2,
        "is not uncertain (there is no such job)",
    ),
    (
        ("resolve", "j", "--resend", "--by", "kari", "--reason", "x"),
        {"DATABASE_URL": "sqlite:///{tmp}/none.db"},
        2,
        "no ledger at",
    ),
    (
        ("case", "reopen", "AX-2026-999999", "--by", "kari", "--reason", "x"),
        {},
        2,
        "is not closed: nothing done",
    ),
    (
        ("case", "close", "not a ref!", "--by", "kari", "--reason", "x"),
        {},
        2,
        "not a valid case reference",
    ),
    (
        ("templates", "approve", "9", "--sha256", "ab", "--comment", "x", "--user", "kari"),
        {},
        2,
        "[sign-in-failed]",
    ),
    (("rules", "list"), {"LETTERS_REHEARSAL_RULES": ""}, 1, "unconfirmed"),
    (
        ("rules", "approve", "9", "--sha256", "ab", "--comment", "x", "--user", "kari"),
        {},
        2,
        "[sign-in-failed]",
    ),
    (("users", "create", "kari", "--role", "boss"), {}, 2, "invalid choice: 'boss'"),
    (("users", "create"), {}, 2, "needs a NAME and --role"),
    (("audit", "--limit", "many"), {}, 2, "invalid int value"),
    (("audit",), {"DATABASE_URL": "sqlite:///{tmp}/none.db"}, 2, "no ledger at"),
    (("purge",), {}, 2, "--by and --reason"),
    (("render", "{bad}"), {}, 2, "payment: required, and missing"),
    (("check", "nope.pdf"), {}, 2, "nope.pdf"),
    (("schema", "extra"), {}, 2, "unrecognized arguments: extra"),
    (("codes", "extra"), {}, 2, "unrecognized arguments: extra"),
    (("token", "revoke", "nobody"), {}, 2, "no live token named 'nobody'"),
    (("credentials", "verify", "AX-2026-100041", "wrong"), {}, 1, ""),
    (("credentials", "verify", "not a ref!", "x"), {}, 2, "not a valid case reference"),
    (
        ("credentials", "verify", "AX-2026-100041", "x"),
        {"DATABASE_URL": "sqlite:///{tmp}/none.db"},
        2,
        "no ledger at",
    ),
    (("completion", "fish"), {}, 2, "invalid choice: 'fish'"),
    # what every command shares: a ledger it cannot reach or use, a setting naming nothing
    (
        ("status",),
        {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x"},
        1,
        "cannot be used now",
    ),
    (
        ("enqueue", "{good}"),
        {"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x"},
        1,
        "[ledger-unavailable]",
    ),
    (("status",), {"DATABASE_URL": "bogus://x"}, 2, "is not a ledger URL this product takes"),
    (("status",), {"LETTERS_CONFIG": "{tmp}/none.toml"}, 2, "LETTERS_CONFIG: no such file"),
    (("status",), {"LETTERS_REHEARSAL_RULES": "{tmp}/none"}, 2, "no such folder"),
    (("status",), {"LETTERS_SENDER__ACCOUNTS_ABROAD": "not json"}, 2, "cannot be read"),
    # commands that only read make no ledger to read
    (("rules", "list"), {"DATABASE_URL": "sqlite:///{tmp}/none.db"}, 2, "no ledger at"),
    (("templates", "list"), {"DATABASE_URL": "sqlite:///{tmp}/none.db"}, 2, "no ledger at"),
    (("users", "list"), {"DATABASE_URL": "sqlite:///{tmp}/none.db"}, 2, "no ledger at"),
    (("purge", "--dry-run"), {"DATABASE_URL": "sqlite:///{tmp}/none.db"}, 2, "no ledger at"),
    (("token", "revoke", "x"), {"DATABASE_URL": "sqlite:///{tmp}/none.db"}, 2, "no ledger at"),
    (("check", "{tmp}"), {}, 2, "a folder, not a file [file-unreadable]"),
    (("enqueue", "{tmp}/none.jsonl"), {}, 2, "none.jsonl: no such file [file-unreadable]"),
]


def test_every_command_has_its_statuses_tried() -> None:
    from letters.cli import EXIT_STATUS

    tried = {args[0] for args, _, _, _ in STATUSES}
    assert tried == set(EXIT_STATUS), set(EXIT_STATUS) ^ tried


@pytest.mark.parametrize(
    ("args", "extra", "status", "says"),
    STATUSES,
    ids=[" ".join(a[:2]) + f" {s}" for a, _, s, _ in STATUSES],
)
def test_exit_statuses_are_what_help_says(
    args: tuple[str, ...], extra: dict[str, str], status: int, says: str, tmp_path: Path
) -> None:
    import json

    env = rehearsal_env(tmp_path)
    run("hold", "AX-2026-999999", "--reason", "make a ledger", **env)
    (tmp_path / "bad.jsonl").write_text("{}\n", "utf-8")
    good = load_job("reminder.nb")
    (tmp_path / "good.jsonl").write_text(json.dumps(good) + "\n", "utf-8")
    names = {"bad": str(tmp_path / "bad.jsonl"), "good": str(tmp_path / "good.jsonl")}
    given = [a.replace("{tmp}", str(tmp_path)).format(**names) for a in args]
    env |= {k: v.replace("{tmp}", str(tmp_path)) for k, v in extra.items()}
    done = run(*given, **env)
    assert done.returncode == status, done.stdout + done.stderr
    assert says in done.stderr + done.stdout, done.stderr  # run reports its refusals
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "none.db").exists()  # a command that reads made no ledger
