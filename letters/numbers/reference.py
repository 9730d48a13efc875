"""The case reference: printed on every letter, the debtor's login name for the portal and
the key for QuickPay.

A reference is 4 to 24 characters of A–Z, 0–9 and inner hyphens, compared without regard
to case or spaces (:data:`letters.syntax.REFERENCE`; letters outside ASCII are refused
before the comparison, so ``ı`` is not taken for ``I``). Upstream case systems assign it;
the engine only checks and prints it.

>>> validate(' ab-1234 5678 ')
'AB-12345678'
>>> validate('AB')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidLength: The number has an invalid length.
>>> is_valid('AB<script>'), is_valid('ıııı')
(False, False)
>>> format('ab-12345678')
'AB-12345678'
"""

from __future__ import annotations

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError

from letters import syntax

MIN_LENGTH = syntax.REFERENCE_MIN
MAX_LENGTH = syntax.REFERENCE_MAX


def compact(number: str) -> str:
    """Upper-case and remove spaces."""
    return "".join(number.split()).upper()


def validate(number: str) -> str:
    """Check characters and length; return the compact reference."""
    number = "".join(number.split())
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise InvalidLength()
    if not syntax.matches(syntax.REFERENCE, number):
        raise InvalidFormat()
    return number.upper()


def is_valid(number: str) -> bool:
    """Whether the reference is well-formed."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Print form: the compact reference."""
    return compact(number)
