"""Rule values marked unconfirmed are never printed as fact nor used as a legal ceiling:
a letter that needs one is refused with ``rule-unconfirmed`` and the table's name until
compliance confirms the value (a reviewer approves the confirmation)."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from letters import rules
from letters.codes import Code
from letters.config import Settings
from letters.job import JobRejected
from letters.ledger.reviews import ReviewRefused
from letters.rules import tables
from letters.templating import working_copy
from letters.validation import parse
from letters.workbench import approval
from letters.workbench.proofs import cases, proof
from tests.conftest import FIXTURE_DATE, Pipeline, load_job
from tests.test_workbench import PASSWORD, letters_cli, people


@pytest.fixture
def shipped_tables() -> Iterator[None]:
    """The tables exactly as the product ships them (2025 H2 and 2026 H2 unconfirmed)."""
    rules.use(None)
    yield


def refusals(data: dict[str, Any]) -> list[tuple[str, Code, str]]:
    try:
        parse(data)
    except JobRejected as exc:
        return [(e.field, e.code, e.reason) for e in exc.errors]
    return []


def test_a_payment_request_stating_an_unconfirmed_rate_is_refused(shipped_tables: None) -> None:
    found = refusals(load_job("payment_request.nb"))
    assert [(f, c) for f, c, _ in found] == [("claims[0].interest", Code.RULE_UNCONFIRMED)]
    reason = found[0][2]
    assert "'interest_rate'" in reason and "2026-07-01" in reason
    assert "letters rules confirm interest_rate 2026-07-01" in reason


def test_without_interest_a_reminder_needs_no_rate(shipped_tables: None) -> None:
    data = load_job("reminder.nb")
    assert all("interest" not in c for c in data["claims"])
    assert refusals(data) == []


def claim_with_interest(letter_date: dt.date, interest_from: dt.date) -> dict[str, Any]:
    data = copy.deepcopy(load_job("reminder.nb"))
    claim = data["claims"][0]
    claim.update(
        invoice_date=(interest_from - dt.timedelta(days=30)).isoformat(),
        due_date=interest_from.isoformat(),
        interest="1.00",
        fees=[],
    )
    data["letter_date"] = letter_date.isoformat()
    return data


def test_interest_only_through_confirmed_half_years_is_accepted(shipped_tables: None) -> None:
    # 2026 H1 (12.00 %) is confirmed
    assert refusals(claim_with_interest(dt.date(2026, 6, 22), dt.date(2026, 3, 2))) == []


@pytest.mark.parametrize(
    ("letter_date", "interest_from", "unconfirmed"),
    [
        (dt.date(2026, 6, 22), dt.date(2025, 12, 1), "2025-07-01"),  # runs through 2025 H2
        (dt.date(2026, 7, 2), dt.date(2026, 6, 1), "2026-07-01"),  # reaches into 2026 H2
    ],
)
def test_an_interest_ceiling_from_an_unconfirmed_rate_is_refused(
    shipped_tables: None, letter_date: dt.date, interest_from: dt.date, unconfirmed: str
) -> None:
    found = refusals(claim_with_interest(letter_date, interest_from))
    assert [(f, c) for f, c, _ in found] == [("claims[0].interest", Code.RULE_UNCONFIRMED)]
    assert unconfirmed in found[0][2]


def test_a_fee_capped_by_an_unconfirmed_inkassosats_is_refused() -> None:
    book = tables.shipped()
    doc = tables.document(book.inkassosats)
    doc["entry"][-1]["confirmed"] = False  # 2026's 750 kr, as if not yet checked
    rules.use(book.replace(tables.parse_table(doc), "test"))
    found = refusals(load_job("reminder.nb"))
    assert [(f, c) for f, c, _ in found] == [("claims[0].fees[0].amount", Code.RULE_UNCONFIRMED)]
    assert "'inkassosats'" in found[0][2]


def test_once_a_reviewer_approves_the_confirmation_the_letter_goes(pipeline: Pipeline) -> None:
    rt = pipeline.runtime
    rt.settings = rt.settings.model_copy(update={"rehearsal_rules": None})  # as shipped
    rt._rules_read_at = -1e9
    data = load_job("payment_request.en")
    with pytest.raises(JobRejected) as refused:
        pipeline.submit(data)
    assert [e.code for e in refused.value.errors] == [Code.RULE_UNCONFIRMED]

    author, reviewer = people(rt.ledger)
    with pytest.raises(ReviewRefused) as twice:  # 2026 H1 is confirmed already
        approval.submit_confirmation(
            rt.ledger, "interest_rate", dt.date(2026, 1, 1), "x" * 5, author, None
        )
    assert twice.value.code is Code.BAD_TABLE
    with pytest.raises(ReviewRefused) as no_such_day:
        approval.submit_confirmation(
            rt.ledger, "interest_rate", dt.date(2026, 7, 2), "x" * 5, author, None
        )
    assert no_such_day.value.code is Code.BAD_TABLE and "2026-07-01" in str(no_such_day.value)

    source = "Finansdepartementet, forsinkelsesrenten fra 1. juli 2026"

    def confirm(day: dt.date) -> Any:
        version = approval.submit_confirmation(
            rt.ledger, "interest_rate", day, source, author, None, today=FIXTURE_DATE
        )
        approval.decide(
            rt.ledger,
            version.id,
            reviewer,
            approve=True,
            sha256=version.sha256,
            comment="checked",
            today=FIXTURE_DATE,
        )
        rt._rules_read_at = -1e9
        return version

    confirm(dt.date(2025, 7, 1))
    with pytest.raises(JobRejected):  # 2026 H2 is still unconfirmed
        pipeline.submit(data)
    second = confirm(dt.date(2026, 7, 1))
    letter_id = pipeline.submit(data)
    pipeline.drain()
    row = rt.ledger.letter(letter_id)
    assert row is not None and row.rules_versions is not None
    assert row.rules_versions["interest_rate"] == str(second.id)
    confirmed = tables.parse_table(second.content).on(dt.date(2026, 7, 1))
    assert confirmed.confirmed and confirmed.source == source


def test_a_proof_may_show_an_unconfirmed_rate(shipped_tables: None) -> None:
    """Compliance reviews wording while a value is being checked: proofs are specimens."""
    settings = Settings(clock_date=FIXTURE_DATE)
    made = proof(
        working_copy("payment_request", "nb"), "payment_request.nb", settings, FIXTURE_DATE
    )
    assert len(made) == len(cases("payment_request.nb", FIXTURE_DATE))


def test_rehearsal_tables_only_with_a_rehearsal_clock(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="rehearsal_rules"):
        Settings(rehearsal_rules=tmp_path)
    assert Settings(rehearsal_rules=tmp_path, clock_date=FIXTURE_DATE).rehearsal_rules


def test_compliance_confirms_a_value_from_the_command_line(tmp_path: Path) -> None:
    run = functools.partial(letters_cli, tmp_path, clock="2026-11-20")
    assert run("users", "create", "anna", "--role", "author", stdin=PASSWORD).returncode == 0
    assert run("users", "create", "bjorn", "--role", "reviewer", stdin=PASSWORD).returncode == 0
    listed = run("rules", "list")
    assert listed.returncode == 1
    assert re.search(
        r"interest_rate has values marked unconfirmed .*2025-07-01, 2026-07-01", listed.stderr
    )
    assert "[rule-unconfirmed]" in listed.stderr
    confirm = run(
        *("rules", "confirm", "interest_rate", "2026-07-01", "--source", "Finansdepartementet"),
        *("--user", "anna"),
        stdin=PASSWORD,
    )
    assert confirm.returncode == 0, confirm.stderr
    version_id, sha = re.search(r"draft v(\d+) \(([0-9a-f]{64})\)", confirm.stdout).groups()
    approved = run(
        *("rules", "approve", version_id, "--sha256", sha, "--comment", "Lovdata", "--user"),
        "bjorn",
        stdin=PASSWORD,
    )
    assert approved.returncode == 0, approved.stderr
    now = {t["table"]: t for t in json.loads(run("rules", "list", "--json").stdout)}
    assert now["interest_rate"]["unconfirmed"] == ["2025-07-01"]
    assert now["interest_rate"]["confirmed"] is True  # today's (2026-11-20) value
