"""KID, account number, case reference and password formats."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.exceptions import ValidationError

from letters.numbers import account, kid, password, reference

digits = st.text(alphabet=string.digits, min_size=1, max_size=24)
schemes = st.sampled_from(kid.SCHEMES)

# --- KID -------------------------------------------------------------------------------------

WORKED = [
    ("12345678", "123456782", "123456785"),
    ("1234567890", "12345678903", "12345678903"),
    ("40", "406", "40-"),
    ("31", "315", "310"),
]


@pytest.mark.parametrize(("base", "mod10", "mod11"), WORKED)
def test_kid_worked_examples(base: str, mod10: str, mod11: str) -> None:
    assert base + kid.calc_check_digit(base, "mod10") == mod10
    assert base + kid.calc_check_digit(base, "mod11") == mod11
    assert kid.validate(mod10, "mod10") == mod10
    assert kid.validate(mod11, "mod11") == mod11


def test_kid_dash_is_only_a_mod11_check_digit() -> None:
    assert not kid.is_valid("40-", "mod10")
    assert not kid.is_valid("4-0", "mod11")
    assert kid.is_valid("40-", "mod11")


def test_kid_matches_stdnum_luhn() -> None:
    from stdnum import luhn

    for base in ("12345678", "1234567890", "40", "31", "0000001"):
        assert kid.calc_check_digit(base, "mod10") == luhn.calc_check_digit(base)


@given(base=digits, scheme=schemes)
def test_kid_with_its_check_digit_is_valid(base: str, scheme: kid.Scheme) -> None:
    number = base + kid.calc_check_digit(base, scheme)
    assert kid.is_valid(number, scheme)


@given(base=digits, scheme=schemes, data=st.data())
def test_kid_catches_every_single_digit_typo(
    base: str, scheme: kid.Scheme, data: st.DataObject
) -> None:
    number = base + kid.calc_check_digit(base, scheme)
    pos = data.draw(st.integers(0, len(base) - 1))
    typo = data.draw(st.sampled_from([d for d in string.digits if d != base[pos]]))
    mistyped = number[:pos] + typo + number[pos + 1 :]
    assert not kid.is_valid(mistyped, scheme)


@given(seed=st.text(min_size=1, max_size=80), length=st.integers(4, 25), scheme=schemes)
def test_generated_kid_is_deterministic_valid_and_all_digits(
    seed: str, length: int, scheme: kid.Scheme
) -> None:
    value = kid.generate(seed, length, scheme)
    assert value == kid.generate(seed, length, scheme)
    assert len(value) == length
    assert value.isdigit()  # never the hard-to-type MOD11 '-'
    assert kid.validate(value, scheme) == value


def test_generated_kids_differ_between_jobs() -> None:
    kids = {kid.generate(f"912345688:job-{i}", 15) for i in range(20_000)}
    assert len(kids) == 20_000


@given(st.text(max_size=30), schemes)
def test_kid_validate_only_raises_validation_errors(text: str, scheme: kid.Scheme) -> None:
    try:
        result = kid.validate(text, scheme)
    except ValidationError:
        return
    assert kid.MIN_LENGTH <= len(result) <= kid.MAX_LENGTH


# --- Account numbers ---------------------------------------------------------------------------


@given(st.text(alphabet=string.digits, min_size=10, max_size=10))
def test_account_print_format_round_trips(base: str) -> None:
    candidates = [base + d for d in string.digits if account.is_valid(base + d)]
    for number in candidates:
        printed = account.format(number)
        assert printed == f"{number[:4]} {number[4:6]} {number[6:]}"
        assert account.validate(printed) == number
        assert account.validate(printed.replace(" ", ".")) == number


def test_account_rejects_wrong_check_digit_and_postgiro_length() -> None:
    assert account.is_valid("86011117947")
    assert not account.is_valid("86011117948")
    assert not account.is_valid("1234567")


# --- Case reference ----------------------------------------------------------------------------


@given(st.text(max_size=40))
def test_reference_validate_is_total_and_idempotent(text: str) -> None:
    try:
        value = reference.validate(text)
    except ValidationError:
        return
    assert reference.validate(value) == value
    assert set(value) <= set(string.ascii_uppercase + string.digits + "-")
    assert reference.MIN_LENGTH <= len(value) <= reference.MAX_LENGTH


@pytest.mark.parametrize("bad", ["AB", "-ABCD", "ABCD-", "AB--CD", "AB<CD>", "A" * 25, "ÆØÅ123"])
def test_reference_refuses(bad: str) -> None:
    assert not reference.is_valid(bad)


# --- Password ----------------------------------------------------------------------------------


def test_password_alphabet_has_no_look_alikes() -> None:
    assert not set("0Oo1lI") & set(password.ALPHABET)
    assert len(password.ALPHABET) == 56


def test_passwords_are_random_and_long_enough() -> None:
    drawn = [password.generate() for _ in range(2000)]
    assert len(set(drawn)) == len(drawn)
    assert all(len(p) >= password.MIN_LENGTH for p in drawn)
    used = set("".join(drawn))
    assert used == set(password.ALPHABET)  # every symbol shows up, none outside
    with pytest.raises(ValidationError):
        password.generate(9)


@given(st.integers(password.MIN_LENGTH, 40))
def test_password_print_form_round_trips(length: int) -> None:
    plain = password.generate(length)
    printed = password.format(plain)
    assert all(len(group) <= 4 for group in printed.split(" "))
    assert password.validate(printed) == plain
