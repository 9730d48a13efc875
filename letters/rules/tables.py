"""Dated rule tables: values that change over time, each with the day it takes effect
and its source. Past a table's ``known_until`` the rule is unknown and letters that need
it are refused (``rule-unknown``) until compliance adds the new value.

Values marked "(unconfirmed)" come from secondary sources and must be checked against
Lovdata before relying on them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Dated(Generic[T]):
    """A rule value in force from ``valid_from`` until the next entry's date."""

    valid_from: dt.date
    value: T
    source: str


class RuleUnknown(LookupError):
    """No value of a dated rule is known for the day asked about."""


@dataclass(frozen=True)
class RuleTable(Generic[T]):
    """A dated rule: its values with the day each takes effect, and the last day the table is
    known to be right. Past ``known_until`` the rule is unknown (a new half-year rate, a new
    inkassosats or a new act may apply) and letters are refused until compliance adds it."""

    name: str
    entries: tuple[Dated[T], ...]
    known_until: dt.date

    def on(self, day: dt.date) -> Dated[T]:
        current = None
        for entry in sorted(self.entries, key=lambda e: e.valid_from):
            if entry.valid_from <= day:
                current = entry
        if current is None or day > self.known_until:
            first = min(e.valid_from for e in self.entries)
            raise RuleUnknown(
                f"no {self.name} is known for {day.isoformat()} (known from "
                f"{first.isoformat()} to {self.known_until.isoformat()}); compliance must add "
                "it to letters/rules/tables.py"
            )
        return current

    def __iter__(self) -> Iterator[Dated[T]]:
        return iter(self.entries)


def in_force(table: RuleTable[T], on: dt.date) -> Dated[T]:
    """The entry of ``table`` in force on ``on``.

    >>> in_force(INKASSOSATS, dt.date(2025, 12, 31)).value
    Decimal('700')
    >>> in_force(INKASSOSATS, dt.date(2026, 1, 1)).value
    Decimal('750')
    >>> in_force(INKASSOSATS, dt.date(2027, 1, 1)).value  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    letters.rules.tables.RuleUnknown: no inkassosats is known for 2027-01-01 (known from ...
    """
    return table.on(on)


INKASSOSATS = RuleTable(
    "inkassosats",
    (
        Dated(dt.date(2019, 1, 1), Decimal("700"), "inkassoforskriften § 1-1, 2019-2025"),
        Dated(dt.date(2026, 1, 1), Decimal("750"), "inkassoforskriften § 1-1, from 2026-01-01"),
    ),
    # A new Debt Collection Act may apply from 2027-01-01 (unconfirmed): confirm before then.
    known_until=dt.date(2026, 12, 31),
)

#: Late-payment interest (forsinkelsesrente), % per year, set for each half year.
INTEREST_RATE = RuleTable(
    "late-payment interest rate",
    (
        Dated(dt.date(2024, 1, 1), Decimal("12.50"), "Finansdepartementet, 2024 H1"),
        Dated(dt.date(2024, 7, 1), Decimal("12.50"), "Finansdepartementet, 2024 H2"),
        Dated(dt.date(2025, 1, 1), Decimal("12.50"), "Finansdepartementet, 2025 H1"),
        Dated(dt.date(2025, 7, 1), Decimal("12.25"), "Finansdepartementet, 2025 H2 (unconfirmed)"),
        Dated(dt.date(2026, 1, 1), Decimal("12.00"), "Finansdepartementet, 2026 H1"),
        Dated(dt.date(2026, 7, 1), Decimal("12.25"), "Finansdepartementet, 2026 H2 (unconfirmed)"),
    ),
    known_until=dt.date(2026, 12, 31),  # the 2027 H1 rate is set in December
)


#: Light collection fee caps (inkassoforskriften § 2-2): principal up to the limit → times
#: the inkassosats. ``None`` as limit: above the last limit.
COLLECTION_FEE_SCALE: RuleTable[tuple[tuple[Decimal | None, Decimal], ...]] = RuleTable(
    "light collection fee scale",
    (
        Dated(
            dt.date(2019, 1, 1),
            (
                (Decimal("500"), Decimal("0.25")),
                (Decimal("1000"), Decimal("0.35")),
                (Decimal("2500"), Decimal("0.4")),
                (Decimal("10000"), Decimal("0.8")),
                (Decimal("50000"), Decimal("1.6")),
                (Decimal("250000"), Decimal("3.6")),
                (None, Decimal("7.2")),
            ),
            "inkassoforskriften § 2-2",
        ),
    ),
    known_until=dt.date(2026, 12, 31),
)
#: Business debtors may be charged more (unconfirmed).
