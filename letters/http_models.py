"""The HTTP API's request and answer bodies (what OpenAPI documents)."""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel, Field, IPvAnyAddress, field_validator

from letters.codes import Code
from letters.job import FieldError, refusal


class Accepted(BaseModel):
    job_id: str
    letter_id: str
    status: str = Field(description="accepted (new), or the existing job's status")
    note: str | None = Field(
        None,
        description="set when the job is kept but not yet queued (the broker was unreachable: "
        "the sweeper queues it when it is back)",
    )


class BatchItem(BaseModel):
    index: int
    job_id: str | None = None
    letter_id: str | None = None
    status: str = Field(description="accepted | existing | refused | conflict")
    errors: list[FieldError] = []
    note: str | None = Field(None, description="as in Accepted")


class BatchResult(BaseModel):
    accepted: int
    refused: int
    items: list[BatchItem]


class Problem(BaseModel):
    errors: list[FieldError]


class ProblemError(Exception):
    """A refusal the service answers with ``status`` and one field error."""

    def __init__(self, status: int, field: str, code: Code, reason: str) -> None:
        self.status, self.errors = status, [FieldError(field=field, code=code, reason=reason)]


#: The refusals every authenticated call may answer, for OpenAPI.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no token, or an unknown or revoked one"},
    403: {"model": Problem, "description": "the token lacks the scope"},
    422: {"model": Problem, "description": "bad input: one field and reason per problem"},
}


class HoldRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=500)

    @field_validator("reason")
    @classmethod
    def _printable(cls, value: str) -> str:
        if "\x00" in value:
            raise refusal(Code.NUL_CHARACTER, "NUL characters are not allowed")
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            raise refusal(
                Code.UNPRINTABLE, "control characters (line breaks, tabs) are not allowed"
            )
        return value


class CloseRequest(HoldRequest):
    """Why upstream closes the case (paid, withdrawn, sent to court): recorded, audited."""


class VerifyRequest(BaseModel):
    reference: str = Field(max_length=64)
    password: str = Field(max_length=128)
    source: IPvAnyAddress | None = Field(
        None,
        description="the debtor's IP address as the portal saw it: failed tries are limited "
        "per source (IPv6 per /64), so one source's failures never lock the debtor out "
        "elsewhere; without it the caller's own address is the source",
    )


class VerifyResult(BaseModel):
    result: str = Field(
        description="valid | expired | wrong | locked (too many wrong passwords for this "
        "reference from this source; other sources are not affected)"
    )
