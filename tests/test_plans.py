"""The payment-plan confirmation, the fifth kind (issue 14): the plan's rules, each refusal
with its code; the instalments' own KIDs; the letter in nb and en; and its way through the
pipeline to the print batch, Digipost and e-mail."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import itertools
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from letters.compose import compose
from letters.job import JobRejected, json_schema
from letters.numbers import kid as kid_number
from letters.produce import Produced
from letters.validation import parse
from tests.conftest import Pipeline, load_job
from tests.digipost_keys import SENDER_ID, Keys, contract_server
from tests.pdftext import page_texts
from tests.smtp_server import Inbox, SmtpServer

LETTER_DATE = dt.date(2026, 11, 20)
TOTAL_NB = Decimal("5535.00")  # principal 4860.00 + 37.50 + 37.50 + 600.00 in payment_plan.nb


def _refusals(job: dict[str, Any]) -> set[tuple[str, str]]:
    try:
        parse(job)
    except JobRejected as exc:
        return {(e.field, str(e.code)) for e in exc.errors}
    return set()


def _plan_job() -> dict[str, Any]:
    return copy.deepcopy(load_job("payment_plan.nb"))


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to one field of the job, ``plan.instalments.1.due_date`` style."""

    def change(job: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = job
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[int(last) if last.isdigit() else last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


_DELETE = object()


def _five(job: dict[str, Any]) -> None:
    job["plan"]["instalments"] = [
        {"amount": "1107.00", "due_date": day}
        for day in ("2026-12-01", "2027-01-04", "2027-02-01", "2027-03-01", "2027-04-01")
    ]


def _duplicate_kids(job: dict[str, Any]) -> None:
    job["plan"]["instalments"][0]["kid"] = "1234567897"  # valid mod10
    job["plan"]["instalments"][1]["kid"] = "1234 5678 97"  # the same, as a payer types it


def _same_as_letter(job: dict[str, Any]) -> None:
    job["payment"]["kid"] = "1234567897"
    job["plan"]["instalments"][0]["kid"] = "1234567897"


def _fee_charged_now(job: dict[str, Any]) -> None:
    del job["claims"][0]["fees"][2]["charged_on"]  # the collection fee, charged by this letter


REFUSED: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, str]]] = [
    ("no plan", _set("plan", _DELETE), ("plan", "plan-required")),
    ("no agreement day", _set("plan.agreed_on", _DELETE), ("plan.agreed_on", "required")),
    ("no instalments", _set("plan.instalments", []), ("plan.instalments", "too-short")),
    ("five instalments", _five, ("plan.instalments", "plan-too-many-instalments")),
    (
        "one øre short",
        _set("plan.instalments.3.amount", "1383.74"),
        ("plan.instalments", "plan-sum-mismatch"),
    ),
    (
        "an instalment of nothing",
        _set("plan.instalments.0.amount", "0.00"),
        ("plan.instalments[0].amount", "not-positive"),
    ),
    (
        "agreed after the letter",
        _set("plan.agreed_on", "2026-11-21"),
        ("plan.agreed_on", "plan-agreed-after-letter"),
    ),
    (
        "first instalment 15 days after the agreement",
        _set("plan.agreed_on", "2026-11-16"),
        ("plan.instalments[0].due_date", "plan-first-due-too-late"),
    ),
    (
        "first instalment before the letter date",
        _set("plan.instalments.0.due_date", "2026-11-19"),
        ("plan.instalments[0].due_date", "plan-due-before-letter"),
    ),
    (
        "two instalments on one day",
        _set("plan.instalments.2.due_date", "2027-01-04"),
        ("plan.instalments[2].due_date", "plan-dates-not-increasing"),
    ),
    (
        "an instalment on a Saturday",
        _set("plan.instalments.1.due_date", "2027-01-02"),
        ("plan.instalments[1].due_date", "plan-due-not-business-day"),
    ),
    (
        "an instalment on Christmas Eve (no bank settles)",
        _set("plan.instalments.1.due_date", "2026-12-24"),
        ("plan.instalments[1].due_date", "plan-due-not-business-day"),
    ),
    (
        "a single due date beside the plan's",
        _set("payment.due_date", "2026-12-07"),
        ("payment.due_date", "not-allowed"),
    ),
    (
        "an instalment KID with a wrong check digit",
        _set("plan.instalments.1.kid", "1234567890"),
        ("plan.instalments[1].kid", "bad-kid"),
    ),
    ("two instalments with one KID", _duplicate_kids, ("plan.instalments[1].kid", "duplicate-kid")),
    (
        "an instalment with the letter's KID",
        _same_as_letter,
        ("plan.instalments[0].kid", "duplicate-kid"),
    ),
    (
        "a fee charged by the plan letter",
        _fee_charged_now,
        ("claims[0].fees[2].code", "fee-not-for-kind"),
    ),
]


