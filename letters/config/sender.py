"""The agency as every letter shows it, and the envelope window its address sits behind."""

from __future__ import annotations

from pydantic import BaseModel, field_validator
from stdnum.no import orgnr


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
    #: The complaints board a debtor may bring a dispute before (inkassoloven § 10 (f)).
    complaints_board: str = "Finansklagenemnda"
    complaints_board_url: str = "finkn.no"

    @field_validator("org_number")
    @classmethod
    def _orgnr(cls, value: str) -> str:
        return str(orgnr.validate(value))


class Window(BaseModel):
    """The envelope window, in mm from the page's top-left corner (C5 window envelope)."""

    left: float = 15
    top: float = 44
    width: float = 105
    height: float = 35
