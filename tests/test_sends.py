"""A letter is never e-mailed twice after a crash (issue 11, defect 1).

The crash window: the SMTP server took the message (250) and the worker died before the
attempt was recorded. SMTP cannot be asked whether it has a message, so after a restart the
letter is not sent blind again: it goes to ``uncertain`` ("may have been sent by e-mail at
HH:MM; not re-sent"), the sweeper leaves it alone, and an operator decides with
``letters resolve``, which records who and why."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from letters.ledger import JobStatus
from letters.ledger.models import AuditRow
from tests.conftest import REHEARSAL_RULES, ROOT, Pipeline, load_job
from tests.letters_command import run
from tests.smtp_server import Inbox, SmtpServer

#: Runs one delivery in a worker process that dies (SIGKILL: no except, no finally) at the
#: moment the channel has handed the letter over and the ledger is about to record it.
KILLED_AFTER_THE_SEND = """
import os, signal, sys
from letters.ledger.store import Ledger

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

Ledger.finish_delivery = die
from letters.pipeline.actors import deliver_stage
deliver_stage(sys.argv[1])
"""


def _env(pipeline: Pipeline, port: int) -> dict[str, str]:
    s = pipeline.runtime.settings
    return {
        "LETTERS_BROKER": "stub",
        "LETTERS_CLOCK_DATE": "2026-11-20",
        "LETTERS_REHEARSAL_RULES": str(REHEARSAL_RULES),
        "DATABASE_URL": s.database_url,
        "LETTERS_ARCHIVE_DIR": str(s.archive_dir),
        "LETTERS_PRINTING__FOLDER": str(s.printing.folder),
        "LETTERS_REVIEW__CACHE_DIR": str(s.review.cache_dir),
        "LETTERS_SMTP__HOST": "localhost",
        "LETTERS_SMTP__PORT": str(port),
        "LETTERS_SMTP__USERNAME": "letters",
        "LETTERS_SMTP__PASSWORD": "s3cret",
        "LETTERS_SMTP__CA_FILE": str(pipeline.tmp / "cert.pem"),
    }


def _with_smtp(pipeline: Pipeline, port: int) -> None:
    smtp = pipeline.runtime.settings.smtp.model_copy(
        update={
            "host": "localhost",
            "port": port,
            "username": "letters",
            "password": SecretStr("s3cret"),
            "ca_file": pipeline.tmp / "cert.pem",
        }
    )
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"smtp": smtp})


def _killed_after_the_send(
    pipeline: Pipeline, job: dict[str, Any], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The job rendered here, then delivered by a worker process killed before it recorded
    the delivery."""
    from letters.pipeline import actors

    pipeline.submit(job)
    with monkeypatch.context() as patch:  # render only; the killed worker delivers
        patch.setattr(actors.deliver_letter, "send", lambda *_: None)
        pipeline.drain()
    assert pipeline.status(job["id"]) == JobStatus.RENDERED
    worker = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_THE_SEND, job["id"]],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr


