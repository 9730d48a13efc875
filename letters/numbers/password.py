"""The one-time login password printed on a letter.

Generated with :mod:`secrets` from an alphabet without look-alike characters (no 0/O/o,
no 1/l/I), printed in groups of four; the portal accepts it with or without the spaces.
Only a keyed hash of the compact form is ever stored (:mod:`letters.credentials`).

>>> len(compact(generate()))
12
>>> set(compact(generate(40))) <= set(ALPHABET)
True
>>> format('Ab3dEf4gHjK5')
'Ab3d Ef4g HjK5'
>>> compact('Ab3d Ef4g HjK5')
'Ab3dEf4gHjK5'
>>> validate('Ab3d Ef4g HjK0')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidFormat: The number has an invalid format.
"""

from __future__ import annotations

import secrets
import string

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError

LOOK_ALIKES = frozenset("0Oo1lI")
ALPHABET = "".join(
    ch
    for ch in string.digits + string.ascii_uppercase + string.ascii_lowercase
    if ch not in LOOK_ALIKES
)
MIN_LENGTH = 10
DEFAULT_LENGTH = 12


def generate(length: int = DEFAULT_LENGTH) -> str:
    """A new random password of ``length`` characters (compact form)."""
    if length < MIN_LENGTH:
        raise InvalidLength()
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def specimen(length: int = DEFAULT_LENGTH) -> str:
    """A fixed password of ``length`` characters for proofs (the same on every proof, so a
    rendered diff shows only what a template changed); never issued to a debtor.

    >>> specimen(12) == specimen(12), is_valid(specimen(12))
    (True, True)
    """
    return "".join(ALPHABET[(7 * i + 3) % len(ALPHABET)] for i in range(length))


def compact(password: str) -> str:
    """Remove the spaces of the printed form."""
    return "".join(password.split())


def validate(password: str) -> str:
    """Check length and alphabet; return the compact password."""
    password = compact(password)
    if len(password) < MIN_LENGTH:
        raise InvalidLength()
    if any(ch not in ALPHABET for ch in password):
        raise InvalidFormat()
    return password


def is_valid(password: str) -> bool:
    """Whether the password could have been generated here."""
    try:
        return bool(validate(password))
    except ValidationError:
        return False


def format(password: str) -> str:
    """Print form: groups of four characters."""
    password = compact(password)
    return " ".join(password[i : i + 4] for i in range(0, len(password), 4))
