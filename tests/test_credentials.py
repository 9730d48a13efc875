"""The login password: issued with the letter, stored only as a hash, valid 21 days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from letters import credentials
from letters.credentials import MemoryCredentialStore, Verdict, verify

OSLO = ZoneInfo("Europe/Oslo")


def test_password_works_until_the_last_second_of_day_21() -> None:
    store = MemoryCredentialStore()
    secret, cred = credentials.issue("AX-2026-100041", dt.date(2026, 11, 20))
    store.add(cred)
    last = dt.datetime(2026, 12, 11, 23, 59, 59, tzinfo=OSLO)
    assert verify(store, "AX-2026-100041", secret, last) is Verdict.VALID
    after = last + dt.timedelta(seconds=1)
    assert verify(store, "AX-2026-100041", secret, after) is Verdict.EXPIRED
    # the same instant given in UTC
    assert verify(store, "ax-2026-100041", secret, last.astimezone(dt.UTC)) is Verdict.VALID


def test_wrong_password_and_unknown_reference_are_both_wrong() -> None:
    store = MemoryCredentialStore()
    secret, cred = credentials.issue("AX-2026-100041", dt.date(2026, 11, 20))
    store.add(cred)
    now = dt.datetime(2026, 11, 21, 12, tzinfo=OSLO)
    plain = secret.reveal()
    other = "2" if plain[-1] != "2" else "3"  # always a different, valid password
    assert verify(store, "AX-2026-100041", plain[:-1] + other, now) is Verdict.WRONG
    assert verify(store, "AX-2026-999999", secret, now) is Verdict.WRONG


def test_password_may_be_typed_with_or_without_the_printed_spaces() -> None:
    from letters.numbers import password

    store = MemoryCredentialStore()
    secret, cred = credentials.issue("AX-2026-100041", dt.date(2026, 11, 20))
    store.add(cred)
    now = dt.datetime(2026, 11, 21, 12, tzinfo=OSLO)
    assert verify(store, "AX-2026-100041", password.format(secret.reveal()), now) is Verdict.VALID


def test_each_letter_of_a_case_keeps_its_own_password() -> None:
    store = MemoryCredentialStore()
    old, c1 = credentials.issue("AX-1234", dt.date(2026, 10, 1))
    new, c2 = credentials.issue("AX-1234", dt.date(2026, 11, 1))
    store.add(c1)
    store.add(c2)
    now = dt.datetime(2026, 11, 5, tzinfo=OSLO)
    assert verify(store, "AX-1234", new, now) is Verdict.VALID
    assert verify(store, "AX-1234", old, now) is Verdict.EXPIRED


def test_only_a_hash_is_kept_and_nothing_prints_the_password() -> None:
    secret, cred = credentials.issue("AX-1234", dt.date(2026, 11, 1))
    plain = secret.reveal()
    assert cred.password_hash.startswith("hmac-sha256$")  # keyed: see letters/credentials.py
    assert plain not in cred.password_hash and cred.tag and plain not in cred.tag
    assert cred.password_hash.removeprefix("hmac-sha256$") != cred.tag
    assert plain not in repr(cred) and cred.password_hash not in repr(cred)
    logged = "%s" % secret  # noqa: UP031 - how logging formats its arguments
    for shown in (repr(secret), str(secret), f"{secret}", logged, f"{[secret]}"):
        assert plain not in shown


def test_parallel_wrong_tries_cannot_slip_past_the_lockout() -> None:
    import threading

    from letters.lockout import MemoryAttemptLog, login

    store, log = MemoryCredentialStore(), MemoryAttemptLog()
    _, cred = credentials.issue("AX-2026-100041", dt.date(2026, 11, 20))
    store.add(cred)
    now = dt.datetime(2026, 11, 21, 12, tzinfo=OSLO)
    answers: list[Verdict] = []
    barrier = threading.Barrier(12)

    def guess() -> None:
        barrier.wait()
        answers.append(login(store, log, "AX-2026-100041", "Wrong2345678", now))

    threads = [threading.Thread(target=guess) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # locked, or refused unchecked once the source has failed ten times (letters.lockout)
    assert sum(a not in (Verdict.LOCKED, Verdict.THROTTLED) for a in answers) <= 5
