"""The inserter control code: 16 digits on every page of a print batch.

The print vendor's inserting machine reads it to know where each letter (one envelope's
set of sheets) starts and ends. The digits are ``BBBB LLLLLL PP MM E C``:

=======  ======  =================================================================
digits   field   meaning
=======  ======  =================================================================
1-4      batch   the batch sequence number modulo 10000
5-10     letter  the letter's sequence number within the batch, 1-999999
11-12    page    this page's number within the letter, 1-99
13-14    pages   the letter's page count, 1-99
15       end     end-of-set flag: 1 on the letter's last page, 0 on every other
16       check   Luhn (mod 10) check digit over digits 1-15
=======  ======  =================================================================

The check digit is not there for the scanner (Code128 carries its own check symbol) but
because an even number of digits keeps the symbol in Code128 set C: 15 digits would need a
switch to set B for the last digit. It also lets an operator's keyed-in code be checked.
The symbol and where it is drawn are :mod:`channels.printing.inserter`'s.

The verbs follow python-stdnum (:func:`compact`, :func:`validate`, :func:`is_valid`,
:func:`format`, :func:`calc_check_digit`); :func:`encode` makes the code of one page.
A refusal names the field that is wrong.

>>> encode(42, 17, 1, 3)
'0042000017010307'
>>> encode(42, 17, 3, 3)  # the last page: end-of-set flag 1
'0042000017030313'
>>> encode(10042, 17, 3, 3)  # the batch sequence wraps at 10000
'0042000017030313'
>>> format('0042000017010307')
'0042 000017 01 03 0 7'
>>> validate('0042 000017 01 03 0 7')
'0042000017010307'
>>> is_valid('0042000017010307'), is_valid('0042000017010306')
(True, False)
>>> encode(42, 0, 1, 1)
Traceback (most recent call last):
    ...
ValueError: letter: 0 is not in 1-999999
>>> validate('0042000017010305')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidChecksum: check digit: 5, expected 7
>>> validate('0042000017010315')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidComponent: end-of-set flag: 1 on page 1 of 3 (1 only on the last page)
>>> validate('0042000017000308')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidComponent: page: 0 is not in 1-99
>>> validate('42')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidLength: length: 2 digits, expected 16
"""

from __future__ import annotations

import re

from stdnum import luhn
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

LENGTH = 16
#: The fields: name, first digit (0-based), number of digits, meaning.
FIELDS = (
    ("batch", 0, 4, "batch sequence number modulo 10000"),
    ("letter", 4, 6, "letter sequence number within the batch, 1-999999"),
    ("page", 10, 2, "page number within the letter, 1-99"),
    ("pages", 12, 2, "page count of the letter, 1-99"),
    ("end", 14, 1, "end-of-set flag: 1 on the letter's last page, else 0"),
    ("check", 15, 1, "Luhn (mod 10) check digit over digits 1-15"),
)
#: The ranges of the numbered fields, checked in this order.
_RANGES = (("batch", 0, 9999), ("letter", 1, 999_999), ("pages", 1, 99), ("page", 1, 99))


def _range_problem(field: dict[str, int]) -> str | None:
    """What is wrong with the fields' values, naming the field, or None."""
    for name, low, high in _RANGES:
        if not low <= field[name] <= high:
            return f"{name}: {field[name]} is not in {low}-{high}"
    if field["page"] > field["pages"]:
        return f"page: {field['page']} is after the last page ({field['pages']})"
    return None


def compact(number: str) -> str:
    """The code without the spaces and dashes a person may type in it.

    >>> compact(' 0042-000017 01 03 0 7 ')
    '0042000017010307'
    """
    return re.sub(r"[\s-]", "", number)


def calc_check_digit(number: str) -> str:
    """The Luhn check digit over the first 15 digits.

    >>> calc_check_digit('004200001701030')
    '7'
    """
    return str(luhn.calc_check_digit(number))


def encode(batch: int, letter: int, page: int, pages: int) -> str:
    """The code for page ``page`` of ``pages`` of letter ``letter`` in batch ``batch``.

    ``batch`` is the batch's running sequence number; only its last four digits are kept.
    :class:`ValueError` names the argument that is out of range.

    >>> encode(7, 123456, 2, 2)
    '0007123456020216'
    >>> encode(-1, 1, 1, 1)
    Traceback (most recent call last):
        ...
    ValueError: batch: -1 is negative
    >>> encode(1, 1, 3, 2)
    Traceback (most recent call last):
        ...
    ValueError: page: 3 is after the last page (2)
    """
    if batch < 0:
        raise ValueError(f"batch: {batch} is negative")
    field = {"batch": batch % 10_000, "letter": letter, "page": page, "pages": pages}
    problem = _range_problem(field)
    if problem is not None:
        raise ValueError(problem)
    digits = f"{field['batch']:04d}{letter:06d}{page:02d}{pages:02d}{page == pages:d}"
    return digits + calc_check_digit(digits)


def validate(number: str) -> str:
    """The compact code, or a python-stdnum ``ValidationError`` (a :class:`ValueError`)
    whose message starts with the field that is wrong: ``format``, ``length``, ``check
    digit``, ``batch``, ``letter``, ``page``, ``pages`` or ``end-of-set flag``."""
    code = compact(number)
    if not code.isascii() or not code.isdigit():
        raise InvalidFormat(f"format: {number!r} is not all digits")
    if len(code) != LENGTH:
        raise InvalidLength(f"length: {len(code)} digits, expected {LENGTH}")
    expected = calc_check_digit(code[:-1])
    if code[-1] != expected:
        raise InvalidChecksum(f"check digit: {code[-1]}, expected {expected}")
    field = {name: int(code[at : at + size]) for name, at, size, _ in FIELDS}
    problem = _range_problem(field)
    if problem is not None:
        raise InvalidComponent(problem)
    if field["end"] != (field["page"] == field["pages"]):
        raise InvalidComponent(
            f"end-of-set flag: {field['end']} on page {field['page']} of {field['pages']} "
            "(1 only on the last page)"
        )
    return code


def is_valid(number: str) -> bool:
    """Whether the code is valid."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """The code in its groups, as the cover sheet and an operator write it."""
    code = compact(number)
    return " ".join(code[at : at + size] for _, at, size, _ in FIELDS)
