"""Norwegian bank account numbers (kontonummer), as printed on a letter.

Validation is python-stdnum's ``stdnum.no.kontonr`` (11 digits, MOD11 weights
5,4,3,2,7,6,5,4,3,2). This module adds the grouping that letters and giro forms print.

>>> validate('8601.11.17947')
'86011117947'
>>> format('86011117947')
'8601 11 17947'
>>> is_valid('86011117948')
False
"""

from __future__ import annotations

from stdnum.exceptions import ValidationError
from stdnum.no import kontonr


def compact(number: str) -> str:
    """Remove spaces and dots."""
    return str(kontonr.compact(number))


def validate(number: str) -> str:
    """Check length and check digit; return the 11 digits."""
    number = compact(number)
    if len(number) != 11:  # stdnum also accepts 7-digit postgiro numbers; letters do not
        from stdnum.exceptions import InvalidLength

        raise InvalidLength()
    kontonr.validate(number)
    return number


def is_valid(number: str) -> bool:
    """Whether the account number is valid."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Print form: ``4 + 2 + 5`` digits separated by spaces."""
    number = compact(number)
    return f"{number[:4]} {number[4:6]} {number[6:]}"
