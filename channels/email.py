"""E-mail: the letter as a PDF attachment to a short message in the debtor's language.

SMTP with STARTTLS and authentication. The Message-ID comes from the letter id, so a
re-sent letter is recognisable as the same message. Header values are built with the
standard library's SMTP policy, which refuses CR/LF, so input cannot add headers. The
password is only inside the PDF, never in the message text. SMTP 4xx answers are
retriable; 5xx answers are permanent (routing then moves the letter on, e.g. to print).

**Never twice blind.** SMTP cannot be asked whether it holds a message, so the channel does
not reconcile (``reconciles = False``): a connection that breaks or times out once the
message is being handed over (after ``DATA``) is an :class:`UncertainError`
(``email-uncertain``): the server may have it, and the pipeline leaves the job
``uncertain`` instead of sending again. Once the server has answered 250, a failing
``QUIT`` changes nothing.

Failures carry a stable code (:mod:`letters.codes`): ``email-refused`` (5xx, the SMTP code
and text in the message), ``email-deferred`` (4xx), ``email-no-address``,
``email-header-unsafe``, and ``channel-config``, ``channel-connection`` or
``channel-timeout`` when the server or our settings, not the letter, are the trouble;
``email-uncertain`` as above.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path
from typing import TYPE_CHECKING

from channels.base import (
    Channel,
    ChannelError,
    NotSent,
    Outgoing,
    PermanentError,
    Receipt,
    RetriableError,
    UncertainError,
)
from letters.codes import Code
from letters.config import Sender, Smtp
from letters.paths import TEMPLATE_DIR
from letters.templating import bare_url, environment

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

#: The folder holding the e-mail body to use for a language (the version approved and in
#: force); it raises the error to report when there is none.
BodyFolder = Callable[[str], Path]

SUBJECTS = {
    "nb": "Brev fra {sender} – sak {reference}",
    "en": "Letter from {sender} – case {reference}",
}


class _Client(smtplib.SMTP):
    """smtplib's client, knowing whether the message itself was being handed over."""

    handed_over = False

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.handed_over = True  # from here on the server may end up with the message
        return super().data(msg)


