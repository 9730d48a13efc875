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
        placed = rt().ledger.place_hold(ref, body.reason, by=actor_of_token(token))
        content = {"reference": ref, "held": True, "already_held": not placed}
        return JSONResponse(status_code=201 if placed else 200, content=content)

    @r.delete("/v1/cases/{reference}/hold", responses=ERRORS)
    def release(
        reference: Reference, reason: Reason, token: Annotated[str, scoped("hold")]
    ) -> dict[str, Any]:
        from letters.pipeline.intake import release as release_case

        ref = reference_of(reference)
        resumed = release_case(ref, reason, rt(), by=actor_of_token(token))
        return {"reference": ref, "held": False, "resumed": resumed}

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

    @r.delete(
        "/v1/cases/{reference}/close",
        description="Reopen a closed case: its retention period no longer runs.",
        responses=ERRORS,
    )
    def reopen(
        reference: Reference, reason: Reason, token: Annotated[str, scoped("close")]
    ) -> dict[str, Any]:
        ref = reference_of(reference)
        reopened = rt().ledger.reopen_case(ref, actor_of_token(token), reason)
        return {"reference": ref, "closed": False, "reopened": reopened}

    return r
