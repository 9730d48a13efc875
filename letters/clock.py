"""The one clock and time zone of the product: Norway's.

Letters are dated, deadlines fall and passwords expire in Oslo time; everything a person
reads is shown in it. Tests and rehearsals set ``clock_date`` in the settings to pretend
today is another day (never in production; it is logged when set).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from letters.config import Settings, get_settings

#: Norway's time zone.
OSLO = ZoneInfo("Europe/Oslo")


def now() -> dt.datetime:
    """The current time, aware, in UTC (what the ledger stores)."""
    return dt.datetime.now(dt.UTC)


def current(settings: Settings | None = None) -> dt.datetime:
    """The time the product takes it to be (aware, UTC): now, or with a rehearsal date
    ``clock_date`` set, that day at the present Oslo time of day. What a debtor's login is
    checked against, so a rehearsal's passwords expire on the rehearsal's calendar."""
    settings = settings or get_settings()
    real = dt.datetime.now(OSLO)
    if settings.clock_date is None:
        return real.astimezone(dt.UTC)
    return dt.datetime.combine(settings.clock_date, real.time(), tzinfo=OSLO).astimezone(dt.UTC)


def today_oslo(settings: Settings | None = None) -> dt.date:
    """Today's date in Norway (or the rehearsal date ``clock_date`` when one is set)."""
    settings = settings or get_settings()
    if settings.clock_date is not None:
        return settings.clock_date
    return dt.datetime.now(OSLO).date()


def shown(at: dt.datetime | None) -> str:
    """A stored time as every person reads it, on the command line, the review pages and
    the print cover sheet: Oslo time to the second, with its zone (the ledger keeps UTC).

    >>> shown(dt.datetime(2026, 12, 3, 19, 0, 42, 352945, tzinfo=dt.UTC))
    '2026-12-03 20:00:42 CET'
    >>> shown(dt.datetime(2026, 6, 1, 8, 0, tzinfo=dt.UTC))
    '2026-06-01 10:00:00 CEST'
    >>> shown(None)
    ''
    """
    if at is None:
        return ""
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    local = at.astimezone(OSLO)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def end_of_day_oslo(day: dt.date) -> dt.datetime:
    """23:59:59 Oslo time on ``day`` (aware)."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=OSLO)
