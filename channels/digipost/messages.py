"""Digipost v8 documents: the message we send and the answers we read.

Ids are derived from the letter id, so a re-sent letter carries the same message-id and
document uuid and Digipost refuses it as a duplicate instead of delivering it twice:

>>> message_id("00000000000000000042")
'letter-00000000000000000042'
>>> document_uuid("00000000000000000042") == document_uuid("00000000000000000042")
True
>>> document_uuid("00000000000000000042").islower()
True
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from lxml import etree

from channels.base import PaymentDetails, PostalAddress
from channels.digipost.xmlsafe import (
    DATATYPES_NS,
    NS,
    XmlError,
    child_text,
    default_ns,
    one_line,
    parse,
    q,
    required_text,
    serialize,
    sub,
)
from letters.clock import OSLO
from letters.codes import Code

MEDIA_TYPE = "application/vnd.digipost-v8+xml"
MULTIPART_TYPE = "multipart/vnd.digipost-v8+xml"
RELATION = "https://api.digipost.no/relations/"

#: Fixed namespace of our document uuids (uuid5 of the letter id). Never change it: the
#: uuids of letters already sent would no longer match.
_ID_NAMESPACE = uuid.UUID("c0e5a3ac-ccb4-4eca-b6d5-14418d855c46")

_PIN = re.compile(r"[0-9]{11}")
_ORG = re.compile(r"[0-9]{9}")
_ZIP = re.compile(r"[0-9]{4}")
_ACCOUNT = re.compile(r"[0-9]{11}")
_KID = re.compile(r"[0-9]{1,24}[0-9-]")
_COUNTRY = re.compile(r"[A-Z]{2}")


def message_id(letter_id: str) -> str:
    return f"letter-{letter_id}"


def document_uuid(letter_id: str) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, letter_id))


class MessageError(ValueError):
    """The letter cannot be expressed as a valid Digipost message; ``code`` says why
    (``digipost-invalid-recipient`` or ``digipost-invalid-message``), the message what."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code

    @classmethod
    def invalid(cls, message: str) -> MessageError:
        """The message cannot be valid (``digipost-invalid-message``)."""
        return cls(Code.DIGIPOST_INVALID_MESSAGE, message)


@dataclass(frozen=True)
class Recipient:
    """Who gets it: exactly one of a national id (11 digits) or an org number (9)."""

    national_id: str | None = None
    org_number: str | None = None

    def __post_init__(self) -> None:
        if (self.national_id is None) == (self.org_number is None):
            raise MessageError(
                Code.DIGIPOST_INVALID_RECIPIENT, "a national id or an org number is needed"
            )
        if self.national_id is not None and not _PIN.fullmatch(self.national_id):
            raise MessageError(Code.DIGIPOST_INVALID_RECIPIENT, "a national id is 11 digits")
        if self.org_number is not None and not _ORG.fullmatch(self.org_number):
            raise MessageError(Code.DIGIPOST_INVALID_RECIPIENT, "an org number is 9 digits")

    @property
    def element(self) -> tuple[str, str]:
        if self.national_id is not None:
            return "personal-identification-number", self.national_id
        assert self.org_number is not None
        return "organisation-number", self.org_number


@dataclass(frozen=True)
class PrintDetails:
    recipient: PostalAddress
    return_address: PostalAddress


@dataclass(frozen=True)
class Message:
    message_id: str
    document_uuid: str
    subject: str
    recipient: Recipient
    print_details: PrintDetails | None = None
    payment: PaymentDetails | None = None


# --- building ---------------------------------------------------------------------------


def build_message(message: Message) -> bytes:
    """The ``<message>`` part of ``POST /messages``, in the XSD's element order."""
    root = etree.Element(q("message"), nsmap=default_ns(NS))
    sub(root, "message-id", message.message_id)
    recipient = sub(root, "recipient")
    sub(recipient, *message.recipient.element)
    if message.print_details is not None:
        details = sub(recipient, "print-details")
        _print_recipient(sub(details, "recipient"), message.print_details.recipient)
        _print_recipient(sub(details, "return-address"), message.print_details.return_address)
    document = sub(root, "primary-document")
    sub(document, "uuid", message.document_uuid)
    subject = one_line(message.subject, 255)
    if not subject:
        raise MessageError.invalid("a Digipost document needs a subject")
    sub(document, "subject", subject)
    sub(document, "file-type", "pdf")
    sub(document, "authentication-level", "PASSWORD")
    sub(document, "sensitivity-level", "SENSITIVE")  # debt letters: hide sender/subject
    if message.payment is not None:
        _inkasso(sub(document, "data-type"), message.payment)
    return serialize(root)


