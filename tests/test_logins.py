"""Debtor logins (issue 11, defects 2 and 3): every unexpired letter's password works at one
argon2 verification whatever the case holds, and a flood of wrong passwords from one source
slows that source down without locking the debtor out elsewhere."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from letters import credentials
from letters.credentials import MemoryCredentialStore, Verdict, verify
from letters.http import create_app
from letters.ledger import create_token
from tests.conftest import Pipeline, load_job, password_on

OSLO = ZoneInfo("Europe/Oslo")
REF = "AX-2026-100041"


def _argon2_era(cred: Any, secret: Any) -> Any:
    """``cred`` as a worker stored it before keyed hashes: with an argon2id hash."""
    from dataclasses import replace

    from letters.numbers.password import compact

    hashed = credentials.hasher().hash(compact(secret.reveal()))
    return replace(cred, password_hash=hashed)


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


@pytest.fixture
def api(pipeline: Pipeline) -> Iterator[tuple[TestClient, Pipeline, dict[str, str]]]:
    tokens = {"all": create_token(pipeline.runtime.ledger, "portal", {"submit", "verify"})}
    with TestClient(create_app(pipeline.runtime)) as client:
        yield client, pipeline, tokens


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _logins_counted(exposition: str) -> dict[str, float]:
    """``letters_logins_total`` by result, from a Prometheus scrape (0 for none yet)."""
    counted = dict.fromkeys(("valid", "expired", "wrong", "locked", "throttled"), 0.0)
    for line in exposition.splitlines():
        if line.startswith('letters_logins_total{result="'):
            labels, value = line.rsplit(" ", 1)
            counted[labels.split('"')[1]] = float(value)
    return counted


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
    before = _logins_counted(client.get("/metrics").text)
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
    bad = check(password, "my house")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "source"
    assert "my house" not in bad.text and password not in bad.text
    after = _logins_counted(client.get("/metrics").text)
    assert after["throttled"] == before["throttled"] + 1
    assert after["locked"] == before["locked"] + 5
    assert after["valid"] == before["valid"] + 2


def test_every_answer_costs_one_verification_however_many_letters() -> None:
    from letters.credentials import Checks

    store, secrets = _case_with_letters(9, dt.date(2026, 11, 1))
    _, other = credentials.issue("AX-2026-777777", dt.date(2026, 11, 1))
    store.add(other)
    now = dt.datetime(2026, 11, 10, 12, tzinfo=OSLO)
    late = dt.datetime(2026, 11, 23, 12, tzinfo=OSLO)  # the first letter's password is dead
    cases = {
        "no such reference": (now, "AX-2026-999999", secrets[0], Verdict.WRONG),
        "not a reference at all": (now, "?!", secrets[0], Verdict.WRONG),
        "wrong password": (now, REF, "Wrong2345678", Verdict.WRONG),
        "right password of the 9th (oldest) letter": (now, REF, secrets[0], Verdict.VALID),
        "right password of the newest letter": (now, REF, secrets[-1], Verdict.VALID),
        "another case's password": (now, REF, "x" * 12, Verdict.WRONG),
        "an expired password": (late, REF, secrets[0], Verdict.EXPIRED),
    }
    counts = {}
    for name, (at, reference, password, expected) in cases.items():
        checks = Checks()
        assert verify(store, reference, password, at, checks=checks) is expected, name
        counts[name] = checks.verifications
    assert set(counts.values()) == {1}, counts


def test_new_letters_keep_a_keyed_hash_and_letters_from_before_keep_opening() -> None:
    """Letters issued now keep an HMAC-SHA256 hash (no argon2 to issue or check them);
    letters issued before, with an argon2id hash and a tag, open as they did."""
    from letters.credentials import Checks

    store, secrets = _case_with_letters(2, dt.date(2026, 11, 1))
    before, cred = credentials.issue(REF, dt.date(2026, 11, 3))
    store.add(_argon2_era(cred, before))
    now = dt.datetime(2026, 11, 10, 12, tzinfo=OSLO)
    for password, expected, argon2 in [
        (secrets[0], Verdict.VALID, 0),
        (secrets[1], Verdict.VALID, 0),
        ("Wrong2345678", Verdict.WRONG, 0),
        (before, Verdict.VALID, 1),  # its hash is argon2id: verified as argon2
    ]:
        checks = Checks()
        assert verify(store, REF, password, now, checks=checks) is expected
        assert (checks.verifications, checks.argon2) == (1, argon2)
    # a wrong password whose keyed hash is another letter's tag opens nothing
    assert verify(store, REF, secrets[0].reveal()[::-1], now) is Verdict.WRONG


def test_letters_from_before_tags_are_checked_at_a_cost_the_same_for_every_reference() -> None:
    """Letters stored before migration 0007 have no lookup tag: while any of them may be
    live every check costs 1 + LEGACY_CHECKS verifications, for any reference."""
    from dataclasses import replace

    from letters.credentials import LEGACY_CHECKS, Checks

    store = MemoryCredentialStore()
    old, cred = credentials.issue(REF, dt.date(2026, 11, 1))
    store.add(_argon2_era(replace(cred, tag=None), old))
    new, cred = credentials.issue(REF, dt.date(2026, 11, 2))
    store.add(cred)
    now = dt.datetime(2026, 11, 10, 12, tzinfo=OSLO)
    counts = set()
    for reference, password, expected in [
        (REF, old, Verdict.VALID),
        (REF, new, Verdict.VALID),
        (REF, "Wrong2345678", Verdict.WRONG),
        ("AX-2026-999999", old, Verdict.WRONG),
    ]:
        checks = Checks()
        assert verify(store, reference, password, now, checks=checks) is expected
        counts.add(checks.verifications)
    assert counts == {1 + LEGACY_CHECKS}
    # once the last untagged password has expired, one verification again
    gone = dt.datetime(2026, 11, 23, tzinfo=OSLO)
    checks = Checks()
    assert verify(store, REF, old, gone, checks=checks) is Verdict.WRONG
    assert checks.verifications == 1


def test_nothing_stored_lets_a_password_be_found_without_the_login_key() -> None:
    import hashlib

    from letters.config import Logins, Settings

    one = Settings(logins=Logins(key="a" * 32))
    two = Settings(logins=Logins(key="b" * 32))
    secret, cred = credentials.issue(REF, dt.date(2026, 11, 1), one)
    plain = secret.reveal()
    assert cred.tag == credentials.password_tag(REF, plain, one)
    assert cred.tag != credentials.password_tag(REF, plain, two)
    for unkeyed in (plain, REF + plain, "AX2026100041" + plain):
        assert cred.tag != hashlib.sha256(unkeyed.encode()).hexdigest()
    assert plain not in cred.password_hash and cred.tag and plain not in cred.tag


def test_the_login_key_file_is_made_once_and_readable_by_its_owner_only(tmp_path: Any) -> None:
    from letters.config import Logins, Settings

    settings = Settings(logins=Logins(key=None, key_file=tmp_path / "keys" / "login.key"))
    first = credentials.login_key(settings)
    assert len(first) >= 32 and (tmp_path / "keys" / "login.key").stat().st_mode & 0o777 == 0o600
    assert credentials.login_key(settings) == first
    credentials._KEYS.clear()  # another process reads the same file
    assert credentials.login_key(settings) == first


def _flood(store: Any, attempts: Any, caplog: Any) -> None:
    """One attacker's source hammering: locked, then slowed down, then refused until the
    window has passed; the debtor from home gets in all the while."""
    import logging

    from letters.config import Logins, Settings
    from letters.lockout import attempt

    settings = Settings(
        logins=Logins(
            lock_after=5, delay_after=10, delay_seconds=1, max_delay_seconds=8, source_limit=14
        )
    )
    debtor_secret, cred = credentials.issue(REF, dt.date(2026, 11, 1), settings)
    store.add(cred)
    t0 = dt.datetime(2026, 11, 10, 12, tzinfo=OSLO)
    attacker, debtor = "203.0.113.9", "2001:db8:aa:bb::17"

    def at(seconds: float, reference: str = REF, password: Any = "Wrong2345678") -> Any:
        when = t0 + dt.timedelta(seconds=seconds)
        return attempt(store, attempts, reference, password, when, settings, source=attacker)

    def home(seconds: float) -> Verdict:
        when = t0 + dt.timedelta(seconds=seconds)
        answer = attempt(store, attempts, REF, debtor_secret, when, settings, source=debtor)
        return answer.verdict

    caplog.set_level(logging.WARNING, logger="letters.logins")
    assert [at(0).verdict for _ in range(5)] == [Verdict.WRONG] * 5
    assert at(0, password=debtor_secret).verdict is Verdict.LOCKED
    assert [at(0).verdict for _ in range(4)] == [Verdict.LOCKED] * 4
    assert home(0) is Verdict.VALID
    # ten failed tries: the next waits 1 s, then 2, 4, 8 (doubling, at most 8)
    assert at(0).retry_after == 1
    other = "AX-2026-555555"
    assert at(1, other).verdict is Verdict.WRONG
    assert (at(2, other).verdict, at(2, other).retry_after) == (Verdict.THROTTLED, 1)
    assert at(3, other).verdict is Verdict.WRONG
    assert at(6, other).retry_after == 1
    assert at(7, other).verdict is Verdict.WRONG
    assert at(14.5, other).retry_after == 1
    assert at(15, other).verdict is Verdict.WRONG  # the 14th failed try: the ceiling
    assert at(100, other).retry_after == 800  # until the first ten leave the window
    assert home(100) is Verdict.VALID
    assert at(901, other).verdict is Verdict.WRONG  # four failed tries left in the window
    assert home(901) is Verdict.VALID
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "login locked: case-" in logged and "from source 203.0.113.9" in logged
    # one line per lock (each case's fifth wrong password), one for the ceiling
    assert logged.count("login locked: ") == 2 and logged.count(" refused: ") == 1
    assert "login source 203.0.113.9 slowed down: 10 failed tries" in logged
    assert "login source 203.0.113.9 refused: 14 failed tries in 15 min" in logged
    for secret in (REF, "AX2026100041", other, "Wrong2345678", debtor_secret.reveal()):
        assert secret not in logged
    assert debtor not in logged  # the debtor's own tries are not worth a line


def test_one_source_is_held_back_while_the_debtor_gets_in(caplog: Any) -> None:
    from letters.lockout import MemoryAttemptLog

    _flood(MemoryCredentialStore(), MemoryAttemptLog(), caplog)


def test_the_limits_hold_on_the_ledger(database_url: str, caplog: Any) -> None:
    from letters.ledger import Ledger, LedgerAttemptLog

    ledger = Ledger(database_url)
    ledger.migrate()
    _flood(MemoryCredentialStore(), LedgerAttemptLog(ledger), caplog)


def test_an_ipv6_subscriber_is_one_source() -> None:
    from letters.lockout import MemoryAttemptLog, attempt

    store, attempts = MemoryCredentialStore(), MemoryAttemptLog()
    secret, cred = credentials.issue(REF, dt.date(2026, 11, 1))
    store.add(cred)
    now = dt.datetime(2026, 11, 10, 12, tzinfo=OSLO)
    for host in range(1, 6):  # one address after another from the same /64
        source = f"2001:db8:1:2::{host}"
        assert attempt(store, attempts, REF, "Wrong2345678", now, source=source).verdict is (
            Verdict.WRONG
        )
    neighbour = attempt(store, attempts, REF, secret, now, source="2001:db8:1:2:ffff::1")
    assert neighbour.verdict is Verdict.LOCKED
    assert attempt(store, attempts, REF, secret, now, source="2001:db8:1:3::1").verdict is (
        Verdict.VALID
    )


def _record(ledger: Any, job_id: str, cred: Any) -> None:
    """A letter of the case in the ledger with ``cred``'s hash, tag and expiry."""
    from letters.validation import parse
    from tests.test_ledger import _letter

    job = load_job("reminder.nb")
    job["id"] = job_id
    ledger.accept(parse(job))
    row = _letter(job_id, cred.reference, cred.password_hash, cred.tag)
    row.password_expires_at = cred.expires_at
    assert ledger.record_letter(row)


