"""A small Digipost API v8 client on httpx.

Every request goes through the :class:`~channels.digipost.signing.Authenticator`; every
response is checked by the :class:`~channels.digipost.signing.ResponseVerifier` (the entry
point ``GET /`` without the signature, as the Java client does, but still with Date and
body hash). Paths come from the entry point's links, which must point at the configured
host: the entry point is not signed, so a link elsewhere is refused rather than followed
with our signature and the letter.

Failures are raised as :class:`DigipostError` subclasses; the channel decides what they
mean for the letter. No exception carries request or response bodies.
"""

from __future__ import annotations

import secrets
import ssl
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx
from cryptography import x509

from channels.digipost.keys import load_certificate, load_private_key
from channels.digipost.messages import (
    MEDIA_TYPE,
    MULTIPART_TYPE,
    ApiError,
    DocumentStatus,
    EntryPoint,
    IdentificationResult,
    MessageDelivery,
    Recipient,
    build_identification,
    parse_document_status,
    parse_entry_point,
    parse_error,
    parse_identification_result,
    parse_message_delivery,
)
from channels.digipost.signing import Authenticator, RequestSigner, ResponseVerifier, SignatureError
from channels.digipost.xmlsafe import XmlError
from letters.config.digipost import DigipostSettings

T = TypeVar("T")


class DigipostError(Exception):
    """Base of the client's failures."""


class Unreachable(DigipostError):
    """The request did not reach Digipost (connection refused, connect timeout, TLS)."""


class NoAnswer(DigipostError):
    """The request may have reached Digipost but no answer came (read timeout, reset)."""


class UntrustedResponse(DigipostError):
    """A response whose Date, hash or signature does not verify, or that is unreadable."""


class EntryPointError(DigipostError):
    """``GET /`` did not answer 200. Its answer is not signed, so its error code is only a
    hint and never decides the letter's fate."""

    def __init__(self, status: int, code: str | None) -> None:
        super().__init__(f"the Digipost entry point answered {status} ({code or 'none'})")
        self.status = status
        self.code = code


class ApiResponseError(DigipostError):
    """A verified answer that is not a success."""

    def __init__(self, status: int, error: ApiError | None) -> None:
        code = error.code if error else "none"
        super().__init__(f"Digipost answered {status} ({code})")
        self.status = status
        self.error = error

    @property
    def code(self) -> str | None:
        return self.error.code if self.error else None


def multipart_body(parts: Sequence[tuple[str, str, bytes]]) -> tuple[str, bytes]:
    """``(boundary, body)`` for ``(content type, filename, content)`` parts, each with
    ``Content-Disposition: attachment; filename="…"``."""
    while True:
        boundary = secrets.token_hex(24)
        marker = boundary.encode("ascii")
        if not any(marker in content for _, _, content in parts):
            break
    out = bytearray()
    for content_type, filename, content in parts:
        if '"' in filename or "\r" in filename or "\n" in filename:
            raise ValueError("a part's filename cannot hold quotes or line breaks")
        out += b"--" + marker + b"\r\n"
        out += f"Content-Type: {content_type}\r\n".encode("ascii")
        out += f'Content-Disposition: attachment; filename="{filename}"\r\n\r\n'.encode("ascii")
        out += content + b"\r\n"
    out += b"--" + marker + b"--\r\n"
    return boundary, bytes(out)


