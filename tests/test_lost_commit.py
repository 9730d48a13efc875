"""The answer to a commit lost on the way back (PostgreSQL killed, the network cut, right
after the server committed): the narrowest window of an outage, and the one the kill test
(tests/test_fault_postgres.py) can only hit by chance. Here a proxy in front of a real
PostgreSQL (tests/pg_proxy.py) swallows the answer to one COMMIT of a delivery, each in
turn: the claim, the attempt's intent, the delivery's record. Whichever it is, the letter is
e-mailed exactly once, ends ``delivered`` (never ``uncertain`` for a send that never
happened, never stuck behind a claim nobody holds) and its history tells it once."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import make_url

from letters.config import Printing, Review, Settings
from letters.ledger import JobStatus
from letters.ledger.models import AttemptRow, EventRow
from letters.pipeline.runtime import Runtime, set_runtime
from tests.conftest import FIXTURE_DATE, REHEARSAL_RULES, Pipeline, load_job, stub_broker
from tests.pg_proxy import commit_cutter
from tests.services import postgres_database
from tests.smtp_server import SmtpServer

#: More COMMITs than one delivery makes: the loop ends at the first that is never reached.
MOST_COMMITS = 12


@pytest.mark.slow  # a dozen deliveries, each with an outage in it
def test_a_lost_commit_answer_anywhere_in_a_delivery_sends_once_and_says_it_once(
    tmp_path: Path, smtp_server: SmtpServer, worker: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from letters.pipeline import actors

    inbox, port, _ = smtp_server
    url = make_url(postgres_database())
    assert url.host and url.port
    with commit_cutter((url.host, url.port)) as proxy:
        settings = Settings(
            database_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(False),
            archive_dir=tmp_path / "archive",
            printing=Printing(folder=tmp_path / "print"),
            review=Review(cache_dir=tmp_path / "templates"),
            clock_date=FIXTURE_DATE,
            rehearsal_rules=REHEARSAL_RULES,
            delivery_min_backoff_seconds=1,
        )
        smtp = settings.smtp.model_copy(
            update={
                "host": "localhost",
                "port": port,
                "username": "letters",
                "password": SecretStr("s3cret"),
                "ca_file": tmp_path / "cert.pem",
            }
        )
        runtime = Runtime.from_settings(settings.model_copy(update={"smtp": smtp}))
        set_runtime(runtime)
        pipeline = Pipeline(runtime, stub_broker(), tmp_path)
        cut = []
        try:
            for n in range(1, MOST_COMMITS + 1):
                job = copy.deepcopy(load_job("reminder.nb"))  # consents to e-mail
                job["id"] = f"lost-commit-{n}"
                pipeline.submit(job)
                with monkeypatch.context() as patch:  # rendered here; delivered below
                    patch.setattr(actors.deliver_letter, "send", lambda *_: None)
                    pipeline.drain()
                assert pipeline.status(job["id"]) == JobStatus.RENDERED
                proxy.cut(n)
                actors.deliver_letter.send(job["id"])
                pipeline.drain()
                fired = proxy.fired.is_set()
                proxy.disarm()
                _delivered_once(pipeline, job["id"], n)
                assert len(inbox.received) == n  # one message a letter, at the server
                if not fired:
                    break
                cut.append(n)
        finally:
            set_runtime(None)
            runtime.ledger.engine.dispose()
    # the claim, the intent and the delivery's record at least were each cut once
    assert len(cut) >= 3, cut


def _delivered_once(pipeline: Pipeline, job_id: str, n: int) -> None:
    row = pipeline.runtime.ledger.job(job_id)
    assert row is not None
    assert row.status == JobStatus.DELIVERED, (n, row.status, row.error)
    letter = pipeline.runtime.ledger.letter_for_job(job_id)
    assert letter is not None
    with pipeline.runtime.ledger.session() as s:
        attempts = s.scalars(select(AttemptRow).where(AttemptRow.letter_id == letter.id)).all()
        events = [e.event for e in s.scalars(select(EventRow).where(EventRow.job_id == job_id))]
    assert [(a.channel, a.status) for a in attempts] == [("email", "delivered")], n
    assert events.count("routed") == 1 and events.count("delivered") == 1, (n, events)
    assert "uncertain" not in events, (n, events)
