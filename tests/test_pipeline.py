"""The pipeline in one process (Dramatiq's stub broker and an in-process worker): every job
ends in exactly one letter, holds stop delivery, failures land in the ledger, and the
plaintext password appears nowhere but in the letter."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from pypdf import PdfReader
from sqlalchemy import text

from letters.ledger import DELIVERED, FAILED, HELD, JobConflict
from letters.pipeline import broker as brokers
from letters.pipeline.runtime import Runtime, set_runtime
from letters.settings import Settings
from tests.conftest import JOB_FILES, load_job


class Recorder(dramatiq.Middleware):
    """Keeps every message body the broker is asked to carry."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def before_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        self.bodies.append(message.encode())


_broker: StubBroker | None = None
_recorder = Recorder()


def stub_broker() -> StubBroker:
    global _broker
    if _broker is None:
        broker = brokers.configure("stub")
        assert isinstance(broker, StubBroker), "the test process must use the stub broker"
        broker.add_middleware(_recorder)
        _broker = broker
    return _broker


@dataclass
class Pipeline:
    runtime: Runtime
    broker: StubBroker
    tmp: Path

    def submit(self, job: dict[str, Any]) -> str:
        from letters.pipeline.intake import submit

        return submit(job, self.runtime)

    def drain(self) -> None:
        self.broker.join(brokers.QUEUE, fail_fast=False)

    def status(self, job_id: str) -> str:
        row = self.runtime.ledger.job(job_id)
        assert row is not None
        return row.status


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    broker = stub_broker()
    import letters.pipeline.actors  # noqa: F401 - binds the actors to the stub broker

    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def pipeline(tmp_path: Path, worker: Worker) -> Iterator[Pipeline]:
    broker = stub_broker()
    broker.flush_all()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
        archive_dir=tmp_path / "archive",
        outbox_dir=tmp_path / "outbox",
    )
    runtime = Runtime.from_settings(settings)
    set_runtime(runtime)
    try:
        yield Pipeline(runtime, broker, tmp_path)
    finally:
        set_runtime(None)


def _password(pdf: bytes) -> str:
    from io import BytesIO

    text_ = PdfReader(BytesIO(pdf)).pages[0].extract_text()
    for line in text_.splitlines():
        for label in ("Passord", "Password"):
            if line.startswith(label + " "):
                return line.removeprefix(label).strip().replace(" ", "")
    raise AssertionError("no password on the letter")


def test_every_fixture_ends_in_exactly_one_delivered_letter(pipeline: Pipeline) -> None:
    jobs = [json.loads(p.read_text("utf-8")) for p in JOB_FILES]
    letter_ids = [pipeline.submit(job) for job in jobs]
    pipeline.drain()
    outbox = sorted((pipeline.tmp / "outbox").glob("*.pdf"))
    assert [p.stem for p in outbox] == sorted(letter_ids)
    for job, letter_id in zip(jobs, letter_ids, strict=True):
        assert pipeline.status(job["id"]) == DELIVERED
        letter = pipeline.runtime.ledger.letter_for_job(job["id"])
        assert letter is not None and letter.id == letter_id
        pdf = (pipeline.tmp / "outbox" / f"{letter_id}.pdf").read_bytes()
        assert hashlib.sha256(pdf).hexdigest() == letter.pdf_sha256
        assert pipeline.runtime.archive.get(letter.pdf_sha256) == pdf
        history = pipeline.runtime.ledger.history(job["id"])
        assert history is not None
        assert [e["event"] for e in history["events"]] == ["accepted", "rendered", "delivered"]
        assert history["attempts"][0]["status"] == "delivered"
    with pipeline.runtime.ledger.engine.connect() as conn:
        assert conn.scalar(text("select count(*) from letters")) == len(jobs)


def test_resubmitting_changes_nothing_and_other_content_is_refused(pipeline: Pipeline) -> None:
    job = load_job("reminder.nb")
    first = pipeline.submit(job)
    pipeline.drain()
    sent = len(_recorder.bodies)
    assert pipeline.submit(copy.deepcopy(job)) == first
    pipeline.drain()
    assert len(_recorder.bodies) == sent  # nothing enqueued again
    with pytest.raises(JobConflict):
        pipeline.submit(dict(job, language="en"))


