"""The pipeline in one process (Dramatiq's stub broker and an in-process worker): every job
ends in exactly one letter, holds stop delivery, failures land in the ledger, and the
plaintext password appears nowhere but in the letter."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import logging
from typing import Any

import pytest
from sqlalchemy import text

from letters.ledger import JobConflict, JobStatus
from tests.conftest import JOB_FILES, Pipeline, load_job, password_on, recorder


def test_every_fixture_ends_in_exactly_one_delivered_letter(pipeline: Pipeline) -> None:
    jobs = [json.loads(p.read_text("utf-8")) for p in JOB_FILES]
    letter_ids = [pipeline.submit(job) for job in jobs]
    pipeline.drain()
    assert pipeline.printed() == sorted(letter_ids)  # every letter in the print batch, once
    for job, letter_id in zip(jobs, letter_ids, strict=True):
        assert pipeline.status(job["id"]) == JobStatus.DELIVERED
        letter = pipeline.runtime.ledger.letter_for_job(job["id"])
        assert letter is not None and letter.id == letter_id
        pdf = pipeline.pdf(letter_id)
        assert hashlib.sha256(pdf).hexdigest() == letter.pdf_sha256
        history = pipeline.runtime.ledger.history(job["id"])
        assert history is not None
        events = [e.event for e in history.events]
        assert events == ["accepted", "rendered", "routed", "delivered"]
        assert history.attempts[0].status == "delivered"
    with pipeline.runtime.ledger.engine.connect() as conn:
        assert conn.scalar(text("select count(*) from letters")) == len(jobs)


def test_resubmitting_changes_nothing_and_other_content_is_refused(pipeline: Pipeline) -> None:
    job = load_job("reminder.nb")
    first = pipeline.submit(job)
    pipeline.drain()
    sent = len(recorder.bodies)
    assert pipeline.submit(copy.deepcopy(job)) == first
    pipeline.drain()
    assert len(recorder.bodies) == sent  # nothing enqueued again
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
    assert len(pipeline.printed()) == 1


def test_a_hold_stops_the_letter_and_a_release_sends_it(pipeline: Pipeline) -> None:
    from letters.pipeline.intake import release

    job = load_job("collection_notice.nb")
    pipeline.runtime.ledger.place_hold(job["reference"], "debtor says the claim is paid")
    letter_id = pipeline.submit(job)
    pipeline.drain()
    assert pipeline.status(job["id"]) == JobStatus.HELD
    assert pipeline.in_print(letter_id) is None
    assert release(job["reference"], "payment not found", pipeline.runtime) == [job["id"]]
    pipeline.drain()
    assert pipeline.status(job["id"]) == JobStatus.DELIVERED
    assert pipeline.in_print(letter_id)
    history = pipeline.runtime.ledger.history(job["id"])
    assert history is not None
    events = [e.event for e in history.events]
    assert events == ["accepted", "held", "released", "resumed", "rendered", "routed", "delivered"]


def test_a_letter_failing_the_print_check_fails_once_with_its_reason(
    pipeline: Pipeline,
) -> None:
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"max_pages": 2})
    job = load_job("edge.many-claims")  # three pages
    letter_id = pipeline.submit(job)
    pipeline.drain()
    row = pipeline.runtime.ledger.job(job["id"])
    assert row is not None and row.status == JobStatus.FAILED
    assert row.error_class == "PermanentFailure"
    assert row.error_code == "too-many-pages"
    assert "3 pages; at most 2 are allowed" in (row.error or "")
    assert pipeline.in_print(letter_id) is None
    assert pipeline.runtime.ledger.letter_for_job(job["id"]) is None


def test_the_sweeper_finds_jobs_whose_message_was_lost(pipeline: Pipeline) -> None:
    from letters.pipeline.intake import sweep
    from letters.validation import parse

    job = load_job("enforcement_notice.en")
    pipeline.runtime.ledger.accept(parse(job))  # committed, but never enqueued
    pipeline.drain()
    assert pipeline.status(job["id"]) == "accepted"
    assert sweep(dt.timedelta(seconds=-1), pipeline.runtime) == [job["id"]]
    pipeline.drain()
    assert pipeline.status(job["id"]) == JobStatus.DELIVERED


def test_no_plaintext_password_outside_the_letter(
    pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder.bodies.clear()
    jobs = [load_job("reminder.nb"), load_job("payment_request.en")]
    ids = [pipeline.submit(job) for job in jobs]
    pipeline.drain()
    passwords = [password_on(pipeline.pdf(i)) for i in ids]
    assert all(len(p) >= 10 for p in passwords)
    dump = "\n".join(pipeline.runtime.ledger.engine.raw_connection().driver_connection.iterdump())
    messages = b"\n".join(recorder.bodies).decode()
    logs = caplog.text
    assert messages and dump
    for secret in passwords:
        assert secret not in dump
        assert secret not in messages
        assert secret not in logs
    for job in jobs:  # messages carry ids only, no personal data
        assert job["debtor"]["name"] not in messages


def test_a_backdated_letter_is_refused_at_intake(pipeline: Pipeline) -> None:
    from letters.job import JobRejected

    job = load_job("reminder.nb")
    job["letter_date"] = "2026-11-19"  # the pipeline's today is 2026-11-20
    job["claims"][0]["due_date"] = "2026-10-04"
    with pytest.raises(JobRejected) as info:
        pipeline.submit(job)
    assert info.value.errors[0].field == "letter_date"
    assert "less time than it states" in info.value.errors[0].reason


def test_a_held_letter_whose_date_passes_fails_instead_of_going_out_late(
    pipeline: Pipeline,
) -> None:
    import datetime as dt_

    from letters.pipeline.intake import release

    job = load_job("reminder.en")
    pipeline.runtime.ledger.place_hold(job["reference"], "dispute")
    letter_id = pipeline.submit(job)
    pipeline.drain()
    assert pipeline.status(job["id"]) == JobStatus.HELD
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={"clock_date": dt_.date(2026, 11, 23)}
    )
    release(job["reference"], "resolved three days later", pipeline.runtime)
    pipeline.drain()
    row = pipeline.runtime.ledger.job(job["id"])
    assert row is not None and row.status == JobStatus.FAILED
    assert row.error_class == "PermanentFailure"
    assert row.error_code == "letter-date-past"
    assert pipeline.in_print(letter_id) is None


def test_a_letter_dated_after_today_is_refused_at_intake(pipeline: Pipeline) -> None:
    from letters.job import JobRejected

    job = load_job("reminder.nb")
    job["letter_date"] = "2026-11-27"  # the pipeline's today is 2026-11-20
    with pytest.raises(JobRejected) as info:
        pipeline.submit(job)
    assert "after today" in info.value.errors[0].reason


def test_a_letter_held_after_rendering_is_not_sent_once_its_date_passed(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt_

    from letters.pipeline import actors
    from letters.pipeline.intake import release
    from letters.validation import parse

    job = load_job("collection_notice.en")
    pipeline.runtime.ledger.accept(parse(job))
    with monkeypatch.context() as patch:  # its delivery message has not been handled yet
        patch.setattr(actors.deliver_letter, "send", lambda *_: None)
        actors.render_stage(job["id"])
    pipeline.runtime.ledger.place_hold(job["reference"], "payment reported")
    actors.deliver_stage(job["id"])  # the delivery message arrives: held
    assert pipeline.status(job["id"]) == JobStatus.HELD
    deliver_stage = actors.deliver_stage
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={"clock_date": dt_.date(2026, 11, 21)}
    )
    release(job["reference"], "payment not found", pipeline.runtime)
    pipeline.drain()
    row = pipeline.runtime.ledger.job(job["id"])
    assert row is not None and row.status == JobStatus.FAILED
    assert row.error_class == "PermanentFailure"
    assert row.error_code == "letter-date-past"
    assert deliver_stage(job["id"]) is None  # final: nothing more happens
    assert not pipeline.printed()


def test_a_delivery_recorded_before_a_crash_is_never_sent_again(pipeline: Pipeline) -> None:
    from letters.pipeline.actors import deliver_stage

    job = load_job("reminder.en")
    pipeline.submit(job)
    pipeline.drain()
    # the crash: the attempt was recorded, the job's status was not
    pipeline.runtime.ledger.set_status(
        job["id"], JobStatus.RENDERED, "test", allowed_from=(JobStatus.DELIVERED,)
    )
    deliver_stage(job["id"])
    assert pipeline.status(job["id"]) == JobStatus.DELIVERED
    assert len(pipeline.printed()) == 1
    history = pipeline.runtime.ledger.history(job["id"])
    assert [a.status for a in history.attempts] == ["delivered"]


def test_a_retry_after_midnight_is_the_same_job(pipeline: Pipeline) -> None:
    import datetime as dt_

    job = load_job("reminder.nb")
    del job["letter_date"]
    first = pipeline.submit(job)
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={"clock_date": dt_.date(2026, 11, 21)}
    )
    assert pipeline.submit(job) == first  # not a conflict, not a second letter


def test_a_csv_row_can_be_a_payment_request_with_its_collection_notice(tmp_path: Any) -> None:
    import csv

    from letters.job import JobRejected
    from letters.pipeline.enqueue import CSV_COLUMNS, read
    from letters.validation import parse

    row = {
        "id": "csv-pr-1", "kind": "payment_request", "letter_date": "2026-11-20",
        "reference": "AX-2026-700001", "creditor_name": "Nordlys Energi AS",
        "creditor_org_number": "912345688", "debtor_type": "person",
        "debtor_name": "Kari Nordmann", "address_line1": "Storgata 12 B",
        "postal_code": "0161", "city": "Oslo", "invoice_number": "2026-08-2210",
        "invoice_date": "2026-08-01", "due_date": "2026-08-15", "principal": "3420.00",
        "description": "Strøm juli 2026", "fees": "collection_fee:600.00",
        "notice_sent_on": "2026-10-10", "notice_deadline": "2026-10-26",
        "account_number": "15031123450",
    }  # fmt: skip
    path = tmp_path / "jobs.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows([row, dict(row, id="csv-pr-2", notice_sent_on="", notice_deadline="")])
    (_, first), (_, second) = read(path)
    notice = parse(first).claims[0].notice
    assert notice is not None and notice.deadline == dt.date(2026, 10, 26)
    assert "notice" not in second["claims"][0]
    with pytest.raises(JobRejected, match="notice-required"):
        parse(second)
