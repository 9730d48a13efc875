"""The case reference: printed on every letter, the debtor's login name for the portal and
the key for QuickPay.

A reference is 4 to 24 characters of A–Z, 0–9 and inner hyphens, compared without regard
to case or spaces. Upstream case systems assign it; the engine only checks and prints it.

>>> validate(' ab-1234 5678 ')
'AB-12345678'
>>> validate('AB')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidLength: The number has an invalid length.
>>> is_valid('AB<script>')
False
>>> format('ab-12345678')
'AB-12345678'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError

MIN_LENGTH = 4
MAX_LENGTH = 24
_PATTERN = re.compile(r"[A-Z0-9](?:[A-Z0-9-]*[A-Z0-9])?")


def compact(number: str) -> str:
    """Upper-case and remove spaces."""
    return "".join(number.split()).upper()


def validate(number: str) -> str:
    """Check characters and length; return the compact reference."""
    number = compact(number)
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise InvalidLength()
    if not _PATTERN.fullmatch(number) or "--" in number:
        raise InvalidFormat()
    return number


def is_valid(number: str) -> bool:
    """Whether the reference is well-formed."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Print form: the compact reference."""
    return compact(number)
