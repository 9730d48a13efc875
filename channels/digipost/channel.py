"""The Digipost channel: one letter, one message, one PDF.

**Identify first when the message has no print-details** (``print_fallback="own"``, or no
postal address): ``POST /identification`` tells us whether the recipient has a Digipost
account before the PDF is uploaded, so a non-user costs one small request and routing moves
the letter to our own print. With print-details (``print_fallback="digipost"``) Digipost
itself decides between the mailbox and print, so the message is sent straight away.

**Never twice.** The message-id and document uuid are derived from the letter id, so a
re-sent letter is the same message to Digipost and is refused as a duplicate. When the
outcome of a send is unknown (timeout, connection lost after sending) or Digipost says
``DUPLICATE_MESSAGE``/``DUPLICATE_DOCUMENT_ID``, the channel asks for the document's status
by uuid: if Digipost holds it, that is the receipt (``reconciled=True``); if it does not
(404), a :class:`RetriableError` makes the pipeline send it again later with the same ids.
Before a letter is handed on as "not a Digipost user" the same status check runs, in case an
earlier attempt was stored before the account was closed.

Errors carry stable codes (:mod:`letters.codes`); Digipost's own error code, when it sent
one, is in the message (``Digipost 400 CLIENT_DATA: …``). 404/``UNKNOWN_RECIPIENT`` →
``PermanentError(digipost-not-a-user)``; an id Digipost (or we, before asking) cannot take →
``PermanentError(digipost-invalid-recipient)``; a letter that cannot be a valid message →
``PermanentError(digipost-invalid-message)``; other 4xx about the letter (``CLIENT_DATA``)
→ ``PermanentError(digipost-refused)``. Retriable: 5xx, 429 and a 404 of a path
(``digipost-unavailable``), refusals of our request itself (signature, Date, hash,
certificate, 401/403: the installation, not the letter: ``channel-config``), a response that
fails verification (``digipost-bad-answer``), ``channel-timeout`` and
``channel-connection``. A failure once the upload started is an :class:`UncertainError`
(Digipost may hold the letter) with the failure's own code; one that reconciling could not
settle (Digipost does not hold it yet) is ``digipost-uncertain``; one where Digipost could
not be asked (the status call failed too) is uncertain with that call's code. Either way the
letter is tried again by Digipost only, never sent elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from channels.base import (
    Channel,
    ChannelError,
    Outgoing,
    PermanentError,
    PostalAddress,
    Receipt,
    RetriableError,
    UncertainError,
)
from channels.digipost.client import (
    ApiResponseError,
    DigipostClient,
    EntryPointError,
    NoAnswer,
    Unreachable,
    UntrustedResponse,
)
from channels.digipost.messages import (
    DocumentStatus,
    Message,
    MessageError,
    PrintDetails,
    Recipient,
    build_message,
    document_uuid,
    message_id,
)
from letters.codes import Code
from letters.config.digipost import DigipostSettings

DUPLICATE_CODES = frozenset({"DUPLICATE_MESSAGE", "DUPLICATE_DOCUMENT_ID"})
#: Refusals of how we called, not of the letter: retry once the installation is fixed.
OUR_SIDE_CODES = frozenset(
    {
        "INVALID_SIGNATURE",
        "DATE_HEADER_OUTSIDE_ACCEPTED_INTERVAL",
        "INVALID_SHA256",
        "MISSING_CERTIFICATE",
    }
)
#: Digipost is down for a while: retry.
UNAVAILABLE_CODES = frozenset({"API_UNAVAILABLE"})
DEFAULT_SUBJECTS = {"nb": "Brev i inkassosak {reference}", "en": "Debt collection case {reference}"}


class DigipostChannel(Channel):
    name = "digipost"
    reconciles = True

    def __init__(self, settings: DigipostSettings, client: DigipostClient | None = None) -> None:
        if not settings.configured:
            raise ValueError("the Digipost channel needs a base_url")
        self.settings = settings
        self.client = client or DigipostClient(settings)

    def close(self) -> None:
        self.client.close()

    def message(self, letter: Outgoing) -> Message:
        """The message for ``letter`` (``MessageError`` when it cannot be one)."""
        subject = letter.subject.strip() or DEFAULT_SUBJECTS.get(
            letter.language, DEFAULT_SUBJECTS["nb"]
        ).format(reference=letter.reference)
        recipient = (
            Recipient(national_id=letter.national_id)
            if letter.national_id
            else Recipient(org_number=letter.org_number)
        )
        return Message(
            message_id=message_id(letter.letter_id),
            document_uuid=document_uuid(letter.letter_id),
            subject=subject,
            recipient=recipient,
            print_details=self._print_details(letter),
            payment=letter.payment,
        )

    def _print_details(self, letter: Outgoing) -> PrintDetails | None:
        ret = self.settings.return_address
        if self.settings.print_fallback != "digipost" or letter.address is None or ret is None:
            return None
        address = letter.address
        if not address.name.strip():
            address = replace(address, name=letter.recipient_name)
        return PrintDetails(address, PostalAddress(ret.name, ret.lines, ret.postal_code, ret.city))

    def deliver(self, letter: Outgoing) -> Receipt:
        try:
            message = self.message(letter)
            xml = build_message(message)
        except MessageError as exc:
            raise PermanentError(exc.code, str(exc)) from None
        with _mapped():
            self.client.entry_point()  # cached; its failures never read as the send's
        if message.print_details is None:  # identify first: no PDF upload for a non-user
            with _mapped():
                identified = self.client.identify(message.recipient)
            if identified.result == "INVALID":
                reason = identified.reason or "UNKNOWN"
                raise PermanentError(
                    Code.DIGIPOST_INVALID_RECIPIENT, f"Digipost: invalid recipient ({reason})"
                )
            if not identified.is_digipost_user:
                return self._not_a_user(message, letter.pdf)
        try:
            with _mapped(sending=True):
                delivery = self.client.send(xml, [(message.document_uuid, letter.pdf)])
        except UncertainError:
            raise
        except RetriableError as exc:  # after the upload started: Digipost may have it
            raise UncertainError(exc.code, f"{exc} (Digipost may hold the letter)") from None
        except _Duplicate as exc:
            return self._reconcile(message, letter.pdf, exc.code.lower())
        except _Unanswered:
            return self._reconcile(message, letter.pdf, "timeout")
        except _UnknownRecipient:
            return self._not_a_user(message, letter.pdf)
        details: dict[str, Any] = {
            "delivery_method": delivery.delivery_method,
            "status": delivery.status,
            "message_id": message.message_id,
            "document_uuid": message.document_uuid,
            "delivery_time": delivery.delivery_time,
            "reconciled": False,
        }
        return Receipt(self.name, message.document_uuid, details)

    def _not_a_user(self, message: Message, pdf: bytes) -> Receipt:
        with _mapped():
            status = self.client.document_status(message.document_uuid)
        if status is not None:  # an earlier attempt got through: do not hand it on
            return self._receipt(message, pdf, status, after="not_digipost_user")
        raise PermanentError(
            Code.DIGIPOST_NOT_A_USER, "Digipost: the recipient has no Digipost account"
        )

    def _reconcile(self, message: Message, pdf: bytes, cause: str) -> Receipt:
        try:
            with _mapped():
                status = self.client.document_status(message.document_uuid)
        except RetriableError as exc:  # cannot ask now (a storm): it may still hold it
            raise UncertainError(
                exc.code, f"{exc} (asked after {cause}; Digipost may hold the letter)"
            ) from None
        if status is None:  # not (yet) there: send again later, never elsewhere
            raise UncertainError(
                Code.DIGIPOST_UNCERTAIN, f"Digipost does not hold the document after {cause}"
            )
        return self._receipt(message, pdf, status, after=cause)

    def _receipt(self, message: Message, pdf: bytes, status: DocumentStatus, after: str) -> Receipt:
        digest = hashlib.sha256(pdf).digest()
        ours = {base64.b64encode(digest).decode("ascii"), digest.hex()}
        details: dict[str, Any] = {
            "delivery_method": status.channel,
            "status": status.status,
            "message_id": message.message_id,
            "document_uuid": message.document_uuid,
            "delivery_time": status.delivered,
            "reconciled": True,
            "reconciled_after": after,
            "content_hash_matches": None
            if status.content_hash is None
            else status.content_hash in ours,
        }
        return Receipt(self.name, message.document_uuid, details)


class _Duplicate(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class _Unanswered(Exception):
    pass


class _UnknownRecipient(Exception):
    pass


@contextmanager
def _mapped(*, sending: bool = False) -> Iterator[None]:
    """Client failures as channel errors. While sending, the three outcomes the send
    resolves itself (duplicate, no answer, unknown recipient) come out as private
    exceptions; for any other call they are plain retriable errors."""
    try:
        yield
    except NoAnswer as exc:
        if sending:
            raise _Unanswered(str(exc)) from None
        raise RetriableError(Code.CHANNEL_TIMEOUT, f"Digipost: {exc}") from None
    except Unreachable as exc:
        raise RetriableError(Code.CHANNEL_CONNECTION, f"Digipost: {exc}") from None
    except EntryPointError as exc:  # unsigned: its code is a hint, never the letter's fate
        ours = exc.status in (401, 403) or (exc.code or "") in OUR_SIDE_CODES
        raise RetriableError(
            Code.CHANNEL_CONFIG if ours else Code.DIGIPOST_UNAVAILABLE, str(exc)
        ) from None
    except UntrustedResponse as exc:
        raise RetriableError(
            Code.DIGIPOST_BAD_ANSWER, f"Digipost response refused: {exc}"
        ) from None
    except ApiResponseError as exc:
        code = exc.code or ""
        if sending and code in DUPLICATE_CODES:
            raise _Duplicate(code) from None
        if sending and (exc.status == 404 or code == "UNKNOWN_RECIPIENT"):
            raise _UnknownRecipient(code) from None
        if exc.status == 404:  # identification or status: a path problem, not the letter
            raise RetriableError(Code.DIGIPOST_UNAVAILABLE, str(exc)) from None
        raise classify(exc) from None


def classify(exc: ApiResponseError) -> ChannelError:
    """What a (verified) non-success answer means for the letter. Digipost's own error code
    goes into the message; the error's code is one of the stable ones.

    >>> from channels.digipost.messages import ApiError
    >>> refused = classify(ApiResponseError(400, ApiError("CLIENT_DATA", "bad", "CLIENT_DATA")))
    >>> type(refused).__name__, refused.code, str(refused)
    ('PermanentError', <Code.DIGIPOST_REFUSED: 'digipost-refused'>, 'Digipost 400 CLIENT_DATA: bad')
    >>> classify(ApiResponseError(502, None)).code
    <Code.DIGIPOST_UNAVAILABLE: 'digipost-unavailable'>
    """
    code = exc.code or ""
    error_type = exc.error.type if exc.error else ""
    text = f"Digipost {exc.status} {code}: {exc.error.message if exc.error else ''}".strip()
    if exc.status >= 500 or exc.status == 429 or code in UNAVAILABLE_CODES:
        return RetriableError(Code.DIGIPOST_UNAVAILABLE, text)
    if exc.status in (401, 403) or code in OUR_SIDE_CODES:
        return RetriableError(Code.CHANNEL_CONFIG, text)
    if error_type == "CONFIGURATION":
        return RetriableError(Code.CHANNEL_CONFIG, text)
    if error_type == "SERVER":
        return RetriableError(Code.DIGIPOST_UNAVAILABLE, text)
    if 400 <= exc.status < 500:
        return PermanentError(Code.DIGIPOST_REFUSED, text)
    return RetriableError(Code.DIGIPOST_UNAVAILABLE, text)
