"""Interest stated with each rate and the period it applied (inkassoloven § 10 second ledd
(d)), as the debtor reads it in the payment request and the enforcement notice.

The rates here come from a rulebook of the test's own (every value confirmed, and unlike
the shipped ones), so the letters show exactly the table they were made with."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from letters import rules
from letters.produce import produce
from letters.rules import tables
from tests.conftest import load_job
from tests.pdftext import page_texts

RATES = (("2025-07-01", "9.75"), ("2026-01-01", "10.50"), ("2026-07-01", "11.25"))


@pytest.fixture
def rates() -> Iterator[None]:
    """A rulebook whose interest table is 9.75 % (2025 H2), 10.50 % (2026 H1) and 11.25 %
    (2026 H2), all confirmed; the shipped tables again afterwards."""
    doc = tables.document(rules.shipped().interest_rate)
    doc["entry"] = [
        {"valid_from": day, "value": value, "source": "test", "confirmed": True}
        for day, value in RATES
    ]
    rules.use(rules.shipped().replace(tables.parse_table(doc), "test-interest"))
    try:
        yield
    finally:
        rules.use(None)


def _text(job: dict[str, Any]) -> str:
    return " ".join(page_texts(produce(job).rendered.pdf))


def _since(job: dict[str, Any], due: str, invoice: str = "2025-11-20") -> dict[str, Any]:
    """``job`` with its first claim due on ``due``, interest accruing from then."""
    job = copy.deepcopy(job)
    claim = job["claims"][0]
    claim.update(invoice_date=invoice, due_date=due)
    claim.pop("interest", None)
    claim.pop("interest_from", None)
    return job


THREE = {
    "nb": "9,75 % per år fra 15.12.2025 til 31.12.2025, 10,50 % fra 01.01.2026 til "
    "30.06.2026 og 11,25 % fra 01.07.2026.",
    "en": "9.75% a year from 15 Dec 2025 to 31 Dec 2025, 10.50% from 1 Jan 2026 to "
    "30 Jun 2026 and 11.25% from 1 Jul 2026.",
}
ROW = {"nb": "Forsinkelsesrente fra 15.12.2025", "en": "Late-payment interest from 15 Dec 2025"}


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("kind", ["payment_request", "enforcement_notice"])
def test_interest_through_three_half_years_states_each_rate_with_its_period(
    rates: None, kind: str, language: str
) -> None:
    text = _text(_since(load_job(f"{kind}.{language}"), "2025-12-15"))
    assert ROW[language] in text
    assert THREE[language] in text
    # never only today's rate, and no rate said to apply "now"
    assert "(nå " not in text and "(currently " not in text


@pytest.mark.parametrize("language", ["nb", "en"])
def test_interest_within_one_half_year_states_one_rate(rates: None, language: str) -> None:
    text = _text(_since(load_job(f"payment_request.{language}"), "2026-08-15", "2026-08-01"))
    one = {"nb": "11,25 % per år fra 15.08.2026.", "en": "11.25% a year from 15 Aug 2026."}
    assert one[language] in text  # one rate, open-ended: the sentence ends at its date
    for other in ("9,75", "10,50", "9.75", "10.50"):
        assert other not in text


def test_each_claim_gets_its_own_periods_and_the_letter_one_note_for_all(rates: None) -> None:
    job = _since(load_job("payment_request.nb"), "2025-12-15")
    later = copy.deepcopy(job["claims"][0])
    later.update(invoice_number="2026-03-0001", invoice_date="2026-03-01", due_date="2026-03-15")
    later["fees"] = [f for f in later["fees"] if f["code"] == "collection_fee"]
    later["fees"][0]["amount"] = "300.00"
    job["claims"].append(later)
    made = produce(job)
    first, second = made.composed.letter.claims
    assert [(p.first, p.last, str(p.rate)) for p in first.rate_periods] == [
        (dt.date(2025, 12, 15), dt.date(2025, 12, 31), "9.75"),
        (dt.date(2026, 1, 1), dt.date(2026, 6, 30), "10.50"),
        (dt.date(2026, 7, 1), dt.date(2026, 11, 20), "11.25"),
    ]
    assert [(p.first, str(p.rate)) for p in second.rate_periods] == [
        (dt.date(2026, 3, 15), "10.50"),
        (dt.date(2026, 7, 1), "11.25"),
    ]
    assert made.composed.letter.interest_periods == first.rate_periods
    text = " ".join(page_texts(made.rendered.pdf))
    # each row its own start, one note with every rate under the table
    assert "Forsinkelsesrente fra 15.12.2025" in text
    assert "Forsinkelsesrente fra 15.03.2026" in text
    assert text.count("Forsinkelsesrenten løper") == 1
    assert THREE["nb"] in text


def test_a_reminder_keeps_stating_only_todays_rate(rates: None) -> None:
    """Kinds that need not state interest get no periods (and no note); a reminder that
    lists interest shows it as before."""
    job = load_job("reminder.nb")
    job["claims"][0]["interest"] = "1.00"
    made = produce(job)
    assert made.composed.letter.interest_periods == ()
    assert all(c.rate_periods == () for c in made.composed.letter.claims)
    text = " ".join(page_texts(made.rendered.pdf))
    assert "(nå 11,25 % per år)" in text
    assert "Forsinkelsesrenten løper" not in text


def test_a_start_before_the_known_rates_is_refused_for_a_letter_stating_interest(
    rates: None,
) -> None:
    from letters.job import JobRejected
    from letters.validation import parse

    job = _since(load_job("payment_request.nb"), "2025-06-15", invoice="2025-06-01")
    with pytest.raises(JobRejected) as info:
        parse(job)
    assert {(e.field, e.code) for e in info.value.errors} >= {
        ("claims[0].interest_from", "rule-unknown")
    }


@pytest.mark.parametrize("language", ["nb", "en"])
@pytest.mark.parametrize("kind", ["payment_request", "enforcement_notice"])
def test_three_rates_still_fit_the_letter_on_one_page(
    rates: None, kind: str, language: str
) -> None:
    pages = page_texts(produce(_since(load_job(f"{kind}.{language}"), "2025-12-15")).rendered.pdf)
    assert len(pages) == 1
