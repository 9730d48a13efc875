"""Channel outages survived, on real peers (issue 11): an SMTP server down for a while, then
back; Digipost answering 5xx and timing out in a storm. Every letter arrives once, by the
channel its route says; the channel's circuit breaker (channels/breaker.py) keeps the storm
from costing a request per letter and try.

"Minutes" are compressed: the tests make the delivery backoff and the breaker's cool-down
small, and keep each outage below (or, where a letter must move on, above) the letters'
patience, ``letters.pipeline.broker.patience`` (with the real defaults 12½ to 25 minutes).
"""

from __future__ import annotations

import copy
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from channels.digipost.messages import document_uuid
from channels.email import message_id
from letters.config.digipost import DigipostSettings
from letters.ledger import Attempt, JobStatus
from letters.pipeline.broker import patience
from tests.conftest import Pipeline, load_job
from tests.digipost_keys import SENDER_ID, Keys, contract_server
from tests.faults import tally
from tests.smtp_server import Relay

#: Backoff and breaker in seconds instead of minutes.
QUICK = {
    "delivery_min_backoff_seconds": 0.3,
    "delivery_max_backoff_seconds": 2.4,
    "breaker_failures": 3,
    "breaker_cool_down_seconds": 0.5,
}
PIN = "15038512363"  # the fixture debtor's national id, a Digipost user here


def _jobs(prefix: str, count: int, **consents: bool) -> list[dict[str, Any]]:
    jobs = []
    for i in range(count):
        job = copy.deepcopy(load_job("reminder.nb"))
        job["id"] = f"{prefix}-{i:03d}"
        job["reference"] = f"{prefix.upper()}-{i:06d}"
        job["debtor"]["consents"].update(consents)
        jobs.append(job)
    return jobs


def _use(pipeline: Pipeline, **update: Any) -> None:
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update=update)


def _smtp(pipeline: Pipeline, relay: Relay) -> Any:
    return pipeline.runtime.settings.smtp.model_copy(
        update={
            "host": "localhost",
            "port": relay.port,
            "username": "letters",
            "password": SecretStr("s3cret"),
            "ca_file": pipeline.tmp / "cert.pem",  # written by the Relay
        }
    )


def _digipost(url: str, keys: Keys) -> DigipostSettings:
    return DigipostSettings(
        base_url=url, sender_id=SENDER_ID, key_path=keys.sender_pem, timeout_seconds=0.5
    )


