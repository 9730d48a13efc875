"""Letter ids: 20 digits derived from the job id, so a retried job gets the same id.

Digits keep the letter's Code128 barcode short (two digits per symbol); people read them
off the page in groups of four.

>>> lid = calc("job-1")
>>> lid == calc("job-1"), len(lid), is_valid(lid)
(True, 20, True)
>>> format("12345678901234567890")
'1234 5678 9012 3456 7890'
>>> compact("1234 5678 9012 3456 7890")
'12345678901234567890'
>>> validate("1234")
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidLength: The number has an invalid length.
"""

from __future__ import annotations

import hashlib

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.util import clean

DIGITS = 20


def calc(job_id: str) -> str:
    """The letter id of the job ``job_id`` (a one-way function of it)."""
    digest = hashlib.sha256(f"letter:{job_id}".encode()).digest()
    return str(int.from_bytes(digest, "big") % 10**DIGITS).zfill(DIGITS)


def compact(number: str) -> str:
    """The digits alone (spaces and hyphens removed)."""
    return str(clean(number, " -")).strip()


def validate(number: str) -> str:
    """The compact letter id, or a python-stdnum ``ValidationError``."""
    number = compact(number)
    if not number.isascii() or not number.isdigit():
        raise InvalidFormat()
    if len(number) != DIGITS:
        raise InvalidLength()
    return number


def is_valid(number: str) -> bool:
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Groups of four for people reading it off the page."""
    number = compact(number)
    return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
