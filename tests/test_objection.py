"""The debtor's objection before an enforcement notice (tvangsfullbyrdelsesloven § 4-18):
the job says whether one was received and answered, an open one refuses the notice, and
the letter says "no objection" only when there was none."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from letters.job import JobRejected
from letters.produce import produce
from letters.validation import parse
from tests.conftest import FIXTURE_DATE, load_job
from tests.pdftext import page_texts


def codes(job: dict[str, Any]) -> dict[str, str]:
    """field → code of every refusal."""
    with pytest.raises(JobRejected) as info:
        parse(job)
    return {e.field: str(e.code) for e in info.value.errors}


def notice(**objection: Any) -> dict[str, Any]:
    job = copy.deepcopy(load_job("enforcement_notice.nb"))
    job["objection"] = objection
    return job


def test_an_enforcement_notice_must_say_whether_the_debtor_objected() -> None:
    job = load_job("enforcement_notice.nb")
    del job["objection"]
    assert codes(job) == {"objection": "objection-required"}


@pytest.mark.parametrize("name", ["reminder.nb", "collection_notice.en", "payment_request.nb"])
def test_the_other_kinds_do_not_carry_an_objection(name: str) -> None:
    job = load_job(name)
    job["objection"] = {"received": False}
    assert codes(job) == {"objection": "not-allowed"}


def test_an_open_objection_refuses_the_notice() -> None:
    found = codes(notice(received=True, received_on="2026-11-02"))
    assert found == {"objection.answered_on": "objection-open"}


@pytest.mark.parametrize(
    ("objection", "expected"),
    [
        ({"received": True}, {"objection.received_on": "required"}),
        (
            {"received": False, "answered_on": "2026-11-09"},
            {"objection.answered_on": "not-allowed"},
        ),
        (
            {"received": True, "received_on": "2026-11-09", "answered_on": "2026-11-02"},
            {"objection.answered_on": "answer-before-objection"},
        ),
        (
            {"received": True, "received_on": "2026-11-02", "answered_on": "2026-11-21"},
            {"objection.answered_on": "objection-after-letter"},
        ),
        (
            {"received": True, "received_on": "2026-11-21", "answered_on": "2026-11-22"},
            {
                "objection.received_on": "objection-after-letter",
                "objection.answered_on": "objection-after-letter",
            },
        ),
    ],
)
def test_objection_dates_that_cannot_be_right_are_refused(
    objection: dict[str, Any], expected: dict[str, str]
) -> None:
    assert codes(notice(**objection)) == expected


DAYS = st.dates(FIXTURE_DATE - dt.timedelta(days=40), FIXTURE_DATE + dt.timedelta(days=10))


@given(received=DAYS, answered=st.none() | DAYS)
def test_an_objection_passes_only_when_answered_by_the_letter_date(
    received: dt.date, answered: dt.date | None
) -> None:
    objection: dict[str, Any] = {"received": True, "received_on": received.isoformat()}
    if answered is not None:
        objection["answered_on"] = answered.isoformat()
    lawful = answered is not None and received <= answered <= FIXTURE_DATE
    try:
        parse(notice(**objection))
    except JobRejected as exc:
        assert not lawful, str(exc)
        assert {str(e.code) for e in exc.errors} <= {
            "objection-open",
            "answer-before-objection",
            "objection-after-letter",
        }
    else:
        assert lawful


WORDING = {
    "nb": (
        "og vi har ikke mottatt innsigelse",
        "Du kom med innsigelse 02.11.2026, og vi svarte deg 09.11.2026.",
    ),
    "en": (
        "and we have not received an objection",
        "You objected to it on 2 Nov 2026, and we answered you on 9 Nov 2026.",
    ),
}


@pytest.mark.parametrize("language", ["nb", "en"])
def test_the_notice_says_no_objection_only_when_there_was_none(language: str) -> None:
    none, answered = WORDING[language]
    job = load_job(f"enforcement_notice.{language}")
    assert job["objection"] == {"received": False}
    text = " ".join(page_texts(produce(job).rendered.pdf))
    assert none in text and answered not in text
    job["objection"] = {"received": True, "received_on": "2026-11-02", "answered_on": "2026-11-09"}
    text = " ".join(page_texts(produce(job).rendered.pdf))
    assert answered in text
    assert none not in text and "ikke mottatt" not in text and "not received" not in text


def test_compliance_proofs_the_notice_with_and_without_an_objection() -> None:
    from letters.workbench.proofs import cases

    for language in ("nb", "en"):
        found = {c.id: c.job for c in cases(f"enforcement_notice.{language}", FIXTURE_DATE)}
        assert found["standard"]["objection"] == {"received": False}
        assert found["objection-answered"]["objection"]["received"] is True
        for job in found.values():
            parse(job)
    assert "objection-answered" not in {c.id for c in cases("payment_request.nb", FIXTURE_DATE)}
    assert all("objection" not in c.job for c in cases("payment_request.nb", FIXTURE_DATE))


def test_a_csv_row_carries_the_objection(tmp_path: Path) -> None:
    import csv

    from letters.pipeline.enqueue import CSV_COLUMNS, read

    job = load_job("enforcement_notice.nb")
    claim = job["claims"][0]
    row = {
        "id": "csv-enf-0001", "kind": "enforcement_notice", "language": "nb",
        "letter_date": "2026-11-20", "reference": "AX-2026-700101",
        "creditor_name": job["creditor"]["name"],
        "creditor_org_number": job["creditor"]["org_number"], "debtor_type": "person",
        "debtor_name": "Per Olsen", "address_line1": "Elvegata 3", "postal_code": "9008",
        "city": "Tromsø", "invoice_number": claim["invoice_number"],
        "invoice_date": claim["invoice_date"], "due_date": claim["due_date"],
        "principal": claim["principal"], "interest": claim["interest"],
        "description": claim["description"],
        "fees": "notice_fee:37.50:2026-06-15;collection_fee:1200.00",
        "account_number": "15031123450",
        "objection_received": "true", "objection_received_on": "2026-11-02",
        "objection_answered_on": "2026-11-09",
    }  # fmt: skip
    path = tmp_path / "jobs.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerow(row)
        writer.writerow(dict(row, id="csv-enf-0002", objection_answered_on=""))
        writer.writerow(
            dict(row, id="csv-enf-0003", objection_received="", objection_received_on="")
            | {"objection_answered_on": ""}
        )
    (_, first), (_, second), (_, third) = list(read(path))
    assert parse(first).objection is not None
    assert parse(first).objection.answered_on == dt.date(2026, 11, 9)  # type: ignore[union-attr]
    assert codes(second) == {"objection.answered_on": "objection-open"}
    assert "objection" not in third and codes(third) == {"objection": "objection-required"}
