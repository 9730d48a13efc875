"""Debtors abroad: the letter gives the IBAN and BIC of the very account it prints, the
return address names Norway, a job whose account has no IBAN configured is refused at
intake, and settings with a wrong IBAN or BIC stop the program at start-up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from letters.codes import Code
from letters.config import Sender, Settings
from letters.config.sender import AccountAbroad, iban_of
from letters.job import JobRejected
from letters.produce import Produced, produce, window_text
from letters.validation import parse
from tests.conftest import FIXTURE_DATE, load_job
from tests.letters_command import run
from tests.pdftext import page_texts

SETTINGS = Settings(clock_date=FIXTURE_DATE)
ABROAD = ["edge.debtor-abroad.nb", "edge.debtor-abroad.en", "edge.foreign-address"]
FROM_ABROAD = {
    "nb": "Betaler du fra utlandet, bruker du IBAN og BIC ovenfor og oppgir KID-nummeret",
    "en": "Paying from abroad? Use the IBAN and BIC above and give the KID",
}


def text(p: Produced) -> str:
    return " ".join(page_texts(p.rendered.pdf))


@pytest.mark.parametrize("name", ABROAD)
def test_a_debtor_abroad_is_told_the_iban_and_bic_of_the_letters_account(name: str) -> None:
    p = produce(load_job(name), SETTINGS)
    assert p.safety.ok, p.safety.failures
    shown = text(p)
    letter = p.composed.letter
    assert "Kontonummer 1503 11 23450" in shown or "Account number 1503 11 23450" in shown
    assert "IBAN NO80 1503 1123 450" in shown
    assert "BIC (SWIFT) DNBANOKK" in shown
    assert FROM_ABROAD[letter.language] in shown
    # the IBAN is that of the account printed beside it: NO, check digits, the 11 digits
    assert letter.iban is not None
    assert letter.iban.replace(" ", "")[4:] == letter.account_number.replace(" ", "")


@pytest.mark.parametrize("name", ["reminder.nb", "payment_request.en"])
def test_a_debtor_in_norway_gets_neither_iban_nor_a_country(name: str) -> None:
    p = produce(load_job(name), SETTINGS)
    assert "IBAN" not in text(p) and "NORWAY" not in text(p)
    assert window_text(p.composed)[0] == "Returadresse: Postboks 1234 Sentrum, 0106 OSLO"


@pytest.mark.parametrize("name", ABROAD)
def test_the_return_address_of_a_letter_abroad_names_norway(name: str) -> None:
    p = produce(load_job(name), SETTINGS)
    shown = window_text(p.composed)
    assert shown[0] == "Returadresse: Postboks 1234 Sentrum, 0106 OSLO, NORWAY"
    # the debtor's own country closes the address, in Norwegian capitals
    assert shown[-1] in {"TYSKLAND", "NEDERLAND", "SVERIGE"}
    assert p.safety.ok  # the window holds exactly these lines


def test_a_debtor_abroad_without_an_iban_for_the_account_is_refused_at_intake() -> None:
    job = load_job("edge.debtor-abroad.nb")
    job["payment"]["account_number"] = "86011117947"  # valid, but not in accounts_abroad
    with pytest.raises(JobRejected) as caught:
        parse(job)
    (error,) = caught.value.errors
    assert (error.field, error.code) == ("payment.account_number", Code.NO_IBAN_FOR_ACCOUNT)
    job["debtor"]["address"] = load_job("reminder.nb")["debtor"]["address"]
    assert parse(job).payment.account_number == "86011117947"  # in Norway: no IBAN needed


def _accounts(**changed: str) -> list[dict[str, str]]:
    account = {"account_number": "15031123450", "iban": "NO8015031123450", "bic": "DNBANOKK"}
    return [{**account, **changed}]


@pytest.mark.parametrize(
    ("changed", "words"),
    [
        ({"iban": "NO8115031123450"}, "not a valid IBAN"),
        ({"iban": "NO9386011117947"}, "is not the IBAN of account 1503.11.23450"),
        ({"iban": "DE89370400440532013000"}, "is not the IBAN of account"),
        ({"bic": "DNBANO"}, "not a valid BIC"),
        ({"bic": "DEUTDEFF"}, "not a Norwegian bank's"),
        ({"account_number": "15031123451"}, "not a valid account number"),
    ],
)
def test_a_wrong_iban_or_bic_setting_is_refused(changed: dict[str, str], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        Sender(accounts_abroad=_accounts(**changed))  # type: ignore[arg-type]


def test_an_account_listed_twice_is_refused() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        Sender(accounts_abroad=_accounts() * 2)  # type: ignore[arg-type]


def test_a_bad_setting_stops_the_program_at_start_up_naming_it() -> None:
    result = run("codes", LETTERS_SENDER__ACCOUNTS_ABROAD=json.dumps(_accounts(bic="DNBA")))
    assert result.returncode == 2
    assert "LETTERS_SENDER__ACCOUNTS_ABROAD__0__BIC" in result.stderr
    assert "not a valid BIC" in result.stderr


def _kontonr(base: str) -> str | None:
    """An account number from 10 digits by the MOD11 rule (weights 5,4,3,2,7,6,5,4,3,2 from
    the left; 11 → 0; 10 → no such account), written apart from the code under test."""
    total = sum(int(d) * w for d, w in zip(base, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    check = 11 - total % 11
    return None if check == 10 else base + str(check % 11)


# bank registration numbers 1000-9999: "0000" starts a 7-digit postgiro number, no account
_bases = (
    st.integers(1000, 9999)
    .map(str)
    .flatmap(
        lambda bank: st.text("0123456789", min_size=6, max_size=6).map(lambda rest: bank + rest)
    )
)


@given(_bases, _bases)
def test_the_iban_of_an_account_holds_that_account_and_no_other(one: str, other: str) -> None:
    account, another = _kontonr(one), _kontonr(other)
    if account is None:
        return
    derived = iban_of(account)
    assert derived.replace(" ", "")[4:] == account and derived.startswith("NO")
    configured = AccountAbroad(account_number=account, iban=derived, bic="DNBANOKK")
    assert configured.printed_iban == derived
    if another is not None and another != account:
        with pytest.raises(ValidationError, match="is not the IBAN of account"):
            AccountAbroad(account_number=another, iban=derived, bic="DNBANOKK")


def test_the_default_settings_hold_an_account_for_every_fixture() -> None:
    accounts: set[Any] = {load_job(n)["payment"]["account_number"] for n in ABROAD}
    assert all(Sender().abroad(a) is not None for a in accounts)