def build_identification(recipient: Recipient) -> bytes:
    root = etree.Element(q("identification"), nsmap=default_ns(NS))
    sub(root, *recipient.element)
    return serialize(root)


def _checked(value: str, limit: int, what: str) -> str:
    text = one_line(value, limit + 1)
    if len(text) > limit:
        raise MessageError.invalid(f"print address: {what} is longer than {limit} characters")
    return text


def _print_recipient(parent: etree._Element, address: PostalAddress) -> None:
    name = _checked(address.name, 130, "the name")
    lines = [_checked(line, 100, "an address line") for line in address.lines]
    lines = [line for line in lines if line]
    if not name:
        raise MessageError.invalid("print address: the name is blank")
    sub(parent, "name", name)
    country = address.country.strip().upper()
    if country == "NO":
        if not _ZIP.fullmatch(address.postal_code.strip()):
            raise MessageError.invalid("print address: a Norwegian postal code is 4 digits")
        if len(lines) > 3:
            raise MessageError.invalid("print address: at most 3 Norwegian address lines")
        norwegian = sub(parent, "norwegian-address")
        for i, line in enumerate(lines, start=1):
            sub(norwegian, f"addressline{i}", line)
        sub(norwegian, "zip-code", address.postal_code.strip())
        city = _checked(address.city, 80, "the city")
        if not city:
            raise MessageError.invalid("print address: the city is blank")
        sub(norwegian, "city", city)
        return
    if not _COUNTRY.fullmatch(country):
        raise MessageError.invalid("print address: the country is not ISO 3166-1 alpha-2")
    place = _checked(f"{address.postal_code} {address.city}", 100, "postal code and city")
    lines = [*lines, place] if place else lines
    if not 1 <= len(lines) <= 4:
        raise MessageError.invalid("print address: a foreign address has 1 to 4 lines")
    foreign = sub(parent, "foreign-address")
    for i, line in enumerate(lines, start=1):
        sub(foreign, f"addressline{i}", line)
    sub(foreign, "country-code", country)


def due_date_text(day: dt.date) -> str:
    """The inkasso due-date: midnight in Oslo as an ISO date-time (a ZonedDateTime in the
    Java data-types library).

    >>> due_date_text(dt.date(2026, 12, 11))
    '2026-12-11T00:00:00+01:00'
    """
    return dt.datetime.combine(day, dt.time(0), tzinfo=OSLO).isoformat()


def _inkasso(parent: etree._Element, payment: PaymentDetails) -> None:
    if not payment.amount.is_finite() or payment.amount < 0:
        raise MessageError.invalid("payment: the amount is not a non-negative number")
    if not _ACCOUNT.fullmatch(payment.account):
        raise MessageError.invalid("payment: the account number is not 11 digits")
    if not _KID.fullmatch(payment.kid):
        raise MessageError.invalid("payment: the KID is not 2-25 digits")
    inkasso = etree.SubElement(parent, q("inkasso", DATATYPES_NS), nsmap=default_ns(DATATYPES_NS))
    sub(inkasso, "due-date", due_date_text(payment.due_date), DATATYPES_NS)
    sub(inkasso, "sum", format(payment.amount, "f"), DATATYPES_NS)
    sub(inkasso, "account", payment.account, DATATYPES_NS)
    sub(inkasso, "kid", payment.kid, DATATYPES_NS)


# --- reading ------------------------------------------------------------------------------


def parse_message(data: bytes) -> Message:
    """Read back a ``<message>`` as built by :func:`build_message` (tests, the contract
    server). Raises :class:`XmlError` for anything else."""
    root = parse(data, "message")
    recipient_el = _find(root, "recipient")
    pin = child_text(recipient_el, "personal-identification-number")
    org = child_text(recipient_el, "organisation-number")
    try:
        recipient = Recipient(national_id=pin, org_number=org)
    except MessageError as exc:
        raise XmlError(str(exc)) from None
    details = recipient_el.find(q("print-details"))
    print_details = None
    if details is not None:
        print_details = PrintDetails(
            _read_print_recipient(_find(details, "recipient")),
            _read_print_recipient(_find(details, "return-address")),
        )
    document = _find(root, "primary-document")
    inkasso = document.find(f"{q('data-type')}/{q('inkasso', DATATYPES_NS)}")
    return Message(
        message_id=required_text(root, "message-id"),
        document_uuid=required_text(document, "uuid"),
        subject=child_text(document, "subject") or "",
        recipient=recipient,
        print_details=print_details,
        payment=None if inkasso is None else _read_inkasso(inkasso),
    )


