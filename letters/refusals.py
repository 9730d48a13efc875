"""Why a job was refused: :class:`FieldError` (field, stable code, reason) and
:class:`JobRejected`, and pydantic's errors in those terms."""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ValidationError

from letters import codes, syntax
from letters.codes import Code


class FieldError(BaseModel):
    """One reason a job was refused: where, a stable code (:mod:`letters.codes`), and why
    in words. Upstream systems key on ``code``; ``reason`` may be reworded."""

    field: str
    code: Code
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason} [{self.code}]"


class JobRejected(Exception):
    """The job was refused; ``errors`` names every field and reason."""

    def __init__(self, errors: list[FieldError], job_id: str | None = None) -> None:
        self.errors = errors
        self.job_id = job_id
        super().__init__("; ".join(str(e) for e in errors))

    @classmethod
    def one(cls, field: str, code: Code, reason: str, job_id: str | None = None) -> JobRejected:
        """A refusal for one reason."""
        return cls([FieldError(field=field, code=code, reason=reason)], job_id)


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _path(loc: tuple[int | str, ...]) -> str:
    r"""``claims[0].fees[1].amount``; a key that is not a plain name (it came from the input)
    is quoted with escapes, so an error line can never be split or forged by it.

    >>> _path(("debtor", "address", "lines", 0))
    'debtor.address.lines[0]'
    >>> print(_path(("debtor", "bad\nkey")))
    debtor["bad\nkey"]
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _NAME.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(job)"


#: pydantic's own error types → our codes (ours come through as their own type).
_PYDANTIC_CODES = {
    "missing": Code.REQUIRED,
    "extra_forbidden": Code.UNKNOWN_FIELD,
    "string_pattern_mismatch": Code.BAD_FORMAT,
    "string_too_short": Code.TOO_SHORT,
    "too_short": Code.TOO_SHORT,
    "string_too_long": Code.TOO_LONG,
    "too_long": Code.TOO_LONG,
    "literal_error": Code.NOT_ALLOWED,
    "enum": Code.NOT_ALLOWED,
    "model_type": Code.NOT_AN_OBJECT,
    "model_attributes_type": Code.NOT_AN_OBJECT,
    "dict_type": Code.NOT_AN_OBJECT,
    "json_invalid": Code.NOT_JSON,
    "json_type": Code.NOT_JSON,
}


def _code(err_type: str, field: str) -> Code:
    ours = codes.lookup(err_type)
    if ours is not None:
        return ours
    if err_type in _PYDANTIC_CODES:
        return _PYDANTIC_CODES[err_type]
    if err_type.startswith(("date_", "datetime_")):
        return Code.BAD_DATE
    if err_type == "value_error" and field.endswith("email"):
        return Code.BAD_EMAIL
    if err_type.endswith(("_type", "_parsing")):
        return Code.WRONG_TYPE
    return Code.INVALID


def path_of(loc: tuple[int | str, ...]) -> str:
    """A pydantic location as a field path (:func:`_path`: keys from the input quoted)."""
    return _path(loc)


def code_for(err_type: str, field: str) -> Code:
    """The code of a pydantic error of type ``err_type`` at ``field`` (for the HTTP
    service's own request bodies and parameters, as for a job)."""
    return _code(err_type, field)


#: pydantic's wording → the product's (one wording for one situation, in every command).
_WORDS = {
    "missing": "required, and missing (see `letters schema`)",
    "model_type": "must be an object ({…})",
    "model_attributes_type": "must be an object ({…})",
    "dict_type": "must be an object ({…})",
    "list_type": "must be a list ([…])",
    "string_type": "must be text",
    "bool_type": "must be true or false",
}


#: The patterns of the contract (letters.syntax) as a person reads them.
_PATTERNS = {
    syntax.JOB_ID: f"must be 1 to {syntax.JOB_ID_MAX} letters (A-Z, a-z), digits or . _ : -",
    syntax.REFERENCE: "must be letters A-Z and digits, with single hyphens inside",
    syntax.LETTER_ID: f"must be {syntax.LETTER_ID_MAX} digits",
    syntax.DATE: "must be a date as YYYY-MM-DD",
}


def in_our_words(err_type: str, message: str) -> str:
    """A pydantic message in the product's wording: the common types by name, the rest
    with pydantic's "Input should be" and "String should have" said as "must".

    >>> in_our_words("missing", "Field required")
    'required, and missing (see `letters schema`)'
    >>> in_our_words("literal_error", "Input should be 'nb' or 'en'")
    "must be 'nb' or 'en'"
    >>> in_our_words("string_too_long", "String should have at most 70 characters")
    'must have at most 70 characters'
    >>> in_our_words("too_short", "List should have at least 1 item after validation, not 0")
    'must have at least 1 item, not 0'
    >>> in_our_words("string_pattern_mismatch", "String should match pattern '^[0-9]{20}$'")
    'must be 20 digits'
    """
    if err_type in _WORDS:
        return _WORDS[err_type]
    if message.startswith("value is not a valid email address: "):
        rest = message.removeprefix("value is not a valid email address: ")
        return f"not a valid e-mail address: {rest[:1].lower()}{rest[1:]}".rstrip(".")
    if err_type == "string_pattern_mismatch":
        pattern = message.removeprefix("String should match pattern ").strip("'")
        return _PATTERNS.get(pattern, "does not have the form the contract asks for")
    if err_type == "json_invalid":
        return "not valid JSON: " + message.removeprefix("Invalid JSON: ")
    said = re.sub(r"^(Input|Value|String|List|Dictionary) should (be|have)\b", r"must \2", message)
    return said.replace(" after validation", "")


def from_pydantic(exc: ValidationError) -> list[FieldError]:
    """One :class:`FieldError` per problem pydantic found, each with its code."""
    errors = []
    for err in exc.errors(include_url=False, include_input=False):
        field = _path(tuple(err["loc"]))
        reason = in_our_words(err["type"], str(err["msg"]).removeprefix("Value error, "))
        # A model validator names its field at the start of the message ("kid: ...").
        head, sep, tail = reason.partition(": ")
        if sep and re.fullmatch(r"[a-z_]+", head):
            field, reason = (f"{field}.{head}" if field != "(job)" else head), tail
        if err["type"] == "extra_forbidden":
            reason = "unknown field (check the spelling against `letters schema`)"
        errors.append(FieldError(field=field, code=_code(err["type"], field), reason=reason))
    return errors
