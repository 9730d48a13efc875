"""The Digipost channel against the contract server in tests/digipost_server.py."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import assume, given
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError

from channels.base import (
    Outgoing,
    PaymentDetails,
    PermanentError,
    PostalAddress,
    RetriableError,
    UncertainError,
)
from channels.digipost import (
    DigipostChannel,
    DigipostClient,
    DigipostSettings,
    RequestSigner,
    ReturnAddress,
    messages,
    xmlsafe,
)
from channels.digipost import (
    channel as channel_module,
)
from channels.digipost.client import ApiResponseError
from channels.digipost.messages import (
    Message,
    MessageError,
    PrintDetails,
    Recipient,
    build_message,
    document_uuid,
    message_id,
    parse_message,
)
from letters.codes import Code
from tests.digipost_keys import SENDER_ID, Keys, contract_server, rsa_key
from tests.digipost_server import API_XSD, DigipostServer, load_schema

USER_PIN = "01017012345"
NON_USER_PIN = "02027012345"
USER_ORG = "987654321"
RETURN = ReturnAddress(name="Inkasso AS", lines=("Postboks 1",), postal_code="0101", city="Oslo")


# --- fixtures (the keys are conftest's, from tests/digipost_keys.py) --------------------


@pytest.fixture
def server() -> Iterator[DigipostServer]:
    with contract_server({USER_PIN, USER_ORG}, schema=load_schema()) as running:
        yield running
    assert running.problems == []


MakeChannel = Callable[..., DigipostChannel]


@pytest.fixture
def make_channel(server: DigipostServer, keys: Keys) -> Iterator[MakeChannel]:
    made: list[DigipostChannel] = []

    def make(*, authenticator: Any = None, **overrides: Any) -> DigipostChannel:
        values: dict[str, Any] = {
            "base_url": server.url,
            "sender_id": SENDER_ID,
            "key_path": keys.sender_pem,
            "timeout_seconds": 1.5,
        }
        values.update(overrides)
        settings = DigipostSettings(**values)
        client = DigipostClient(settings, authenticator=authenticator)
        made.append(DigipostChannel(settings, client))
        return made[-1]

    yield make
    for channel in made:
        channel.close()


def pdf_bytes() -> bytes:
    return b"%PDF-1.7\n" + secrets.token_bytes(2048) + b"\n%%EOF\n"


def letter(
    number: int = 1,
    *,
    national_id: str | None = USER_PIN,
    org_number: str | None = None,
    name: str = "Kari Nordmann",
    address: PostalAddress | None = None,
    payment: PaymentDetails | None = None,
    subject: str = "Inkassovarsel",
) -> Outgoing:
    return Outgoing(
        letter_id=f"{number:020d}",
        job_id="job-1",
        reference=f"SAK-{number}",
        recipient_name=name,
        pdf=pdf_bytes(),
        subject=subject,
        address=address
        or PostalAddress(name, ("Storgata 1", "Leilighet H0101"), "0155", "Oslo", "NO"),
        national_id=national_id,
        org_number=org_number,
        payment=payment
        or PaymentDetails(dt.date(2026, 12, 11), Decimal("1234.50"), "12345678903", "0012345678"),
    )


# --- the canonical strings and signing --------------------------------------------------


def test_a_signed_request_verifies_with_the_public_key() -> None:
    moment = dt.datetime(2011, 6, 29, 14, 58, 11, tzinfo=dt.UTC)
    signer = RequestSigner(SENDER_ID, rsa_key("sender"), clock=lambda: moment)
    body = b"<identification/>"
    request = httpx.Request("POST", "https://api.digipost.no/Identification?Q=1", content=body)
    signer.sign(request)
    assert request.headers["Date"] == "Wed, 29 Jun 2011 14:58:11 GMT"
    assert request.headers["X-Digipost-UserId"] == str(SENDER_ID)
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert request.headers["X-Content-SHA256"] == digest
    expected = (
        "POST\n/identification\ndate: Wed, 29 Jun 2011 14:58:11 GMT\n"
        f"x-content-sha256: {digest}\nx-digipost-userid: {SENDER_ID}\nq=1\n"
    )
    rsa_key("sender").public_key().verify(
        base64.b64decode(request.headers["X-Digipost-Signature"]),
        expected.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    empty = httpx.Request("GET", "https://api.digipost.no/")
    signer.sign(empty)
    assert "X-Content-SHA256" not in empty.headers


# --- delivery ---------------------------------------------------------------------------


def test_a_digipost_user_gets_it_in_the_mailbox_with_the_inkasso_data(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    outgoing = letter(7)
    receipt = make_channel().deliver(outgoing)

    uuid = document_uuid(outgoing.letter_id)
    assert receipt.channel == "digipost"
    assert receipt.external_id == uuid == uuid.lower()
    assert receipt.details["delivery_method"] == "DIGIPOST"
    assert receipt.details["status"] == "DELIVERED"
    assert receipt.details["reconciled"] is False
    stored = server.message(message_id(outgoing.letter_id))
    assert stored.uuid == uuid
    assert stored.pdf_sha256 == hashlib.sha256(outgoing.pdf).hexdigest()
    assert stored.find("//d:recipient/d:personal-identification-number") == USER_PIN
    assert stored.find("//d:primary-document/d:sensitivity-level") == "SENSITIVE"
    assert stored.find("//d:primary-document/d:authentication-level") == "PASSWORD"
    assert stored.find("//d:primary-document/d:subject") == "Inkassovarsel"
    assert stored.find("//d:print-details") is None  # print_fallback="own"
    inkasso = "//d:data-type/t:inkasso/t:"
    assert stored.find(inkasso + "due-date") == "2026-12-11T00:00:00+01:00"
    assert stored.find(inkasso + "sum") == "1234.50"
    assert stored.find(inkasso + "account") == "12345678903"
    assert stored.find(inkasso + "kid") == "0012345678"
    assert [(m, p) for m, p, _ in server.requests] == [
        ("GET", "/"),
        ("POST", "/identification"),
        ("POST", "/messages"),
    ]


def test_an_organisation_is_addressed_by_org_number(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    receipt = make_channel().deliver(letter(8, national_id=None, org_number=USER_ORG))
    assert receipt.details["delivery_method"] == "DIGIPOST"
    assert server.stored[0].find("//d:recipient/d:organisation-number") == USER_ORG


def test_a_non_user_is_handed_on_without_uploading_the_pdf(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    with pytest.raises(PermanentError) as caught:
        make_channel().deliver(letter(9, national_id=NON_USER_PIN))
    assert caught.value.code == Code.DIGIPOST_NOT_A_USER == "digipost-not-a-user"
    assert server.stored == []
    assert server.count("POST", "/messages") == 0  # identified first
    assert server.count("GET", "/documents/") == 1  # made sure no earlier try got through


def test_a_refused_send_for_a_non_user_is_not_digipost_user_too(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    """The account closes between identification and sending: 404 UNKNOWN_RECIPIENT."""
    channel = make_channel()
    server.stale_identification.add(NON_USER_PIN)
    with pytest.raises(PermanentError) as caught:
        channel.deliver(letter(10, national_id=NON_USER_PIN))
    assert caught.value.code == Code.DIGIPOST_NOT_A_USER
    assert (server.requests[-2][1:], server.stored) == (("/messages", 404), [])


def test_with_digipost_print_fallback_a_non_user_gets_it_printed(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel(print_fallback="digipost", return_address=RETURN)
    receipt = channel.deliver(letter(11, national_id=NON_USER_PIN, name="Ola Nordmann"))
    assert receipt.details["delivery_method"] == "PRINT"
    assert receipt.details["status"] == "DELIVERED_TO_PRINT"
    assert server.count("POST", "/identification") == 0  # Digipost decides
    stored = server.stored[0]
    base = "//d:print-details/d:recipient/"
    assert stored.find(base + "d:name") == "Ola Nordmann"
    assert stored.find(base + "d:norwegian-address/d:addressline2") == "Leilighet H0101"
    assert stored.find(base + "d:norwegian-address/d:zip-code") == "0155"
    assert stored.find("//d:print-details/d:return-address/d:name") == "Inkasso AS"


def test_a_foreign_address_goes_with_its_country_code(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel(print_fallback="digipost", return_address=RETURN)
    abroad = PostalAddress("Karin Svensson", ("Drottninggatan 1",), "111 51", "Stockholm", "SE")
    channel.deliver(letter(12, national_id=NON_USER_PIN, address=abroad))
    foreign = "//d:print-details/d:recipient/d:foreign-address/"
    assert server.stored[0].find(foreign + "d:addressline2") == "111 51 Stockholm"
    assert server.stored[0].find(foreign + "d:country-code") == "SE"


def test_a_user_with_digipost_print_fallback_still_gets_it_digitally(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel(print_fallback="digipost", return_address=RETURN)
    assert channel.deliver(letter(13)).details["delivery_method"] == "DIGIPOST"


def test_an_invalid_national_id_is_refused_before_any_request(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    with pytest.raises(PermanentError) as caught:
        make_channel().deliver(letter(14, national_id="123"))
    assert caught.value.code == Code.DIGIPOST_INVALID_RECIPIENT
    assert "11 digits" in str(caught.value)
    assert server.requests == []


# --- our requests refused ---------------------------------------------------------------


class TamperedBody:
    """Signs one body and lets another go: what a change in transit looks like."""

    def __init__(self, inner: RequestSigner) -> None:
        self.inner = inner

    def sign(self, request: httpx.Request) -> None:
        twin = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.read() + b" "
        )
        self.inner.sign(twin)
        for name in ("Date", "X-Digipost-UserId", "X-Content-SHA256", "X-Digipost-Signature"):
            request.headers[name] = twin.headers[name]


@pytest.mark.parametrize(
    ("authenticator", "code"),
    [
        (lambda: RequestSigner(SENDER_ID, rsa_key("other")), "INVALID_SIGNATURE"),
        (lambda: RequestSigner(4711, rsa_key("sender")), "MISSING_CERTIFICATE"),
        (lambda: TamperedBody(RequestSigner(SENDER_ID, rsa_key("sender"))), "INVALID_SHA256"),
        (
            lambda: RequestSigner(
                SENDER_ID,
                rsa_key("sender"),
                clock=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(minutes=6),
            ),
            "DATE_HEADER_OUTSIDE_ACCEPTED_INTERVAL",
        ),
    ],
    ids=["wrong-key", "unknown-sender", "tampered-body", "skewed-date"],
)
def test_the_server_refuses_a_badly_signed_request(
    server: DigipostServer,
    make_channel: MakeChannel,
    authenticator: Callable[[], Any],
    code: str,
) -> None:
    with pytest.raises(RetriableError) as caught:  # our installation, not the letter
        make_channel(authenticator=authenticator()).deliver(letter(20))
    assert caught.value.code == Code.CHANNEL_CONFIG
    assert code in str(caught.value)  # Digipost's own code, for the operator
    assert server.requests[-1][2] in (400, 403)
    assert server.stored == []


def test_the_wrong_key_file_is_refused_with_403(
    server: DigipostServer, make_channel: MakeChannel, keys: Keys
) -> None:
    with pytest.raises(RetriableError) as caught:
        make_channel(key_path=keys.other_pem).deliver(letter(21))
    assert (caught.value.code, server.requests[-1][2]) == (Code.CHANNEL_CONFIG, 403)
    assert "INVALID_SIGNATURE" in str(caught.value)


def test_a_pkcs12_key_with_a_password_works(
    server: DigipostServer, make_channel: MakeChannel, keys: Keys
) -> None:
    channel = make_channel(key_path=keys.sender_p12, key_password=keys.p12_password)
    assert channel.deliver(letter(22)).details["status"] == "DELIVERED"
    assert keys.p12_password.get_secret_value() not in repr(channel.settings)


# --- server answers refused -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bad_signature", "tamper"])
def test_an_answer_that_does_not_verify_is_not_trusted(
    server: DigipostServer, make_channel: MakeChannel, kind: str
) -> None:
    server.fault(kind, path="/identification")
    with pytest.raises(RetriableError) as caught:
        make_channel().deliver(letter(30))
    assert caught.value.code == Code.DIGIPOST_BAD_ANSWER
    assert server.stored == []


def test_the_entry_point_needs_date_and_hash_but_not_a_signature(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    """As the Java client: GET / is fetched without the signature check (it brings the
    certificate), but its body must match X-Content-SHA256."""
    server.fault("bad_signature", method="GET", path="/")
    assert make_channel().deliver(letter(35)).details["status"] == "DELIVERED"
    server.fault("tamper", method="GET", path="/")
    with pytest.raises(RetriableError) as caught:
        make_channel().deliver(letter(36))
    assert caught.value.code == Code.DIGIPOST_BAD_ANSWER


def test_an_answer_with_a_skewed_date_is_not_trusted(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    server.response_clock_offset = dt.timedelta(minutes=-6)
    with pytest.raises(RetriableError) as caught:
        make_channel().deliver(letter(31))
    assert caught.value.code == Code.DIGIPOST_BAD_ANSWER


def test_an_unverified_send_answer_is_not_trusted_and_the_retry_reconciles(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    outgoing = letter(32)
    server.fault("bad_signature", path="/messages")
    with pytest.raises(RetriableError) as caught:
        channel.deliver(outgoing)
    assert isinstance(caught.value, UncertainError)
    assert caught.value.code == Code.DIGIPOST_BAD_ANSWER
    receipt = channel.deliver(outgoing)
    assert receipt.details["reconciled"] is True
    assert len(server.stored) == 1


def test_a_pinned_certificate_that_is_not_the_servers_refuses_everything(
    server: DigipostServer, make_channel: MakeChannel, keys: Keys
) -> None:
    with pytest.raises(RetriableError) as caught:
        make_channel(server_certificate_path=keys.rogue_cert).deliver(letter(33))
    assert caught.value.code == Code.DIGIPOST_BAD_ANSWER


def test_entry_point_links_to_another_host_are_not_followed(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    server.link_base = "http://127.0.0.2:9"
    with pytest.raises(RetriableError) as caught:
        make_channel().deliver(letter(34))
    assert caught.value.code == Code.DIGIPOST_BAD_ANSWER
    assert server.count("POST", "/") == 0


# --- outages, timeouts and duplicates ---------------------------------------------------


def test_503_is_retriable_and_the_next_try_delivers(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    outgoing = letter(40)
    server.fault("fail", status=503, path="/messages")
    with pytest.raises(RetriableError) as caught:
        channel.deliver(outgoing)
    assert isinstance(caught.value, UncertainError)  # after the upload: it may be there
    assert caught.value.code == Code.DIGIPOST_UNAVAILABLE
    assert str(caught.value).startswith("Digipost 503")
    assert channel.deliver(outgoing).details["reconciled"] is False
    assert len(server.stored) == 1


def test_500_is_retriable(server: DigipostServer, make_channel: MakeChannel) -> None:
    server.fault("fail", status=500)
    with pytest.raises(RetriableError):
        make_channel().deliver(letter(41))


def test_an_unreachable_server_is_retriable(make_channel: MakeChannel) -> None:
    with pytest.raises(RetriableError) as caught:
        make_channel(base_url="http://127.0.0.1:9").deliver(letter(42))
    assert caught.value.code == Code.CHANNEL_CONNECTION


def test_a_lost_answer_is_reconciled_at_once(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    outgoing = letter(43)
    server.fault("drop", path="/messages", seconds=3.0)
    receipt = make_channel().deliver(outgoing)
    assert receipt.external_id == document_uuid(outgoing.letter_id)
    assert receipt.details["reconciled"] is True
    assert receipt.details["reconciled_after"] == "timeout"
    assert receipt.details["delivery_method"] == "DIGIPOST"
    assert receipt.details["content_hash_matches"] is True
    assert len(server.stored) == 1


def test_a_timeout_after_the_server_stored_it_is_reconciled_on_the_next_delivery(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    outgoing = letter(44)
    server.fault("drop", path="/messages", seconds=3.0)
    server.fault("delay", path="/documents/", seconds=3.0)  # the status check times out too
    with pytest.raises(RetriableError) as caught:
        channel.deliver(outgoing)
    assert caught.value.code == Code.CHANNEL_TIMEOUT
    # Digipost holds it and could not be asked: uncertain, so never sent elsewhere
    assert isinstance(caught.value, UncertainError)

    receipt = channel.deliver(outgoing)
    assert receipt.details["reconciled"] is True
    assert receipt.details["reconciled_after"] == "duplicate_message"
    assert receipt.details["status"] == "DELIVERED"
    assert len(server.stored) == 1
    assert server.stored[0].pdf_sha256 == hashlib.sha256(outgoing.pdf).hexdigest()
    assert server.count("POST", "/messages") == 2  # the second refused as a duplicate


def test_a_timeout_before_the_server_stored_it_is_retried_with_the_same_ids(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    outgoing = letter(45)
    server.fault("hang", path="/messages", seconds=2.5)
    with pytest.raises(RetriableError) as caught:
        channel.deliver(outgoing)
    assert isinstance(caught.value, UncertainError)  # never sent elsewhere on this
    assert caught.value.code == Code.DIGIPOST_UNCERTAIN
    assert str(caught.value) == "Digipost does not hold the document after timeout"
    assert server.stored == []
    receipt = channel.deliver(outgoing)
    assert receipt.details["reconciled"] is False
    assert server.message(message_id(outgoing.letter_id)).uuid == receipt.external_id


def test_delivering_the_same_letter_twice_is_reconciled_not_duplicated(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    outgoing = letter(46)
    first = channel.deliver(outgoing)
    second = channel.deliver(outgoing)
    assert second.external_id == first.external_id
    assert second.details["reconciled"] is True
    assert second.details["reconciled_after"] == "duplicate_message"
    assert len(server.stored) == 1


def test_a_reused_document_uuid_is_reconciled_by_uuid(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    outgoing = letter(47)
    other_id = Message(
        "some-other-message-id",
        document_uuid(outgoing.letter_id),
        "Inkassovarsel",
        Recipient(national_id=USER_PIN),
    )
    channel.client.send(build_message(other_id), [(other_id.document_uuid, outgoing.pdf)])
    receipt = channel.deliver(outgoing)
    assert receipt.details["reconciled_after"] == "duplicate_document_id"
    assert len(server.stored) == 1


def test_a_duplicate_message_id_without_our_document_is_retried_not_trusted(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel()
    outgoing = letter(48)
    squatter = Message(
        message_id(outgoing.letter_id),
        "00000000-0000-4000-8000-000000000000",
        "Something else",
        Recipient(national_id=USER_PIN),
    )
    channel.client.send(build_message(squatter), [(squatter.document_uuid, pdf_bytes())])
    with pytest.raises(RetriableError) as caught:
        channel.deliver(outgoing)
    assert isinstance(caught.value, UncertainError)
    assert caught.value.code == Code.DIGIPOST_UNCERTAIN
    assert "after duplicate_message" in str(caught.value)


# --- the server is strict too -----------------------------------------------------------


def raw_post(server: DigipostServer, body: bytes, content_type: str) -> tuple[int, str]:
    request = httpx.Request(
        "POST",
        server.url + "/messages",
        content=body,
        headers={"Content-Type": content_type, "Accept": messages.MEDIA_TYPE},
    )
    RequestSigner(SENDER_ID, rsa_key("sender")).sign(request)
    with httpx.Client() as client:
        response = client.send(request)
    return response.status_code, messages.parse_error(response.content).code


def test_the_server_parses_the_multipart_exactly(server: DigipostServer) -> None:
    uuid = document_uuid("x")
    xml = build_message(Message("m-1", uuid, "S", Recipient(national_id=USER_PIN)))
    kind = messages.MULTIPART_TYPE + "; boundary=b0undary"

    def part(headers: str, content: bytes) -> bytes:
        return b"--b0undary\r\n" + headers.encode() + b"\r\n\r\n" + content + b"\r\n"

    disposition = 'Content-Disposition: attachment; filename="message"'
    message_part = part(f"Content-Type: {messages.MEDIA_TYPE}\r\n{disposition}", xml)
    end = b"--b0undary--\r\n"
    no_disposition = part("Content-Type: application/pdf", b"%PDF-1.4")
    no_filename = part("Content-Type: application/pdf\r\nContent-Disposition: attachment", b"%PDF")
    wrong_name = part(
        'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="other"',
        b"%PDF-1.4",
    )
    not_pdf = part(
        f'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="{uuid}"',
        b"GIF89a",
    )
    assert raw_post(server, message_part + no_disposition + end, kind) == (
        400,
        "MISSING_BODYPART_CONTENT_DISPOSITION",
    )
    assert raw_post(server, message_part + no_filename + end, kind) == (
        400,
        "MISSING_BODYPART_FILENAME",
    )
    assert raw_post(server, message_part + wrong_name + end, kind) == (
        400,
        "DOCUMENTS_AND_FILES_MISMATCH",
    )
    assert raw_post(server, message_part + end, kind) == (400, "DOCUMENTS_AND_FILES_MISMATCH")
    assert raw_post(server, message_part + not_pdf + end, kind) == (400, "INVALID_PDF_CONTENT")
    assert server.stored == []


def test_the_server_refuses_xsd_invalid_xml_and_the_channel_gives_up(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    if server.schema is None:
        pytest.skip(f"no Digipost XSD at {API_XSD}: the server cannot validate")
    channel = make_channel()
    upper = "ABCDEF00-0000-4000-8000-000000000000"  # the XSD takes lower-case uuids only
    bad = build_message(Message("m-2", upper, "S", Recipient(national_id=USER_PIN)))
    with pytest.raises(ApiResponseError) as caught:
        channel.client.send(bad, [(upper, pdf_bytes())])
    assert caught.value.status == 400
    error = channel_module.classify(caught.value)
    assert isinstance(error, PermanentError) and error.code == Code.DIGIPOST_REFUSED
    assert str(error).startswith("Digipost 400 GENERAL_ERROR")


# --- the message XML --------------------------------------------------------------------

HOSTILE = 'Ærlig "<Ola>" & O\'Brien ]]> <!-- 𝔘nicode ✓ -->'


def sample_message(name: str = HOSTILE, lines: tuple[str, ...] = ("Gate <1> & co",)) -> Message:
    return Message(
        message_id("00000000000000000099"),
        document_uuid("00000000000000000099"),
        f"Inkassovarsel til {name}",
        Recipient(national_id=USER_PIN),
        PrintDetails(
            PostalAddress(name, lines, "0155", "Oslo & omegn"),
            PostalAddress("Inkasso <AS>", (), "0101", "Oslo"),
        ),
        PaymentDetails(dt.date(2027, 3, 31), Decimal("0.10"), "12345678903", "1" * 25),
    )


def test_the_message_validates_against_the_digipost_xsd() -> None:
    schema = load_schema()
    if schema is None:
        pytest.skip(f"no Digipost XSD at {API_XSD} (../shared is not here)")
    document = etree.fromstring(build_message(sample_message()))
    assert schema.validate(document), schema.error_log
    uuid = document.find(".//{http://api.digipost.no/schema/v8}uuid")
    assert uuid is not None
    uuid.text = (uuid.text or "").upper()  # the XSD takes lower-case uuids only
    assert not schema.validate(document)


def test_hostile_names_round_trip_through_a_real_delivery(
    server: DigipostServer, make_channel: MakeChannel
) -> None:
    channel = make_channel(print_fallback="digipost", return_address=RETURN)
    address = PostalAddress(HOSTILE, ("Gate <1> & co",), "0155", "Oslo")
    channel.deliver(letter(60, national_id=NON_USER_PIN, name=HOSTILE, address=address))
    read = parse_message(server.stored[0].xml)
    assert read.print_details is not None
    assert read.print_details.recipient.name == HOSTILE
    assert read.print_details.recipient.lines == ("Gate <1> & co",)


def test_the_xml_parser_refuses_entities() -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE error [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<error xmlns="http://api.digipost.no/schema/v8"><error-code>&x;</error-code>'
        b"<error-message>m</error-message><error-type>SERVER</error-type></error>"
    )
    with pytest.raises(xmlsafe.XmlError):
        messages.parse_error(evil)


def test_an_address_that_does_not_fit_is_refused() -> None:
    message = sample_message(lines=("a", "b", "c", "d"))
    with pytest.raises(MessageError) as caught:
        build_message(message)
    assert caught.value.code == Code.DIGIPOST_INVALID_MESSAGE
    assert str(caught.value) == "print address: at most 3 Norwegian address lines"


line = st.text(min_size=1, max_size=60)


@given(name=line, lines=st.lists(line, max_size=3), city=line)
def test_any_text_round_trips_through_the_xml(name: str, lines: list[str], city: str) -> None:
    clean = xmlsafe.one_line
    assume(clean(name, 130) and clean(city, 80))
    message = Message(
        "m",
        document_uuid(name),
        name,
        Recipient(national_id=USER_PIN),
        PrintDetails(
            PostalAddress(name, tuple(lines), "0155", city), PostalAddress("R", (), "0101", "O")
        ),
    )
    data = build_message(message)
    read = parse_message(data)
    assert read.subject == clean(name, 255)
    assert read.print_details is not None
    recipient = read.print_details.recipient
    assert recipient.name == clean(name, 130)
    assert recipient.lines == tuple(clean(x, 100) for x in lines if clean(x, 100))
    assert recipient.city == clean(city, 80)
    schema = load_schema()
    if schema is not None:  # the one check that needs ../shared
        assert schema.validate(etree.fromstring(data)), schema.error_log


@given(
    amount=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    kid=st.from_regex(r"[0-9]{2,25}", fullmatch=True),
    day=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
)
def test_payment_details_round_trip(amount: Decimal, kid: str, day: dt.date) -> None:
    payment = PaymentDetails(day, amount, "12345678903", kid)
    message = Message("m", document_uuid(kid), "S", Recipient(org_number=USER_ORG), None, payment)
    assert parse_message(build_message(message)).payment == payment


# --- settings ---------------------------------------------------------------------------


def test_settings_refuse_plain_http_except_on_loopback(keys: Keys) -> None:
    common: dict[str, Any] = {"sender_id": "779051", "key_path": keys.sender_pem}
    assert DigipostSettings(base_url="http://127.0.0.1:8080/", **common).sender_id == SENDER_ID
    with pytest.raises(ValidationError):
        DigipostSettings(base_url="http://api.digipost.no", **common)
    with pytest.raises(ValidationError):
        DigipostSettings(base_url="https://api.digipost.no", print_fallback="digipost", **common)
    assert not DigipostSettings().configured
