"""Redis killed mid-run and started again empty (issue 11): the workers wait for it and
reconnect, and the jobs whose messages it lost are queued again within seconds of it being
back (``LETTERS_REDIS_CHECK_SECONDS``), not after the stale sweep's 300 s; every letter is
e-mailed exactly once, counted at the SMTP server. Redis stopped and started again from its
dump: the jobs accepted while it was away are queued within seconds too.

The Redis here is a private one on a free port, killed with SIGKILL and started again on
the same port (never the shared server)."""

from __future__ import annotations

import copy
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from letters.ledger import JobStatus, Ledger
from tests.conftest import load_job
from tests.faults import tally
from tests.services import _free_port, _wait, postgres_database
from tests.smtp_server import SmtpServer
from tests.test_supervisor import enqueue, start_pool, wait_delivered, wait_for_log, worker_env

pytestmark = pytest.mark.slow  # two worker processes, a Redis killed and restarted

#: What the test sets LETTERS_REDIS_CHECK_SECONDS to; the README states the default (5 s).
CHECK_SECONDS = 1
#: Dramatiq's consumers reconnect this long after a connection error (dramatiq_restart_delay).
RECONNECT_SECONDS = 3


def start_redis(port: int, folder: Path | None = None) -> subprocess.Popen[bytes]:
    """A private Redis; with ``folder``, one that keeps its dump there (SHUTDOWN SAVE)."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("`redis-server` was not found: install the Debian package `redis-server`")
    argv = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    argv.append("no")
    if folder is not None:
        argv += ["--dir", str(folder), "--dbfilename", "dump.rdb"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait("127.0.0.1", port, "Redis")
    return proc


def email_jobs(count: int) -> list[dict[str, object]]:
    """Jobs the route sends by e-mail (the debtor agreed to it; Digipost is not set up)."""
    template = load_job("reminder.nb")
    jobs = []
    for i in range(count):
        job = copy.deepcopy(template)
        job["id"] = f"redis-{i:05d}"
        job["reference"] = f"REDIS-{i:06d}"
        jobs.append(job)
    return jobs


def mail_env(tmp: Path, redis_port: int, smtp_port: int, database: str) -> dict[str, str]:
    return {
        **worker_env(tmp, f"redis://127.0.0.1:{redis_port}/0", database),
        "LETTERS_REDIS_CHECK_SECONDS": str(CHECK_SECONDS),
        "LETTERS_STALE_AFTER_SECONDS": "300",  # the slow path: not what recovers here
        "LETTERS_SMTP__HOST": "localhost",
        "LETTERS_SMTP__PORT": str(smtp_port),
        "LETTERS_SMTP__USERNAME": "letters",
        "LETTERS_SMTP__PASSWORD": "s3cret",
        "LETTERS_SMTP__CA_FILE": str(tmp / "cert.pem"),
    }


def test_redis_restarted_empty_loses_and_doubles_no_letter(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    inbox, smtp_port, _ = smtp_server
    port = _free_port()
    redis_server = start_redis(port)
    database = postgres_database()
    env = mail_env(tmp_path, port, smtp_port, database)
    ledger = Ledger(database)
    ledger.migrate()
    log = tmp_path / "worker.log"
    pool = start_pool(env, tmp_path)
    jobs = email_jobs(30)
    try:
        wait_for_log(log, r"worker process (\d+) ready", count=2, timeout=60)
        enqueue(env, tmp_path, jobs, "jobs")
        wait_delivered(ledger, 3, log, timeout=60)
        redis_server.send_signal(signal.SIGKILL)  # mid-run: queues, acks, all gone
        redis_server.wait(timeout=10)
        delivered_at_kill = ledger.counts().get(JobStatus.DELIVERED, 0)
        time.sleep(3)  # down for a while: the workers wait
        redis_server = start_redis(port)  # back, empty
        # what the README promises: queued again within one check of Redis being back, the
        # consumers back within their reconnect delay; the bound leaves room to work
        bound = 3 * (CHECK_SECONDS + RECONNECT_SECONDS) + 45
        took = wait_delivered(ledger, len(jobs), log, timeout=bound)
        assert pool.poll() is None
    finally:
        if pool.poll() is None:
            pool.send_signal(signal.SIGTERM)
            pool.wait(timeout=90)
        redis_server.kill()
        redis_server.wait(timeout=10)
    text = log.read_text()
    assert delivered_at_kill < len(jobs)
    lost = re.search(r"Redis had lost its queues .*?: (\d+) unfinished jobs? queued again", text)
    assert lost is not None, text[-3000:]
    assert "Redis is unreachable" in text
    assert "restart 1" not in text  # no worker process died of it
    ids = [str(message["Message-ID"]) for _, message in inbox.received]
    counts = tally("redis-restarted-empty", ledger, received=ids)
    print(f"recovered {lost.group(1)} lost jobs; all delivered {took:.1f} s after Redis was back")
    assert (counts.jobs, counts.deliveries, counts.duplicates, counts.lost) == (30, 30, 0, 0)
    assert counts.by_status == {"delivered": 30}
    assert len(ids) == len(set(ids)) == 30
    ledger.engine.dispose()


def test_jobs_taken_while_redis_was_away_go_out_soon_after_it_is_back_with_its_data(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    import redis

    from tests.test_supervisor import letters
    from tests.test_workers import write_jsonl

    inbox, smtp_port, _ = smtp_server
    port = _free_port()
    redis_server = start_redis(port, tmp_path)
    database = postgres_database()
    env = mail_env(tmp_path, port, smtp_port, database)
    ledger = Ledger(database)
    ledger.migrate()
    log = tmp_path / "worker.log"
    pool = start_pool(env, tmp_path, processes=1)
    jobs = email_jobs(10)
    try:
        wait_for_log(log, r"Redis holds no queues yet", timeout=60)  # the sentinel is set
        redis.Redis(port=port).shutdown(save=True)  # a restart that keeps the data
        redis_server.wait(timeout=10)
        wait_for_log(log, r"Redis is unreachable", timeout=20)
        taken = letters(env, tmp_path, "enqueue", write_jsonl(tmp_path / "jobs.jsonl", jobs))
        assert taken.returncode == 1 and "10 accepted" in taken.stdout, taken.stderr[-2000:]
        assert "[broker-unreachable]" in taken.stderr
        redis_server = start_redis(port, tmp_path)  # back, with the sentinel
        bound = 3 * (CHECK_SECONDS + RECONNECT_SECONDS) + 45
        took = wait_delivered(ledger, len(jobs), log, timeout=bound)
    finally:
        if pool.poll() is None:
            pool.send_signal(signal.SIGTERM)
            pool.wait(timeout=90)
        redis_server.kill()
        redis_server.wait(timeout=10)
    text = log.read_text()
    assert "Redis had lost its queues" not in text  # it had not: only what it missed
    requeued = re.search(r"(\d+) jobs? that moved while Redis was away queued again", text)
    assert requeued is not None and int(requeued.group(1)) == len(jobs), text[-3000:]
    ids = [str(message["Message-ID"]) for _, message in inbox.received]
    counts = tally("redis-restarted-with-its-data", ledger, received=ids)
    print(f"all delivered {took:.1f} s after Redis was back")
    assert (counts.jobs, counts.deliveries, counts.duplicates, counts.lost) == (10, 10, 0, 0)
    assert len(ids) == len(set(ids)) == 10
    ledger.engine.dispose()
