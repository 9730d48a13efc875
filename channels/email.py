"""E-mail: the letter as a PDF attachment to a short message in the debtor's language.

SMTP with STARTTLS and authentication. The Message-ID comes from the letter id, so a
re-sent letter is recognisable as the same message. Header values are built with the
standard library's SMTP policy, which refuses CR/LF, so input cannot add headers. The
password is only inside the PDF, never in the message text. SMTP 4xx answers are
retriable; 5xx answers are permanent (routing then moves the letter on, e.g. to print).

Failures carry a stable code (:mod:`letters.codes`): ``email-refused`` (5xx, the SMTP code
and text in the message), ``email-deferred`` (4xx), ``email-no-address``,
``email-header-unsafe``, and ``channel-config``, ``channel-connection`` or
``channel-timeout`` when the server or our settings, not the letter, are the trouble.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

from channels.base import Channel, Outgoing, PermanentError, Receipt, RetriableError
from letters.codes import Code
from letters.config import Sender, Smtp
from letters.paths import TEMPLATE_DIR
from letters.templating import bare_url, environment

#: The folder holding the e-mail body to use for a language (the version approved and in
#: force); it raises the error to report when there is none.
BodyFolder = Callable[[str], Path]

SUBJECTS = {
    "nb": "Brev fra {sender} – sak {reference}",
    "en": "Letter from {sender} – case {reference}",
}


class EmailChannel(Channel):
    name = "email"

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
        domain = self.smtp.from_address.rpartition("@")[2] or "localhost"
        try:
            msg["From"] = formataddr((self.smtp.from_name, self.smtp.from_address))
            msg["To"] = formataddr((letter.recipient_name, letter.email))
            msg["Subject"] = SUBJECTS[language].format(
                sender=self.sender.name, reference=letter.reference
            )
        except ValueError as exc:  # CR/LF or similar in a value taken from input
            raise PermanentError(Code.EMAIL_HEADER_UNSAFE, f"unsafe header value: {exc}") from None
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = f"<letter-{letter.letter_id}@{domain}>"
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
        msg = self.message(letter)
        assert self.smtp.host is not None
        try:
            with smtplib.SMTP(
                self.smtp.host, self.smtp.port, timeout=self.smtp.timeout_seconds
            ) as client:
                client.ehlo()
                if self.smtp.starttls:
                    client.starttls(context=self.tls)
                    client.ehlo()
                if self.smtp.username:
                    password = self.smtp.password.get_secret_value() if self.smtp.password else ""
                    client.login(self.smtp.username, password)
                refused = client.send_message(msg)
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
        except TimeoutError as exc:
            raise RetriableError(Code.CHANNEL_TIMEOUT, f"SMTP server timed out: {exc}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise RetriableError(
                Code.CHANNEL_CONNECTION, f"SMTP server unreachable: {exc}"
            ) from None
        if refused:
            code = min(c for c, _ in refused.values())
            raise _error(code, "recipient refused")
        return Receipt(self.name, str(msg["Message-ID"]), {"to": letter.email})


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
