"""Debtor logins (issue 11, defects 2 and 3): every unexpired letter's password works at one
argon2 verification whatever the case holds, and a flood of wrong passwords from one source
slows that source down without locking the debtor out elsewhere."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from letters import credentials
from letters.credentials import MemoryCredentialStore, Verdict, verify
from tests.conftest import load_job, password_on
from tests.test_http import api, auth  # noqa: F401 - the fixture

OSLO = ZoneInfo("Europe/Oslo")
REF = "AX-2026-100041"


def _case_with_letters(count: int, first: dt.date) -> tuple[MemoryCredentialStore, list[Any]]:
    """A case with ``count`` letters, a day apart from ``first``: their passwords, oldest
    first."""
    store = MemoryCredentialStore()
    secrets = []
    for day in range(count):
        secret, cred = credentials.issue(REF, first + dt.timedelta(days=day))
        store.add(cred)
        secrets.append(secret)
    return store, secrets


def test_the_oldest_unexpired_password_of_a_case_with_six_letters_still_works() -> None:
    store, secrets = _case_with_letters(6, dt.date(2026, 11, 1))
    now = dt.datetime(2026, 11, 10, 12, tzinfo=OSLO)  # all six live until 22-27 November
    for secret in secrets:
        assert verify(store, REF, secret, now) is Verdict.VALID
    after_the_first = dt.datetime(2026, 11, 23, 0, 0, 1, tzinfo=OSLO)
    assert verify(store, REF, secrets[0], after_the_first) is Verdict.EXPIRED
    assert verify(store, REF, secrets[1], after_the_first) is Verdict.VALID


def test_a_flood_from_one_source_does_not_lock_the_debtor_out_elsewhere(api: Any) -> None:
    client, pipeline, tokens = api
    job = load_job("reminder.nb")
    letter_id = client.post("/v1/jobs", json=job, headers=auth(tokens["all"])).json()["letter_id"]
    pipeline.drain()
    password = password_on(pipeline.pdf(letter_id))

    def check(pw: str, source: str) -> Any:
        return client.post(
            "/v1/credentials/verify",
            headers=auth(tokens["all"]),
            json={"reference": job["reference"], "password": pw, "source": source},
        )

    attacker, debtor = "203.0.113.9", "198.51.100.7"
    answers = [check("Wrong2345678", attacker).json()["result"] for _ in range(5)]
    assert answers == ["wrong"] * 5
    # the pair (reference, attacker's address) is locked, even for the right password ...
    assert check(password, attacker).json()["result"] == "locked"
    # ... but the debtor, from home, still gets in
    assert check(password, debtor).json()["result"] == "valid"
    answers = [check("Wrong2345678", attacker).json()["result"] for _ in range(4)]
    assert answers == ["locked"] * 4
    # ten failed tries from one source: it must now wait before its next try is checked
    refused = check("Wrong2345678", attacker)
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["errors"][0]["code"] == "login-throttled"
    assert "Wrong2345678" not in refused.text
    assert check(password, debtor).json()["result"] == "valid"
    scraped = client.get("/metrics").text
    assert 'letters_logins_total{result="throttled"} 1.0' in scraped
    assert 'letters_logins_total{result="locked"}' in scraped