def _find(parent: etree._Element, name: str) -> etree._Element:
    found = parent.find(q(name))
    if found is None:
        raise XmlError(f"<{etree.QName(parent).localname}> has no <{name}>")
    return found


def _read_print_recipient(element: etree._Element) -> PostalAddress:
    name = required_text(element, "name")
    norwegian = element.find(q("norwegian-address"))
    if norwegian is not None:
        lines = tuple(text for i in (1, 2, 3) if (text := child_text(norwegian, f"addressline{i}")))
        return PostalAddress(
            name, lines, required_text(norwegian, "zip-code"), required_text(norwegian, "city")
        )
    foreign = _find(element, "foreign-address")
    lines = tuple(text for i in (1, 2, 3, 4) if (text := child_text(foreign, f"addressline{i}")))
    country = child_text(foreign, "country-code") or child_text(foreign, "country") or ""
    return PostalAddress(name, lines, "", "", country)


def _read_inkasso(element: etree._Element) -> PaymentDetails:
    due = required_text(element, "due-date", DATATYPES_NS)
    try:
        due_date = dt.datetime.fromisoformat(due).date()
        amount = Decimal(child_text(element, "sum", DATATYPES_NS) or "")
    except (ValueError, InvalidOperation):
        raise XmlError("the inkasso due-date or sum is malformed") from None
    return PaymentDetails(
        due_date=due_date,
        amount=amount,
        account=child_text(element, "account", DATATYPES_NS) or "",
        kid=child_text(element, "kid", DATATYPES_NS) or "",
    )


@dataclass(frozen=True)
class MessageDelivery:
    message_id: str | None
    delivery_method: str
    sender_id: str
    status: str
    delivery_time: str | None
    document_uuid: str | None
    content_hash: str | None


def parse_message_delivery(data: bytes) -> MessageDelivery:
    root = parse(data, "message-delivery")
    document = _find(root, "primary-document")
    return MessageDelivery(
        message_id=child_text(root, "message-id"),
        delivery_method=required_text(root, "delivery-method"),
        sender_id=required_text(root, "sender-id"),
        status=required_text(root, "status"),
        delivery_time=child_text(root, "delivery-time"),
        document_uuid=child_text(document, "uuid"),
        content_hash=child_text(document, "content-hash"),
    )


@dataclass(frozen=True)
class ApiError:
    code: str
    message: str
    type: str


def parse_error(data: bytes) -> ApiError:
    root = parse(data, "error")
    return ApiError(
        code=required_text(root, "error-code"),
        message=one_line(required_text(root, "error-message"), 300),
        type=required_text(root, "error-type"),
    )


@dataclass(frozen=True)
class IdentificationResult:
    result: str  # DIGIPOST, IDENTIFIED, UNIDENTIFIED or INVALID
    reason: str | None = None

    @property
    def is_digipost_user(self) -> bool:
        return self.result == "DIGIPOST"


def parse_identification_result(data: bytes) -> IdentificationResult:
    root = parse(data, "identification-result")
    reason = child_text(root, "unidentified-reason") or child_text(root, "invalid-reason")
    return IdentificationResult(required_text(root, "result"), reason)


@dataclass(frozen=True)
class DocumentStatus:
    uuid: str
    status: str  # DELIVERED or NOT_DELIVERED
    channel: str | None
    created: str | None
    delivered: str | None
    content_hash: str | None
    content_hash_algorithm: str | None


def parse_document_status(data: bytes) -> DocumentStatus:
    root = parse(data, "document-status")
    document_id = root.get("uuid")
    status = root.get("status")
    if not document_id or not status:
        raise XmlError("<document-status> needs uuid and status")
    return DocumentStatus(
        uuid=document_id,
        status=status,
        channel=root.get("channel"),
        created=root.get("created"),
        delivered=root.get("delivered"),
        content_hash=root.get("content-hash"),
        content_hash_algorithm=root.get("content-hash-algorithm"),
    )


@dataclass(frozen=True)
class EntryPoint:
    certificate: str | None
    links: dict[str, str]  # relation name (without the relations/ prefix) → uri


def parse_entry_point(data: bytes) -> EntryPoint:
    root = parse(data, "entrypoint")
    links: dict[str, str] = {}
    for link in root.iterfind(q("link")):
        rel, uri = link.get("rel") or "", link.get("uri")
        if rel.startswith(RELATION) and uri:
            links[rel.removeprefix(RELATION)] = uri
    return EntryPoint(child_text(root, "certificate"), links)
