"""KID (kundeidentifikasjonsnummer), the customer identification number on a payment.

A KID is 2 to 25 digits whose last digit is a check digit computed with MOD10 (Luhn) or
MOD11 over the digits before it. In MOD11 a remainder of 1 gives the check "digit" ``-``,
which payers often mistype, so :func:`generate` never produces one.

Worked examples from the agency's domain notes (base → MOD10 KID, MOD11 KID):

>>> [calc_check_digit(b, 'mod10') for b in ('12345678', '1234567890', '40', '31')]
['2', '3', '6', '5']
>>> [calc_check_digit(b, 'mod11') for b in ('12345678', '1234567890', '40', '31')]
['5', '3', '-', '0']
>>> validate('1234 5678 2')
'123456782'
>>> validate('40-', 'mod11')
'40-'
>>> validate('123456783')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidChecksum: The number's checksum or check digit is invalid.
>>> is_valid('٣4'), is_valid('²3')   # digits a bank cannot take
(False, False)
>>> format('123456782')
'123456782'

A generated KID is derived from a seed (the letter's job) so a retry gives the same KID:

>>> generate('job-1', length=10) == generate('job-1', length=10)
True
>>> is_valid(generate('job-1', length=10, scheme='mod11'), 'mod11')
True
"""

from __future__ import annotations

import hashlib
from typing import Literal

from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import clean

Scheme = Literal["mod10", "mod11"]
SCHEMES: tuple[Scheme, ...] = ("mod10", "mod11")
MIN_LENGTH = 2
MAX_LENGTH = 25  # the OCR record's KID field has 25 positions


def _digits(text: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also accepts ``²`` and Arabic-Indic digits, which
    no bank can process."""
    return text.isascii() and text.isdigit()


def compact(number: str) -> str:
    """Remove the spaces and dots a payer might type (``-`` is a MOD11 check digit).

    >>> compact(' 1234 5678.2 ')
    '123456782'
    """
    return clean(number, " .").strip()


def calc_check_digit(base: str, scheme: Scheme = "mod10") -> str:
    """Return the check digit for the base (all digits but the last)."""
    if not _digits(base):
        raise InvalidFormat()
    if scheme == "mod10":
        total = 0
        for i, ch in enumerate(reversed(base)):
            product = int(ch) * (2 if i % 2 == 0 else 1)
            total += product - 9 if product > 9 else product
        return str((10 - total % 10) % 10)
    if scheme == "mod11":
        total = sum(int(ch) * (2 + i % 6) for i, ch in enumerate(reversed(base)))
        r = total % 11
        return "0" if r == 0 else "-" if r == 1 else str(11 - r)
    raise ValueError(f"unknown KID scheme {scheme!r}")


def validate(number: str, scheme: Scheme = "mod10") -> str:
    """Check the KID's format, length and check digit; return it compacted."""
    number = compact(number)
    if not _digits(number[:-1]) or not (_digits(number[-1:]) or number[-1:] == "-"):
        raise InvalidFormat()
    if number.endswith("-") and scheme != "mod11":
        raise InvalidFormat()
    if not MIN_LENGTH <= len(number) <= MAX_LENGTH:
        raise InvalidLength()
    if calc_check_digit(number[:-1], scheme) != number[-1]:
        raise InvalidChecksum()
    return number


def is_valid(number: str, scheme: Scheme = "mod10") -> bool:
    """Whether the KID is valid under the scheme."""
    try:
        return bool(validate(number, scheme))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the KID as printed: digits without grouping, as banks expect it typed."""
    return compact(number)


def generate(seed: str, length: int = 15, scheme: Scheme = "mod10") -> str:
    """Derive a KID of ``length`` digits (check digit included) from ``seed``.

    The same seed always gives the same KID. In MOD11, bases whose check digit would be
    ``-`` are skipped by re-deriving with a counter, so every generated KID is all digits.
    """
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        raise InvalidLength()
    counter = 0
    while True:
        digest = hashlib.sha256(f"kid:{counter}:{seed}".encode()).digest()
        base = str(int.from_bytes(digest, "big") % 10 ** (length - 1)).zfill(length - 1)
        check = calc_check_digit(base, scheme)
        if check != "-":
            return base + check
        counter += 1
