"""The HTTP service (``letters serve``): intake and evidence for upstream systems.

    POST   /v1/jobs                       one job, or a JSON array of jobs (scope: submit)
    GET    /v1/jobs/{id}                  the job's whole history (scope: read)
    GET    /v1/letters/{id}/pdf           the archived letter, verified (scope: pdf)
    POST   /v1/cases/{reference}/hold     hold a case (scope: hold)
    DELETE /v1/cases/{reference}/hold     release it (scope: hold)
    POST   /v1/cases/{reference}/close    close a case: its retention period runs (scope: close)
    DELETE /v1/cases/{reference}/close    reopen it (scope: close)
    POST   /v1/credentials/verify         a debtor's login check (scope: verify)
    GET    /metrics, /healthz

Every call but the last two needs ``Authorization: Bearer <token>``; tokens are stored as
SHA-256 digests with their scopes (``letters token create``). A letter's PDF carries the
debtor's live password, so it needs the ``pdf`` scope (``read`` is not enough: 403
``forbidden``); a purged one is 410 ``letter-purged``. Holds and closures are audited under
the token's name. Bad input gets 422 with one
``{field, reason}`` per problem and never echoes what was sent. While the workers owe
``LETTERS_INTAKE__MAX_QUEUE`` jobs or more, new jobs get 429 ``intake-queue-full`` with
``Retry-After`` and nothing is stored (:mod:`letters.backpressure`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, HTTPException, Path, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from letters import backpressure, documents, http_methods, http_requests, metrics, syntax
from letters.archive import ArchiveCorrupt
from letters.clock import OSLO, current, today_oslo
from letters.codes import Code
from letters.credentials import Verdict
from letters.http_models import (
    ERRORS,
    Accepted,
    BatchItem,
    BatchResult,
    Problem,
    ProblemError,
    VerifyRequest,
    VerifyResult,
)
from letters.job import FieldError, Job, JobRejected
from letters.ledger import JobConflict, LedgerAttemptLog, LedgerCredentials, token_holder
from letters.ledger.views import JobHistory
from letters.lockout import attempt
from letters.pipeline import faults
from letters.pipeline.runtime import Runtime, get_runtime
from letters.refusals import code_for, in_our_words, path_of

bearer = HTTPBearer(auto_error=False)
LEDGER_DOWN = Code.LEDGER_UNAVAILABLE


MAX_BODY_BYTES = 20 * 1024 * 1024
MAX_BATCH = 1000
_JOB_ID = re.compile(syntax.JOB_ID)
JobId = Annotated[str, Path(json_schema_extra={"pattern": syntax.JOB_ID, "maxLength": 64})]
LetterId = Annotated[str, Path(json_schema_extra={"pattern": syntax.LETTER_ID, "maxLength": 20})]


#: The code of a refusal FastAPI raises itself, by HTTP status.
_HTTP_CODES = {
    401: Code.UNAUTHORIZED,
    403: Code.FORBIDDEN,
    404: Code.NOT_FOUND,
    405: Code.METHOD_NOT_ALLOWED,
    409: Code.JOB_CONFLICT,
    413: Code.BODY_TOO_LARGE,
}
#: Starlette's own sentences for the errors it raises, in the product's words.
_HTTP_WORDS = {
    "Not Found": "no such path (the OpenAPI document at /openapi.json lists them)",
    "Method Not Allowed": "this path does not take that method (the Allow header lists those "
    "it takes)",
}


def _problem(status: int, errors: list[FieldError]) -> JSONResponse:
    return JSONResponse(status_code=status, content=Problem(errors=errors).model_dump())


def _too_many(code: Code, reason: str, wait: int) -> JSONResponse:
    """429 with Retry-After (seconds)."""
    response = _problem(429, [FieldError(field="(request)", code=code, reason=reason)])
    response.headers["Retry-After"] = str(wait)
    return response


async def _raw_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ProblemError(
            413, "(body)", Code.BODY_TOO_LARGE, f"larger than {MAX_BODY_BYTES} bytes"
        )
    chunks, size = [], 0
    async for chunk in request.stream():  # stop reading at the limit (chunked bodies too)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ProblemError(
                413, "(body)", Code.BODY_TOO_LARGE, f"larger than {MAX_BODY_BYTES} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(runtime: Runtime | None = None) -> FastAPI:
    app = FastAPI(
        title="letters",
        version="1",
        description=__doc__,
        openapi_tags=[{"name": "jobs"}, {"name": "cases"}, {"name": "credentials"}],
        dependencies=[Depends(http_requests.known_query)],
        strict_content_type=False,  # a body without a Content-Type is read as JSON
        # no /docs or /redoc: their pages load Swagger UI and ReDoc from a CDN, and the
        # service fetches nothing from outside; /openapi.json is what a client is made from
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(http_requests.BodyRules)

    def rt() -> Runtime:
        return runtime or get_runtime()

    gate = backpressure.Gate(rt)

    def scoped(scope: str) -> Any:
        """A dependency that lets only a live token with ``scope`` through and gives the
        token's name (the actor the audit log records)."""

        def check(
            creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> str:
            if creds is None or creds.scheme.lower() != "bearer":
                raise HTTPException(
                    401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"}
                )
            holder = token_holder(rt().ledger, creds.credentials)
            if holder is None:
                raise HTTPException(
                    401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"}
                )
            if scope not in holder[1]:
                raise HTTPException(403, f"this token lacks the {scope!r} scope")
            return holder[0]

        return Depends(check)

    @app.middleware("http")
    async def _options(request: Request, call_next: Any) -> Response:
        if request.method == "OPTIONS":
            methods = http_methods.allowed(app.router.routes, request.scope)
            if methods:
                return Response(
                    status_code=204, headers={"Allow": http_methods.allow_header(methods)}
                )
        response: Response = await call_next(request)
        return response

    @app.exception_handler(ProblemError)
    async def _problem_error(_: Request, exc: ProblemError) -> JSONResponse:
        return _problem(exc.status, exc.errors)

    async def _ledger_away(_: Request, exc: Exception) -> JSONResponse:
        """The ledger's database cannot be reached (restarting): 503 to try again, not 500."""
        if not faults.ledger_unavailable(exc):
            raise exc
        why = "the ledger cannot be reached now: send it again after Retry-After seconds"
        response = _problem(503, [FieldError(field="(ledger)", code=LEDGER_DOWN, reason=why)])
        response.headers["Retry-After"] = str(faults.RETRY_AFTER_SECONDS)
        return response

    for error in faults.LEDGER_ERRORS:
        app.add_exception_handler(error, _ledger_away)

    from letters.workbench import web

    app.include_router(web.router(rt))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if isinstance(exc, web.Redirect):
            return RedirectResponse(str((headers or {})["Location"]), status_code=303)
        if request.url.path.startswith("/review/"):
            return web.error_page(exc.status_code, str(exc.detail))
        code = _HTTP_CODES.get(exc.status_code, Code.BAD_REQUEST)
        if exc.status_code == 405:  # every method the path takes, not only the first route's
            methods = http_methods.allowed(app.router.routes, request.scope)
            headers = {**(headers or {}), "Allow": http_methods.allow_header(methods)}
        reason = _HTTP_WORDS.get(str(exc.detail), str(exc.detail))
        body = Problem(errors=[FieldError(field="(request)", code=code, reason=reason)])
        return JSONResponse(status_code=exc.status_code, content=body.model_dump(), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            loc = tuple(p for p in e["loc"] if p != "body")
            field = path_of(loc) if loc else "(body)"
            reason = in_our_words(e["type"], str(e["msg"]).removeprefix("Value error, "))
            if e["type"] == "extra_forbidden":  # as a job's unknown field is said
                reason = "unknown field (check the spelling against the OpenAPI document)"
            if e["type"] == "missing":
                reason = "required, and missing (see the OpenAPI document)"
            errors.append(FieldError(field=field, code=code_for(e["type"], field), reason=reason))
        return _problem(422, errors)

    def _one(data: Any) -> tuple[int, BatchItem]:
        from letters.pipeline.intake import BrokerUnreachable, take

        job_id = data.get("id") if isinstance(data, dict) else None
        note, created = None, True
        try:
            taken = take(data, rt())
            letter_id, created = taken.letter_id, taken.created
        except BrokerUnreachable as exc:  # committed: never a 500 after the commit
            letter_id, note = exc.letter_id, str(exc)
        except JobRejected as exc:
            metrics.JOBS_REFUSED.inc()
            return 422, BatchItem(index=0, status="refused", errors=exc.errors)
        except JobConflict as exc:
            metrics.JOBS_REFUSED.inc()
            error = FieldError(field="id", code=Code.JOB_CONFLICT, reason=str(exc))
            return 409, BatchItem(index=0, job_id=job_id, status="conflict", errors=[error])
        if not created:  # known before, or a parallel submission of the same job won
            return 200, BatchItem(index=0, job_id=job_id, letter_id=letter_id, status="existing")
        metrics.JOBS_ACCEPTED.inc()
        item = BatchItem(index=0, job_id=job_id, letter_id=letter_id, status="accepted", note=note)
        return 202, item

    @app.post(
        "/v1/jobs",
        tags=["jobs"],
        status_code=202,
        dependencies=[scoped("submit")],
        responses={
            **ERRORS,
            **http_requests.BODY_ERRORS,
            200: {
                "model": Accepted | BatchResult,
                "description": "one job already known (Accepted), or a batch: one result per job",
            },
            202: {"model": Accepted, "description": "accepted"},
            409: {"model": Problem, "description": "the id is known with other content"},
            413: {"model": Problem, "description": "the body or the batch is too large"},
            429: {
                "model": Problem,
                "description": "the workers owe LETTERS_INTAKE__MAX_QUEUE jobs or more "
                "(intake-queue-full): nothing was stored, send it again after Retry-After "
                "seconds (jobs accepted before are answered as usual)",
                "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            },
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Job"},
                                {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
                            ]
                        }
                    }
                },
            }
        },
    )
    def post_jobs(body: Annotated[bytes, Depends(_raw_body)]) -> Response:
        if documents.has_nul(body):
            return _problem(
                422,
                [
                    FieldError(
                        field="(body)",
                        code=Code.NUL_CHARACTER,
                        reason="NUL characters are not allowed",
                    )
                ],
            )
        try:
            payload = documents.loads(body, "(body)")
        except JobRejected as exc:
            return _problem(422, exc.errors)
        if not isinstance(payload, dict | list):
            reason = "send one job (a JSON object) or a batch (a JSON array)"
            error = FieldError(field="(body)", code=Code.NOT_A_JOB_OR_BATCH, reason=reason)
            return _problem(422, [error])
        if isinstance(payload, list) and len(payload) > MAX_BATCH:
            reason = f"at most {MAX_BATCH} jobs per batch"
            error = FieldError(field="(body)", code=Code.BODY_TOO_LARGE, reason=reason)
            return _problem(413, [error])
        if (full := gate.refusal(payload)) is not None:
            return _too_many(Code.INTAKE_QUEUE_FULL, full.reason, full.retry_after)
        if isinstance(payload, list):
            items = []
            for index, data in enumerate(payload):
                _, item = _one(data)
                item.index = index
                items.append(item)
            accepted = sum(i.status in ("accepted", "existing") for i in items)
            gate.took(sum(i.status == "accepted" for i in items))
            result = BatchResult(accepted=accepted, refused=len(items) - accepted, items=items)
            return JSONResponse(status_code=200, content=result.model_dump())
        status, item = _one(payload)
        gate.took(status == 202)
        if item.errors:
            return _problem(status, item.errors)
        assert item.job_id is not None and item.letter_id is not None
        job = rt().ledger.job(item.job_id)
        answer = Accepted(
            job_id=item.job_id,
            letter_id=item.letter_id,
            status=job.status if job else item.status,
            note=item.note,
        )
        return JSONResponse(status_code=status, content=answer.model_dump())

    @app.get(
        "/v1/jobs/{job_id}",
        tags=["jobs"],
        dependencies=[scoped("read")],
        response_model=JobHistory,
        responses={**ERRORS, 404: {"model": Problem, "description": "no such job"}},
    )
    def get_job(job_id: JobId) -> JobHistory:
        history = rt().ledger.history(job_id) if _JOB_ID.fullmatch(job_id) else None
        if history is None:
            raise HTTPException(404, "no such job")  # the id is not echoed
        return history

    @app.get(
        "/v1/letters/{letter_id}/pdf",
        tags=["jobs"],
        dependencies=[scoped("pdf")],
        description="The archived letter, verified against its hash. It carries the "
        "debtor's live password: the token needs the `pdf` scope (`read` is not enough).",
        response_class=Response,
        responses={
            **ERRORS,
            200: {"content": {"application/pdf": {}}},
            404: {"model": Problem, "description": "no such letter"},
            410: {"model": Problem, "description": "purged (retention): letter-purged"},
            503: {"model": Problem, "description": "the archive cannot be read"},
        },
    )
    def get_pdf(letter_id: LetterId) -> Response:
        known = syntax.matches(syntax.LETTER_ID, letter_id)
        letter = rt().ledger.letter(letter_id) if known else None
        if letter is None:
            raise HTTPException(404, "no such letter")  # the id is not echoed
        if letter.purged_at is not None:
            day = letter.purged_at.astimezone(OSLO).date().isoformat()
            reason = f"purged on {day} (retention): its hashes and history are kept"
            raise ProblemError(410, "(request)", Code.LETTER_PURGED, reason)
        try:
            pdf = rt().archive.get(letter.pdf_sha256)
        except (OSError, ArchiveCorrupt):
            raise ProblemError(
                503, "(archive)", Code.ARCHIVE_UNREADABLE, "the archived letter cannot be read"
            ) from None
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{letter.id}.pdf"'},
        )

    from letters import http_cases

    app.include_router(http_cases.router(rt, scoped))

    @app.post(
        "/v1/credentials/verify",
        tags=["credentials"],
        dependencies=[scoped("verify")],
        response_model=VerifyResult,
        responses={
            **ERRORS,
            **http_requests.BODY_ERRORS,
            429: {
                "model": Problem,
                "description": "too many failed logins from this source (login-throttled): "
                "try again after Retry-After seconds",
            },
        },
    )
    def verify(request: Request, body: Annotated[VerifyRequest, Body()]) -> Response:
        ledger = rt().ledger
        peer = request.client.host if request.client else None
        source = str(body.source) if body.source else peer
        answer = attempt(
            LedgerCredentials(ledger),
            LedgerAttemptLog(ledger),
            body.reference,
            body.password,
            current(rt().settings),
            rt().settings,
            source=source,
        )
        if answer.verdict is Verdict.THROTTLED:
            wait = answer.retry_after or 1
            reason = f"too many failed logins from this source: try again in {wait} seconds"
            return _too_many(Code.LOGIN_THROTTLED, reason, wait)
        return JSONResponse(content=VerifyResult(result=str(answer.verdict)).model_dump())

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    def metrics_endpoint() -> Response:
        body, content_type = metrics.exposition(rt().ledger, today_oslo(rt().settings))
        return Response(body, media_type=content_type)

    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = base_openapi()
            job = Job.model_json_schema(ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(job.pop("$defs", {}))
            components["Job"] = job
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
