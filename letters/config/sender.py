"""The agency as every letter shows it, and the envelope window its address sits behind."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, field_validator, model_validator
from stdnum import bic, iban
from stdnum.exceptions import ValidationError as NumberError
from stdnum.no import kontonr, orgnr

from letters.numbers import account


class AccountAbroad(BaseModel):
    """How a payer abroad reaches one of the agency's accounts: the account's IBAN and its
    bank's BIC (ISO 13616 and ISO 9362), as the bank states them. A Norwegian IBAN is NO,
    two check digits and the 11-digit account number itself, so the IBAN must hold
    ``account_number``: the letter prints the IBAN of the very account it prints."""

    account_number: str
    iban: str
    bic: str

    @field_validator("account_number")
    @classmethod
    def _account(cls, value: str) -> str:
        return _number(account.validate, value, "account number")

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str) -> str:
        return _number(iban.validate, value, "IBAN")

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str) -> str:
        return _number(bic.validate, value, "BIC (ISO 9362: bank, country, location, branch)")

    @property
    def printed_iban(self) -> str:
        """The IBAN in groups of four, as a payer types it (``NO93 8601 1117 947``)."""
        return str(iban.format(self.iban))

    @model_validator(mode="after")
    def _same_account(self) -> AccountAbroad:
        if not self.iban.startswith("NO") or self.iban[4:] != self.account_number:
            raise ValueError(
                f"the IBAN {iban.format(self.iban)} is not the IBAN of account "
                f"{kontonr.format(self.account_number)} (NO, two check digits, then the "
                f"account number: {iban_of(self.account_number)})"
            )
        if self.bic[4:6] != "NO":
            raise ValueError(f"the BIC {self.bic} is not a Norwegian bank's (letters 5-6 NO)")
        return self


def iban_of(account_number: str) -> str:
    """The IBAN of a Norwegian account number, formatted.

    >>> iban_of("86011117947")
    'NO93 8601 1117 947'
    """
    return str(iban.format(kontonr.to_iban(account.compact(account_number))))


def _number(validate: Callable[[str], Any], value: str, what: str) -> str:
    try:
        return str(validate(value))
    except NumberError as exc:
        raise ValueError(f"not a valid {what}: {exc}") from None


class Sender(BaseModel):
    """The agency as it appears on every letter."""

    name: str = "Fjordinkasso AS"
    address_lines: list[str] = ["Postboks 1234 Sentrum", "0106 OSLO"]
    org_number: str = "923609016"
    phone: str = "+47 22 00 00 00"
    email: str = "kundeservice@fjordinkasso.example"
    portal_url: str = "https://min.fjordinkasso.example"
    quickpay_url: str = "https://fjordinkasso.example/quickpay"
    #: Printed in small type above the debtor's address in the envelope window. It must
    #: not reveal that the letter is about debt (inkassoloven § 8): no agency name here.
    return_address: str = "Returadresse: Postboks 1234 Sentrum, 0106 OSLO"
    #: Added to the return address on letters going abroad: a returned letter is first
    #: handled by the foreign post, so the country is named in English.
    return_country: str = "NORWAY"
    #: The agency's accounts as payers abroad reach them. A debtor whose address is outside
    #: Norway gets the IBAN and BIC of the letter's payment account; a job for one whose
    #: account is not listed here is refused at intake (``no-iban-for-account``).
    accounts_abroad: list[AccountAbroad] = [
        AccountAbroad(account_number="15031123450", iban="NO8015031123450", bic="DNBANOKK")
    ]
    #: The complaints board a debtor may bring a dispute before (inkassoloven § 10 (f)).
    complaints_board: str = "Finansklagenemnda"
    complaints_board_url: str = "finkn.no"

    @field_validator("org_number")
    @classmethod
    def _orgnr(cls, value: str) -> str:
        return str(orgnr.validate(value))

    @field_validator("accounts_abroad")
    @classmethod
    def _one_each(cls, value: list[AccountAbroad]) -> list[AccountAbroad]:
        numbers = [a.account_number for a in value]
        if len(set(numbers)) != len(numbers):
            raise ValueError("an account is listed twice")
        return value

    def abroad(self, account_number: str) -> AccountAbroad | None:
        """The IBAN and BIC of one of the agency's accounts, or None when not configured."""
        wanted = account.compact(account_number)
        return next((a for a in self.accounts_abroad if a.account_number == wanted), None)


class Window(BaseModel):
    """The envelope window, in mm from the page's top-left corner (C5 window envelope)."""

    left: float = 15
    top: float = 44
    width: float = 105
    height: float = 35