def test_six_letters_in_the_ledger_all_open_the_case(database_url: str) -> None:
    from letters.credentials import Checks
    from letters.ledger import Ledger, LedgerCredentials

    ledger = Ledger(database_url)
    ledger.migrate()
    secrets = []
    for n in range(6):
        secret, cred = credentials.issue(REF, dt.date(2026, 11, 1) + dt.timedelta(days=n))
        _record(ledger, f"job-{n}", cred)
        secrets.append(secret)
    store = LedgerCredentials(ledger)
    now = dt.datetime(2026, 11, 10, 12, tzinfo=OSLO)
    counts = set()
    for secret in secrets:
        checks = Checks()
        assert verify(store, REF, secret, now, checks=checks) is Verdict.VALID
        counts.add(checks.verifications)
    for reference, password in [(REF, "Wrong2345678"), ("AX-2026-999999", secrets[0])]:
        checks = Checks()
        assert verify(store, reference, password, now, checks=checks) is Verdict.WRONG
        counts.add(checks.verifications)
    assert counts == {1}
    late = dt.datetime(2026, 11, 23, 0, 0, 1, tzinfo=OSLO)
    assert verify(store, REF, secrets[0], late) is Verdict.EXPIRED


def test_a_ledger_from_before_tags_upgrades_and_its_letters_still_open(database_url: str) -> None:
    from dataclasses import replace

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from letters.credentials import LEGACY_CHECKS, Checks
    from letters.ledger import Ledger, LedgerCredentials
    from letters.ledger.db import MIGRATIONS

    old = Ledger(database_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with old.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(
            text(
                "INSERT INTO login_attempts (reference, at, outcome) VALUES"
                " ('AX2026100041', :at, 'wrong')"
            ),
            {"at": dt.datetime(2026, 11, 10, tzinfo=dt.UTC)},
        )
    ledger = Ledger(database_url)
    ledger.migrate()
    secret, cred = credentials.issue(REF, dt.date(2026, 11, 1))
    # as the old workers stored it
    _record(ledger, "before-tags", _argon2_era(replace(cred, tag=None), secret))
    newer, cred = credentials.issue(REF, dt.date(2026, 11, 2))
    _record(ledger, "after-tags", cred)
    store = LedgerCredentials(ledger)
    now = dt.datetime(2026, 11, 10, 12, tzinfo=OSLO)
    counts = set()
    for reference, password, expected in [
        (REF, secret, Verdict.VALID),
        (REF, newer, Verdict.VALID),
        ("AX-2026-999999", secret, Verdict.WRONG),
    ]:
        checks = Checks()
        assert verify(store, reference, password, now, checks=checks) is expected
        counts.add(checks.verifications)
    assert counts == {1 + LEGACY_CHECKS}


def test_a_shared_ledger_never_gets_a_login_key_of_one_machine(tmp_path: Any) -> None:
    """With PostgreSQL several machines make letters and check logins: a key file made by
    one of them would make the others answer "wrong" to every new password."""
    from letters.config import Logins, Settings

    settings = Settings(
        database_url="postgresql+psycopg://letters@db/letters",
        logins=Logins(key=None, key_file=tmp_path / "login.key"),
    )
    with pytest.raises(credentials.LoginKeyMissing, match="LETTERS_LOGINS__KEY"):
        credentials.issue(REF, dt.date(2026, 11, 1), settings)
    assert not (tmp_path / "login.key").exists()
    (tmp_path / "login.key").write_text("k" * 64)  # installed by the operator
    assert credentials.login_key(settings) == b"k" * 64