@pytest.fixture
def crashed(
    pipeline: Pipeline, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> tuple[Pipeline, Inbox, dict[str, str], str]:
    """A reminder e-mailed by a worker that was killed before it recorded the send."""
    inbox, port, _ = smtp_server
    _with_smtp(pipeline, port)
    job = load_job("reminder.nb")  # consents to e-mail; Digipost is not configured here
    env = _env(pipeline, port)
    _killed_after_the_send(pipeline, job, env, monkeypatch)
    assert len(inbox.received) == 1  # the server has it; the ledger does not know
    return pipeline, inbox, env, job["id"]


def _recover(pipeline: Pipeline) -> None:
    """What happens after the restart: the sweeper finds the stalled job and the workers
    take it up again."""
    from letters.pipeline.intake import sweep

    sweep(dt.timedelta(microseconds=1), pipeline.runtime)
    pipeline.drain()


def test_a_worker_killed_after_the_smtp_send_does_not_send_it_again(
    crashed: tuple[Pipeline, Inbox, dict[str, str], str],
) -> None:
    pipeline, inbox, env, job_id = crashed
    _recover(pipeline)
    assert len(inbox.received) == 1  # exactly one message, never a blind re-send
    assert pipeline.status(job_id) == JobStatus.UNCERTAIN
    assert pipeline.in_print(job_id) is None  # nor a second copy on paper
    job = pipeline.runtime.ledger.job(job_id)
    assert job is not None and job.error_code == "delivery-uncertain"
    assert job.error is not None and "may have been sent by email at " in job.error
    # nothing else treats it as failed-and-retry: the sweeper and a redelivered message
    _recover(pipeline)
    from letters.pipeline.actors import deliver_stage, render_stage

    render_stage(job_id)
    deliver_stage(job_id)
    pipeline.drain()
    assert len(inbox.received) == 1
    assert pipeline.status(job_id) == JobStatus.UNCERTAIN
    shown = run("status", job_id, **env)
    assert shown.returncode == 0, shown.stderr
    said = " ".join(shown.stdout.split())
    if os.environ.get("SHOW_STATUS"):
        Path(os.environ["SHOW_STATUS"]).write_text(shown.stdout)
    assert "may have been sent by email at" in said and "not re-sent" in said
    assert "letters resolve" in said and "--resend" in said and "--sent" in said


@pytest.mark.slow  # the operator's commands in subprocesses
def test_the_operator_decides_to_send_it_again_and_is_recorded(
    crashed: tuple[Pipeline, Inbox, dict[str, str], str],
) -> None:
    pipeline, inbox, env, job_id = crashed
    _recover(pipeline)
    refused = run("resolve", job_id, "--resend", "--by", "ops.kari", **env)
    assert refused.returncode == 2  # a reason is required
    done = run(
        "resolve",
        job_id,
        "--resend",
        "--by",
        "ops.kari",
        "--reason",
        "debtor phoned: no mail",
        **env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pipeline.drain()  # (the command enqueues on the workers' broker; here: the sweeper)
    _recover(pipeline)
    assert len(inbox.received) == 2  # the operator's decision, same Message-ID
    first, second = (msg["Message-ID"] for _, msg in inbox.received)
    assert first == second
    assert pipeline.status(job_id) == JobStatus.DELIVERED
    history = pipeline.runtime.ledger.history(job_id)
    assert history is not None
    decided = next(e for e in history.events if e.event == "resend-decided")
    assert decided.detail == "by ops.kari: debtor phoned: no mail"
    assert [a.status for a in history.attempts] == ["uncertain", "delivered"]
    with pipeline.runtime.ledger.session() as s:
        audit = s.scalars(select(AuditRow).where(AuditRow.subject == job_id)).all()
    assert [(a.actor, a.action) for a in audit] == [("ops.kari", "resend")]
    again = run("resolve", job_id, "--sent", "--by", "ops.kari", "--reason", "x", **env)
    assert again.returncode == 2 and "not uncertain" in again.stderr


@pytest.mark.slow  # the operator's commands in subprocesses
def test_the_operator_confirms_it_went_out_and_nothing_is_sent(
    crashed: tuple[Pipeline, Inbox, dict[str, str], str],
) -> None:
    pipeline, inbox, env, job_id = crashed
    _recover(pipeline)
    done = run(
        "resolve",
        job_id,
        "--sent",
        "--by",
        "ops.ola",
        "--reason",
        "relay log: 250 queued",
        "--json",
        **env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout) == {
        "job": job_id,
        "decision": "sent",
        "by": "ops.ola",
        "reason": "relay log: 250 queued",
        "status": "delivered",
    }
    _recover(pipeline)
    assert len(inbox.received) == 1
    assert pipeline.status(job_id) == JobStatus.DELIVERED
    history = pipeline.runtime.ledger.history(job_id)
    assert history is not None
    assert [(a.channel, a.status) for a in history.attempts] == [
        ("email", "uncertain"),
        ("email", "delivered"),
    ]
    assert history.attempts[1].receipt == {
        "confirmed_by": "ops.ola",
        "reason": "relay log: 250 queued",
    }


def test_a_connection_cut_after_the_message_leaves_it_uncertain(
    pipeline: Pipeline, smtp_server: SmtpServer
) -> None:
    """The server took the message and the connection broke before its 250 arrived: the
    server may have it, so it is neither retried by e-mail nor printed."""
    inbox, port, _ = smtp_server
    _with_smtp(pipeline, port)
    inbox.drop = True
    job = load_job("reminder.nb")
    letter_id = pipeline.submit(job)
    pipeline.drain()
    _recover(pipeline)
    assert len(inbox.received) == 1
    assert pipeline.status(job["id"]) == JobStatus.UNCERTAIN
    assert pipeline.in_print(letter_id) is None
    history = pipeline.runtime.ledger.history(job["id"])
    assert history is not None
    [attempt] = history.attempts
    assert (attempt.channel, attempt.status, attempt.error_code) == (
        "email",
        "uncertain",
        "delivery-uncertain",
    )
    assert attempt.error is not None and "[email-uncertain]" in attempt.error


def test_a_connection_refused_before_the_message_is_still_retried(
    pipeline: Pipeline, smtp_server: SmtpServer
) -> None:
    """Nothing was handed over: a plain transient failure, tried again (then print)."""
    inbox, port, _ = smtp_server
    _with_smtp(pipeline, port)
    inbox.answer = "451 4.3.0 try again later"
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"channel_attempts": 1})
    job = load_job("reminder.nb")
    letter_id = pipeline.submit(job)
    pipeline.drain()
    assert pipeline.status(job["id"]) == JobStatus.DELIVERED
    assert pipeline.in_print(letter_id)


