"""The value types of the job contract (:mod:`letters.job`): amounts, days, countries and
the numbers with check digits, each refused with its stable code, and the schema each shows
(the forms are :mod:`letters.syntax`'s)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from babel import Locale
from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)
from stdnum.exceptions import ValidationError as NumberError

from letters import syntax
from letters.codes import Code

_AMOUNT = re.compile(syntax.AMOUNT)
#: Babel's territories are ISO 3166-1 alpha-2 codes plus some pseudo-regions; XK (Kosovo)
#: is user-assigned but used by Posten and banks.
_PSEUDO_REGIONS = frozenset({"ZZ", "EU", "EZ", "UN", "QO"})
COUNTRIES = frozenset(
    str(code)
    for code in Locale("nb").territories
    if re.fullmatch("[A-Z]{2}", str(code))
    and str(code) not in _PSEUDO_REGIONS
    and (not str(code).startswith("X") or str(code) == "XK")
)


def refusal(code: Code, reason: str) -> PydanticCustomError:
    """A validator's refusal with its stable code (pydantic reports the code as the error's
    type). A model validator naming a field starts ``reason`` with ``"field: "``."""
    return PydanticCustomError(str(code), reason)  # no context: the text is used as it is


def _amount(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise refusal(
            Code.BAD_AMOUNT, 'amounts are decimal strings in NOK such as "1250.00", not numbers'
        )
    if not _AMOUNT.fullmatch(value):
        raise refusal(
            Code.BAD_AMOUNT,
            "not an amount: use digits with at most two decimals and a '.' (e.g. \"1250.50\")",
        )
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern rules this out
        raise refusal(Code.BAD_AMOUNT, "not an amount") from exc


def _amount_schema(pattern: str, description: str) -> WithJsonSchema:
    schema = {"type": "string", "pattern": pattern, "maxLength": syntax.AMOUNT_MAX}
    return WithJsonSchema({**schema, "description": description})


Amount = Annotated[
    Decimal, BeforeValidator(_amount), _amount_schema(syntax.AMOUNT, "NOK amount, decimal string")
]
#: An amount that must be more than 0: the server refuses 0 with ``not-positive``.
PositiveAmount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    _amount_schema(syntax.POSITIVE_AMOUNT, "NOK amount as a decimal string, more than 0"),
]


def _day(value: Any) -> Any:
    """A day is ISO text (``YYYY-MM-DD``): pydantic alone would also take the number 0 or
    the text ``"0"`` as 1970-01-01, and a date with a time of midnight."""
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and syntax.matches(syntax.DATE, value):
        return value
    raise refusal(Code.BAD_DATE, "not a date: use ISO 8601, YYYY-MM-DD")


Day = Annotated[
    dt.date,
    BeforeValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "pattern": syntax.DATE}),
]


#: Printed text: not only white space (the server strips the ends, then counts).
TEXT: dict[str, Any] = {"pattern": syntax.PRINTED_TEXT}
#: Text that may be empty or is not printed: no NUL.
ANY_TEXT: dict[str, Any] = {"pattern": syntax.TEXT}


def pattern(pattern: str, **more: Any) -> dict[str, Any]:
    """The ``pattern`` (and lengths) a field's schema shows: the server checks the same
    form with its own code (:mod:`letters.syntax`)."""
    return {"pattern": pattern, **more}


_NUMBER_PROBLEMS = {
    InvalidChecksum: "wrong check digit",
    InvalidLength: "wrong length",
    InvalidFormat: "wrong format (digits expected)",
    InvalidComponent: "a part of it is impossible (such as a birth date that does not exist)",
}


def number_problem(exc: NumberError) -> str:
    """Plain words for a python-stdnum error."""
    for cls, words in _NUMBER_PROBLEMS.items():
        if isinstance(exc, cls):
            return words
    return str(exc)


def checked_number(validator: Any, what: str, code: Code) -> Any:
    def check(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(validator(value))
        except NumberError as exc:
            raise refusal(code, f"not a valid {what}: {number_problem(exc)}") from None

    return check
