"""The HTTP API's request and answer bodies (what OpenAPI documents)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    WithJsonSchema,
    field_validator,
)

from letters import syntax
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

    @classmethod
    def of(cls, status: int, errors: list[FieldError]) -> ProblemError:
        """A refusal with several field errors."""
        problem = cls(status, "", Code.INVALID, "")
        problem.errors = errors
        return problem


#: The refusals every authenticated call may answer, for OpenAPI.
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no token, or an unknown or revoked one"},
    403: {"model": Problem, "description": "the token lacks the scope"},
    422: {"model": Problem, "description": "bad input: one field and reason per problem"},
}


def printable_reason(value: str) -> str:
    """A reason for the audit log: no NUL, no control characters (:data:`syntax.REASON`)."""
    if "\x00" in value:
        raise refusal(Code.NUL_CHARACTER, "NUL characters are not allowed")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise refusal(Code.UNPRINTABLE, "control characters (line breaks, tabs) are not allowed")
    return value


#: The schema of a reason (the server checks the same with :func:`printable_reason`).
REASON_SCHEMA: dict[str, Any] = {"pattern": syntax.REASON}


class HoldRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")  # unknown-field, as in a job
    reason: str = Field(min_length=1, max_length=syntax.REASON_MAX, json_schema_extra=REASON_SCHEMA)

    _printable = field_validator("reason")(printable_reason)


class CloseRequest(HoldRequest):
    """Why upstream closes the case (paid, withdrawn, sent to court): recorded, audited."""


def _address_text(value: Any) -> Any:
    """An IP address is text: pydantic alone takes ``false`` and ``0`` for 0.0.0.0."""
    if value is None or isinstance(value, str):
        return value
    raise refusal(Code.WRONG_TYPE, 'an IP address as text, such as "192.0.2.1"')


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(max_length=64)
    password: str = Field(max_length=128)
    source: Annotated[
        IPvAnyAddress | None,
        BeforeValidator(_address_text),
        WithJsonSchema(
            {
                "anyOf": [
                    {"type": "string", "format": "ipv4"},
                    {"type": "string", "format": "ipv6"},
                    {"type": "null"},
                ]
            }
        ),
    ] = Field(
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
