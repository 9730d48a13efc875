"""What the HTTP service refuses about a request before a handler reads it, in the documented
error shape (:class:`~letters.http_models.Problem`):

- a body whose ``Content-Type`` is not JSON: 415 ``unsupported-media-type`` (a body sent
  without a ``Content-Type`` is read as JSON);
- a body over :data:`SMALL_BODY_BYTES` on a call that takes a small one (hold, release,
  close, reopen, verify): 413 ``body-too-large``, without reading past the limit (the job
  intake has its own, larger limit: :data:`letters.http.MAX_BODY_BYTES`); a small body
  that is not UTF-8 JSON, or nests too deeply, is refused as the intake refuses a job
  (:func:`letters.documents.loads`: 422 ``not-utf8``, ``not-json``, ``too-deep`` …);
- a query parameter the call does not take: 422 ``unknown-field``.
"""

from __future__ import annotations

import email.message
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from letters import documents, syntax
from letters.codes import Code
from letters.http_models import Problem, ProblemError
from letters.job import FieldError, JobRejected

SMALL_BODY_BYTES = 64 * 1024
#: The calls whose body may be larger (their own limit is checked where they read it).
LARGE_BODIES = frozenset({"/v1/jobs"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: For OpenAPI: the refusals of a call that takes a body.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": Problem, "description": "the body is too large (body-too-large)"},
    415: {
        "model": Problem,
        "description": "the body is not JSON (unsupported-media-type): send "
        "Content-Type: application/json",
    },
}


def is_json(content_type: str) -> bool:
    """Whether a ``Content-Type`` names JSON (``application/json``, ``application/*+json``).

    >>> is_json("application/json; charset=utf-8"), is_json("application/problem+json")
    (True, True)
    >>> is_json("text/plain"), is_json("application/x-www-form-urlencoded")
    (False, False)
    """
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


def _refusal(status: int, code: Code, reason: str) -> JSONResponse:
    problem = Problem(errors=[FieldError(field="(body)", code=code, reason=reason)])
    return JSONResponse(status_code=status, content=problem.model_dump())


class BodyRules:
    """ASGI middleware: the body's media type and, on the small calls, its size."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        if not path.startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length", "")
        has_body = "transfer-encoding" in headers or (length.isdigit() and int(length) > 0)
        content_type = headers.get("content-type")
        if has_body and content_type is not None and not is_json(content_type):
            reason = "the body must be JSON: send Content-Type: application/json"
            await _refusal(415, Code.UNSUPPORTED_MEDIA_TYPE, reason)(scope, receive, send)
            return
        if path in LARGE_BODIES:
            await self.app(scope, receive, send)
            return
        reason = f"larger than {SMALL_BODY_BYTES} bytes"
        if length.isdigit() and int(length) > SMALL_BODY_BYTES:
            await _refusal(413, Code.BODY_TOO_LARGE, reason)(scope, receive, send)
            return
        chunks, size, more = [], 0, True
        while more:  # a chunked body is not read past the limit either
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            more = message.get("more_body", False)
            if size > SMALL_BODY_BYTES:
                await _refusal(413, Code.BODY_TOO_LARGE, reason)(scope, receive, send)
                return
        body = b"".join(chunks)
        if body:
            try:  # what the job intake refuses, refused here alike (not-utf8, too-deep …)
                documents.loads(body, "(body)")
            except JobRejected as exc:
                problem = Problem(errors=exc.errors).model_dump()
                await JSONResponse(status_code=422, content=problem)(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a call takes, its dependencies' too."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def known_query(request: Request) -> None:
    """A dependency: refuse the query parameters the call does not take (422, one error per
    name; a name that is not a plain word is not echoed)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.url.path.startswith("/v1/"):
        return
    unknown = sorted(set(request.query_params) - _query_names(route.dependant))
    if not unknown:
        return
    errors = [
        FieldError(
            field=f"query.{name}" if syntax.matches(syntax.QUERY_NAME, name) else "(query)",
            code=Code.UNKNOWN_FIELD,
            reason="a query parameter this call does not take",
        )
        for name in unknown[:10]
    ]
    raise ProblemError.of(422, errors)
