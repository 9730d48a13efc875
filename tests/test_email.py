"""The e-mail channel against a real SMTP server on loopback (aiosmtpd) with STARTTLS and
authentication: what arrives, and how the server's answers are classified."""

from __future__ import annotations

import datetime as dt
import hashlib
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from channels.base import Outgoing, PermanentError, RetriableError
from channels.email import EmailChannel
from letters.codes import Code
from letters.config import Sender, Smtp
from tests.services import _free_port


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Inbox:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.answer: str | None = None  # e.g. "451 try later" to refuse the next message

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer:
            return self.answer
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"letters", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, ssl.SSLContext]]:
    cert, key = _certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    client_tls = ssl.create_default_context(cafile=str(cert))
    inbox = Inbox()
    port = _free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        server_hostname="localhost",
        tls_context=server_tls,
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
    )
    controller.start()
    yield inbox, port, client_tls
    controller.stop()


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


def test_the_letter_arrives_with_both_bodies_and_the_pdf(smtp_server: Any) -> None:
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


def test_english_and_escaping(smtp_server: Any) -> None:
    inbox, port, tls = smtp_server
    _channel(port, tls).deliver(_letter(language="en", recipient_name="Smith & <Sons>"))
    [(_, msg)] = inbox.received
    assert msg["Subject"].startswith("Letter from")
    assert "Dear Smith & <Sons>" in msg.get_body(preferencelist=("plain",)).get_content()
    assert "Dear Smith &amp; &lt;Sons&gt;" in msg.get_body(preferencelist=("html",)).get_content()


def test_header_injection_is_refused_before_anything_is_sent(smtp_server: Any) -> None:
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
    smtp_server: Any, answer: str, error: type[Exception], code: Code
) -> None:
    inbox, port, tls = smtp_server
    inbox.answer = answer
    with pytest.raises(error) as info:
        _channel(port, tls).deliver(_letter())
    assert getattr(info.value, "code", None) == code
    assert str(info.value).startswith(f"SMTP {answer[:3]}: ")  # the server's own code


def test_a_wrong_smtp_password_is_retriable_and_nothing_arrives(smtp_server: Any) -> None:
    inbox, port, tls = smtp_server
    with pytest.raises(RetriableError) as info:
        _channel(port, tls, password="wrong").deliver(_letter())
    assert info.value.code == Code.CHANNEL_CONFIG  # our credentials, not the letter
    assert "refused us (535)" in str(info.value)
    assert inbox.received == []


def test_an_untrusted_server_certificate_is_not_accepted(smtp_server: Any) -> None:
    _, port, _ = smtp_server
    with pytest.raises(RetriableError):
        _channel(port, ssl.create_default_context()).deliver(_letter())
