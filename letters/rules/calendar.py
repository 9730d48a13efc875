"""Deadlines, business days, the login password's life and the letter date."""

from __future__ import annotations

import datetime as dt
import importlib.util
from functools import cache, lru_cache
from pathlib import Path

import holidays

from letters.codes import Code
from letters.job import FieldError
from letters.rules.tables import Dated

#: Days from the letter date to the payment deadline, for every kind but the payment plan
#: (whose instalments fall due on the days agreed: :mod:`letters.rules.plans`).
PAYMENT_DAYS = Dated(
    dt.date(1988, 1, 1),
    14,
    "inkassoloven §§ 9 and 10, tvangsfullbyrdelsesloven § 4-18: at least 14 days; "
    "moved to the next business day as gjeldsbrevloven § 5 moves due dates",
)

#: Days the login password printed on a letter stays valid (until 23:59:59 Oslo time).
PASSWORD_VALID_DAYS = 21


@cache
def _norway() -> type[holidays.HolidayBase]:
    """python-holidays' calendar of Norway. Reached as ``holidays.country_holidays("NO")``
    it imports the package of every country first (about 280 modules, 7.5 MB in each worker
    process, bench/worker_soak.py); the Norwegian module alone needs only the library's
    shared parts. If the library is laid out otherwise, the usual way."""
    try:
        spec = importlib.util.find_spec("holidays.countries")
        if spec is None or not spec.submodule_search_locations:
            raise ImportError("holidays.countries not found")
        path = Path(next(iter(spec.submodule_search_locations))) / "norway.py"
        alone = importlib.util.spec_from_file_location("letters_holidays_norway", path)
        if alone is None or alone.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(alone)
        alone.loader.exec_module(module)
        norway: type[holidays.HolidayBase] = module.Norway
        return norway
    except (ImportError, OSError, AttributeError):
        return type(holidays.country_holidays("NO"))


@lru_cache(maxsize=64)
def _norwegian_holidays(year: int) -> holidays.HolidayBase:
    """Norway's public holidays in ``year``.

    >>> _norwegian_holidays(2026) == holidays.country_holidays("NO", years=2026)
    True
    """
    return _norway()(years=year)


#: (month, day) of the weekdays that are not public holidays but on which no Norwegian bank
#: settles a payment (Christmas Eve and New Year's Eve): a deadline there could not be met
#: by a payment made that day, so it is no business day.
BANK_CLOSED = frozenset({(12, 24), (12, 31)})


def is_business_day(day: dt.date) -> bool:
    """Monday to Friday, not a Norwegian public holiday and not 24 or 31 December (no bank
    settles a payment on those days).

    >>> is_business_day(dt.date(2026, 5, 18)), is_business_day(dt.date(2026, 5, 17))
    (True, False)
    >>> is_business_day(dt.date(2026, 12, 24)), is_business_day(dt.date(2026, 12, 31))
    (False, False)
    """
    return (
        day.weekday() < 5
        and (day.month, day.day) not in BANK_CLOSED
        and day not in _norwegian_holidays(day.year)
    )


def next_business_day(day: dt.date) -> dt.date:
    """``day`` itself if it is a business day, else the next one."""
    while not is_business_day(day):
        day += dt.timedelta(days=1)
    return day


def payment_deadline(letter_date: dt.date) -> dt.date:
    """Letter date + 14 days, moved forward to the next business day (past weekends,
    public holidays and 24 and 31 December).

    >>> payment_deadline(dt.date(2025, 4, 3))   # lands on Maundy Thursday
    datetime.date(2025, 4, 22)
    >>> payment_deadline(dt.date(2026, 5, 3))   # lands on 17 May, a Sunday
    datetime.date(2026, 5, 18)
    >>> payment_deadline(dt.date(2026, 12, 10))  # lands on Christmas Eve, a Thursday
    datetime.date(2026, 12, 28)
    """
    return next_business_day(letter_date + dt.timedelta(days=PAYMENT_DAYS.value))


def minimum_deadline(letter_date: dt.date) -> dt.date:
    """The earliest due date the law allows a letter to give."""
    return letter_date + dt.timedelta(days=PAYMENT_DAYS.value)


def password_expiry_date(letter_date: dt.date) -> dt.date:
    """The last day the letter's password works (valid until 23:59:59 that day, Oslo)."""
    return letter_date + dt.timedelta(days=PASSWORD_VALID_DAYS)


def letter_date_problem(letter_date: dt.date, today: dt.date) -> FieldError | None:
    """Why a letter with this date may not be sent today, or None. The deadline counts from
    the letter date, so a letter sent after its date gives the debtor less than the 14 days
    it promises; and the rules (a claim overdue, a fee 14 days after the due date) were
    checked against the letter date, so a letter sent before its date may break them.

    >>> letter_date_problem(dt.date(2026, 11, 20), dt.date(2026, 11, 20)) is None
    True
    >>> letter_date_problem(dt.date(2026, 11, 19), dt.date(2026, 11, 20)).code
    <Code.LETTER_DATE_PAST: 'letter-date-past'>
    """
    if letter_date == today:
        return None
    if letter_date < today:
        return FieldError(
            field="letter_date",
            code=Code.LETTER_DATE_PAST,
            reason=f"{letter_date.isoformat()} is before today ({today.isoformat()}): sent now, "
            "the letter would give the debtor less time than it states; date it today (omit "
            "letter_date for today)",
        )
    return FieldError(
        field="letter_date",
        code=Code.LETTER_DATE_FUTURE,
        reason=f"{letter_date.isoformat()} is after today ({today.isoformat()}): the rules were "
        "checked for that day; submit the job on its letter date",
    )
