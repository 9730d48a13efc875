r"""The syntax of the values the service takes, as regular expressions: one constant per kind
of value, used both by the server's validators and in the OpenAPI document and the job
schema (``pattern``), so a client generated from the schema does not send what the server
refuses for its form.

The patterns are written so they mean the same in Python (``re.fullmatch``) and in
JSON Schema (ECMA-262, unanchored search): anchored with ``^``/``$``, ASCII classes
(``[0-9]``, never ``\d``, which is every script's digits in Python), no look-arounds or
back-references. A pattern gives the *form* only: check digits (KID, account, organisation
and national id numbers), the legal rules and whether the text fits on the letter are the
server's to check, and it refuses those with their own codes.

>>> import re
>>> [bool(re.fullmatch(REFERENCE, r)) for r in ("AX-2026-100041", "ax-1", "A--B", "-AB1")]
[True, True, False, False]
>>> [bool(re.fullmatch(POSITIVE_AMOUNT, a)) for a in ("1250.00", "0.01", "0", "0.00", "007")]
[True, True, False, False, True]
"""

from __future__ import annotations

import re

#: An idempotency key: the job's ``id`` (and ``GET /v1/jobs/{job_id}``).
JOB_ID = r"^[A-Za-z0-9._:-]{1,64}$"
JOB_ID_MAX = 64

#: A case reference as sent: ASCII letters (either case) and digits, hyphens only between
#: them; 4–24 characters (:mod:`letters.numbers.reference`; compared in upper case).
REFERENCE = r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$"
REFERENCE_MIN, REFERENCE_MAX = 4, 24

#: A letter id: 20 digits (:mod:`letters.numbers.letter_id`).
LETTER_ID = r"^[0-9]{20}$"
LETTER_ID_MAX = 20

#: An amount in NOK as a decimal string: up to 12 digits, at most two decimals.
AMOUNT = r"^[0-9]{1,12}(\.[0-9]{1,2})?$"
AMOUNT_MAX = 15


def _positive_amount() -> str:
    """:data:`AMOUNT` without the zeros: the first non-zero digit is in the whole part at
    some place, or the whole part is zeros and a decimal is not."""
    places = [f"{'0' * k}[1-9]" + (f"[0-9]{{0,{11 - k}}}" if k < 11 else "") for k in range(12)]
    whole = "|".join(places)
    return rf"^(({whole})(\.[0-9]{{1,2}})?|0{{1,12}}\.(0[1-9]|[1-9][0-9]?))$"


#: An amount that must be more than 0 (a principal, a fee, an instalment).
POSITIVE_AMOUNT = _positive_amount()

#: A calendar day as ISO 8601 ``YYYY-MM-DD`` (the server also checks that the day exists).
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

#: A Norwegian organisation number: 9 digits (check digit: the server's).
ORG_NUMBER = r"^[0-9]{9}$"
#: A fødselsnummer or D-number: 11 digits (check digits and birth date: the server's).
NATIONAL_ID = r"^[0-9]{11}$"
#: The bank part of an account number: four digits, never ``0000`` (a postgiro prefix,
#: which python-stdnum strips, leaving too few digits).
_BANK = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
#: A Norwegian account number: 11 digits, or grouped 4+2+5 with spaces or with dots.
ACCOUNT = rf"^({_BANK}[0-9]{{7}}|{_BANK} [0-9]{{2}} [0-9]{{5}}|{_BANK}\.[0-9]{{2}}\.[0-9]{{5}})$"
#: A KID: 2–25 digits; the last (the check digit) may be ``-`` in MOD11.
KID = r"^[0-9]{1,24}[0-9-]$"
KID_MAX = 25

#: A postal code: letters, digits, spaces and hyphens, starting with a letter or digit
#: (a Norwegian one, ``country`` NO, is exactly 4 digits: :data:`NORWEGIAN_POSTAL_CODE`).
POSTAL_CODE = r"^[A-Za-z0-9][A-Za-z0-9 -]*$"
NORWEGIAN_POSTAL_CODE = r"^[0-9]{4}$"
POSTAL_CODE_MAX = 10

#: Free text recorded in the audit log (why a case is held, closed or reopened): no control
#: characters (Unicode category Cc: line breaks, tabs, NUL), 1–500 characters.
REASON = r"^[^\u0000-\u001f\u007f-\u009f]+$"
REASON_MAX = 500

#: Text the letter prints: at least one character that is not white space (the server
#: strips the ends and refuses what is left empty), and no NUL (which no field may hold).
PRINTED_TEXT = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"
#: Text that may be empty: no NUL.
TEXT = r"^[^\u0000]*$"


#: The name of a query parameter, as an error may name it (other names are not echoed).
QUERY_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` has the form ``pattern`` gives, the whole of it.

    >>> matches(REFERENCE, "AB-12"), matches(REFERENCE, "AB-12\\n")
    (True, False)
    """
    return re.fullmatch(pattern, value) is not None
