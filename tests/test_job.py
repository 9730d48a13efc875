"""The job contract: what is accepted, and how refusals name the field and reason."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from letters.codes import Code
from letters.compose import compose
from letters.job import JobRejected, json_schema
from letters.validation import parse
from tests.conftest import FIXTURE_DATE, FIXTURES, JOB_FILES, load_job
from tests.strategies import mangled_jobs


def fields(job: Any) -> dict[str, str]:
    with pytest.raises(JobRejected) as info:
        parse(job)
    return {e.field: e.reason for e in info.value.errors}


def codes(job: Any) -> dict[str, str]:
    """field → the stable code of its refusal."""
    with pytest.raises(JobRejected) as info:
        parse(job)
    return {e.field: str(e.code) for e in info.value.errors}


@pytest.mark.parametrize("path", JOB_FILES, ids=lambda p: p.stem)
def test_every_fixture_is_a_valid_job(path: Any) -> None:
    data = json.loads(path.read_text("utf-8"))
    job = parse(data)
    # accepted as sent: nothing dropped, defaulted or reformatted (amounts stay the decimal
    # strings upstream wrote, names keep their markup, the channels their order)
    assert job.model_dump(mode="json", exclude_unset=True) == data
    assert job.letter_date == FIXTURE_DATE


def test_several_problems_are_all_reported_with_field_paths() -> None:
    data = json.loads((FIXTURES / "invalid" / "several-errors.json").read_text("utf-8"))
    got = fields(data)
    assert set(got) == {
        "creditor.org_number",
        "debtor.address.postal_code",
        "claims[0].principal",
        "payment.kid",
    }
    assert "not numbers" in got["claims[0].principal"]
    assert "4 digits" in got["debtor.address.postal_code"]
    assert "mod10 KID" in got["payment.kid"]
    assert codes(data) == {
        "creditor.org_number": "bad-org-number",
        "debtor.address.postal_code": "bad-postal-code",
        "claims[0].principal": "bad-amount",
        "payment.kid": "bad-kid",
    }


def test_unknown_fields_are_refused_not_ignored(job: dict[str, Any]) -> None:
    job["debtor"]["adress"] = job["debtor"]["address"]
    assert "unknown field" in fields(job)["debtor.adress"]
    assert codes(job)["debtor.adress"] == "unknown-field"


def test_a_missing_field_and_a_wrong_type_have_their_codes(job: dict[str, Any]) -> None:
    del job["creditor"]["name"]
    job["debtor"]["consents"]["email"] = "perhaps"
    job["claims"][0]["due_date"] = "5 October"
    got = codes(job)
    assert got["creditor.name"] == "required"
    assert got["debtor.consents.email"] == "wrong-type"
    assert got["claims[0].due_date"] == "bad-date"


@pytest.mark.parametrize(
    "amount", [1249, 1249.0, "1249,00", "12.345", "-5.00", "1e3", "", "١٢٣٤", "１２３４"]
)
def test_amounts_must_be_decimal_strings(job: dict[str, Any], amount: Any) -> None:
    job["claims"][0]["principal"] = amount
    assert codes(job)["claims[0].principal"] in ("bad-amount", "not-positive")


def test_amounts_keep_their_exact_decimal_value(job: dict[str, Any]) -> None:
    job["claims"][0]["principal"] = "0.10"
    job["claims"][0]["fees"][0]["amount"] = "0.20"
    from letters.compose import compose

    assert str(compose(parse(job)).letter.total) == "0.30"


@pytest.mark.parametrize(
    ("path", "value", "field", "code"),
    [
        (("id",), "has space", "id", "bad-format"),
        (("id",), "x" * 65, "id", "bad-format"),
        (("kind",), "final_demand", "kind", "not-allowed"),
        (("language",), "sv", "language", "not-allowed"),
        (("reference",), "A", "reference", "bad-reference"),
        (("debtor", "national_id"), "15038512364", "debtor.national_id", "bad-national-id"),
        (("debtor", "address", "country"), "XX", "debtor.address.country", "bad-country"),
        (("payment", "account_number"), "15031123451", "payment.account_number", "bad-account"),
        (("payment", "kid_scheme"), "mod12", "payment.kid_scheme", "not-allowed"),
        (("channels",), ["print", "print"], "channels", "duplicate-channel"),
        (("channels",), ["fax"], "channels[0]", "not-allowed"),
        (("debtor", "address", "country"), "ZZ", "debtor.address.country", "bad-country"),
        (("debtor", "address", "country"), "EU", "debtor.address.country", "bad-country"),
        (("payment", "kid"), "٣4", "payment.kid", "bad-kid"),
        (("payment", "kid"), "²3", "payment.kid", "bad-kid"),
        (("claims", 0, "fees", 0, "amount"), "0.00", "claims[0].fees[0].amount", "not-positive"),
    ],
)
def test_field_errors(
    job: dict[str, Any], path: tuple[Any, ...], value: Any, field: str, code: str
) -> None:
    target = job
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert codes(job)[field] == code


def test_company_debtor_has_no_national_id(job: dict[str, Any]) -> None:
    job["debtor"]["type"] = "company"
    assert "company has no national id" in fields(job)["debtor.national_id"]


def test_foreign_postal_codes_are_not_forced_to_four_digits() -> None:
    job = load_job("edge.foreign-address")
    assert parse(job).debtor.address.postal_code == "111 21"


def test_given_kid_is_validated_with_its_scheme() -> None:
    job = load_job("edge.mod11-kid")
    assert parse(job).payment.kid == "123456785"
    job["payment"]["kid_scheme"] = "mod10"
    assert "mod10 KID" in fields(job)["payment.kid"]


def test_letter_date_defaults_to_today_in_oslo(job: dict[str, Any]) -> None:
    del job["letter_date"]
    job["claims"][0]["fees"] = []
    job["claims"][0].update(invoice_date="2020-01-01", due_date="2020-01-15")
    assert parse(job).letter_date == dt.datetime.now(ZoneInfo("Europe/Oslo")).date()


def test_json_text_and_bytes_are_accepted(job: dict[str, Any]) -> None:
    text = json.dumps(job)
    assert parse(text).id == parse(text.encode()).id == job["id"]
    assert fields("[1, 2]") == {"(job)": "must be an object ({…})"}
    assert fields("nope")["(job)"].startswith("not valid JSON: ")


def test_schema_names_every_required_field() -> None:
    schema = json_schema()
    assert set(schema["required"]) >= {
        "id",
        "kind",
        "reference",
        "creditor",
        "debtor",
        "claims",
        "payment",
    }
    amount = schema["$defs"]["Claim"]["properties"]["principal"]
    assert amount["type"] == "string"


@given(job=mangled_jobs())
def test_mangled_jobs_are_refused_with_field_errors_never_crash(job: dict[str, Any]) -> None:
    try:
        valid = parse(job)
    except JobRejected as exc:
        assert exc.errors
        for e in exc.errors:
            assert e.field and e.reason
            assert e.code in Code and e.code is not Code.INVALID, e  # every refusal has its code
        return
    # whatever the contract and the rules accept must make a letter without an exception
    letter = compose(valid).letter
    assert letter.total > 0 and letter.kid


@given(st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)), st.data())
def test_any_letter_date_is_accepted_or_refused_never_crashes(
    day: dt.date, data: st.DataObject
) -> None:
    job = load_job(data.draw(st.sampled_from([p.stem for p in JOB_FILES])))
    job["letter_date"] = day.isoformat()
    for claim in job["claims"]:
        for fee in claim.get("fees", []):
            if data.draw(st.booleans()):
                fee["charged_on"] = data.draw(st.dates(dt.date(1990, 1, 1), day)).isoformat()
    try:
        valid = parse(job)
    except JobRejected:
        return
    assert compose(valid).letter.due_date >= day + dt.timedelta(days=14)


@pytest.mark.parametrize(
    ("path", "text", "shown"),
    [
        (("debtor", "name"), "Kari \u202eNordmann", "U+202E"),
        (("debtor", "name"), "Kari\u200bNordmann", "U+200B"),
        (("debtor", "address", "city"), "Os\nlo", "U+000A"),
        (("creditor", "name"), "王芳 Handel AS", "'王' U+738B"),
        (("claims", 0, "description"), "Strøm 🔌", "U+1F50C"),
    ],
)
def test_text_the_letter_cannot_print_is_refused(
    job: dict[str, Any], path: tuple[Any, ...], text: str, shown: str
) -> None:
    target = job
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = text
    field = ".".join(str(p) for p in path).replace(".0.", "[0].")
    reason = fields(job)[field]
    assert "cannot be printed" in reason and shown in reason


def test_names_in_sami_polish_vietnamese_and_cyrillic_are_printable(
    job: dict[str, Any],
) -> None:
    for name in (
        "Máret Ánde Sámmol Čuđđi Ŋ",
        "Łukasz Wróbel-Żółć",
        "Nguyễn Thị Hương",
        "Олена Шевченко",
        "Ζωή Παπαδοπούλου",
    ):
        job["debtor"]["name"] = name
        assert parse(job).debtor.name == name


def test_the_collection_notice_of_a_claim_is_two_dates() -> None:
    job = load_job("payment_request.en")
    notice = parse(job).claims[0].notice
    assert notice is not None
    assert (notice.sent_on, notice.deadline) == (dt.date(2026, 10, 10), dt.date(2026, 10, 26))
    job["claims"][0]["notice"] = {"sent_on": "10.10.2026", "deadline": "2026-10-26", "x": 1}
    assert codes(job)["claims[0].notice.sent_on"] == "bad-date"
    assert codes(job)["claims[0].notice.x"] == "unknown-field"
    del job["claims"][0]["notice"]["deadline"]
    assert codes(job)["claims[0].notice.deadline"] == "required"
    schema = json_schema()
    assert "notice" in schema["$defs"]["Claim"]["properties"]
