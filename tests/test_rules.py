"""Deadlines, fee caps and the other legal rules, as a job meets them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from letters import rules
from letters.job import JobRejected
from letters.validation import parse


def refusal(job: dict[str, Any]) -> dict[str, str]:
    """field → every reason given for it, each as ``[code] reason``, joined."""
    with pytest.raises(JobRejected) as info:
        parse(job)
    out: dict[str, str] = {}
    for e in info.value.errors:
        said = f"[{e.code}] {e.reason}"
        out[e.field] = f"{out[e.field]}; {said}" if e.field in out else said
    return out


@pytest.mark.parametrize(
    ("letter_date", "deadline"),
    [
        ("2025-04-03", "2025-04-22"),  # +14 is Maundy Thursday; Good Friday, Easter follow
        ("2026-03-19", "2026-04-07"),  # +14 is Maundy Thursday 2026 → Tuesday after Easter
        ("2026-05-03", "2026-05-18"),  # +14 is 17 May, a Sunday
        ("2027-05-03", "2027-05-18"),  # +14 is 17 May 2027, a Monday
        ("2026-12-12", "2026-12-28"),  # +14 is Boxing Day, a Saturday
        ("2026-11-20", "2026-12-04"),  # an ordinary Friday
    ],
)
def test_deadline_rolls_to_next_business_day(letter_date: str, deadline: str) -> None:
    assert rules.payment_deadline(dt.date.fromisoformat(letter_date)) == dt.date.fromisoformat(
        deadline
    )


@given(st.dates(dt.date(2024, 1, 1), dt.date(2030, 12, 31)))
def test_deadline_is_the_first_business_day_at_least_14_days_out(day: dt.date) -> None:
    deadline = rules.payment_deadline(day)
    earliest = day + dt.timedelta(days=14)
    assert deadline >= earliest
    assert rules.is_business_day(deadline)
    gap = (deadline - earliest).days
    assert not any(rules.is_business_day(earliest + dt.timedelta(days=i)) for i in range(gap))


def test_job_deadline_is_computed_when_missing(job: dict[str, Any]) -> None:
    job["letter_date"] = "2026-05-03"
    for claim in job["claims"]:
        claim["invoice_date"], claim["due_date"] = "2026-04-01", "2026-04-15"
    assert rules.due_date(parse(job)) == dt.date(2026, 5, 18)


def test_given_due_date_shorter_than_14_days_is_refused_with_the_rule(
    job: dict[str, Any],
) -> None:
    job["payment"]["due_date"] = "2026-12-03"  # letter date 2026-11-20 + 13 days
    reason = refusal(job)["payment.due_date"]
    assert "earliest lawful due date is 2026-12-04" in reason
    assert reason.startswith("[deadline-too-short]")
    assert "inkassoloven" in reason


def test_given_due_date_on_a_weekend_moves_to_monday(job: dict[str, Any]) -> None:
    job["payment"]["due_date"] = "2026-12-05"  # a Saturday, 15 days out
    assert rules.due_date(parse(job)) == dt.date(2026, 12, 7)


def test_reminder_fee_over_the_cap_names_field_cap_and_source(job: dict[str, Any]) -> None:
    job["claims"][0]["fees"][0]["amount"] = "37.51"
    reason = refusal(job)["claims[0].fees[0].amount"]
    assert "cap 37.50" in reason and "§ 1-2" in reason
    assert reason.startswith("[fee-over-cap]")


def test_fee_cap_follows_the_inkassosats_in_force(job: dict[str, Any]) -> None:
    job["letter_date"] = "2025-11-20"
    job["claims"][0].update(invoice_date="2025-09-20", due_date="2025-10-05")
    job["claims"][0]["fees"][0]["amount"] = "35.00"
    parse(job)  # 1/20 of 700
    job["claims"][0]["fees"][0]["amount"] = "35.01"
    assert "cap 35.00" in refusal(job)["claims[0].fees[0].amount"]


def test_reminder_fee_needs_14_days_past_due(job: dict[str, Any]) -> None:
    job["claims"][0]["due_date"] = "2026-11-07"  # 13 days before the letter date
    job["claims"][0]["invoice_date"] = "2026-10-20"
    reason = refusal(job)["claims[0].fees[0].code"]
    assert "less than 14 days after the due date" in reason
    assert reason.startswith("[fee-too-early]")
    job["claims"][0]["due_date"] = "2026-11-06"  # exactly 14 days
    parse(job)


def test_no_letter_for_a_claim_not_yet_due(job: dict[str, Any]) -> None:
    job["claims"][0].update(due_date="2026-11-20", fees=[])
    assert "[claim-not-overdue]" in refusal(job)["claims[0].due_date"]
    assert "overdue" in refusal(job)["claims[0].due_date"]


def test_payment_request_fee_cap_is_three_twentieths() -> None:
    from tests.conftest import load_job

    job = load_job("payment_request.nb")
    fee = {"code": "payment_request_fee", "amount": "112.50", "charged_on": "2026-10-01"}
    job["claims"][0]["fees"] = [fee]
    parse(job)  # the creditor's own earlier payment request
    fee["amount"] = "112.51"
    assert "cap 112.50" in refusal(job)["claims[0].fees[0].amount"]


def test_the_agency_never_charges_the_creditors_payment_request_fee() -> None:
    from tests.conftest import load_job

    job = load_job("payment_request.nb")
    job["claims"][0]["fees"] = [{"code": "payment_request_fee", "amount": "112.50"}]
    said = refusal(job)["claims[0].fees[0].code"]
    assert "cannot charge a payment_request_fee" in said
    assert said.startswith("[fee-not-for-kind]")


def test_only_one_payment_request_carries_a_fee() -> None:
    from tests.conftest import load_job

    job = load_job("payment_request.nb")  # has a collection fee
    job["claims"][0]["fees"].append(
        {"code": "payment_request_fee", "amount": "112.50", "charged_on": "2026-10-20"}
    )
    said = refusal(job)["claims[0].fees"]
    assert "only one payment request may carry a fee" in said
    assert "[fee-twice-for-payment-request]" in said


def test_a_second_reminder_fee_needs_14_days_after_the_first(job: dict[str, Any]) -> None:
    job["claims"][0]["fees"].insert(
        0, {"code": "reminder_fee", "amount": "37.50", "charged_on": "2026-11-07"}
    )
    assert "needs 14 days after the first" in refusal(job)["claims[0].fees"]
    assert refusal(job)["claims[0].fees"].startswith("[fees-too-close]")
    # 14 days are not enough: the first reminder's deadline (2026-11-20) must have run out
    job["claims"][0]["fees"][0]["charged_on"] = "2026-11-05"
    parse(job)


def test_letters_dated_beyond_the_known_rules_are_refused(job: dict[str, Any]) -> None:
    job["letter_date"] = "2027-01-04"
    reason = refusal(job)["letter_date"]
    assert "no inkassosats is known for 2027-01-04" in reason
    assert reason.startswith("[rule-unknown]")
    assert "late-payment interest rate" in reason
    job["letter_date"] = "2023-06-01"
    assert "no late-payment interest rate is known" in refusal(job)["letter_date"]


def test_fee_charged_before_the_known_rules_is_a_field_error(job: dict[str, Any]) -> None:
    job["claims"][0].update(invoice_date="2018-01-01", due_date="2018-01-15")
    job["claims"][0]["fees"][0]["charged_on"] = "2018-06-01"
    assert "no inkassosats is known for 2018-06-01" in refusal(job)["claims[0].fees[0].charged_on"]


@pytest.mark.parametrize("kind", ["payment_request", "enforcement_notice"])
def test_payment_request_and_enforcement_notice_say_what_the_claim_concerns(kind: str) -> None:
    from tests.conftest import load_job

    job = load_job(f"{kind}.en")
    del job["claims"][0]["description"]
    assert "§ 10 (b)" in refusal(job)["claims[0].description"]
    assert refusal(job)["claims[0].description"].startswith("[description-required]")


def test_interest_runs_from_the_due_date_at_the_earliest(job: dict[str, Any]) -> None:
    job["claims"][0]["interest_from"] = "2026-10-04"  # due 2026-10-05
    assert "from the due date" in refusal(job)["claims[0].interest_from"]
    assert refusal(job)["claims[0].interest_from"].startswith("[interest-start]")
    job["claims"][0]["interest_from"] = "2026-11-21"  # after the letter date
    assert "no later than the letter date" in refusal(job)["claims[0].interest_from"]


def test_interest_cannot_exceed_what_the_rate_allows(job: dict[str, Any]) -> None:
    # 1249.00 from 2026-10-05 to 2026-11-20 (46 days) at 12.25 %: at most 19.29
    job["claims"][0]["interest"] = "19.29"
    parse(job)
    job["claims"][0]["interest"] = "19.30"
    assert "more than the late-payment interest" in refusal(job)["claims[0].interest"]
    assert refusal(job)["claims[0].interest"].startswith("[interest-over-cap]")


def test_the_same_invoice_twice_is_refused(job: dict[str, Any]) -> None:
    job["claims"].append(dict(job["claims"][0], fees=[]))
    assert "same invoice as claims[0]" in refusal(job)["claims[1].invoice_number"]
    assert refusal(job)["claims[1].invoice_number"].startswith("[duplicate-invoice]")


def test_fee_count_limits(job: dict[str, Any]) -> None:
    fee = {"code": "reminder_fee", "amount": "37.50", "charged_on": "2026-10-20"}
    job["claims"][0]["fees"].extend([fee, fee])  # three reminder fees on one claim
    assert "at most 2" in refusal(job)["claims[0].fees"]
    assert "[fee-too-many]" in refusal(job)["claims[0].fees"]


def test_one_reminder_fee_only_when_a_notice_fee_was_charged() -> None:
    from tests.conftest import load_job

    job = load_job("collection_notice.nb")
    job["claims"][0]["fees"].insert(
        0, {"code": "reminder_fee", "amount": "37.50", "charged_on": "2026-09-30"}
    )
    assert "at most 1" in refusal(job)["claims[0].fees"]


def test_a_letter_cannot_charge_another_kinds_fee(job: dict[str, Any]) -> None:
    job["claims"][0]["fees"] = [{"code": "notice_fee", "amount": "37.50"}]
    assert "cannot charge a notice_fee" in refusal(job)["claims[0].fees[0].code"]
    assert refusal(job)["claims[0].fees[0].code"].startswith("[fee-not-for-kind]")


def test_unknown_fee_code_lists_the_allowed_ones(job: dict[str, Any]) -> None:
    job["claims"][0]["fees"] = [{"code": "admin_fee", "amount": "10.00"}]
    reason = refusal(job)["claims[0].fees[0].code"]
    assert "admin_fee" in reason and "reminder_fee" in reason
    assert reason.startswith("[fee-unknown]")


@pytest.mark.parametrize(
    ("principal", "cap"),
    [
        ("500", "187.50"),
        ("500.01", "262.50"),
        ("2000", "300.00"),
        ("300000", "5400.00"),
    ],
)
def test_collection_fee_scale(principal: str, cap: str) -> None:
    from decimal import Decimal

    got = rules.fee_cap("collection_fee", dt.date(2026, 6, 1), principal=Decimal(principal))
    assert got == Decimal(cap)


def test_a_company_debtor_pays_the_same_collection_fee_scale() -> None:
    """inkassoforskriften § 2-2 has one scale for every debtor: no factor for companies."""
    from tests.conftest import load_job

    job = load_job("payment_request.nb")  # principal 3420.00: 0.8 × 750 = 600.00
    job["debtor"] = {
        "type": "company",
        "name": "Fjellheim Bygg og Anlegg AS",
        "org_number": "923609016",
        "address": {"lines": ["Industriveien 4"], "postal_code": "7080", "city": "Heimdal"},
    }
    parse(job)
    job["claims"][0]["fees"][-1]["amount"] = "600.01"
    said = refusal(job)["claims[0].fees[2].amount"]
    assert said.startswith("[fee-over-cap]") and "cap 600.00" in said


def test_interest_rate_by_half_year() -> None:
    from decimal import Decimal

    book = rules.shipped()
    assert book.interest_rate.on(dt.date(2026, 6, 30)).value == Decimal("12.00")
    assert book.interest_rate.on(dt.date(2026, 7, 1)).value == Decimal("12.25")
    with pytest.raises(rules.RuleUnknown):
        book.inkassosats.on(dt.date(2000, 1, 1))


def test_every_dated_rule_names_its_source() -> None:
    tables = rules.shipped().tables.values()
    assert all(entry.source for table in tables for entry in table)
    assert all(rule.source for rule in rules.FEES.values())
    # secondary sources are marked as such, and only those
    rates = {e.valid_from.isoformat(): e.confirmed for e in rules.shipped().interest_rate}
    assert rates["2026-07-01"] is False and rates["2026-01-01"] is True


def test_a_table_is_data_and_reads_back_to_the_same_version() -> None:
    from letters.rules import tables

    for table in rules.shipped().tables.values():
        again = tables.parse_table(tables.document(table))
        assert again == table and tables.sha256(again) == tables.sha256(table)
    sats = rules.shipped().inkassosats
    changed = tables.document(sats)
    changed["entry"][-1]["source"] += " (checked)"
    assert tables.sha256(tables.parse_table(changed)) != tables.sha256(sats)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d["entry"].reverse(), "in order of valid_from"),
        (lambda d: d["entry"][0].update(value=700), "as text"),
        (lambda d: d.update(known_until="2020-01-01"), "known_until is before"),
        (lambda d: d["entry"][0].pop("source"), "entry.0.source"),
        (lambda d: d.update(name="vat"), "name"),
        (lambda d: d["entry"][0].update(value=[{"factor": "1"}]), "one number as text"),
    ],
)
def test_a_bad_table_document_is_refused_naming_the_place(change: Any, says: str) -> None:
    from letters.rules import tables

    doc = tables.document(rules.shipped().inkassosats)
    change(doc)
    with pytest.raises(tables.TableProblem, match=says):
        tables.parse_table(doc)


def test_a_new_version_of_a_table_lets_letters_of_the_next_year_through(
    job: dict[str, Any],
) -> None:
    from letters.rules import tables

    job["letter_date"] = "2027-01-04"
    assert "[rule-unknown]" in refusal(job)["letter_date"]
    book = rules.shipped()
    for name, value in (("inkassosats", "800"), ("interest_rate", "12.00")):
        doc = tables.document(book.tables[name])
        doc["entry"].append(
            {"valid_from": "2027-01-01", "value": value, "source": "test", "confirmed": True}
        )
        doc["known_until"] = "2027-06-30"
        book = book.replace(tables.parse_table(doc), f"test-{name}")
    scale = tables.document(book.collection_fee_scale)
    scale["known_until"] = "2027-12-31"
    book = book.replace(tables.parse_table(scale), "test-scale")
    rules.use(book)
    try:
        job["claims"][0]["fees"][0]["amount"] = "40.00"  # 1/20 of 800
        assert parse(job).letter_date == dt.date(2027, 1, 4)
        job["claims"][0]["fees"][0]["amount"] = "40.01"
        assert "cap 40.00" in refusal(job)["claims[0].fees[0].amount"]
    finally:
        rules.use(None)


@pytest.mark.parametrize(
    ("code", "cites"),
    [
        ("reminder_fee", "inkassoforskriften § 1-2 (1)"),
        ("notice_fee", "inkassoforskriften § 1-2 (2)"),
        ("payment_request_fee", "inkassoforskriften § 1-2 (3)"),
        ("collection_fee", "inkassoforskriften § 2-2"),
    ],
)
def test_each_fee_rule_cites_its_own_ledd(code: str, cites: str) -> None:
    source = rules.FEES[code].source
    assert source.startswith(cites)
    others = {"(1)", "(2)", "(3)"} - {cites.rsplit(" ", 1)[-1]}
    assert not any(f"§ 1-2 {ledd}" in source for ledd in others)


def test_a_notice_fee_needs_14_days_after_a_reminder_fee() -> None:
    """Reminder and notice fees are one family: 14 days between any two of them."""
    from tests.conftest import load_job

    job = load_job("collection_notice.nb")  # notice fee on 2026-11-20
    job["claims"][0]["fees"][0]["charged_on"] = "2026-11-10"  # the reminder fee, 10 days before
    said = refusal(job)["claims[0].fees"]
    assert said.startswith("[fees-too-close]")
    assert "reminder_fee" in said and "notice_fee" in said and "§ 1-2" in said


@pytest.mark.parametrize(
    ("first", "accepted"),
    [
        ("2026-11-10", False),  # 10 days: too close
        ("2026-11-06", False),  # its deadline is 2026-11-20, the letter's own day
        ("2026-11-05", True),  # its deadline 2026-11-19 has run out
    ],
)
def test_a_second_reminder_fee_only_after_the_first_reminders_deadline(
    job: dict[str, Any], first: str, accepted: bool
) -> None:
    job["claims"][0]["fees"].insert(
        0, {"code": "reminder_fee", "amount": "37.50", "charged_on": first}
    )
    if accepted:
        parse(job)
    else:
        assert refusal(job)["claims[0].fees"].startswith(
            ("[fees-too-close]", "[fee-before-deadline]")
        )


def test_a_fee_on_the_earlier_letters_deadline_day_is_refused(job: dict[str, Any]) -> None:
    job["claims"][0]["fees"].insert(
        0, {"code": "reminder_fee", "amount": "37.50", "charged_on": "2026-11-06"}
    )
    said = refusal(job)["claims[0].fees"]
    assert said.startswith("[fee-before-deadline]")
    assert "2026-11-20" in said and "inkassoforskriften § 1-2" in said


@pytest.mark.parametrize(
    ("letter_date", "accepted"),
    [
        ("2026-12-27", False),  # 15 days after, but the deadline rolled to Monday 28 December
        ("2026-12-28", False),  # the deadline day itself
        ("2026-12-29", True),
    ],
)
def test_the_earlier_letters_deadline_moves_to_the_next_business_day(
    job: dict[str, Any], letter_date: str, accepted: bool
) -> None:
    # 2026-12-12 + 14 days is Boxing Day, a Saturday: the reminder's deadline is 2026-12-28
    job["letter_date"] = letter_date
    job["claims"][0].pop("interest", None)
    job["claims"][0]["fees"].insert(
        0, {"code": "reminder_fee", "amount": "37.50", "charged_on": "2026-12-12"}
    )
    if accepted:
        parse(job)
    else:
        assert refusal(job)["claims[0].fees"].startswith("[fee-before-deadline]")


def test_a_collection_fee_only_after_the_notice_fees_deadline() -> None:
    from tests.conftest import load_job

    job = load_job("payment_request.nb")
    job["claims"][0]["fees"][1]["charged_on"] = "2026-11-06"  # notice deadline 2026-11-20
    assert refusal(job)["claims[0].fees"].startswith("[fee-before-deadline]")


@pytest.mark.parametrize("name", ["reminder.nb", "collection_notice.en", "edge.company-debtor"])
def test_a_letter_charging_a_fee_says_what_the_claim_concerns(name: str) -> None:
    from tests.conftest import load_job

    job = load_job(name)
    del job["claims"][0]["description"]
    said = refusal(job)["claims[0].description"]
    assert said.startswith("[description-required]")
    assert "inkassoforskriften § 1-2" in said


def test_a_reminder_without_a_fee_need_not_describe_the_claim(job: dict[str, Any]) -> None:
    del job["claims"][0]["description"]
    job["claims"][0]["fees"] = []
    parse(job)
    # an earlier letter's fee alone does not make this letter charge one
    job["claims"][0]["fees"] = [
        {"code": "reminder_fee", "amount": "37.50", "charged_on": "2026-10-20"}
    ]
    parse(job)


def test_a_payment_request_needs_the_collection_notice_it_follows() -> None:
    from tests.conftest import load_job

    job = load_job("payment_request.nb")
    assert parse(job).claims[0].notice is not None
    del job["claims"][0]["notice"]
    said = refusal(job)["claims[0].notice"]
    assert said.startswith("[notice-required]") and "inkassoloven § 10" in said


@pytest.mark.parametrize(
    ("letter_date", "accepted"),
    [
        ("2026-10-20", False),  # before the notice's deadline
        ("2026-10-26", False),  # the deadline day itself: it has not run out yet
        ("2026-10-27", True),
    ],
)
def test_a_payment_request_only_after_the_notices_deadline_has_run_out(
    letter_date: str, accepted: bool
) -> None:
    from tests.conftest import load_job

    job = load_job("payment_request.en")  # notice sent 2026-10-10, deadline 2026-10-26
    job["letter_date"] = letter_date
    claim = job["claims"][0]
    claim.pop("interest")
    claim["fees"] = [f for f in claim["fees"] if f["code"] == "collection_fee"]
    claim["fees"][0]["amount"] = "300.00"
    if accepted:
        parse(job)
    else:
        said = refusal(job)["claims[0].notice.deadline"]
        assert said.startswith("[notice-deadline-not-passed]")
        assert "2026-10-26" in said and "inkassoloven § 10 first ledd" in said


def test_the_notices_deadline_gives_at_least_14_days() -> None:
    from tests.conftest import load_job

    job = load_job("payment_request.nb")
    job["claims"][0]["notice"]["deadline"] = "2026-10-23"  # sent 2026-10-10: 13 days
    said = refusal(job)["claims[0].notice.deadline"]
    assert said.startswith("[deadline-too-short]") and "inkassoloven § 9" in said


def test_an_enforcement_notice_may_name_the_notice_it_follows() -> None:
    from tests.conftest import load_job

    job = load_job("enforcement_notice.en")
    assert "notice" not in job["claims"][0]
    parse(job)
    job["claims"][0]["notice"] = {"sent_on": "2026-06-15", "deadline": "2026-06-29"}
    assert parse(job).claims[0].notice is not None
    job["claims"][0]["notice"] = {"sent_on": "2026-11-10", "deadline": "2026-11-24"}
    assert refusal(job)["claims[0].notice.deadline"].startswith("[notice-deadline-not-passed]")


@pytest.mark.parametrize("name", ["reminder.nb", "collection_notice.nb"])
def test_only_letters_after_a_collection_notice_name_one(name: str) -> None:
    from tests.conftest import load_job

    job = load_job(name)
    job["claims"][0]["notice"] = {"sent_on": "2026-10-10", "deadline": "2026-10-26"}
    assert refusal(job)["claims[0].notice"].startswith("[not-allowed]")
