"""Late-payment interest (forsinkelsesrenteloven): the rate periods a claim's interest ran
through, and the most interest a principal can have earned.

The rate is set for each half year (:mod:`letters.rules.tables`, ``interest_rate``). A
letter that states interest names each rate with the period it applied when the interest
ran through more than one (inkassoloven § 10 second ledd (d)).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_UP, Decimal

from letters.rules.tables import RuleUnconfirmed, current

CENT = Decimal("0.01")
ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class RatePeriod:
    """One stretch of days at one rate: ``first`` to ``last`` (both included)."""

    first: dt.date
    last: dt.date
    rate: Decimal
    source: str
    confirmed: bool
    #: the table entry the rate comes from (its ``valid_from``)
    valid_from: dt.date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def periods(first: dt.date, last: dt.date) -> tuple[RatePeriod, ...]:
    """The rate periods from ``first`` through ``last`` (both included), one per table entry,
    clipped to those days; adjacent entries with the same rate stay separate, as each half
    year's rate is its own decision. Raises :class:`~letters.rules.RuleUnknown` for a day
    the table does not know.

    >>> found = periods(dt.date(2025, 12, 15), dt.date(2026, 7, 10))
    >>> [(p.first.isoformat(), p.last.isoformat(), str(p.rate)) for p in found]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('2025-12-15', '2025-12-31', '12.25'), ('2026-01-01', '2026-06-30', '12.00'),
     ('2026-07-01', '2026-07-10', '12.25')]
    >>> periods(dt.date(2026, 2, 1), dt.date(2026, 1, 31))
    ()
    """
    table = current().interest_rate
    found: list[RatePeriod] = []
    day = first
    while day <= last:
        entry = table.on(day)
        later = [e.valid_from for e in table.entries if e.valid_from > day]
        end = min([last, *(d - ONE_DAY for d in later)])
        found.append(
            RatePeriod(day, end, entry.value, entry.source, entry.confirmed, entry.valid_from)
        )
        day = end + ONE_DAY
    return tuple(found)


def relied_on(first: dt.date, last: dt.date) -> tuple[RatePeriod, ...]:
    """:func:`periods` for a letter that states the rates or caps interest by them: raises
    :class:`~letters.rules.RuleUnconfirmed` for the first period whose rate is unconfirmed."""
    found = periods(first, last)
    for p in found:
        if not p.confirmed:
            table = current().interest_rate
            raise RuleUnconfirmed(table, table.on(p.first))
    return found


def interest_cap(principal: Decimal, start: dt.date, end: dt.date) -> Decimal:
    """The most late-payment interest ``principal`` can have earned from ``start`` up to (not
    including) ``end``: simple interest, each day at its half year's rate, rounded up to the
    øre (an upper bound for what a claim may show). A legal ceiling: an unconfirmed rate in
    the period raises :class:`~letters.rules.RuleUnconfirmed`.

    >>> interest_cap(Decimal("1000"), dt.date(2026, 1, 1), dt.date(2026, 7, 1))
    Decimal('59.51')
    >>> interest_cap(Decimal("1000"), dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    Decimal('0.00')
    """
    total = sum(
        (principal * p.rate / 100 / 365 * p.days for p in relied_on(start, end - ONE_DAY)),
        Decimal(0),
    )
    return total.quantize(CENT, rounding=ROUND_UP)
