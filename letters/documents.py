"""Job documents as they arrive (an HTTP body, a JSONL line, a file): decoded into JSON
values, or refused with a stable code, whatever the bytes. Nothing here raises anything but
:class:`~letters.job.JobRejected`: not a ``UnicodeDecodeError`` for bytes that are not
UTF-8, not a ``RecursionError`` for deep nesting, not a ``ValueError`` for a 5000-digit
number.

>>> loads('{"id": "a"}')
{'id': 'a'}
>>> try:
...     loads(b'{"id": "\\xe6"}')
... except JobRejected as exc:
...     print(exc.errors[0])
(job): not UTF-8 text: byte 0xe6 at offset 8 [not-utf8]
>>> try:
...     loads("[" * 100 + "]" * 100)
... except JobRejected as exc:
...     print(exc.errors[0].code)
too-deep
>>> try:
...     loads('{"principal": ' + "9" * 5000 + "}")
... except JobRejected as exc:
...     print(exc.errors[0])
(job): a number with 5000 digits: amounts are decimal text such as "1250.00" [number-too-long]
"""

from __future__ import annotations

import json
import re
from typing import Any

from letters.codes import Code
from letters.refusals import FieldError, JobRejected

#: No job is nested deeper than this (job → claims → [i] → fees → [j] → value is 6).
MAX_DEPTH = 32
#: No number of the contract has more digits (amounts and ids are text).
MAX_DIGITS = 30


class _Refused(Exception):
    def __init__(self, code: Code, reason: str) -> None:
        self.code, self.reason = code, reason


def _number(text: str) -> Any:
    digits = sum(ch.isdigit() for ch in text)
    if digits > MAX_DIGITS:
        raise _Refused(
            Code.NUMBER_TOO_LONG,
            f'a number with {digits} digits: amounts are decimal text such as "1250.00"',
        )
    return float(text) if any(c in text for c in ".eE") else int(text)


def _constant(name: str) -> Any:
    raise _Refused(Code.NOT_JSON, f"not valid JSON: {name} is not a JSON number")


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(text: str) -> bool:
    """Whether brackets outside strings nest deeper than MAX_DEPTH (checked before parsing,
    so the parser never recurses that far)."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        else:
            depth -= 1
    return False


#: A ``\u0000`` escape: a backslash and ``u0000`` after an even number of other
#: backslashes (``\\u0000`` is a backslash and the text ``u0000``, not a NUL).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def has_nul(raw: bytes) -> bool:
    r"""Whether a JSON document holds a NUL character, raw or escaped.

    >>> has_nul(b'{"a": "x\\u0000"}'), has_nul(b'{"a": "\\\\u0000"}'), has_nul(b'"\x00"')
    (True, False, True)
    """
    return b"\x00" in raw or _ESCAPED_NUL.search(raw) is not None


def text_of(raw: str | bytes, field: str = "(job)") -> str:
    """``raw`` as text: bytes must be UTF-8 (a BOM is allowed), else the refusal names the
    first bad byte and its offset."""
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start]
        raise JobRejected.one(
            field, Code.NOT_UTF8, f"not UTF-8 text: byte 0x{bad:02x} at offset {exc.start}"
        ) from None


#: The JSON parser's messages in words (the place is said after them).
_JSON_WORDS = {
    "Expecting value": "a value was expected",
    "Expecting ':' delimiter": "a ':' was expected",
    "Expecting ',' delimiter": "a ',' was expected",
    "Expecting property name enclosed in double quotes": (
        "a field name in double quotes was expected (a comma too many before it?)"
    ),
    "Extra data": "more follows the end of the JSON value (one job per line?)",
    "Unterminated string starting at": "a text is not closed (a missing '\"'?)",
    "Invalid control character at": "a control character inside a text",
}


def _where_json_broke(text: str, exc: json.JSONDecodeError) -> str:
    r"""Why and where ``text`` is not JSON, as a person finds the place: a line of a JSONL
    file by its column; text that stops in the middle of a value says it ends too early.

    >>> _where_json_broke('{"id": "a"', _error('{"id": "a"'))
    'not valid JSON: it ends too early, after column 10 (is it cut short?)'
    >>> _where_json_broke('{"id" "a"}', _error('{"id" "a"}'))
    "not valid JSON: a ':' was expected at column 7"
    >>> _where_json_broke('{\n "id": x}', _error('{\n "id": x}'))
    'not valid JSON: a value was expected at line 2 column 8'
    """
    body = text.rstrip()
    if exc.pos >= len(body):
        lines = body.splitlines() or [""]
        where = f"column {len(lines[-1])}"
        if len(lines) > 1:
            where = f"line {len(lines)} {where}"
        return f"not valid JSON: it ends too early, after {where} (is it cut short?)"
    said = _JSON_WORDS.get(exc.msg, exc.msg)
    if "\n" not in body:
        return f"not valid JSON: {said} at column {exc.colno}"
    return f"not valid JSON: {said} at line {exc.lineno} column {exc.colno}"


def _error(text: str) -> json.JSONDecodeError:  # for the doctests above
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return exc
    raise AssertionError(f"{text!r} is JSON")


def loads(raw: str | bytes, field: str = "(job)") -> Any:
    """The JSON value of ``raw``, or :class:`JobRejected` with one error naming ``field``:
    ``not-utf8``, ``not-json``, ``too-deep`` or ``number-too-long``."""
    text = text_of(raw, field)
    if _too_deep(text):
        raise JobRejected.one(
            field, Code.TOO_DEEP, f"nested more deeply than {MAX_DEPTH} levels; no job is"
        )
    try:
        return json.loads(text, parse_int=_number, parse_float=_number, parse_constant=_constant)
    except _Refused as exc:
        raise JobRejected([FieldError(field=field, code=exc.code, reason=exc.reason)]) from None
    except json.JSONDecodeError as exc:
        raise JobRejected.one(field, Code.NOT_JSON, _where_json_broke(text, exc)) from None
    except RecursionError:  # pragma: no cover - _too_deep rules it out
        raise JobRejected.one(field, Code.TOO_DEEP, "nested too deeply") from None


def job_document(value: Any, field: str = "(line)") -> Any:
    """``value`` read from a file as one job: it must be a JSON object, or a
    :class:`JobRejected` says so (a JSON string is not taken as a job's text a second time).
    """
    if isinstance(value, dict):
        return value
    kind = {str: "text", list: "a list", bool: "true or false"}.get(type(value), "a number")
    if value is None:
        kind = "null"
    raise JobRejected.one(field, Code.NOT_AN_OBJECT, f"a job is an object ({{…}}), not {kind}")