def test_the_fixtures_are_accepted() -> None:
    assert _refusals(_plan_job()) == set()
    assert _refusals(load_job("payment_plan.en")) == set()


@pytest.mark.parametrize(
    ("change", "expected"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_a_plan_breaking_a_rule_is_refused_with_its_code(
    change: Callable[[dict[str, Any]], None], expected: tuple[str, str]
) -> None:
    job = _plan_job()
    change(job)
    assert _refusals(job) == {expected}


def test_only_a_payment_plan_letter_carries_a_plan() -> None:
    job = load_job("reminder.nb")
    job["plan"] = _plan_job()["plan"]
    assert ("plan", "not-allowed") in _refusals(job)


# --- the rules as a property, against an oracle written from the terms, not the code ---------


def _bank_day(day: dt.date) -> bool:
    """Monday to Friday, not a Norwegian public holiday, not 24 or 31 December."""
    if day.weekday() >= 5 or (day.month, day.day) in {(12, 24), (12, 31)}:
        return False
    return day not in holidays.Norway(years=day.year)


def _expected_codes(
    agreed: dt.date, plan: list[tuple[Decimal, dt.date]], total: Decimal
) -> set[str]:
    """What the agency's terms say of a plan confirmed by a letter dated LETTER_DATE."""
    if any(amount <= 0 for amount, _ in plan):  # the contract's shape, checked before the rules
        return {"not-positive"}
    codes = set()
    if len(plan) > 4:
        codes.add("plan-too-many-instalments")
    if sum(amount for amount, _ in plan) != total:
        codes.add("plan-sum-mismatch")
    if agreed > LETTER_DATE:
        codes.add("plan-agreed-after-letter")
    days = [day for _, day in plan]
    if (days[0] - agreed).days > 14:
        codes.add("plan-first-due-too-late")
    if min(days) < LETTER_DATE:
        codes.add("plan-due-before-letter")
    if any(later <= earlier for earlier, later in itertools.pairwise(days)):
        codes.add("plan-dates-not-increasing")
    if not all(_bank_day(day) for day in days):
        codes.add("plan-due-not-business-day")
    return codes


@st.composite
def plans(draw: st.DrawFn) -> tuple[dt.date, list[tuple[Decimal, dt.date]]]:
    agreed = LETTER_DATE + dt.timedelta(days=draw(st.integers(-20, 2)))
    count = draw(st.integers(1, 6))
    day = LETTER_DATE + dt.timedelta(days=draw(st.integers(-3, 16)))
    days = []
    for _ in range(count):
        if draw(st.booleans()):  # mostly bank days, so that some plans are good
            while not _bank_day(day):
                day += dt.timedelta(days=1)
        days.append(day)
        day += dt.timedelta(days=draw(st.integers(-2, 45)))
    cents = [draw(st.integers(0, 300_000)) for _ in range(count - 1)]
    if draw(st.booleans()):  # the last instalment balances the plan
        cents.append(int(TOTAL_NB * 100) - sum(cents))
    else:
        cents.append(draw(st.integers(0, 600_000)))
    amounts = [Decimal(c) / 100 for c in cents]
    return agreed, list(zip(amounts, days, strict=True))


@settings(max_examples=250, deadline=None)
@given(plans())
def test_a_plan_is_accepted_exactly_when_the_terms_hold(
    drawn: tuple[dt.date, list[tuple[Decimal, dt.date]]],
) -> None:
    agreed, plan = drawn
    if any(amount < 0 for amount, _ in plan):  # the contract refuses it as a bad amount
        return
    job = _plan_job()
    job["plan"] = {
        "agreed_on": agreed.isoformat(),
        "instalments": [{"amount": f"{a:.2f}", "due_date": d.isoformat()} for a, d in plan],
    }
    found = _refusals(job)
    assert {code for _, code in found} == _expected_codes(agreed, plan, TOTAL_NB)
    for field, _ in found:
        assert field.startswith("plan.")


# --- the instalments' KIDs -----------------------------------------------------------------


def test_each_instalment_gets_its_own_kid_the_same_on_every_retry() -> None:
    first = compose(parse(_plan_job())).letter
    again = compose(parse(_plan_job())).letter
    kids = [i.kid for i in first.instalments]
    assert kids == [i.kid for i in again.instalments] and first.kid == again.kid
    assert len(set([*kids, first.kid])) == 5
    assert all(kid_number.is_valid(k, "mod10") for k in kids)
    other = _plan_job()
    other["id"] = "plan-nb-0002"
    assert not set(kids) & {i.kid for i in compose(parse(other)).letter.instalments}


def test_instalment_kids_follow_the_jobs_kid_scheme() -> None:
    job = _plan_job()
    job["payment"]["kid_scheme"] = "mod11"
    letter = compose(parse(job)).letter
    assert all(kid_number.is_valid(i.kid, "mod11") for i in letter.instalments)
    assert all(not i.kid.endswith("-") for i in letter.instalments)


def test_a_kid_given_by_upstream_is_used_and_never_given_to_another_payment() -> None:
    plain = compose(parse(_plan_job())).letter
    job = _plan_job()
    # upstream's KID for instalment 2 is the one the letter itself would have been given
    job["plan"]["instalments"][1]["kid"] = plain.kid
    letter = compose(parse(job)).letter
    assert letter.instalments[1].kid == plain.kid
    kids = [i.kid for i in letter.instalments]
    assert letter.kid != plain.kid and letter.kid not in kids
    assert len(set(kids)) == 4


# --- the letter ----------------------------------------------------------------------------


def _money(value: Decimal, language: str) -> str:
    whole, _, cents = f"{value:.2f}".partition(".")
    groups = f"{int(whole):,}"
    return groups.replace(",", " ") + "," + cents if language == "nb" else groups + "." + cents


@pytest.mark.parametrize("name", ["payment_plan.nb", "payment_plan.en"])
def test_the_letter_lists_every_instalment_with_its_date_amount_and_kid(
    produced: dict[str, Produced], name: str
) -> None:
    p = produced[name]
    letter = p.composed.letter
    pages = page_texts(p.rendered.pdf)
    assert len(pages) == 1 and p.safety.ok, p.safety.failures
    text = pages[0]
    style = "%d.%m.%Y" if letter.language == "nb" else "%-d %b %Y"
    job = load_job(name)
    assert len(letter.instalments) == len(job["plan"]["instalments"])
    for shown, sent in zip(letter.instalments, job["plan"]["instalments"], strict=True):
        assert (shown.amount, shown.due_date.isoformat()) == (
            Decimal(sent["amount"]),
            sent["due_date"],
        )
        assert shown.kid in text and shown.due_date.strftime(style) in text
        assert _money(shown.amount, letter.language) in text
    first = letter.instalments[0]
    assert text.count(first.kid) == 2  # the plan's table and the payment box
    assert letter.due_date == first.due_date  # the head's payment deadline
    assert letter.kid in text  # the KID for paying the whole debt at once
    assert text.count(_money(letter.total, letter.language)) >= 2  # claims and plan totals
    assert letter.password.reveal() in text


# --- through the pipeline ------------------------------------------------------------------


def test_both_plan_letters_reach_the_print_batch(pipeline: Pipeline) -> None:
    jobs = [load_job("payment_plan.nb"), load_job("payment_plan.en")]
    ids = [pipeline.submit(job) for job in jobs]
    pipeline.drain()
    assert pipeline.printed() == sorted(ids)
    for job in jobs:
        assert pipeline.status(job["id"]) == "delivered"
        history = pipeline.runtime.ledger.history(job["id"])
        assert history is not None and history.letter is not None
        assert history.letter.due_date.isoformat() == job["plan"]["instalments"][0]["due_date"]
        # upstream matches payments by the instalment KIDs: the job's history gives them
        printed = [i.kid for i in compose(parse(job)).letter.instalments]
        assert history.letter.instalment_kids == printed
        row = pipeline.runtime.ledger.letter_for_job(job["id"])
        assert row is not None and row.instalment_kids == printed


def test_digipost_gets_the_first_instalment_as_the_inkasso_data(
    pipeline: Pipeline, keys: Keys
) -> None:
    from letters.config.digipost import DigipostSettings

    job = load_job("payment_plan.nb")
    with contract_server({job["debtor"]["national_id"]}) as server:
        pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
            update={
                "digipost": DigipostSettings(
                    base_url=server.url,
                    sender_id=SENDER_ID,
                    key_path=keys.sender_pem,
                    timeout_seconds=2,
                )
            }
        )
        letter_id = pipeline.submit(job)
        pipeline.drain()
        [stored] = list(server.stored)
    assert server.problems == []
    assert pipeline.in_print(letter_id) is None
    letter = compose(parse(job)).letter
    first = letter.instalments[0]
    inkasso = "//d:data-type/t:inkasso/t:"
    assert stored.find("//d:primary-document/d:subject") == "Bekreftelse på betalingsplan"
    assert stored.find(inkasso + "sum") == "1383.75"
    assert stored.find(inkasso + "due-date") == "2026-12-01T00:00:00+01:00"
    assert stored.find(inkasso + "kid") == first.kid != letter.kid
    assert stored.find(inkasso + "account") == "15031123450"
    assert stored.pdf_sha256 == hashlib.sha256(pipeline.pdf(letter_id)).hexdigest()


@pytest.fixture
def mail(pipeline: Pipeline, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Inbox]:
    inbox, port, _ = smtp_server
    smtp = pipeline.runtime.settings.smtp.model_copy(
        update={
            "host": "localhost",
            "port": port,
            "username": "letters",
            "password": SecretStr("s3cret"),
            "ca_file": tmp_path / "cert.pem",  # written by the smtp_server fixture
        }
    )
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(update={"smtp": smtp})
    yield inbox


@pytest.mark.parametrize("language", ["nb", "en"])
def test_a_plan_goes_by_email_to_a_debtor_who_consents(
    pipeline: Pipeline, mail: Inbox, language: str
) -> None:
    job = load_job(f"payment_plan.{language}")
    job["debtor"]["consents"] = {"digipost": False, "email": True}
    job["debtor"]["email"] = "debtor@example.no"
    letter_id = pipeline.submit(job)
    pipeline.drain()
    [(recipients, message)] = mail.received
    assert recipients == ["debtor@example.no"]
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content() == pipeline.pdf(letter_id)
    assert pipeline.in_print(letter_id) is None


# --- the contract around the plan ------------------------------------------------------------


def test_the_schema_names_the_kind_and_the_plan() -> None:
    schema = json_schema()
    assert "payment_plan" in schema["properties"]["kind"]["enum"]
    assert "plan" in schema["properties"]
    plan = schema["$defs"]["Plan"]
    assert set(plan["required"]) == {"agreed_on", "instalments"}
    assert set(schema["$defs"]["Instalment"]["properties"]) == {"amount", "due_date", "kid"}


def test_a_csv_row_can_carry_a_payment_plan(tmp_path: Path) -> None:
    from letters.pipeline.enqueue import CSV_COLUMNS, read

    row = {
        "id": "csv-plan-1", "kind": "payment_plan", "letter_date": "2026-11-20",
        "reference": "AX-2026-700002", "creditor_name": "Nordlys Energi AS",
        "creditor_org_number": "912345688", "debtor_type": "person",
        "debtor_name": "Kari Nordmann", "address_line1": "Storgata 12 B",
        "postal_code": "0161", "city": "Oslo", "invoice_number": "2026-07-1980",
        "invoice_date": "2026-07-01", "due_date": "2026-07-15", "principal": "4860.00",
        "fees": "collection_fee:600.00:2026-10-05", "account_number": "15031123450",
        "plan_agreed_on": "2026-11-18",
        "plan_instalments": "2730.00:2026-12-01:1234567897;2730.00:2027-01-04",
    }  # fmt: skip
    path = tmp_path / "jobs.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows([row, dict(row, id="csv-plan-2", plan_instalments="2730.00")])
    (_, first), (_, second) = read(path)
    plan = parse(first).plan
    assert plan is not None and plan.agreed_on == dt.date(2026, 11, 18)
    assert [(i.amount, i.kid) for i in plan.instalments] == [
        (Decimal("2730.00"), "1234567897"),
        (Decimal("2730.00"), None),
    ]
    assert isinstance(second, JobRejected)
    assert [(e.field, e.code) for e in second.errors] == [("plan_instalments", "bad-format")]
