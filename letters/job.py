"""The job contract, version 1: one JSON document per letter, sent by upstream systems.

This module is the contract's *shape*: the fields, their types and formats, and the check
digits of the numbers in them. :func:`letters.validation.parse` is the single door in: it
checks the shape here, then the characters the letter can print
(:mod:`letters.glyphs`) and the legal rules (:mod:`letters.rules`), and either returns a
:class:`Job` or raises :class:`JobRejected` with one :class:`FieldError` per problem, each
naming the field path, a stable code (:mod:`letters.codes`) and the reason.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    JsonValue,
    StrictBool,
    field_validator,
    model_validator,
)
from stdnum.exceptions import ValidationError as NumberError
from stdnum.no import fodselsnummer, orgnr

from letters import syntax
from letters.clock import today_oslo
from letters.codes import Code
from letters.job_values import ANY_TEXT as _ANY_TEXT
from letters.job_values import COUNTRIES as _COUNTRIES
from letters.job_values import TEXT as _TEXT
from letters.job_values import Amount, Day, PositiveAmount, number_problem, refusal
from letters.job_values import checked_number as _number
from letters.job_values import pattern as _pattern
from letters.refusals import FieldError, JobRejected, from_pydantic

#: re-exported: the contract's refusals and the words for a number's problem
__all__ = ["FieldError", "JobRejected", "from_pydantic", "number_problem", "refusal"]
from letters.config import get_settings
from letters.numbers import account
from letters.numbers import kid as kid_number
from letters.numbers import reference as case_reference

Kind = Literal[
    "reminder", "collection_notice", "payment_request", "enforcement_notice", "payment_plan"
]
Language = Literal["nb", "en"]
Channel = Literal["digipost", "email", "print"]
#: The fees a letter may list; what each may be is in :data:`letters.rules.FEES`.
FEE_CODES = ("reminder_fee", "notice_fee", "payment_request_fee", "collection_fee")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Creditor(_Model):
    name: str = Field(min_length=1, max_length=100, json_schema_extra=_TEXT)
    org_number: str = Field(json_schema_extra=_pattern(syntax.ORG_NUMBER))

    _org = field_validator("org_number")(
        _number(orgnr.validate, "organisation number", Code.BAD_ORG_NUMBER)
    )


class Address(_Model):
    model_config = ConfigDict(
        **_Model.model_config,
        json_schema_extra={  # a Norwegian postal code (country NO, the default) is 4 digits
            "if": {"properties": {"country": {"const": "NO"}}},
            "then": {"properties": {"postal_code": {"pattern": syntax.NORWEGIAN_POSTAL_CODE}}},
        },
    )
    lines: list[Annotated[str, Field(min_length=1, max_length=50, json_schema_extra=_TEXT)]] = (
        Field(min_length=1, max_length=3)
    )
    postal_code: str = Field(
        min_length=1,
        max_length=syntax.POSTAL_CODE_MAX,
        json_schema_extra=_pattern(syntax.POSTAL_CODE),
        description="a Norwegian one (country NO) is exactly 4 digits",
    )
    city: str = Field(min_length=1, max_length=40, json_schema_extra=_TEXT)
    country: str = Field(
        "NO",
        description="ISO 3166 alpha-2 country code",
        json_schema_extra={"enum": list[JsonValue](sorted(_COUNTRIES))},
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.upper()
        if value not in _COUNTRIES:
            raise refusal(Code.BAD_COUNTRY, f"{value!r} is not an ISO 3166 alpha-2 country code")
        return value

    @field_validator("postal_code")
    @classmethod
    def _postal_chars(cls, value: str) -> str:
        if not syntax.matches(syntax.POSTAL_CODE, value):
            raise refusal(
                Code.BAD_POSTAL_CODE, "postal codes hold letters, digits, spaces and hyphens only"
            )
        return value

    @model_validator(mode="after")
    def _norwegian_postal_code(self) -> Address:
        if self.country == "NO" and not syntax.matches(
            syntax.NORWEGIAN_POSTAL_CODE, self.postal_code
        ):
            raise refusal(
                Code.BAD_POSTAL_CODE, "postal_code: a Norwegian postal code is exactly 4 digits"
            )
        return self


class Consents(_Model):
    # strictly true or false: "yes", 1 or "0" are refused, not read as a consent
    digipost: StrictBool = False
    email: StrictBool = False


class Debtor(_Model):
    type: Literal["person", "company"]
    name: str = Field(min_length=1, max_length=70, json_schema_extra=_TEXT)
    national_id: str | None = Field(
        None,
        description="fødselsnummer or D-number; used only to identify the recipient "
        "for digital delivery, never printed",
        json_schema_extra=_pattern(syntax.NATIONAL_ID),
    )
    org_number: str | None = Field(None, json_schema_extra=_pattern(syntax.ORG_NUMBER))
    address: Address
    email: EmailStr | None = None
    consents: Consents = Consents()

    _nid = field_validator("national_id")(
        _number(fodselsnummer.validate, "national id number", Code.BAD_NATIONAL_ID)
    )
    _org = field_validator("org_number")(
        _number(orgnr.validate, "organisation number", Code.BAD_ORG_NUMBER)
    )

    @model_validator(mode="after")
    def _ids_match_type(self) -> Debtor:
        if self.type == "company" and self.national_id:
            raise refusal(
                Code.ID_MISMATCH, "national_id: a company has no national id; give org_number"
            )
        if self.type == "person" and self.org_number:
            raise refusal(Code.ID_MISMATCH, "org_number: a person has no organisation number")
        return self


class Fee(_Model):
    code: str = Field(
        description=f"one of: {', '.join(FEE_CODES)}", json_schema_extra={"enum": list(FEE_CODES)}
    )
    label: str | None = Field(None, max_length=60, json_schema_extra=_ANY_TEXT)
    amount: PositiveAmount
    charged_on: Day | None = Field(
        None,
        description="the day the fee was charged, when an earlier letter charged it "
        "(default: this letter's date)",
    )

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise refusal(Code.NOT_POSITIVE, "a fee must be more than 0")
        return value


class Notice(_Model):
    """The collection notice (inkassovarsel, inkassoloven § 9) a payment request follows."""

    sent_on: Day = Field(description="the day the collection notice was sent")
    deadline: Day = Field(description="the payment deadline the collection notice gave")


class Objection(_Model):
    """Whether the debtor objected to the claim (innsigelse) before an enforcement notice
    (tvangsfullbyrdelsesloven § 4-18), and when we answered; the rules are in
    :mod:`letters.rules.objection`."""

    received: bool = Field(description="whether the debtor has objected to the claim")
    received_on: Day | None = Field(
        None, description="the day the objection was received (required when received)"
    )
    answered_on: Day | None = Field(
        None, description="the day we answered the objection (an open one refuses the notice)"
    )

    @model_validator(mode="after")
    def _dates_match_received(self) -> Objection:
        if self.received and self.received_on is None:
            raise refusal(Code.REQUIRED, "received_on: give the day the objection was received")
        if not self.received:
            for name in ("received_on", "answered_on"):
                if getattr(self, name) is not None:
                    raise refusal(
                        Code.NOT_ALLOWED, f"{name}: no objection was received (received is false)"
                    )
        return self


class Claim(_Model):
    invoice_number: str = Field(min_length=1, max_length=40, json_schema_extra=_TEXT)
    invoice_date: Day
    due_date: Day
    principal: PositiveAmount
    interest: Amount | None = None
    interest_from: Day | None = Field(
        None, description="the day interest runs from (default: due_date)"
    )
    description: str | None = Field(
        None, max_length=120, description="what the claim concerns", json_schema_extra=_ANY_TEXT
    )
    fees: list[Fee] = []
    notice: Notice | None = Field(
        None,
        description="the collection notice sent for the claim: required in a payment request, "
        "optional in an enforcement notice, not allowed in the other kinds",
    )

    @model_validator(mode="after")
    def _dates(self) -> Claim:
        if self.due_date < self.invoice_date:
            raise refusal(
                Code.DUE_BEFORE_INVOICE, "due_date: the due date is before the invoice date"
            )
        if self.principal <= 0:
            raise refusal(Code.NOT_POSITIVE, "principal: must be more than 0")
        return self


class Payment(_Model):
    account_number: str = Field(json_schema_extra=_pattern(syntax.ACCOUNT))
    kid: str | None = Field(
        None,
        description="a `-` check digit only in mod11",
        json_schema_extra=_pattern(syntax.KID, maxLength=syntax.KID_MAX),
    )
    kid_scheme: kid_number.Scheme | None = Field(
        None, description="mod10 or mod11 (default: the agency's configured scheme)"
    )
    due_date: Day | None = None

    _acc = field_validator("account_number")(
        _number(account.validate, "account number", Code.BAD_ACCOUNT)
    )

    @model_validator(mode="after")
    def _kid(self) -> Payment:
        scheme = self.kid_scheme or get_settings().kid_scheme
        object.__setattr__(self, "kid_scheme", scheme)
        if self.kid is not None:
            try:
                object.__setattr__(self, "kid", kid_number.validate(self.kid, scheme))
            except NumberError as exc:
                raise refusal(
                    Code.BAD_KID, f"kid: not a valid {scheme} KID: {number_problem(exc)}"
                ) from None
        return self


class Instalment(_Model):
    """One instalment of a payment plan: what is paid, by when, with which KID."""

    amount: PositiveAmount
    due_date: Day = Field(description="the agreed day; must be a business day")
    kid: str | None = Field(
        None,
        description="the instalment's own KID (validated with payment.kid_scheme); generated "
        "from the job when not given, never equal to the letter's KID or another instalment's",
        json_schema_extra=_pattern(syntax.KID, maxLength=syntax.KID_MAX),
    )

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise refusal(Code.NOT_POSITIVE, "an instalment must be more than 0")
        return value


class Plan(_Model):
    """The payment plan a ``payment_plan`` letter confirms (the rules on it:
    :mod:`letters.rules.plans`)."""

    agreed_on: Day = Field(description="the day the debtor and the agency agreed the plan")
    instalments: list[Instalment] = Field(
        min_length=1, max_length=12, description="in the order they fall due (at most 4)"
    )


class Job(_Model):
    """One letter job as received (contract version 1)."""

    version: Literal[1] = 1
    id: str = Field(pattern=syntax.JOB_ID, description="idempotency key")
    kind: Kind
    language: Language = "nb"
    letter_date: Day = Field(default_factory=today_oslo)
    reference: str = Field(
        json_schema_extra=_pattern(
            syntax.REFERENCE, minLength=syntax.REFERENCE_MIN, maxLength=syntax.REFERENCE_MAX
        )
    )
    creditor: Creditor
    debtor: Debtor
    claims: list[Claim] = Field(min_length=1, max_length=200)
    payment: Payment
    plan: Plan | None = Field(
        None, description="the agreed payment plan: required in a payment_plan, not allowed else"
    )
    channels: list[Channel] | None = Field(
        None, description="preference order", json_schema_extra={"uniqueItems": True}
    )
    objection: Objection | None = Field(
        None,
        description="whether the debtor objected and whether we answered: required in an "
        "enforcement notice, not allowed in the other kinds",
    )

    _ref = field_validator("reference")(
        _number(case_reference.validate, "case reference", Code.BAD_REFERENCE)
    )

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise refusal(Code.DUPLICATE_CHANNEL, "a channel is named twice")
        return value


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the job contract (what `letters schema` prints)."""
    schema = Job.model_json_schema()
    schema["$id"] = "https://letters.example/schema/job-v1.json"
    schema["title"] = "Letter job (contract version 1)"
    return schema


def fingerprint_document(document: Any) -> str:
    """SHA-256 of a job document as sent, in a canonical form."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def fingerprint(job: Job) -> str:
    """SHA-256 of the job as sent, in a canonical form (same content → same hash). Defaults
    filled in here (today's letter date) are left out, so a retry after midnight of a job
    without a letter date is still the same job."""
    sent = job.model_dump(mode="json", exclude_unset=True)
    canonical = json.dumps(sent, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
