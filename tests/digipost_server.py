"""A Digipost API v8 contract server for tests: a real HTTP server on 127.0.0.1.

As strict as the real API is documented to be (../shared/domain/digipost.md): every request
must carry X-Digipost-UserId, a Date within ±5 minutes, X-Content-SHA256 over the body and a
SHA256withRSA signature by the sender's key over the canonical string, which this module
builds on its own (not with the client's code, so a shared mistake cannot hide). The
multipart of ``POST /messages`` is parsed exactly; the message XML is validated against
``api_v8.xsd`` when ../shared is there; reused message-ids and document uuids are refused.
Every response, the entry point included, is signed with the server's own key, whose
self-signed certificate the entry point publishes.

Tests configure it: ``users`` (national ids / org numbers with a Digipost account), and
faults for the next matching requests (:meth:`DigipostServer.fault`): ``fail`` (answer with
a status, 503 by default), ``delay`` (wait, then answer), ``hang`` (wait, then drop the
request unprocessed), ``drop`` (process and store, then wait and lose the answer),
``tamper`` (alter the body after signing), ``bad_signature`` (sign with another key);
:meth:`DigipostServer.calm` drops the faults still pending (a storm's end).
What it stored is in :attr:`DigipostServer.stored`; every request in
:attr:`DigipostServer.requests`; its own failures in :attr:`DigipostServer.problems`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import threading
from dataclasses import dataclass, field
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

NS = "http://api.digipost.no/schema/v8"
DT_NS = "http://api.digipost.no/schema/datatypes"
MEDIA_TYPE = "application/vnd.digipost-v8+xml"
MULTIPART_TYPE = "multipart/vnd.digipost-v8+xml"
RELATIONS = "https://api.digipost.no/relations/"
MAX_SKEW = dt.timedelta(minutes=5)

HERE = Path(__file__).resolve().parent
#: ../shared seen from the repository root (read-only; may be absent).
API_XSD = HERE.parent.parent / "shared" / "digipost" / "api_v8.xsd"
DATATYPES_XSD = HERE / "digipost_datatypes.xsd"


def load_schema() -> etree.XMLSchema | None:
    """api_v8.xsd with our inkasso transcription for its strict data-type wildcard, or
    ``None`` when the shared schema is not there."""
    return _schema(API_XSD)


@lru_cache(maxsize=4)
def _schema(api_xsd: Path) -> etree.XMLSchema | None:
    if not api_xsd.is_file():
        return None
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        f'<xs:import namespace="{NS}" schemaLocation="{api_xsd.as_uri()}"/>'
        f'<xs:import namespace="{DT_NS}" schemaLocation="{DATATYPES_XSD.as_uri()}"/>'
        "</xs:schema>"
    )
    return etree.XMLSchema(etree.fromstring(wrapper.encode("utf-8")))


def make_certificate(key: rsa.RSAPrivateKey, name: str = "Digipost contract server") -> bytes:
    """A self-signed X.509 certificate (PEM) for ``key``."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def b64sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _q(name: str, ns: str = NS) -> str:
    return f"{{{ns}}}{name}"


def _el(parent: etree._Element | None, name: str, text: str | None = None) -> etree._Element:
    element = (
        etree.Element(_q(name), nsmap={None: NS})  # type: ignore[dict-item]
        if parent is None
        else etree.SubElement(parent, _q(name))
    )
    if text is not None:
        element.text = text
    return element


@dataclass
class Stored:
    """A message the server accepted."""

    message_id: str
    uuid: str
    xml: bytes
    pdf_sha256: str  # hex
    pdf_size: int
    delivery_method: str  # DIGIPOST or PRINT
    status: str  # DELIVERED or DELIVERED_TO_PRINT
    created: dt.datetime
    tree: etree._Element = field(repr=False)

    def find(self, path: str) -> str | None:
        """Text at an XPath with prefixes ``d`` (v8) and ``t`` (datatypes)."""
        found = self.tree.xpath(path, namespaces={"d": NS, "t": DT_NS})
        if isinstance(found, list) and found:
            first = found[0]
            return first.text if isinstance(first, etree._Element) else str(first)
        return None


