"""Deadlines a debtor can meet: none falls on a day no bank settles a payment."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from letters import rules


@pytest.mark.parametrize(
    ("letter_date", "deadline"),
    [
        ("2026-12-10", "2026-12-28"),  # +14 is Christmas Eve, a Thursday; 25, 26, 27 follow
        ("2026-12-17", "2027-01-04"),  # +14 is New Year's Eve, a Thursday; 1 Jan, a weekend
        ("2025-12-10", "2025-12-29"),  # +14 is Christmas Eve 2025, a Wednesday
        ("2025-12-17", "2026-01-02"),  # +14 is New Year's Eve 2025, a Wednesday
        ("2027-12-17", "2028-01-03"),  # +14 is New Year's Eve 2027, a Friday
        ("2026-12-09", "2026-12-23"),  # +14 is 23 December, an ordinary Wednesday
    ],
)
def test_a_deadline_on_24_or_31_december_moves_to_the_next_business_day(
    letter_date: str, deadline: str
) -> None:
    assert rules.payment_deadline(dt.date.fromisoformat(letter_date)) == dt.date.fromisoformat(
        deadline
    )


@pytest.mark.parametrize("day", ["2026-12-24", "2026-12-31", "2027-12-24", "2027-12-31"])
def test_christmas_and_new_years_eve_are_no_business_days(day: str) -> None:
    assert not rules.is_business_day(dt.date.fromisoformat(day))


def test_a_due_date_the_job_gives_on_christmas_eve_moves_too() -> None:
    assert rules.next_business_day(dt.date(2026, 12, 24)) == dt.date(2026, 12, 28)
    assert rules.next_business_day(dt.date(2026, 12, 31)) == dt.date(2027, 1, 4)
    assert rules.next_business_day(dt.date(2026, 12, 23)) == dt.date(2026, 12, 23)


@given(st.dates(dt.date(2024, 1, 1), dt.date(2035, 12, 31)))
def test_no_deadline_falls_on_24_or_31_december(day: dt.date) -> None:
    deadline = rules.payment_deadline(day)
    assert (deadline.month, deadline.day) not in {(12, 24), (12, 31)}
    assert deadline >= day + dt.timedelta(days=14)