class DigipostClient:
    """Entry point, identification, sending and document status, all verified."""

    def __init__(
        self,
        settings: DigipostSettings,
        *,
        authenticator: Authenticator | None = None,
        verifier: ResponseVerifier | None = None,
    ) -> None:
        if settings.base_url is None or settings.sender_id is None:
            raise ValueError("Digipost is not configured (base_url, sender_id)")
        self.settings = settings
        self.sender_id = settings.sender_id
        if authenticator is None:
            assert settings.key_path is not None
            key = load_private_key(settings.key_path, settings.key_password)
            authenticator = RequestSigner(settings.sender_id, key)
        self._auth = authenticator
        self._verifier = verifier or ResponseVerifier(settings.max_date_skew_seconds)
        self._pinned: x509.Certificate | None = None
        if settings.server_certificate_path is not None:
            path = settings.server_certificate_path
            self._pinned = load_certificate(path.read_bytes(), str(path))
        self._base = settings.base_url
        tls = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
        self._http = httpx.Client(
            base_url=self._base,
            timeout=settings.timeout_seconds,
            verify=tls,
            follow_redirects=False,
            trust_env=False,
            headers={"Accept": MEDIA_TYPE, "Accept-Encoding": "identity"},
        )
        self._lock = threading.Lock()
        self._entry: tuple[EntryPoint, x509.Certificate] | None = None

    def close(self) -> None:
        self._http.close()

    # --- the calls ----------------------------------------------------------------------

    def entry_point(self) -> EntryPoint:
        return self._discover()[0]

    def identify(self, recipient: Recipient) -> IdentificationResult:
        response = self._call(
            "POST",
            self._link("identify_recipient"),
            content=build_identification(recipient),
            headers={"Content-Type": MEDIA_TYPE},
        )
        self._expect(response, 200)
        return self._read(parse_identification_result, response)

    def send(self, message_xml: bytes, documents: Sequence[tuple[str, bytes]]) -> MessageDelivery:
        """``POST`` the message and its documents (``(uuid, pdf)``, primary first)."""
        parts = [(f"{MEDIA_TYPE}; charset=UTF-8", "message", message_xml)]
        parts += [("application/pdf", uuid, pdf) for uuid, pdf in documents]
        boundary, body = multipart_body(parts)
        response = self._call(
            "POST",
            self._link("create_message"),
            content=body,
            headers={
                "Content-Type": f"{MULTIPART_TYPE}; boundary={boundary}",
                "MIME-Version": "1.0",
            },
        )
        self._expect(response, 200, 201)
        return self._read(parse_message_delivery, response)

    def document_status(self, document_uuid: str) -> DocumentStatus | None:
        """The document's status, or ``None`` when Digipost does not hold it (404)."""
        response = self._call("GET", f"/documents/{self.sender_id}/{document_uuid}/status")
        if response.status_code == 404:
            return None
        self._expect(response, 200)
        return self._read(parse_document_status, response)

    # --- plumbing -----------------------------------------------------------------------

    def _discover(self) -> tuple[EntryPoint, x509.Certificate]:
        with self._lock:
            if self._entry is None:
                response = self._call("GET", "/", signed_response=False)
                if response.status_code != 200:
                    error = self._error_body(response)
                    raise EntryPointError(response.status_code, error.code if error else None)
                entry = self._read(parse_entry_point, response)
                certificate = self._pinned
                if certificate is None:
                    if not entry.certificate:
                        raise UntrustedResponse("the entry point has no certificate")
                    try:
                        certificate = load_certificate(
                            entry.certificate.strip().encode("ascii") + b"\n", "the entry point"
                        )
                    except (ValueError, UnicodeError) as exc:
                        raise UntrustedResponse(str(exc)) from None
                self._entry = (entry, certificate)
            return self._entry

    def _link(self, relation: str) -> str:
        entry, _ = self._discover()
        uri = entry.links.get(relation)
        if uri is None:
            raise UntrustedResponse(f"the entry point has no {relation} link")
        url = urljoin(self._base + "/", uri)
        here, there = urlsplit(self._base), urlsplit(url)
        if (here.scheme, here.hostname, here.port) != (there.scheme, there.hostname, there.port):
            raise UntrustedResponse(f"the {relation} link points at another host")
        return url

    def _call(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        signed_response: bool = True,
    ) -> httpx.Response:
        request = self._http.build_request(method, url, content=content, headers=headers)
        self._auth.sign(request)
        try:
            response = self._http.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise Unreachable(f"cannot reach Digipost: {type(exc).__name__}") from None
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise NoAnswer(f"no answer from Digipost: {type(exc).__name__}") from None
        except httpx.HTTPError as exc:
            raise Unreachable(f"cannot call Digipost: {type(exc).__name__}") from None
        try:
            if signed_response:
                self._verifier.verify(response, self._discover()[1])
            else:
                self._verifier.check_date_and_hash(response)
        except SignatureError as exc:
            if signed_response and self._pinned is None:
                with self._lock:
                    self._entry = None  # fetch the certificate again next time (rotation)
            raise UntrustedResponse(str(exc)) from None
        return response

    @classmethod
    def _expect(cls, response: httpx.Response, *ok: int) -> None:
        if response.status_code not in ok:
            raise ApiResponseError(response.status_code, cls._error_body(response))

    @staticmethod
    def _error_body(response: httpx.Response) -> ApiError | None:
        try:
            return parse_error(response.content) if response.content else None
        except XmlError:
            return None

    @staticmethod
    def _read(parser: Callable[[bytes], T], response: httpx.Response) -> T:
        try:
            return parser(response.content)
        except XmlError as exc:
            raise UntrustedResponse(f"unreadable answer from Digipost: {exc}") from None