def test_a_worker_killed_after_joining_the_print_batch_reconciles(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Print can tell (the batch is in the ledger): the cut-off try is recorded as such and
    the next one finds the letter in its batch, once."""
    job = load_job("reminder.nb")
    job["debtor"]["consents"] = {"digipost": False, "email": False}
    env = {k: v for k, v in _env(pipeline, 1).items() if "SMTP" not in k}
    _killed_after_the_send(pipeline, job, env, monkeypatch)
    _recover(pipeline)
    assert pipeline.status(job["id"]) == JobStatus.DELIVERED
    assert len(pipeline.printed()) == 1
    history = pipeline.runtime.ledger.history(job["id"])
    assert history is not None
    assert [(a.channel, a.status, a.error_code) for a in history.attempts] == [
        ("print", "failed", "delivery-interrupted"),
        ("print", "delivered", None),
    ]


def test_a_slow_send_that_outlived_its_claim_ends_delivered(pipeline: Pipeline) -> None:
    """The sweeper gave a slow send's job to another worker, which found the attempt
    unsettled and made the job uncertain; then the first send finished: it is delivered
    (now known), and nothing of the uncertainty is left on it."""
    from letters.ledger.models import AttemptRow

    ledger = pipeline.runtime.ledger
    job = load_job("reminder.nb")
    job["debtor"]["consents"] = {"digipost": False, "email": False}
    pipeline.submit(job)
    pipeline.drain()
    ledger.set_status(job["id"], JobStatus.DELIVERING, "test", allowed_from=(JobStatus.DELIVERED,))
    letter = ledger.letter_for_job(job["id"])
    assert letter is not None
    intent = ledger.begin_attempt(letter.id, "email")
    assert ledger.mark_uncertain(job["id"], intent, "delivery-uncertain", "may have been sent")
    assert pipeline.status(job["id"]) == JobStatus.UNCERTAIN
    at = dt.datetime.now(dt.UTC)
    ledger.finish_delivery(
        job["id"],
        AttemptRow(
            letter_id=letter.id,
            channel="email",
            status="delivered",
            external_id="<letter-x@example>",
            error_class=None,
            error_code=None,
            error=None,
            at=at,
        ),
        "email <letter-x@example>",
        intent=intent,
    )
    row = ledger.job(job["id"])
    assert row is not None and row.status == JobStatus.DELIVERED
    assert (row.error_code, row.error) == (None, None)
    history = ledger.history(job["id"])
    assert history is not None
    last = history.attempts[-1]
    assert (last.status, last.error_code, last.external_id) == (
        "delivered",
        None,
        "<letter-x@example>",
    )
