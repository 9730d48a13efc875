"""Property tests of the fee-timing rules against an oracle written from the law, not from
letters.rules: a sequence of (fee code, charged_on) on one claim is lawful when

- at most two reminder fees, or one reminder fee with a notice fee; at most one notice fee,
  one creditor's payment request fee and one collection fee, never both of the last two
  (inkassoforskriften § 1-3);
- any two fees of the reminder/notice family are at least 14 days apart (§ 1-2 first and
  second ledd);
- every fee falls on a day strictly after the deadline of each letter that charged a fee
  on the same day or before it: that letter's date + 14 days, moved forward past Saturdays,
  Sundays and Norwegian public holidays (inkassoloven §§ 9–10, gjeldsbrevloven § 5).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from itertools import combinations, permutations
from typing import Any

import holidays
from hypothesis import event, example, given
from hypothesis import strategies as st

from letters.job import JobRejected
from letters.validation import parse
from tests.conftest import load_job

REMINDER, NOTICE, REQUEST, COLLECTION = (
    "reminder_fee",
    "notice_fee",
    "payment_request_fee",
    "collection_fee",
)
AMOUNT = {REMINDER: "37.50", NOTICE: "37.50", REQUEST: "112.50", COLLECTION: "250.00"}
DUE = dt.date(2026, 1, 5)
FIRST_LAWFUL = DUE + dt.timedelta(days=14)  # no fee before 14 days past due (not tested here)
LETTER_DATE = dt.date(2026, 12, 31)  # after every fee drawn below
TIMING_CODES = {"fee-too-many", "fees-too-close", "fee-before-deadline"}
TIMING_CODES |= {"fee-twice-for-payment-request"}

Fees = list[tuple[str, dt.date]]


def _deadline(sent: dt.date) -> dt.date:
    public = holidays.Norway(years=range(sent.year, sent.year + 2))
    day = sent + dt.timedelta(days=14)
    while day.weekday() >= 5 or day in public:
        day += dt.timedelta(days=1)
    return day


def lawful(fees: Fees) -> bool:
    """The oracle: whether ``fees`` may stand together on one claim."""
    n = Counter(code for code, _ in fees)
    if n[REMINDER] > (1 if n[NOTICE] else 2):
        return False
    if n[NOTICE] > 1 or n[REQUEST] > 1 or n[COLLECTION] > 1 or (n[REQUEST] and n[COLLECTION]):
        return False
    family = [day for code, day in fees if code in (REMINDER, NOTICE)]
    if any(abs((a - b).days) < 14 for a, b in combinations(family, 2)):
        return False
    return not any(a <= b <= _deadline(a) for (_, a), (_, b) in permutations(fees, 2))


def accepted(fees: Fees) -> bool:
    """Whether the engine accepts a letter (a reminder dated after all of them, charging no
    fee itself) for a claim carrying ``fees`` from earlier letters."""
    job: dict[str, Any] = copy.deepcopy(load_job("reminder.nb"))
    job["letter_date"] = LETTER_DATE.isoformat()
    claim = job["claims"][0]
    claim.pop("interest", None)
    claim.update(invoice_date="2025-12-20", due_date=DUE.isoformat())
    claim["fees"] = [
        {"code": code, "amount": AMOUNT[code], "charged_on": day.isoformat()} for code, day in fees
    ]
    try:
        parse(job)
    except JobRejected as exc:
        other = {str(e.code) for e in exc.errors} - TIMING_CODES
        assert not other, f"refused for something else: {exc}"
        return False
    return True


codes = st.sampled_from([REMINDER, NOTICE, REQUEST, COLLECTION])


#: The orders in which fees lawfully follow each other (§ 1-3), drawn as often as any codes.
USUAL = [
    [REMINDER, REMINDER, REQUEST],
    [REMINDER, NOTICE, COLLECTION],
    [REMINDER, REMINDER, COLLECTION],
    [NOTICE, COLLECTION],
    [REMINDER, NOTICE, REQUEST],
]
code_orders = st.one_of(
    st.sampled_from(USUAL).flatmap(lambda o: st.integers(1, len(o)).map(lambda n: o[:n])),
    st.lists(codes, max_size=5),
)
#: Days between two fees: around 14 and the deadline after it most of the time.
gaps = st.one_of(st.integers(12, 21), st.integers(0, 30))


@st.composite
def fee_sequences(draw: st.DrawFn) -> Fees:
    """Up to five fees, 0–30 days apart, from a start in the first half of 2026, in any
    order (the order a job lists them in must not matter)."""
    day = FIRST_LAWFUL + dt.timedelta(days=draw(st.integers(0, 180)))
    fees = []
    for code in draw(code_orders):
        day += dt.timedelta(days=draw(gaps))
        fees.append((code, day))
    return draw(st.permutations(fees))


@given(fee_sequences())
@example([(REMINDER, dt.date(2026, 11, 6)), (REMINDER, dt.date(2026, 11, 20))])  # deadline day
@example([(REMINDER, dt.date(2026, 3, 19)), (NOTICE, dt.date(2026, 4, 6))])  # Easter Monday
@example([(REMINDER, dt.date(2026, 3, 19)), (NOTICE, dt.date(2026, 4, 7))])
@example([(REMINDER, dt.date(2026, 5, 1)), (NOTICE, dt.date(2026, 5, 11))])  # 10 days
def test_the_engine_accepts_exactly_the_lawful_fee_sequences(fees: Fees) -> None:
    expected = lawful(fees)
    event(f"{len(fees)} fees, {'lawful' if expected else 'unlawful'}")
    assert accepted(fees) == expected


@given(
    st.dates(FIRST_LAWFUL, dt.date(2026, 11, 30)),
    st.sampled_from([(REMINDER, REMINDER), (REMINDER, NOTICE), (NOTICE, COLLECTION)]),
    st.integers(0, 25),
)
def test_a_second_fee_is_lawful_from_the_day_after_the_first_letters_deadline(
    first: dt.date, pair: tuple[str, str], gap: int
) -> None:
    second = first + dt.timedelta(days=gap)
    fees = [(pair[0], first), (pair[1], second)]
    assert accepted(fees) == (second > _deadline(first)) == lawful(fees)
