"""The e-mail channel against a real SMTP server on loopback (aiosmtpd, the ``smtp_server``
fixture from tests/smtp_server.py) with STARTTLS and authentication: what arrives, and how
the server's answers are classified."""

from __future__ import annotations

import hashlib
import ssl
from typing import Any

import pytest

from channels.base import Outgoing, PermanentError, RetriableError
from channels.email import EmailChannel
from letters.codes import Code
from letters.config import Sender, Smtp
from tests.smtp_server import SmtpServer


def _channel(port: int, tls: ssl.SSLContext, password: str = "s3cret") -> EmailChannel:
    smtp = Smtp(host="localhost", port=port, username="letters", password=password)  # type: ignore[arg-type]
    return EmailChannel(smtp, Sender(), tls)


def _letter(**overrides: Any) -> Outgoing:
    values: dict[str, Any] = {
        "letter_id": "12345678901234567890",
        "job_id": "rem-nb-0001",
        "reference": "AX-2026-100041",
        "recipient_name": "Kari Nordmann",
        "pdf": b"%PDF-1.7 a letter",
        "language": "nb",
        "email": "kari.nordmann@example.no",
    }
    values.update(overrides)
    return Outgoing(**values)


def test_the_letter_arrives_with_both_bodies_and_the_pdf(smtp_server: SmtpServer) -> None:
    inbox, port, tls = smtp_server
    letter = _letter()
    receipt = _channel(port, tls).deliver(letter)
    assert receipt.external_id == "<letter-12345678901234567890@fjordinkasso.example>"
    [(recipients, msg)] = inbox.received
    assert recipients == ["kari.nordmann@example.no"]
    assert msg["Subject"] == "Brev fra Fjordinkasso AS – sak AX-2026-100041"
    assert msg["Message-ID"] == receipt.external_id
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Hei Kari Nordmann" in text and "sak AX-2026-100041" in text
    assert "<strong>AX-2026-100041</strong>" in html
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "letter-12345678901234567890.pdf"
    assert hashlib.sha256(attachment.get_content()).digest() == hashlib.sha256(letter.pdf).digest()


def test_english_and_escaping(smtp_server: SmtpServer) -> None:
    inbox, port, tls = smtp_server
    _channel(port, tls).deliver(_letter(language="en", recipient_name="Smith & <Sons>"))
    [(_, msg)] = inbox.received
    assert msg["Subject"].startswith("Letter from")
    assert "Dear Smith & <Sons>" in msg.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Smith &amp; &lt;Sons&gt;" in msg.get_body(preferencelist=("html",)).get_content()


def test_header_injection_is_refused_before_anything_is_sent(smtp_server: SmtpServer) -> None:
    inbox, port, tls = smtp_server
    with pytest.raises(PermanentError) as info:
        _channel(port, tls).deliver(_letter(recipient_name="Kari\r\nBcc: thief@example.com"))
    assert info.value.code == Code.EMAIL_HEADER_UNSAFE
    assert "unsafe header value" in str(info.value)
    assert inbox.received == []


@pytest.mark.parametrize(
    ("answer", "error", "code"),
    [
        ("451 4.3.0 try again later", RetriableError, Code.EMAIL_DEFERRED),
        ("554 5.7.1 rejected", PermanentError, Code.EMAIL_REFUSED),
    ],
)
def test_4xx_is_retriable_and_5xx_permanent(
    smtp_server: SmtpServer, answer: str, error: type[Exception], code: Code
) -> None:
    inbox, port, tls = smtp_server
    inbox.answer = answer
    with pytest.raises(error) as info:
        _channel(port, tls).deliver(_letter())
    assert getattr(info.value, "code", None) == code
    assert str(info.value).startswith(f"SMTP {answer[:3]}: ")  # the server's own code


def test_a_wrong_smtp_password_is_retriable_and_nothing_arrives(smtp_server: SmtpServer) -> None:
    inbox, port, tls = smtp_server
    with pytest.raises(RetriableError) as info:
        _channel(port, tls, password="wrong").deliver(_letter())
    assert info.value.code == Code.CHANNEL_CONFIG  # our credentials, not the letter
    assert "refused us (535)" in str(info.value)
    assert inbox.received == []


def test_an_untrusted_server_certificate_is_not_accepted(smtp_server: SmtpServer) -> None:
    _, port, _ = smtp_server
    with pytest.raises(RetriableError):
        _channel(port, ssl.create_default_context()).deliver(_letter())
