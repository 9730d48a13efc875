"""The patterns in the OpenAPI document are the server's own: a value of the form a pattern
gives is taken by the server's check as far as its form goes (a check digit may still be
wrong), and values of a wrong form are refused by both the pattern (as a JSON Schema
validator reads it, ECMA-262) and the server."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from stdnum.exceptions import InvalidChecksum, InvalidComponent
from stdnum.exceptions import ValidationError as NumberError
from stdnum.no import fodselsnummer, orgnr

from letters import documents, http_cases, syntax
from letters.http import create_app
from letters.http_models import HoldRequest, ProblemError
from letters.job import Address, Creditor
from letters.job_values import _amount, _day
from letters.numbers import account, letter_id
from letters.numbers import kid as kid_number


def _number_form(validate: Callable[[str], Any]) -> Callable[[str], None]:
    """The check of a number with check digits: only the digits may be wrong."""

    def check(value: str) -> None:
        with contextlib.suppress(InvalidChecksum, InvalidComponent):
            validate(value)

    return check


def _kid(value: str) -> None:
    _number_form(lambda v: kid_number.validate(v, "mod11"))(value)
    if not value.endswith("-"):
        _number_form(lambda v: kid_number.validate(v, "mod10"))(value)


def _job_id(value: str) -> None:
    from letters.job import Job

    try:
        Job.model_validate({"id": value})
    except ValidationError as exc:
        assert not [e for e in exc.errors() if e["loc"] == ("id",)]


def _positive_amount(value: str) -> None:
    assert _amount(value) > Decimal(0)


def _postal_code(value: str) -> None:
    value = value[: syntax.POSTAL_CODE_MAX]
    Address(lines=["Storgata 1"], postal_code=value, city="Oslo", country="SE")


def _norwegian_postal_code(value: str) -> None:
    Address(lines=["Storgata 1"], postal_code=value, city="Oslo")


def _printed_text(value: str) -> None:
    Creditor(name=value[:100], org_number="923609016")
    assert not documents.has_nul(json.dumps(value).encode())


def _text(value: str) -> None:
    assert not documents.has_nul(json.dumps(value).encode())


def _refuses(check: Callable[[str], Any], value: str) -> bool:
    try:
        check(value)
    except (NumberError, ValidationError, ValueError, AssertionError, ProblemError):
        return True
    return False


#: Each pattern: the server's check of the form, and values of a wrong form.
PATTERNS: dict[str, tuple[Callable[[str], Any], list[str]]] = {
    syntax.REFERENCE: (
        http_cases.reference_of,
        ["A--B1", "-AB12", "AB12-", "ıııı", "AB<script>", "AB12\n", "ÅS-1234", "AB 12"],
    ),
    syntax.JOB_ID: (_job_id, ["", "a b", "a/b", "x" * 65, "é", "a\x00"]),
    syntax.LETTER_ID: (letter_id.validate, ["1234", "٣" * 20, "1" * 21, "1234 5678 9012 3456 789"]),
    syntax.AMOUNT: (_amount, ["1,5", "1.", ".5", "1.234", "1e3", "-1", "1" * 13, "١"]),
    syntax.POSITIVE_AMOUNT: (_positive_amount, ["0", "0.00", "000", "00.0", "-1", "1.234"]),
    syntax.DATE: (_day, ["0", "20261120", "2026-11-20T00:00:00", "2026-1-2", "٢٠٢٦-11-20"]),
    syntax.ORG_NUMBER: (_number_form(orgnr.validate), ["12345678", "1234567890", "12345678a"]),
    syntax.NATIONAL_ID: (_number_form(fodselsnummer.validate), ["1234567890", "1234567890x"]),
    syntax.ACCOUNT: (
        _number_form(account.validate),
        ["1234567", "0000 11 17947", "00001117947", "8601111794", "8601a117947"],
    ),
    syntax.KID: (_kid, ["1", "-", "12a", "1-2", "1" * 26, "١٢"]),
    syntax.POSTAL_CODE: (_postal_code, ["-123", "12_34", "ÅÅ12", "-"]),
    syntax.NORWEGIAN_POSTAL_CODE: (_norwegian_postal_code, ["123", "12345", "O123", "١٢٣٤"]),
    syntax.REASON: (lambda v: HoldRequest(reason=v), ["a\nb", "\x00", "tab\there", "\x85", ""]),
    syntax.PRINTED_TEXT: (_printed_text, ["", "   ", "\x00", "a\x00"]),
    syntax.TEXT: (_text, ["\x00", "a\x00b"]),
}


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_every_pattern_of_the_openapi_document_is_one_the_server_checks() -> None:
    document = create_app().openapi()
    found = set(_patterns(document))
    assert found <= set(PATTERNS) | {syntax.PRINTED_TEXT}, found - set(PATTERNS)
    # the path parameters carry theirs too
    hold = document["paths"]["/v1/cases/{reference}/hold"]["post"]["parameters"]
    assert [p["schema"]["pattern"] for p in hold if p["in"] == "path"] == [syntax.REFERENCE]
    pdf = document["paths"]["/v1/letters/{letter_id}/pdf"]["get"]["parameters"]
    assert [p["schema"]["pattern"] for p in pdf if p["in"] == "path"] == [syntax.LETTER_ID]
    assert found >= {syntax.REFERENCE, syntax.KID, syntax.ACCOUNT, syntax.DATE, syntax.REASON}


def _schema(pattern: str) -> Any:
    return jsonschema_rs.validator_for({"type": "string", "pattern": pattern})


@pytest.mark.parametrize("pattern", list(PATTERNS), ids=lambda p: p[:30])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_value_of_the_patterns_form_is_taken_by_the_server(pattern: str, data: Any) -> None:
    check, _ = PATTERNS[pattern]
    value = data.draw(st.from_regex(pattern, fullmatch=True).filter(lambda v: len(v) <= 500))
    if pattern == syntax.REFERENCE:
        value = value[: syntax.REFERENCE_MAX].rstrip("-").ljust(syntax.REFERENCE_MIN, "X")
    if pattern == syntax.JOB_ID:
        value = value[: syntax.JOB_ID_MAX]
    assert _schema(pattern).is_valid(value), "ECMA-262 reads the pattern as Python does"
    check(value)  # raises if the server refuses the form


@pytest.mark.parametrize("pattern", list(PATTERNS), ids=lambda p: p[:30])
def test_a_value_of_a_wrong_form_is_refused_by_the_pattern_and_the_server(pattern: str) -> None:
    check, bad = PATTERNS[pattern]
    validator = _schema(pattern)
    for value in bad:
        assert not validator.is_valid(value), value
        assert _refuses(check, value), value
