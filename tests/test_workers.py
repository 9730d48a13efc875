"""Worker processes on a real Redis with a real PostgreSQL ledger: a SIGKILL mid-run, a
Redis that loses its queue, and malformed input never cost or double a letter.

These start `letters worker` and `letters enqueue` as a newcomer would, in subprocesses.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select, text

from channels.printing.batch import BatchCloser
from letters.archive import Archive
from letters.config import Printing, Settings
from letters.job import JobRejected, fingerprint_document
from letters.ledger import JobStatus, Ledger
from letters.ledger.models import LetterRow
from letters.validation import parse
from tests.conftest import FIXTURE_DATE, JOB_FILES, REHEARSAL_RULES, ROOT, load_job
from tests.services import _free_port as free_port
from tests.services import postgres_database, redis_url

# worker subprocesses on Redis and PostgreSQL: the crash run alone takes over a minute
pytestmark = pytest.mark.slow


@dataclass
class Setup:
    env: dict[str, str]
    ledger: Ledger
    redis: redis.Redis
    tmp: Path

    def letters(self, *args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "letters", *map(str, args)],
            env=self.env,
            cwd=self.tmp,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start_worker(self, processes: int = 2) -> subprocess.Popen[bytes]:
        log = (self.tmp / "worker.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "letters", "worker", "--processes", str(processes)],
            env=self.env,
            cwd=self.tmp,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def delivered(self) -> int:
        return int(self.ledger.counts().get(JobStatus.DELIVERED, 0))

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.delivered() >= count:
                return
            time.sleep(0.5)
        log = (self.tmp / "worker.log").read_text(errors="replace")[-3000:]
        pytest.fail(f"{self.delivered()} of {count} delivered after {timeout:.0f} s\n{log}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    url = redis_url()
    client = redis.Redis.from_url(url)
    client.flushdb()
    database = postgres_database()
    env = {
        **os.environ,
        "LETTERS_BROKER": "redis",
        "REDIS_URL": url,
        "DATABASE_URL": database,
        "LETTERS_ARCHIVE_DIR": str(tmp_path / "archive"),
        "LETTERS_PRINTING__FOLDER": str(tmp_path / "print"),
        "LETTERS_SWEEP_INTERVAL_SECONDS": "2",
        "LETTERS_STALE_AFTER_SECONDS": "10",
        "LETTERS_REDIS_HEARTBEAT_TIMEOUT_MS": "5000",
        "LETTERS_MAX_RETRIES": "3",
        "LETTERS_DELIVERY_MIN_BACKOFF_SECONDS": "1",
        "LETTERS_CLOCK_DATE": "2026-11-20",  # the fixtures' letter date
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
        "PYTHONPATH": str(ROOT),
        "LETTERS_METRICS_PORT": str(free_port()),
    }
    ledger = Ledger(database)
    ledger.migrate()
    yield Setup(env, ledger, client, tmp_path)
    client.flushdb()
    ledger.engine.dispose()


def many_jobs(count: int, prefix: str) -> list[dict[str, Any]]:
    templates = [load_job(p.stem) for p in JOB_FILES if p.stem != "edge.many-claims"]
    jobs = []
    for i in range(count):
        job = copy.deepcopy(templates[i % len(templates)])
        job["id"] = f"{prefix}-{i:05d}"
        job["reference"] = f"{prefix.upper()}-{i:06d}"
        jobs.append(job)
    return jobs


def write_jsonl(path: Path, jobs: list[Any]) -> Path:
    path.write_text("".join(json.dumps(j, ensure_ascii=False) + "\n" for j in jobs), "utf-8")
    return path


def assert_exactly_one_letter_per_job(setup: Setup, jobs: list[dict[str, Any]]) -> None:
    with setup.ledger.session() as s:
        letters = s.scalar(select(func.count()).select_from(LetterRow))
        distinct = s.scalar(select(func.count(func.distinct(LetterRow.job_id))))
        rows = s.execute(select(LetterRow.id, LetterRow.pdf_sha256)).all()
    assert letters == distinct == len(jobs)
    statuses = setup.ledger.statuses([j["id"] for j in jobs])
    assert set(statuses.values()) == {JobStatus.DELIVERED}
    # what the print vendor gets: every letter exactly once, the PDF that was archived
    settings = Settings(
        database_url=setup.env["DATABASE_URL"],
        archive_dir=setup.tmp / "archive",
        printing=Printing(folder=setup.tmp / "print"),
    )
    [closed] = BatchCloser(settings, setup.ledger, Archive(settings.archive_dir)).close()
    with (closed.folder / "manifest.csv").open(encoding="utf-8") as fh:
        manifest = [(r["letter_id"], r["sha256"]) for r in csv.DictReader(fh)]
    assert sorted(manifest) == sorted(rows)


def test_sigkill_mid_run_then_restart_gives_exactly_one_letter_per_job(setup: Setup) -> None:
    jobs = many_jobs(2000, "crash")
    result = setup.letters("enqueue", write_jsonl(setup.tmp / "jobs.jsonl", jobs))
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2000 accepted, 0 refused" in result.stdout
    worker = setup.start_worker()
    try:
        setup.wait_for(300, timeout=300)
    finally:
        stop(worker, signal.SIGKILL)  # no goodbye: in-flight messages stay unacknowledged
    assert setup.delivered() < len(jobs)
    worker = setup.start_worker()
    try:
        setup.wait_for(len(jobs), timeout=900)
    finally:
        stop(worker)
    assert_exactly_one_letter_per_job(setup, jobs)


def test_redis_losing_its_queue_loses_no_letter(setup: Setup) -> None:
    jobs = many_jobs(240, "flush")
    worker = setup.start_worker()
    try:
        result = setup.letters("enqueue", write_jsonl(setup.tmp / "jobs.jsonl", jobs))
        assert result.returncode == 0, result.stderr[-2000:]
        setup.wait_for(40, timeout=300)
        setup.redis.flushdb()  # the queue, the in-flight acks: all gone
        assert setup.delivered() < len(jobs)
        setup.wait_for(len(jobs), timeout=600)  # the sweeper finds the rest in the ledger
        port = setup.env["LETTERS_METRICS_PORT"]
        scraped = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    finally:
        stop(worker)
    rendered = re.search(rb"^letters_rendered_total (\S+)$", scraped, re.M)
    assert rendered is not None and float(rendered.group(1)) >= len(jobs) - 40
    assert_exactly_one_letter_per_job(setup, jobs)


def test_malformed_jobs_and_messages_never_crash_a_worker(setup: Setup) -> None:
    from hypothesis.errors import NonInteractiveExampleWarning

    from tests.strategies import mangled_jobs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        strategy = mangled_jobs()
        bad = [strategy.example() for _ in range(1000)]
    good = many_jobs(10, "fuzz")
    lines: list[Any] = [*bad, *good, "{not json", [1, 2]]
    expected_refused = set()
    accepted: dict[str, str] = {}  # id → content fingerprint, as the ledger keeps them
    for number, data in enumerate(lines, start=1):
        document = data if isinstance(data, dict | list) else str(data)
        if isinstance(document, dict) and "letter_date" not in document:
            # the worker's clock is the fixtures' date, and intake dates an undated job today
            # (this process's clock is the real one: a plan due before it would be refused)
            document = {**document, "letter_date": FIXTURE_DATE.isoformat()}
        try:
            job = parse(document)
        except JobRejected:
            expected_refused.add(number)
            continue
        digest = fingerprint_document(data)  # the job as sent, as the intake keeps it
        if accepted.setdefault(job.id, digest) != digest:
            expected_refused.add(number)  # same id, other content: a conflict
    path = setup.tmp / "mixed.jsonl"
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), "utf-8"
    )
    result = setup.letters("enqueue", path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines_out = [  # the rehearsal settings announce themselves; every other line is an error
        line
        for line in result.stderr.splitlines()
        if not line.startswith(("LETTERS_CLOCK_DATE", "LETTERS_REHEARSAL_RULES"))
    ]
    prefix = f"{path}:"
    assert all(line.startswith(prefix) for line in lines_out), lines_out[:5]
    reported = {int(line[len(prefix) :].split(":")[0]) for line in lines_out}
    assert reported == expected_refused
    assert len(expected_refused) >= 900  # most mangled jobs are really malformed
    # garbage straight into the queue: undecodable, unknown job, wrong argument types
    queue = "dramatiq:letters_render"
    setup.redis.rpush(queue, "not-a-message-id")
    setup.redis.hset(f"{queue}.msgs", "not-a-message-id", b"\xff\xfe garbage")
    from dramatiq import Message

    for args in (("no-such-job",), (12345,), ()):
        message = Message(
            queue_name="letters_render",
            actor_name="render_letter",
            args=args,
            kwargs={},
            options={},
        )
        setup.redis.hset(f"{queue}.msgs", message.message_id, message.encode())
        setup.redis.rpush(queue, message.message_id)
    worker = setup.start_worker(processes=1)
    try:
        setup.wait_for(len(accepted), timeout=300)
        assert worker.poll() is None, "the worker died"
    finally:
        stop(worker)
    with setup.ledger.engine.connect() as conn:
        assert conn.scalar(text("select count(*) from letters")) == len(accepted)