def test_a_redelivered_render_message_makes_no_second_letter(pipeline: Pipeline) -> None:
    from letters.pipeline.actors import render_stage

    job = load_job("reminder.en")
    pipeline.submit(job)
    pipeline.drain()
    before = pipeline.runtime.ledger.letter_for_job(job["id"])
    render_stage(job["id"])  # as if the broker delivered the message again
    pipeline.drain()
    after = pipeline.runtime.ledger.letter_for_job(job["id"])
    assert before is not None and after is not None
    assert (before.id, before.pdf_sha256, before.password_hash) == (
        after.id,
        after.pdf_sha256,
        after.password_hash,
    )
    assert len(list((pipeline.tmp / "outbox").glob("*.pdf"))) == 1


def test_a_hold_stops_the_letter_and_a_release_sends_it(pipeline: Pipeline) -> None:
    from letters.pipeline.intake import release

    job = load_job("collection_notice.nb")
    pipeline.runtime.ledger.place_hold(job["reference"], "debtor says the claim is paid")
    letter_id = pipeline.submit(job)
    pipeline.drain()
    assert pipeline.status(job["id"]) == HELD
    assert not (pipeline.tmp / "outbox" / f"{letter_id}.pdf").exists()
    assert release(job["reference"], "payment not found", pipeline.runtime) == [job["id"]]
    pipeline.drain()
    assert pipeline.status(job["id"]) == DELIVERED
    assert (pipeline.tmp / "outbox" / f"{letter_id}.pdf").exists()
    history = pipeline.runtime.ledger.history(job["id"])
    assert history is not None
    events = [e["event"] for e in history["events"]]
    assert events == ["accepted", "held", "released", "resumed", "rendered", "delivered"]


def test_a_letter_failing_the_print_check_fails_once_with_its_reason(
    pipeline: Pipeline,
) -> None:
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"max_pages": 2})
    job = load_job("edge.many-claims")  # three pages
    letter_id = pipeline.submit(job)
    pipeline.drain()
    row = pipeline.runtime.ledger.job(job["id"])
    assert row is not None and row.status == FAILED
    assert row.error_class == "PermanentFailure:print_safety"
    assert "3 pages; at most 2 are allowed" in (row.error or "")
    assert not (pipeline.tmp / "outbox" / f"{letter_id}.pdf").exists()
    assert pipeline.runtime.ledger.letter_for_job(job["id"]) is None


def test_the_sweeper_finds_jobs_whose_message_was_lost(pipeline: Pipeline) -> None:
    from letters.job import parse
    from letters.pipeline.intake import sweep

    job = load_job("enforcement_notice.en")
    pipeline.runtime.ledger.accept(parse(job))  # committed, but never enqueued
    pipeline.drain()
    assert pipeline.status(job["id"]) == "accepted"
    assert sweep(dt.timedelta(seconds=-1), pipeline.runtime) == [job["id"]]
    pipeline.drain()
    assert pipeline.status(job["id"]) == DELIVERED


def test_no_plaintext_password_outside_the_letter(
    pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    _recorder.bodies.clear()
    jobs = [load_job("reminder.nb"), load_job("payment_request.en")]
    ids = [pipeline.submit(job) for job in jobs]
    pipeline.drain()
    passwords = [_password((pipeline.tmp / "outbox" / f"{i}.pdf").read_bytes()) for i in ids]
    assert all(len(p) >= 10 for p in passwords)
    dump = "\n".join(pipeline.runtime.ledger.engine.raw_connection().driver_connection.iterdump())
    messages = b"\n".join(_recorder.bodies).decode()
    logs = caplog.text
    assert messages and dump
    for secret in passwords:
        assert secret not in dump
        assert secret not in messages
        assert secret not in logs
    for job in jobs:  # messages carry ids only, no personal data
        assert job["debtor"]["name"] not in messages
