"""A real SMTP server for tests: aiosmtpd on 127.0.0.1 (a free port) with STARTTLS required
and login required (``letters`` / ``s3cret``), its certificate self-signed for
``localhost``.

conftest.py exposes :func:`running_smtp` as the fixture ``smtp_server``: ``(inbox, port,
client_tls)``, with the certificate the client must trust written to ``cert.pem`` in the
test's ``tmp_path``. What arrived is in :attr:`Inbox.received`; set :attr:`Inbox.answer`
(e.g. ``"451 try later"``) to refuse what comes next, or :attr:`Inbox.drop` to take the
next message and break the connection before answering (an SMTP connection cut mid-send).
:meth:`Inbox.hold_replies` keeps every reply to a message back until the test lets them
go (:attr:`Inbox.holding` is set once one is held): a send caught in mid-flight.
:class:`Relay` is the same server that a test stops and starts again on its port.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.services import _free_port

SmtpServer = tuple["Inbox", int, ssl.SSLContext]


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
        self.drop = False  # take the next message, then cut the connection without a reply
        self.holding = threading.Event()  # a reply is being held back
        self._hold: threading.Event | None = None

    def hold_replies(self) -> threading.Event:
        """Hold back the reply to every message from now on until the returned event is set
        (then each is answered as usual)."""
        self.holding.clear()
        self._hold = threading.Event()
        return self._hold

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer:
            return self.answer
        hold = self._hold
        if hold is not None and not hold.is_set():
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, hold.wait, 120)
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        if self.drop:
            self.drop = False
            server.transport.abort()  # the client never hears the 250
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"letters", b"s3cret")
    return AuthResult(success=ok, handled=False)


class Relay:
    """The server on one port that a test can stop and start again (an outage): what
    arrived stays in :attr:`inbox` across restarts."""

    def __init__(self, folder: Path) -> None:
        cert, key = _certificate(folder)
        self._server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_tls.load_cert_chain(cert, key)
        self.client_tls = ssl.create_default_context(cafile=str(cert))
        self.inbox = Inbox()
        self.port = _free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        assert self._controller is None, "already running"
        controller = Controller(
            self.inbox,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="localhost",
            tls_context=self._server_tls,
            require_starttls=True,
            authenticator=_authenticate,
            auth_required=True,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Nothing listens on the port until :meth:`start` (connections are refused)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextmanager
def running_smtp(folder: Path) -> Iterator[SmtpServer]:
    """The server, its certificate and key written into ``folder``."""
    relay = Relay(folder)
    relay.start()
    try:
        yield relay.inbox, relay.port, relay.client_tls
    finally:
        relay.stop()