@dataclass
class Fault:
    kind: str  # fail, delay, hang, drop, tamper, bad_signature
    remaining: int
    method: str | None
    path: str | None  # a prefix of the request path
    status: int = 503
    seconds: float = 0.0


@dataclass
class Answer:
    status: int
    body: etree._Element | None
    headers: dict[str, str] = field(default_factory=dict)


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, kind: str = "CLIENT_DATA") -> None:
        super().__init__(message)
        self.status, self.code, self.kind = status, code, kind


class DigipostServer:
    def __init__(
        self,
        senders: dict[str, rsa.RSAPublicKey],
        server_key: rsa.RSAPrivateKey,
        rogue_key: rsa.RSAPrivateKey,
        *,
        schema: etree.XMLSchema | None = None,
        users: set[str] | None = None,
        print_agreement: bool = True,
    ) -> None:
        self.senders = senders
        self.key = server_key
        self.rogue_key = rogue_key
        self.certificate = make_certificate(server_key)
        self.schema = schema
        self.users: set[str] = set(users or ())
        self.print_agreement = print_agreement
        self.response_clock_offset = dt.timedelta(0)
        #: ids identification still reports as Digipost users (an account closed since)
        self.stale_identification: set[str] = set()
        self.link_base: str | None = None  # publish entry point links on another host
        self.stored: list[Stored] = []
        self.requests: list[tuple[str, str, int]] = []
        self.problems: list[str] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread: threading.Thread | None = None

    # --- lifecycle and configuration ----------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> DigipostServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> DigipostServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fault(
        self,
        kind: str,
        n: int = 1,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int = 503,
        seconds: float = 0.0,
    ) -> None:
        assert kind in {"fail", "delay", "hang", "drop", "tamper", "bad_signature"}
        with self._lock:
            self._faults.append(Fault(kind, n, method, path, status, seconds))

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if m == method and p.startswith(path))

    def message(self, message_id: str) -> Stored:
        (found,) = [s for s in self.stored if s.message_id == message_id]
        return found

    def calm(self) -> None:
        """Drop every fault still pending: the server answers normally from now on."""
        with self._lock:
            self._faults.clear()

    def wait(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining <= 0:
                    continue
                if fault.method not in (None, method):
                    continue
                if fault.path is not None and not path.startswith(fault.path):
                    continue
                fault.remaining -= 1
                return fault
        return None

    # --- the API -----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Answer:
        parts = urlsplit(target)
        path = unquote(parts.path)
        user = self._authenticate(method, path, parts.query, headers, body)
        if method == "GET" and path == "/":
            return Answer(200, self._entry_point())
        if method == "POST" and path == "/identification":
            return self._identify(headers, body)
        if method == "POST" and path == "/messages":
            return self._send(user, headers, body)
        match = re.fullmatch(r"/documents/([^/]+)/([^/]+)/status", path)
        if method == "GET" and match:
            return self._status(user, match.group(1), match.group(2))
        raise Refused(404, "GENERAL_ERROR", "no such resource", "CLIENT_TECHNICAL")

    def _authenticate(self, method: str, path: str, query: str, headers: Any, body: bytes) -> str:
        signed = {}
        for name in ("content-md5", "date", "x-content-sha256", "x-digipost-userid"):
            values = headers.get_all(name) or []
            if len(values) > 1:
                raise Refused(400, "GENERAL_ERROR", f"{name} given twice", "CLIENT_TECHNICAL")
            if values:
                signed[name] = values[0]
        user, date = signed.get("x-digipost-userid"), signed.get("date")
        signature = headers.get("X-Digipost-Signature")
        if not user or not date:
            raise Refused(400, "GENERAL_ERROR", "missing required header", "CLIENT_TECHNICAL")
        if headers.get("Accept") != MEDIA_TYPE:
            raise Refused(400, "GENERAL_ERROR", "Accept must be " + MEDIA_TYPE, "CLIENT_TECHNICAL")
        try:
            moment = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            moment = None
        if moment is None or not date.endswith(" GMT"):
            raise Refused(
                400, "DATE_HEADER_OUTSIDE_ACCEPTED_INTERVAL", "malformed Date", "CLIENT_TECHNICAL"
            )
        if abs(dt.datetime.now(dt.UTC) - moment) > MAX_SKEW:
            raise Refused(
                400,
                "DATE_HEADER_OUTSIDE_ACCEPTED_INTERVAL",
                "Date is more than 5 minutes off",
                "CLIENT_TECHNICAL",
            )
        declared = signed.get("x-content-sha256")
        if (body or declared is not None) and declared != b64sha256(body):
            raise Refused(400, "INVALID_SHA256", "X-Content-SHA256 mismatch", "CLIENT_TECHNICAL")
        key = self.senders.get(user)
        if key is None:
            raise Refused(403, "MISSING_CERTIFICATE", "no certificate for sender", "CONFIGURATION")
        canonical = (
            f"{method.upper()}\n{path.lower()}\n"
            + "".join(f"{name}: {signed[name]}\n" for name in sorted(signed))
            + f"{query.lower()}\n"
        )
        try:
            key.verify(
                base64.b64decode(signature or "", validate=True),
                canonical.encode("utf-8"),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            raise Refused(403, "INVALID_SIGNATURE", "bad signature", "CLIENT_TECHNICAL") from None
        return user

    def _entry_point(self) -> etree._Element:
        base = self.link_base or self.url
        root = _el(None, "entrypoint")
        _el(root, "certificate", self.certificate.decode("ascii"))
        for relation, path in (
            ("create_message", "/messages"),
            ("identify_recipient", "/identification"),
            ("search", "/recipients/search"),
        ):
            link = _el(root, "link")
            link.set("rel", RELATIONS + relation)
            link.set("uri", base + path)
            link.set("media-type", MEDIA_TYPE)
        return root

    def _xml(self, data: bytes, root: str) -> etree._Element:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            tree = etree.fromstring(data, parser)
        except etree.XMLSyntaxError as exc:
            raise Refused(400, "GENERAL_ERROR", f"XML not well-formed: {exc.msg}") from None
        if tree.getroottree().docinfo.internalDTD is not None:
            raise Refused(400, "GENERAL_ERROR", "DOCTYPE not allowed")
        if tree.tag != _q(root):
            raise Refused(400, "GENERAL_ERROR", f"expected {root}")
        if self.schema is not None and not self.schema.validate(tree):
            error = self.schema.error_log.last_error
            raise Refused(400, "GENERAL_ERROR", f"XSD-invalid: {error.message if error else ''}")
        return tree

    def _identify(self, headers: Any, body: bytes) -> Answer:
        if headers.get("Content-Type", "").split(";")[0].strip() != MEDIA_TYPE:
            raise Refused(415, "GENERAL_ERROR", "wrong Content-Type", "CLIENT_TECHNICAL")
        tree = self._xml(body, "identification")
        value = next((child.text or "" for child in tree), "")
        root = _el(None, "identification-result")
        if value in self.users or value in self.stale_identification:
            _el(root, "result", "DIGIPOST")
        elif not value.isdigit():
            _el(root, "result", "INVALID")
            _el(root, "invalid-reason", "UNKNOWN")
        else:
            _el(root, "result", "UNIDENTIFIED")
            _el(root, "unidentified-reason", "NOT_FOUND")
        return Answer(200, root)

    def _send(self, user: str, headers: Any, body: bytes) -> Answer:
        content_type = headers.get("Content-Type", "")
        match = re.fullmatch(
            re.escape(MULTIPART_TYPE) + r';\s*boundary="?([0-9A-Za-z\'()+_,\-./:=? ]{1,70})"?',
            content_type,
        )
        if not match:
            raise Refused(415, "GENERAL_ERROR", "not multipart/vnd.digipost-v8+xml")
        parts = parse_multipart(body, match.group(1))
        if not parts or parts[0].filename != "message":
            raise Refused(400, "DOCUMENTS_AND_FILES_MISMATCH", "first part must be the message")
        if not parts[0].content_type.startswith(MEDIA_TYPE):
            raise Refused(400, "GENERAL_ERROR", "the message part must be " + MEDIA_TYPE)
        tree = self._xml(parts[0].content, "message")
        documents = [
            d.findtext(_q("uuid")) or ""
            for d in [tree.find(_q("primary-document")), *tree.findall(_q("attachment"))]
            if d is not None
        ]
        files = parts[1:]
        if [f.filename for f in files] != documents:
            raise Refused(400, "DOCUMENTS_AND_FILES_MISMATCH", "documents and files differ")
        for file in files:
            if file.content_type not in ("application/pdf", "application/octet-stream"):
                raise Refused(400, "GENERAL_ERROR", "unsupported file type")
            if not file.content.startswith(b"%PDF-"):
                raise Refused(400, "INVALID_PDF_CONTENT", "not a PDF")
        primary = tree.find(_q("primary-document"))
        assert primary is not None
        message_id = tree.findtext(_q("message-id")) or ""
        subject = (primary.findtext(_q("subject")) or "").strip()
        recipient = tree.find(_q("recipient"))
        assert recipient is not None
        pin = recipient.findtext(_q("personal-identification-number"))
        org = recipient.findtext(_q("organisation-number"))
        print_details = recipient.find(_q("print-details"))
        with self._lock:
            if message_id and any(s.message_id == message_id for s in self.stored):
                raise Refused(400, "DUPLICATE_MESSAGE", "the message-id has been used before")
            if any(s.uuid in documents for s in self.stored):
                raise Refused(400, "DUPLICATE_DOCUMENT_ID", "a document uuid has been used")
            if (pin or org) in self.users:
                if not subject:
                    raise Refused(400, "GENERAL_ERROR", "the subject is blank")
                method, status = "DIGIPOST", "DELIVERED"
            elif print_details is not None:
                if not self.print_agreement:
                    raise Refused(403, "NOT_APPROVED_FOR_PRINT", "no print agreement")
                method, status = "PRINT", "DELIVERED_TO_PRINT"
            else:
                raise Refused(
                    404, "UNKNOWN_RECIPIENT", "The recipient does not have a Digipost account."
                )
            pdf = files[0].content
            stored = Stored(
                message_id=message_id,
                uuid=documents[0],
                xml=parts[0].content,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                pdf_size=len(pdf),
                delivery_method=method,
                status=status,
                created=dt.datetime.now(dt.UTC).replace(microsecond=0),
                tree=tree,
            )
            self.stored.append(stored)
        root = _el(None, "message-delivery")
        _el(root, "message-id", message_id)
        _el(root, "delivery-method", method)
        _el(root, "sender-id", user)
        _el(root, "status", status)
        _el(root, "delivery-time", stored.created.isoformat())
        document = _el(root, "primary-document")
        _el(document, "uuid", stored.uuid)
        _el(document, "subject", "N/A" if method == "PRINT" else subject)
        _el(document, "file-type", "pdf")
        _el(document, "content-hash", b64sha256(pdf)).set("hash-algorithm", "SHA256")
        location = f"{self.url}/documents/{user}/{stored.uuid}/status"
        return Answer(201, root, {"Location": location})

    def _status(self, user: str, sender: str, uuid: str) -> Answer:
        if sender != user:
            raise Refused(403, "GENERAL_ERROR", "not your documents", "CLIENT_TECHNICAL")
        with self._lock:
            found = [s for s in self.stored if s.uuid == uuid]
        if not found:
            raise Refused(404, "GENERAL_ERROR", "no such document")
        stored = found[0]
        root = _el(None, "document-status")
        when = stored.created.isoformat()
        for name, value in (
            ("uuid", stored.uuid),
            ("sender-id", user),
            ("status", "DELIVERED"),
            ("created", when),
            ("delivered", when),
            ("channel", stored.delivery_method),
            ("is-primary-document", "true"),
            ("content-hash", base64.b64encode(bytes.fromhex(stored.pdf_sha256)).decode()),
            ("content-hash-algorithm", "SHA256"),
        ):
            root.set(name, value)
        return Answer(200, root)

    # --- answers -------------------------------------------------------------------------

    def error(self, refused: Refused) -> Answer:
        root = _el(None, "error")
        _el(root, "error-code", refused.code)
        _el(root, "error-message", str(refused))
        _el(root, "error-type", refused.kind)
        return Answer(refused.status, root)

    def render(
        self, answer: Answer, path: str, fault: Fault | None
    ) -> tuple[bytes, dict[str, str]]:
        body = b""
        if answer.body is not None:
            if self.schema is not None and not self.schema.validate(answer.body):
                self.problems.append(f"own answer is XSD-invalid: {self.schema.error_log}")
            body = etree.tostring(answer.body, xml_declaration=True, encoding="UTF-8")
        date = format_datetime(
            (dt.datetime.now(dt.UTC) + self.response_clock_offset).replace(microsecond=0),
            usegmt=True,
        )
        headers = {"Date": date, "Content-Type": MEDIA_TYPE, **answer.headers}
        signed = {"date": date}
        if body:
            headers["X-Content-SHA256"] = signed["x-content-sha256"] = b64sha256(body)
        canonical = f"{answer.status}\n{path.lower()}\n" + "".join(
            f"{name}: {signed[name]}\n" for name in sorted(signed)
        )
        key = self.rogue_key if fault and fault.kind == "bad_signature" else self.key
        signature = key.sign(canonical.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        headers["X-Digipost-Signature"] = base64.b64encode(signature).decode("ascii")
        if fault and fault.kind == "tamper":
            body = (
                body.replace(b"DELIVERED", b"DELIVERES", 1) if b"DELIVERED" in body else body + b" "
            )
        return body, headers


@dataclass(frozen=True)
class Part:
    content_type: str
    filename: str | None
    content: bytes


def parse_multipart(body: bytes, boundary: str) -> list[Part]:
    """The parts of a multipart body, exactly: CRLF line ends, no preamble, a closing
    delimiter, and ``Content-Disposition: attachment; filename="…"`` on every part."""
    delimiter = b"--" + boundary.encode("ascii")
    closing = b"\r\n" + delimiter + b"--"
    if not body.startswith(delimiter + b"\r\n"):
        raise Refused(400, "GENERAL_ERROR", "multipart does not start with the boundary")
    end = body.rfind(closing)
    if end < 0 or body[end + len(closing) :] not in (b"", b"\r\n"):
        raise Refused(400, "GENERAL_ERROR", "multipart is not closed")
    parts = []
    for chunk in body[len(delimiter) + 2 : end].split(b"\r\n" + delimiter + b"\r\n"):
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise Refused(400, "GENERAL_ERROR", "a part has no header block")
        fields: dict[str, str] = {}
        for line in head.decode("ascii").split("\r\n"):
            name, colon, value = line.partition(":")
            if not colon:
                raise Refused(400, "GENERAL_ERROR", "malformed part header")
            fields[name.strip().lower()] = value.strip()
        disposition = fields.get("content-disposition")
        if disposition is None:
            raise Refused(400, "MISSING_BODYPART_CONTENT_DISPOSITION", "no Content-Disposition")
        match = re.fullmatch(r'attachment;\s*filename="([^"]+)"', disposition)
        if not match:
            raise Refused(400, "MISSING_BODYPART_FILENAME", "no filename")
        parts.append(Part(fields.get("content-type", ""), match.group(1), content))
    return parts


def _handler_for(server: DigipostServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10

        def log_message(self, format: str, *args: Any) -> None:  # quiet; never log bodies
            pass

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def _serve(self, method: str) -> None:
            if self.headers.get("Transfer-Encoding"):
                self.close_connection = True
                self._write(411, b"", {})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = unquote(urlsplit(self.path).path)
            fault = server._take_fault(method, path)
            if fault and fault.kind in ("delay", "hang"):
                server.wait(fault.seconds)
                if fault.kind == "hang":
                    self.close_connection = True
                    server.requests.append((method, path, 0))
                    return
            try:
                if fault and fault.kind == "fail":
                    answer = server.error(
                        Refused(fault.status, "GENERAL_ERROR", "unavailable", "SERVER")
                    )
                else:
                    answer = server.handle(method, self.path, self.headers, body)
            except Refused as refused:
                answer = server.error(refused)
            except Exception as exc:  # the server's own bug: make the test fail
                server.problems.append(f"{method} {path}: {type(exc).__name__}: {exc}")
                answer = server.error(Refused(500, "GENERAL_ERROR", "server error", "SERVER"))
            server.requests.append((method, path, answer.status))
            payload, headers = server.render(answer, path, fault)
            if fault and fault.kind == "drop":  # stored, but the answer never arrives
                server.wait(fault.seconds)
                self.close_connection = True
                return
            self._write(answer.status, payload, headers)

        def _write(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
            try:
                self.send_response_only(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client has gone (it timed out)
                self.close_connection = True

    return Handler
