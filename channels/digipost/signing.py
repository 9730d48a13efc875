"""Authentication with Digipost: signed requests and verified responses.

Requests are signed with the enterprise key (SHA256withRSA, PKCS#1 v1.5) over a canonical
string of the method, the lower-cased path, the signed headers (lower-cased names, sorted)
and the lower-cased raw query, every line ending in ``\\n``::

    >>> lines = canonical_request(
    ...     "post",
    ...     "/Messages",
    ...     {
    ...         "X-Digipost-UserId": "1234",
    ...         "Date": "Wed, 29 Jun 2011 14:58:11 GMT",
    ...         "X-Content-SHA256": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
    ...         "Accept": "application/vnd.digipost-v8+xml",
    ...     },
    ... ).split("\\n")
    >>> lines  # doctest: +NORMALIZE_WHITESPACE
    ['POST', '/messages', 'date: Wed, 29 Jun 2011 14:58:11 GMT',
     'x-content-sha256: n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=',
     'x-digipost-userid: 1234', '', '']

Without a body there is no hash line; a query is lower-cased:

    >>> canonical_request("GET", "/", {"Date": "D", "X-Digipost-UserId": "7"}, "A=B")
    'GET\\n/\\ndate: D\\nx-digipost-userid: 7\\na=b\\n'

Digipost signs its responses over the status, the lower-cased request path (no query) and
the same headers, with no parameter line:

    >>> canonical_response(200, "/Documents/1/x/status", {"Date": "D", "X-Content-SHA256": "h"})
    '200\\n/documents/1/x/status\\ndate: D\\nx-content-sha256: h\\n'

:class:`RequestSigner` is the one replaceable authentication step (an OAuth 2.0 variant
would implement the same :class:`Authenticator` protocol). :class:`ResponseVerifier` checks
every response: Date within the allowed skew, X-Content-SHA256 over the body and (except for
the entry point) X-Digipost-Signature with Digipost's certificate.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Mapping
from email.utils import format_datetime, parsedate_to_datetime
from typing import Protocol

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

#: Headers that take part in a signature (``content-md5`` only if present: legacy).
SIGNED_HEADERS = ("content-md5", "date", "x-content-sha256", "x-digipost-userid")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def http_date(moment: dt.datetime) -> str:
    """RFC 1123 in GMT: ``Wed, 29 Jun 2011 14:58:11 GMT``."""
    return format_datetime(moment.astimezone(dt.UTC).replace(microsecond=0), usegmt=True)


def _signed_header_lines(headers: Mapping[str, str]) -> str:
    items: Iterable[tuple[str, str]] = (
        headers.multi_items() if isinstance(headers, httpx.Headers) else headers.items()
    )
    chosen: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        if key in SIGNED_HEADERS:
            if key in chosen:  # two values would make the signed string ambiguous
                raise SignatureError(f"header {key} appears twice")
            chosen[key] = value
    return "".join(f"{key}: {chosen[key]}\n" for key in sorted(chosen))


def canonical_request(method: str, path: str, headers: Mapping[str, str], query: str = "") -> str:
    return f"{method.upper()}\n{path.lower()}\n{_signed_header_lines(headers)}{query.lower()}\n"


def canonical_response(status: int, path: str, headers: Mapping[str, str]) -> str:
    return f"{status}\n{path.lower()}\n{_signed_header_lines(headers)}"


class SignatureError(Exception):
    """A response that cannot be trusted (or a request that cannot be signed)."""


class Authenticator(Protocol):
    """The authentication step of every request (signing today; OAuth could replace it)."""

    def sign(self, request: httpx.Request) -> None: ...


class RequestSigner:
    """Adds Date, X-Digipost-UserId, X-Content-SHA256 and X-Digipost-Signature."""

    def __init__(
        self, sender_id: int | str, key: rsa.RSAPrivateKey, clock: Clock = utc_now
    ) -> None:
        self.sender_id = str(sender_id)
        self._key = key
        self._clock = clock

    def sign(self, request: httpx.Request) -> None:
        body = request.read()
        headers = request.headers
        headers["Date"] = http_date(self._clock())
        headers["X-Digipost-UserId"] = self.sender_id
        if body:
            headers["X-Content-SHA256"] = sha256_b64(body)
        elif "X-Content-SHA256" in headers:
            del headers["X-Content-SHA256"]
        text = canonical_request(
            request.method, request.url.path, headers, request.url.query.decode("ascii")
        )
        signature = self._key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        headers["X-Digipost-Signature"] = base64.b64encode(signature).decode("ascii")


class ResponseVerifier:
    """Refuses a response whose Date, body hash or signature is not right."""

    def __init__(self, max_skew_seconds: int = 300, clock: Clock = utc_now) -> None:
        self.max_skew = dt.timedelta(seconds=max_skew_seconds)
        self._clock = clock

    def check_date_and_hash(self, response: httpx.Response) -> None:
        date = response.headers.get("Date")
        if not date:
            raise SignatureError("the response has no Date header")
        try:
            moment = parsedate_to_datetime(date)
        except (TypeError, ValueError):
            raise SignatureError("the response Date header is malformed") from None
        if moment.tzinfo is None:
            raise SignatureError("the response Date header has no time zone")
        if abs(self._clock() - moment) > self.max_skew:
            raise SignatureError("the response Date is outside the accepted interval")
        body = response.content
        declared = response.headers.get("X-Content-SHA256")
        if body and not declared:
            raise SignatureError("the response has a body but no X-Content-SHA256")
        if declared is not None and declared != sha256_b64(body):
            raise SignatureError("the response body does not match X-Content-SHA256")

    def verify(self, response: httpx.Response, certificate: x509.Certificate) -> None:
        self.check_date_and_hash(response)
        value = response.headers.get("X-Digipost-Signature")
        if not value:
            raise SignatureError("the response is not signed")
        try:
            signature = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise SignatureError("the response signature is not base64") from None
        text = canonical_response(response.status_code, response.request.url.path, response.headers)
        key = certificate.public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise SignatureError("Digipost's certificate has no RSA key")
        try:
            key.verify(signature, text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise SignatureError("the response signature does not verify") from None
