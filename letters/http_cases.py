"""The HTTP service's calls on a case: hold and release it (scope ``hold``), close and
reopen it (scope ``close``). Each change is audited under the calling token's name
(``token:NAME``) with the reason given."""

# No ``from __future__ import annotations``: FastAPI reads the parameters' annotations at
# run time, and ``scoped(...)`` in them is local to :func:`router`.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from letters import syntax
from letters.codes import Code
from letters.http_models import (
    ERRORS,
    REASON_SCHEMA,
    CloseRequest,
    HoldRequest,
    ProblemError,
    printable_reason,
)
from letters.http_requests import BODY_ERRORS
from letters.ledger.audit import actor_of_token
from letters.numbers import reference as case_reference
from letters.pipeline.runtime import Runtime

Reason = Annotated[
    str,
    Query(min_length=1, max_length=syntax.REASON_MAX, json_schema_extra=REASON_SCHEMA),
    AfterValidator(printable_reason),
]
#: The server checks the form itself (:func:`_ref`), with its own code (``bad-reference``).
Reference = Annotated[
    str,
    Path(
        json_schema_extra={
            "pattern": syntax.REFERENCE,
            "minLength": syntax.REFERENCE_MIN,
            "maxLength": syntax.REFERENCE_MAX,
        }
    ),
]


def reference_of(reference: str) -> str:
    """The compact reference of a path's ``{reference}``: its exact form (no spaces)."""
    if not syntax.matches(syntax.REFERENCE, reference) or not case_reference.is_valid(reference):
        raise ProblemError(422, "reference", Code.BAD_REFERENCE, "not a valid case reference")
    return case_reference.compact(reference)


def router(rt: Callable[[], Runtime], scoped: Callable[[str], Any]) -> APIRouter:
    r = APIRouter(tags=["cases"])

    @r.post(
        "/v1/cases/{reference}/hold",
        status_code=201,
        responses={**ERRORS, **BODY_ERRORS, 200: {"description": "the case was held already"}},
    )
    def hold(
        reference: Reference, body: HoldRequest, token: Annotated[str, scoped("hold")]
    ) -> JSONResponse:
        ref = reference_of(reference)
        ledger = rt().ledger
        placed = ledger.place_hold(ref, body.reason, by=actor_of_token(token))
        content = {
            "reference": ref,
            "held": True,
            "already_held": not placed,
            # the jobs of the case not yet delivered or failed: the letters the hold stops
            "unfinished_jobs": ledger.unfinished_jobs(ref),
        }
        return JSONResponse(status_code=201 if placed else 200, content=content)

    def _release(ref: str, reason: str, token: str) -> dict[str, Any]:
        from letters.pipeline.intake import release as release_case

        was_held = rt().ledger.is_held(ref)
        resumed = release_case(ref, reason, rt(), by=actor_of_token(token)) if was_held else []
        return {"reference": ref, "held": False, "was_held": was_held, "resumed": resumed}

    @r.post(
        "/v1/cases/{reference}/release",
        description="Release every hold on the case, with the reason in the body as for "
        "the hold; the held jobs go on (`resumed`). A case that was not held is unchanged "
        "(`was_held` false).",
        responses={**ERRORS, **BODY_ERRORS},
    )
    def release_posted(
        reference: Reference, body: HoldRequest, token: Annotated[str, scoped("hold")]
    ) -> dict[str, Any]:
        return _release(reference_of(reference), body.reason, token)

    @r.delete(
        "/v1/cases/{reference}/hold",
        description="The same as `POST /v1/cases/{reference}/release`, with the reason in "
        "the query; kept for the clients written against it.",
        deprecated=True,
        responses=ERRORS,
    )
    def release(
        reference: Reference, reason: Reason, token: Annotated[str, scoped("hold")]
    ) -> dict[str, Any]:
        return _release(reference_of(reference), reason, token)

    @r.post(
        "/v1/cases/{reference}/close",
        status_code=201,
        description="The case is over (paid, withdrawn, sent to court): from now on its "
        "retention period runs, after which `letters purge` removes its letters' PDFs and "
        "the debtor's personal data (the evidence hashes and the history stay). Letters "
        "still on their way are not stopped: hold the case for that.",
        responses={
            **ERRORS,
            **BODY_ERRORS,
            200: {"description": "the case was closed already (unchanged)"},
        },
    )
    def close(
        reference: Reference, body: CloseRequest, token: Annotated[str, scoped("close")]
    ) -> JSONResponse:
        ref = reference_of(reference)
        closure, made = rt().ledger.close_case(ref, actor_of_token(token), body.reason)
        content = {
            "reference": ref,
            "closed": True,
            "already_closed": not made,
            **closure.model_dump(mode="json"),
        }
        return JSONResponse(status_code=201 if made else 200, content=content)

    def _reopen(ref: str, reason: str, token: str) -> dict[str, Any]:
        reopened = rt().ledger.reopen_case(ref, actor_of_token(token), reason)
        return {"reference": ref, "closed": False, "reopened": reopened}

    @r.post(
        "/v1/cases/{reference}/reopen",
        description="Reopen a closed case, with the reason in the body as for the close: "
        "its retention period no longer runs.",
        responses={**ERRORS, **BODY_ERRORS},
    )
    def reopen_posted(
        reference: Reference, body: CloseRequest, token: Annotated[str, scoped("close")]
    ) -> dict[str, Any]:
        return _reopen(reference_of(reference), body.reason, token)

    @r.delete(
        "/v1/cases/{reference}/close",
        description="The same as `POST /v1/cases/{reference}/reopen`, with the reason in "
        "the query; kept for the clients written against it.",
        deprecated=True,
        responses=ERRORS,
    )
    def reopen(
        reference: Reference, reason: Reason, token: Annotated[str, scoped("close")]
    ) -> dict[str, Any]:
        return _reopen(reference_of(reference), reason, token)

    return r