class EmailChannel(Channel):
    name = "email"
    reconciles = False  # SMTP cannot be asked whether it has a message

    def __init__(
        self,
        smtp: Smtp,
        sender: Sender,
        tls: ssl.SSLContext | None = None,
        bodies: BodyFolder | None = None,
    ) -> None:
        if not smtp.host:
            raise ValueError("the e-mail channel needs LETTERS_SMTP__HOST")
        self.smtp = smtp
        self.sender = sender
        self.tls = tls or ssl.create_default_context()
        self.bodies = bodies or (lambda _language: TEMPLATE_DIR)

    def message(self, letter: Outgoing) -> EmailMessage:
        if not letter.email:
            raise PermanentError(Code.EMAIL_NO_ADDRESS, "the debtor has no e-mail address")
        language = letter.language if letter.language in SUBJECTS else "nb"
        context = {
            "name": letter.recipient_name,
            "reference": letter.reference,
            "sender": self.sender,
            "portal": bare_url(self.sender.portal_url),
        }
        msg = EmailMessage(policy=policy.SMTP)
        try:
            msg["From"] = formataddr((self.smtp.from_name, self.smtp.from_address))
            msg["To"] = formataddr((letter.recipient_name, letter.email))
            msg["Subject"] = SUBJECTS[language].format(
                sender=self.sender.name, reference=letter.reference
            )
        except ValueError as exc:  # CR/LF or similar in a value taken from input
            raise PermanentError(Code.EMAIL_HEADER_UNSAFE, f"unsafe header value: {exc}") from None
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = message_id(letter.letter_id, self.smtp.from_address)
        env = environment(self.bodies(language))
        msg.set_content(env.get_template(f"email/{language}.txt").render(context))
        html = env.get_template(f"email/{language}.html").render(context)
        msg.add_alternative(html, subtype="html")
        msg.add_attachment(
            letter.pdf,
            maintype="application",
            subtype="pdf",
            filename=f"letter-{letter.letter_id}.pdf",
        )
        return msg

    def deliver(self, letter: Outgoing) -> Receipt:
        try:
            msg = self.message(letter)  # the approved wording is read from the ledger
        except ChannelError:
            raise
        except Exception as exc:  # nothing has reached the SMTP server yet
            raise NotSent(f"the message could not be made: {type(exc).__name__}") from exc
        assert self.smtp.host is not None
        client: _Client | None = None
        try:
            client = _Client(self.smtp.host, self.smtp.port, timeout=self.smtp.timeout_seconds)
            refused = self._send(client, msg)
        except smtplib.SMTPRecipientsRefused as exc:  # this address refused: the letter's
            code = min(c for c, _ in exc.recipients.values())
            raise _error(code, "recipient refused") from None
        except smtplib.SMTPDataError as exc:  # this message refused
            raise _error(exc.smtp_code, _text(exc.smtp_error)) from None
        except smtplib.SMTPNotSupportedError:  # e.g. a non-ASCII address without SMTPUTF8
            raise PermanentError(
                Code.EMAIL_REFUSED, "the relay cannot take this address (no SMTPUTF8)"
            ) from None
        except (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused) as exc:
            # our credentials or sender address, not this letter: retry once it is fixed
            raise RetriableError(
                Code.CHANNEL_CONFIG, f"SMTP server refused us ({exc.smtp_code})"
            ) from None
        except (smtplib.SMTPHeloError, smtplib.SMTPConnectError) as exc:
            raise RetriableError(
                Code.CHANNEL_CONNECTION, f"SMTP server refused the connection ({exc.smtp_code})"
            ) from None
        except smtplib.SMTPResponseException as exc:  # e.g. STARTTLS refused: the server's
            raise RetriableError(Code.EMAIL_DEFERRED, f"SMTP {exc.smtp_code}") from None
        except UnicodeError:  # a setting the relay cannot take (never echo it)
            raise RetriableError(
                Code.CHANNEL_CONFIG, "SMTP settings are not ASCII-encodable"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            if client is not None and client.handed_over:  # the server may have it
                raise UncertainError(
                    Code.EMAIL_UNCERTAIN,
                    f"the SMTP connection failed while the message was handed over "
                    f"({type(exc).__name__}: {exc}); the server may have it",
                ) from None
            if isinstance(exc, TimeoutError):
                raise RetriableError(
                    Code.CHANNEL_TIMEOUT, f"SMTP server timed out: {exc}"
                ) from None
            raise RetriableError(
                Code.CHANNEL_CONNECTION, f"SMTP server unreachable: {exc}"
            ) from None
        if refused:
            code = min(c for c, _ in refused.values())
            raise _error(code, "recipient refused")
        return Receipt(self.name, str(msg["Message-ID"]), {"to": letter.email})

    def _send(self, client: _Client, msg: EmailMessage) -> dict[str, tuple[int, bytes]]:
        """Log in, send, and say goodbye; a failing goodbye after the send is ignored."""
        try:
            client.ehlo()
            if self.smtp.starttls:
                client.starttls(context=self.tls)
                client.ehlo()
            if self.smtp.username:
                password = self.smtp.password.get_secret_value() if self.smtp.password else ""
                client.login(self.smtp.username, password)
            return client.send_message(msg)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


def message_id(letter_id: str, from_address: str) -> str:
    """The letter's Message-ID: the same for every send of the letter.

    >>> message_id("12345678901234567890", "post@fjordinkasso.example")
    '<letter-12345678901234567890@fjordinkasso.example>'
    """
    domain = from_address.rpartition("@")[2] or "localhost"
    return f"<letter-{letter_id}@{domain}>"


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _error(code: int, text: str) -> RetriableError | PermanentError:
    """An SMTP answer about this message: 4xx deferred (retriable), else refused.

    >>> _error(451, "try later").code, _error(550, "no such mailbox").code
    (<Code.EMAIL_DEFERRED: 'email-deferred'>, <Code.EMAIL_REFUSED: 'email-refused'>)
    >>> str(_error(550, "no such mailbox"))
    'SMTP 550: no such mailbox'
    """
    if 400 <= code < 500:
        return RetriableError(Code.EMAIL_DEFERRED, f"SMTP {code}: {text}")
    return PermanentError(Code.EMAIL_REFUSED, f"SMTP {code}: {text}")
