"""PostgreSQL killed mid-run and started again (issue 11): the workers wait for the ledger
instead of failing jobs, a delivery cut off by the outage is taken back once it is over,
an outcome the channel gave while the ledger was away is recorded when it is back, and
every letter is e-mailed exactly once, counted at the SMTP server. The HTTP service
answers 503 ``ledger-unavailable`` with Retry-After meanwhile, not 500.

The PostgreSQL here is a private one (:class:`tests.services.PostgresCluster`), killed with
``pg_ctl stop -m immediate`` and started again on the same port and data folder."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from letters.ledger import JobStatus, Ledger
from tests.faults import tally
from tests.services import PostgresCluster, redis_url
from tests.smtp_server import SmtpServer
from tests.test_redis_restart import email_jobs
from tests.test_supervisor import enqueue, start_pool, wait_delivered, wait_for_log, worker_env

#: How long PostgreSQL stays down.
DOWN_SECONDS = 6
JOBS = 40


def mail_env(tmp: Path, database: str, smtp_port: int) -> dict[str, str]:
    return {
        **worker_env(tmp, redis_url(), database),
        "LETTERS_STALE_AFTER_SECONDS": "300",  # the slow path: not what recovers here
        # one retry for a real error: the outage's tries must not count, or jobs would fail
        "LETTERS_MAX_RETRIES": "1",
        "LETTERS_SMTP__HOST": "localhost",
        "LETTERS_SMTP__PORT": str(smtp_port),
        "LETTERS_SMTP__USERNAME": "letters",
        "LETTERS_SMTP__PASSWORD": "s3cret",
        "LETTERS_SMTP__CA_FILE": str(tmp / "cert.pem"),
    }


@pytest.mark.slow  # two worker processes, a PostgreSQL killed and restarted
def test_postgres_killed_mid_run_fails_loses_and_doubles_no_letter(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    import redis

    inbox, smtp_port, _ = smtp_server
    client = redis.Redis.from_url(redis_url())
    client.flushdb()
    with PostgresCluster() as cluster:
        database = cluster.create_database()
        env = mail_env(tmp_path, database, smtp_port)
        ledger = Ledger(database)
        ledger.migrate()
        log = tmp_path / "worker.log"
        pool = start_pool(env, tmp_path)
        jobs = email_jobs(JOBS)
        try:
            wait_for_log(log, r"worker process (\d+) ready", count=2, timeout=60)
            enqueue(env, tmp_path, jobs, "jobs")
            wait_delivered(ledger, 4, log, timeout=120)
            release = inbox.hold_replies()  # the next sends wait for the SMTP server's reply
            assert inbox.holding.wait(60), "no letter was being sent"
            cluster.stop()  # mid-run and mid-send: every connection cut, the port closed
            ledger.engine.dispose()
            time.sleep(1)
            release.set()  # the SMTP server took the letters while the ledger is away
            time.sleep(DOWN_SECONDS - 1)  # the workers meet the outage wherever they are
            cluster.start()
            # the stale sweep (300 s) would come too late, and would find the letters held
            # mid-send uncertain: what recovers is the workers waiting for the ledger
            took = wait_delivered(ledger, JOBS, log, timeout=240)
            assert pool.poll() is None
        finally:
            if pool.poll() is None:
                pool.send_signal(signal.SIGTERM)
                pool.wait(timeout=90)
            if pool.poll() is None:
                os.killpg(pool.pid, signal.SIGKILL)
        text = log.read_text()
        assert "restart 1" not in text  # no worker process died of it
        ids = [str(message["Message-ID"]) for _, message in inbox.received]
        counts = tally("postgres-restart", ledger, received=ids)
        print(f"all {JOBS} delivered {took:.1f} s after PostgreSQL was back")
        assert (counts.jobs, counts.deliveries, counts.duplicates, counts.lost) == (
            JOBS,
            JOBS,
            0,
            0,
        )
        assert counts.by_status == {str(JobStatus.DELIVERED): JOBS}
        assert len(ids) == len(set(ids)) == JOBS
        ledger.engine.dispose()
    client.flushdb()


def test_http_answers_503_with_retry_after_while_postgres_is_down(tmp_path: Path) -> None:
    import copy

    from fastapi.testclient import TestClient

    from letters.config import Printing, Review, Settings
    from letters.http import create_app
    from letters.ledger import create_token
    from letters.pipeline.runtime import Runtime
    from tests.conftest import FIXTURE_DATE, REHEARSAL_RULES, load_job, stub_broker

    stub_broker()  # the actors on the in-memory broker: nothing runs the jobs here
    with PostgresCluster() as cluster:
        settings = Settings(
            database_url=cluster.create_database(),
            archive_dir=tmp_path / "archive",
            printing=Printing(folder=tmp_path / "print"),
            review=Review(cache_dir=tmp_path / "templates"),
            clock_date=FIXTURE_DATE,
            rehearsal_rules=REHEARSAL_RULES,
        )
        runtime = Runtime.from_settings(settings)
        token = create_token(runtime.ledger, "all", {"submit", "read"})
        headers = {"Authorization": f"Bearer {token}"}
        first, second = load_job("reminder.nb"), copy.deepcopy(load_job("reminder.nb"))
        second["id"] = "after-the-outage"
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            assert client.post("/v1/jobs", json=first, headers=headers).status_code == 202
            cluster.stop()
            refused = [
                client.post("/v1/jobs", json=second, headers=headers),
                client.get(f"/v1/jobs/{first['id']}", headers=headers),
            ]
            for answer in refused:
                assert answer.status_code == 503, answer.text
                assert answer.headers["Retry-After"] == "5"
                [error] = answer.json()["errors"]
                assert error["code"] == "ledger-unavailable"
                assert "Retry-After" in error["reason"]
                assert "Traceback" not in answer.text and "psycopg" not in answer.text
            cluster.start()  # back: the same calls work again, nothing was half-taken
            assert client.post("/v1/jobs", json=second, headers=headers).status_code == 202
            assert client.get(f"/v1/jobs/{first['id']}", headers=headers).status_code == 200
        runtime.ledger.engine.dispose()


def test_a_pooled_connection_the_server_dropped_while_idle_is_replaced_unseen(
    tmp_path: Path,
) -> None:
    """The ledger checks a pooled connection before reuse only when it sat idle (a round trip
    saved on each of a letter's transactions): one the server closed meanwhile (a restart,
    an idle timeout, a pooler) is replaced, and the caller never sees the break."""
    import psycopg
    from sqlalchemy import text

    from letters.ledger.db import IDLE_PING_SECONDS
    from tests.services import postgres_database

    url = postgres_database()
    ledger = Ledger(url)
    ledger.migrate()
    with ledger.engine.connect() as connection:
        backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend])
    time.sleep(IDLE_PING_SECONDS + 0.2)
    with ledger.engine.connect() as connection:  # the same pool, the connection gone
        again = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert again != backend
    assert ledger.counts() == {}  # and the ledger's own reads work as before
    ledger.engine.dispose()
