"""Routing: preference, consent and configuration decide the chain; print is the last
resort; a channel refusing for good moves the letter on, with every attempt recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from letters import rules
from letters.codes import Code
from letters.routing import Skip, route
from letters.validation import parse
from tests.conftest import Pipeline, load_job
from tests.digipost_keys import SENDER_ID, Keys, contract_server
from tests.smtp_server import Inbox, SmtpServer

ALL = frozenset({"digipost", "email", "print"})
MailPipeline = tuple[Pipeline, Inbox]


def test_consent_and_addresses_filter_the_preference() -> None:
    job = load_job("reminder.nb")  # consents to both, has an e-mail and a national id
    assert route(parse(job), ALL).chain == ("digipost", "email", "print")
    job["debtor"]["consents"] = {"digipost": False, "email": True}
    plan = route(parse(job), ALL)
    assert plan.chain == ("email", "print")
    assert Skip("digipost", Code.ROUTE_NO_CONSENT, "no consent to Digipost") in plan.skipped
    del job["debtor"]["email"]
    assert route(parse(job), ALL).chain == ("print",)


def test_the_jobs_own_order_counts_and_print_is_always_last() -> None:
    job = load_job("reminder.nb")
    job["channels"] = ["print", "email"]
    assert route(parse(job), ALL).chain == ("email", "print")


def test_unconfigured_channels_are_skipped_with_a_reason() -> None:
    plan = route(parse(load_job("reminder.nb")), frozenset({"print"}))
    assert plan.chain == ("print",)
    assert Skip("email", Code.ROUTE_NOT_CONFIGURED, "not configured here") in plan.skipped


def test_a_kind_the_rules_keep_off_a_channel_skips_it_with_its_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # compliance's table decides; today every kind may use every channel
    narrowed = dict(rules.CHANNELS_BY_KIND, reminder=frozenset({"digipost", "print"}))
    monkeypatch.setattr(rules, "CHANNELS_BY_KIND", narrowed)
    plan = route(parse(load_job("reminder.nb")), ALL)
    assert plan.chain == ("digipost", "print")
    assert Skip("email", Code.ROUTE_NOT_FOR_KIND, "a reminder may not go by email") in plan.skipped


@pytest.fixture
def mail_pipeline(pipeline: Pipeline, smtp_server: SmtpServer, tmp_path: Path) -> MailPipeline:
    inbox, port, _ = smtp_server
    ca = tmp_path / "cert.pem"  # written by the smtp_server fixture
    smtp = pipeline.runtime.settings.smtp.model_copy(
        update={
            "host": "localhost",
            "port": port,
            "username": "letters",
            "password": SecretStr("s3cret"),
            "ca_file": ca,
        }
    )
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"smtp": smtp})
    return pipeline, inbox


def test_a_consenting_debtor_gets_the_letter_by_email_only(mail_pipeline: MailPipeline) -> None:
    pipeline, inbox = mail_pipeline
    job = load_job("reminder.nb")
    letter_id = pipeline.submit(job)
    pipeline.drain()
    [(recipients, msg)] = inbox.received
    assert recipients == [job["debtor"]["email"]]
    assert f"letter-{letter_id}" in msg["Message-ID"]
    assert pipeline.in_print(letter_id) is None  # exactly one channel
    history = pipeline.runtime.ledger.history(job["id"])
    assert [(a.channel, a.status) for a in history.attempts] == [("email", "delivered")]
    routed = next(e for e in history.events if e.event == "routed")
    assert routed.detail == (
        "email → print; skipped: digipost (not configured here [route-not-configured])"
    )


def test_a_permanent_smtp_refusal_moves_the_letter_to_print(mail_pipeline: MailPipeline) -> None:
    pipeline, inbox = mail_pipeline
    inbox.answer = "550 5.1.1 no such mailbox"
    job = load_job("reminder.nb")
    letter_id = pipeline.submit(job)
    pipeline.drain()
    assert pipeline.status(job["id"]) == "delivered"
    assert pipeline.in_print(letter_id)
    history = pipeline.runtime.ledger.history(job["id"])
    attempts = [(a.channel, a.status, a.error_code) for a in history.attempts]
    assert attempts == [("email", "failed", "email-refused"), ("print", "delivered", None)]
    assert history.attempts[0].error is not None
    assert history.attempts[0].error.startswith("SMTP 550")


def test_a_channel_down_for_long_moves_the_letter_on(mail_pipeline: MailPipeline) -> None:
    pipeline, inbox = mail_pipeline
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"channel_attempts": 2})
    inbox.answer = "451 4.3.0 mail system down"
    job = load_job("reminder.en")  # consents to e-mail
    job["debtor"]["consents"] = {"digipost": False, "email": True}
    job["debtor"]["email"] = "ola.hansen@example.no"
    letter_id = pipeline.submit(job)
    pipeline.drain()  # includes the retry after its backoff
    assert pipeline.status(job["id"]) == "delivered"
    assert pipeline.in_print(letter_id)
    history = pipeline.runtime.ledger.history(job["id"])
    attempts = [(a.channel, a.status, a.error_code) for a in history.attempts]
    assert attempts == [
        ("email", "failed", Code.EMAIL_DEFERRED),
        ("email", "failed", Code.EMAIL_DEFERRED),
        ("print", "delivered", None),
    ]


def test_an_untrusted_digipost_answer_never_sends_the_letter_elsewhere(
    pipeline: Pipeline,
    keys: Keys,
) -> None:
    """Digipost stored the letter but its answer did not verify: the letter may be in the
    debtor's mailbox, so it must not also be printed. The retry reconciles."""
    from letters.config.digipost import DigipostSettings

    with contract_server({"15038512363"}) as server:
        pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
            update={
                "channel_attempts": 1,  # would move on after one transient failure
                "digipost": DigipostSettings(
                    base_url=server.url,
                    sender_id=SENDER_ID,
                    key_path=keys.sender_pem,
                    timeout_seconds=2,
                ),
            }
        )
        server.fault("bad_signature", 1, method="POST", path="/messages")
        job = load_job("reminder.nb")
        letter_id = pipeline.submit(job)
        pipeline.drain()
        assert len(server.stored) == 1
    history = pipeline.runtime.ledger.history(job["id"])
    assert history is not None
    attempts = [(a.channel, a.status, a.error_class) for a in history.attempts]
    assert attempts == [
        ("digipost", "failed", "UncertainError"),
        ("digipost", "delivered", None),
    ]
    assert history.attempts[1].receipt is not None
    assert history.attempts[1].receipt["reconciled"] is True
    assert pipeline.in_print(letter_id) is None