def _rendered(
    pipeline: Pipeline, jobs: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """The jobs' letters made and archived, not yet handed to delivery: job id → letter."""
    from letters.pipeline import actors

    with monkeypatch.context() as patch:
        patch.setattr(actors.deliver_letter, "send", lambda *_: None)
        letters = {job["id"]: pipeline.submit(job) for job in jobs}
        pipeline.drain()
    assert set(pipeline.runtime.ledger.statuses(list(letters)).values()) == {JobStatus.RENDERED}
    return letters


def _deliver(job_ids: list[str]) -> None:
    from letters.pipeline import actors

    for job_id in job_ids:
        actors.deliver_letter.send(job_id)


def _attempts(pipeline: Pipeline, job_id: str) -> list[Attempt]:
    history = pipeline.runtime.ledger.history(job_id)
    assert history is not None
    return list(history.attempts)


def _wait_until(what: Callable[[], bool], why: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {why}")
        time.sleep(0.05)


def _codes(pipeline: Pipeline, job_ids: list[str]) -> Counter[str | None]:
    return Counter(a.error_code for j in job_ids for a in _attempts(pipeline, j))


def test_an_smtp_outage_shorter_than_the_patience_moves_no_letter(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay is down (connections refused) while a wave of e-mail letters is delivered,
    then comes back on the same port: every letter arrives once, by e-mail, none printed,
    none uncertain or failed."""
    relay = Relay(pipeline.tmp)  # not started: nothing listens on its port
    _use(pipeline, smtp=_smtp(pipeline, relay), **QUICK)
    least, _ = patience(pipeline.runtime.settings)
    jobs = _jobs("mail", 12, digipost=False)
    letters = _rendered(pipeline, jobs, monkeypatch)
    ids = list(letters)
    try:
        _deliver(ids)
        time.sleep(least / 2)  # down for half of what a letter waits before moving on
        # `letters status` shows the letters held back by the open breaker
        assert pipeline.runtime.ledger.overview().waiting_on_breaker["email"] > 0
        relay.start()
        pipeline.drain()
    finally:
        relay.stop()
    received = [str(msg["Message-ID"]) for _, msg in relay.inbox.received]
    from_address = pipeline.runtime.settings.smtp.from_address
    assert sorted(received) == sorted(message_id(i, from_address) for i in letters.values())
    assert pipeline.printed() == []
    assert set(pipeline.runtime.ledger.statuses(ids).values()) == {JobStatus.DELIVERED}
    codes = _codes(pipeline, ids)
    print(
        f"tries refused by the relay {codes['channel-connection']}, "
        f"turns the breaker held back {codes['channel-breaker-open']}"
    )
    assert codes["channel-connection"] >= QUICK["breaker_failures"]  # it was down
    assert codes["channel-breaker-open"] > 0  # and the breaker spared it the rest
    assert set(codes) == {None, "channel-connection", "channel-breaker-open"}  # no uncertain
    assert pipeline.runtime.ledger.overview().waiting_on_breaker == {}
    counts = tally("smtp-outage", pipeline.runtime.ledger, received=received)
    assert (counts.jobs, counts.deliveries, counts.duplicates, counts.lost) == (12, 12, 0, 0)


def test_an_smtp_outage_longer_than_the_patience_moves_letters_to_print_once(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The routing's rule: after LETTERS_CHANNEL_ATTEMPTS turns of e-mail (tries refused,
    or held back by the open breaker) a letter goes to print, once."""
    relay = Relay(pipeline.tmp)  # never started: down for longer than anyone waits
    _use(
        pipeline,
        smtp=_smtp(pipeline, relay),
        **{**QUICK, "delivery_min_backoff_seconds": 0.1, "delivery_max_backoff_seconds": 0.4},
        channel_attempts=3,
    )
    jobs = _jobs("late", 6, digipost=False)
    letters = _rendered(pipeline, jobs, monkeypatch)
    _deliver(list(letters))
    pipeline.drain()
    assert pipeline.printed() == sorted(letters.values())
    for job_id in letters:
        turns = [(a.channel, a.status) for a in _attempts(pipeline, job_id)]
        assert turns == [("email", "failed")] * 3 + [("print", "delivered")]
    assert set(_codes(pipeline, list(letters))) == {
        None,
        "channel-connection",
        "channel-breaker-open",
    }
    counts = tally("smtp-down-for-good", pipeline.runtime.ledger, received=pipeline.printed())
    assert (counts.deliveries, counts.duplicates, counts.lost) == (6, 0, 0)


def test_a_digipost_storm_is_ridden_out_behind_the_breaker(
    pipeline: Pipeline, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digipost answers 503, then hangs past the client's timeout, then 500 to everything;
    the storm ends before the letters' patience: each letter is delivered to Digipost once
    (one document per letter uuid), none printed, and the breaker kept the requests the
    storm saw to a fraction of letters × tries."""
    jobs = _jobs("storm", 20, email=False)
    with contract_server({PIN}) as server:
        _use(pipeline, digipost=_digipost(server.url, keys), **QUICK)
        least, _ = patience(pipeline.runtime.settings)
        letters = _rendered(pipeline, jobs, monkeypatch)
        ids = list(letters)
        before = len(server.requests)
        server.fault("fail", 4, status=503)
        server.fault("hang", 2, seconds=1.0)  # no answer within the 0.5 s timeout
        server.fault("fail", 10**6, status=500)
        _deliver(ids)
        storm = least / 2
        time.sleep(storm)
        during = len(server.requests) - before
        server.calm()
        pipeline.drain()
        stored = [s.uuid for s in server.stored]
        assert server.problems == []
    assert sorted(stored) == sorted(document_uuid(i) for i in letters.values())
    assert pipeline.printed() == []
    assert set(pipeline.runtime.ledger.statuses(ids).values()) == {JobStatus.DELIVERED}
    codes = _codes(pipeline, ids)
    budget = len(jobs) * pipeline.runtime.settings.channel_attempts
    print(f"requests during the storm {during} (letters × tries {budget}); {dict(codes)}")
    assert codes["channel-breaker-open"] > 0
    # the breaker's arithmetic: the failures that open it, then one trial per cool-down
    # (without it every letter tries at least once in the storm, 20 requests or more)
    trials = math.ceil(storm / QUICK["breaker_cool_down_seconds"])
    assert during <= QUICK["breaker_failures"] + trials + 1 < len(jobs) < budget
    received = [i for i in letters.values() if document_uuid(i) in stored]
    counts = tally("digipost-storm", pipeline.runtime.ledger, received=received)
    assert (counts.jobs, counts.deliveries, counts.duplicates, counts.lost) == (20, 20, 0, 0)


def test_a_letter_digipost_may_hold_stays_with_digipost_through_a_long_storm(
    pipeline: Pipeline, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digipost stored one letter but its answer was lost, and the status check answered
    503: Digipost may hold it. Through a storm longer than the patience, the other letters
    move to print as the routing says; that one waits for Digipost (past its channel
    attempts) and is reconciled by its document uuid once the storm is over: never
    printed, never stored twice."""
    held, *others = _jobs("hold", 4, email=False)
    with contract_server({PIN}) as server:
        _use(
            pipeline,
            digipost=_digipost(server.url, keys),
            **{**QUICK, "delivery_min_backoff_seconds": 0.2, "delivery_max_backoff_seconds": 0.8},
            channel_attempts=2,
        )
        letters = _rendered(pipeline, [held, *others], monkeypatch)
        server.fault("drop", 1, method="POST", path="/messages", seconds=1.0)
        server.fault("fail", 10**6, method="GET", path="/documents/", status=503)
        _deliver([held["id"]])
        _wait_until(
            lambda: any(a.error_class == "UncertainError" for a in _attempts(pipeline, held["id"])),
            "the lost answer leaves the letter uncertain",
        )
        server.fault("fail", 10**6, status=502)  # the storm, for every request
        _deliver([j["id"] for j in others])
        _wait_until(
            lambda: (
                len(pipeline.printed()) == len(others)
                and len(_attempts(pipeline, held["id"])) > 2 * 2
            ),
            "the others moved to print and the held letter waited past its attempts",
        )
        server.calm()
        pipeline.drain()
        stored = [s.uuid for s in server.stored]
    assert stored == [document_uuid(letters[held["id"]])]
    assert pipeline.printed() == sorted(letters[j["id"]] for j in others)
    turns = _attempts(pipeline, held["id"])
    assert all(a.channel == "digipost" for a in turns)
    assert turns[-1].status == "delivered"
    assert turns[-1].receipt is not None and turns[-1].receipt["reconciled"] is True
    assert pipeline.status(held["id"]) == JobStatus.DELIVERED
    received = [letters[held["id"]], *pipeline.printed()]  # one copy per letter, anywhere
    counts = tally("digipost-storm-uncertain", pipeline.runtime.ledger, received=received)
    assert (counts.deliveries, counts.duplicates, counts.lost) == (4, 0, 0)


def test_only_outages_open_the_breaker_and_a_failed_trial_opens_it_again() -> None:
    from channels.base import PermanentError, Receipt, RetriableError, UncertainError
    from channels.breaker import Breaker
    from letters.codes import Code

    now = [0.0]
    breaker = Breaker("digipost", failures=2, cool_down=10, clock=lambda: now[0])
    about_the_letter = [
        PermanentError(Code.DIGIPOST_REFUSED, "Digipost 400 CLIENT_DATA"),
        RetriableError(Code.CHANNEL_CONFIG, "Digipost 403"),
        UncertainError(Code.DIGIPOST_UNCERTAIN, "not there yet"),
        None,  # cut off by something else
    ]
    for outcome in about_the_letter * 3:
        breaker.settle(breaker.admit(), outcome)
    assert breaker.state == "closed"
    unavailable = RetriableError(Code.DIGIPOST_UNAVAILABLE, "Digipost 503")
    breaker.settle(breaker.admit(), unavailable)
    breaker.settle(breaker.admit(), about_the_letter[0])  # in between: still one in a row
    breaker.settle(breaker.admit(), UncertainError(Code.CHANNEL_TIMEOUT, "no answer"))
    assert breaker.state == "open" and breaker.admit() is None
    assert breaker.refusal().code == Code.CHANNEL_BREAKER_OPEN
    assert "a trial in 10 s" in str(breaker.refusal())
    now[0] = 10.0
    trial = breaker.admit()
    assert trial is not None and trial.trial and breaker.admit() is None
    breaker.settle(trial, unavailable)  # the trial failed: another cool-down
    assert breaker.state == "open" and breaker.admit() is None
    now[0] = 20.0
    trial = breaker.admit()
    breaker.settle(trial, about_the_letter[0])  # says nothing: the next letter is the trial
    assert breaker.state == "half-open"
    trial = breaker.admit()
    assert trial is not None
    breaker.settle(trial, Receipt("digipost", "uuid"))
    assert breaker.state == "closed" and breaker.admit() is not None
