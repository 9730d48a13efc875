"""What every channel is: deliver one letter, return a receipt or raise a typed error.

One error taxonomy for all channels: :class:`RetriableError` (try the same channel again
later) and :class:`PermanentError` (this channel will not take this letter; routing may move
it to the next channel). Each carries a stable ``code`` from :mod:`letters.codes` (what
dashboards and the ledger key on) and a sentence for people (which may name the server's
own error code, e.g. ``Digipost 400 CLIENT_DATA: …``).

>>> error = PermanentError(Code.EMAIL_NO_ADDRESS, "the debtor has no e-mail address")
>>> error.code, error.code.family, str(error)
(<Code.EMAIL_NO_ADDRESS: 'email-no-address'>, 'channel', 'the debtor has no e-mail address')
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from letters.codes import Code


class ChannelError(Exception):
    """A channel's failure: ``code`` is stable, the message is for people."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code


class RetriableError(ChannelError):
    """A transient failure: the same channel may succeed later."""


class UncertainError(RetriableError):
    """The channel may have taken the letter (no answer, an answer that could not be
    trusted, a server error after the upload). A channel that reconciles is tried again;
    one that cannot (``reconciles = False``) leaves the job ``uncertain``. Never move the
    letter to another channel on this."""


class PermanentError(ChannelError):
    """This channel cannot deliver this letter."""


class NotSent(Exception):
    """The channel failed before anything left it (its ``__cause__``: e.g. the ledger gone
    while it read the wording to send): the try is taken back rather than left looking as
    if the letter may have been sent, and the cause is handled as if the channel had not
    been called (an outage waited out, any other error retried)."""


@dataclass(frozen=True)
class PostalAddress:
    """Where a printed letter goes: the debtor's name and address as the job gave them."""

    name: str
    lines: tuple[str, ...]
    postal_code: str
    city: str
    country: str = "NO"  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class PaymentDetails:
    """What the debtor is asked to pay (Digipost's inkasso data-type carries it)."""

    due_date: dt.date
    amount: Decimal
    account: str  # 11 digits, no separators
    kid: str  # digits, no separators


@dataclass(frozen=True)
class Outgoing:
    """A letter ready for a channel: its ids, the PDF and what a channel needs to address
    it. Never the password (only inside the PDF)."""

    letter_id: str
    job_id: str
    reference: str
    recipient_name: str
    pdf: bytes
    language: str = "nb"
    email: str | None = None
    kind: str = "reminder"
    letter_date: dt.date | None = None
    #: A short title for the letter (Digipost subject, e.g. "Inkassovarsel").
    subject: str = ""
    address: PostalAddress | None = None
    national_id: str | None = None
    org_number: str | None = None
    payment: PaymentDetails | None = None
    page_count: int = 1
    #: The PDF passed the print-safety check when it was made (the render stage refuses one
    #: that fails) and these are its archived bytes, verified by hash: the print channel
    #: need not check it again. False for a PDF from anywhere else.
    checked: bool = False


@dataclass(frozen=True)
class Receipt:
    channel: str
    external_id: str
    details: dict[str, Any] = field(default_factory=dict)


class Channel(ABC):
    name: str
    #: Whether a second :meth:`deliver` of a letter the channel may already hold is safe:
    #: the channel asks (Digipost, by document id) or knows (print, its batch in the
    #: ledger). False (e-mail: SMTP cannot be asked) makes a try cut off mid-send
    #: ``uncertain`` instead of sending again.
    reconciles: bool = False

    @abstractmethod
    def deliver(self, letter: Outgoing) -> Receipt:
        """Hand the letter over; re-delivering the same letter must not duplicate it. An
        unexpected failure before anything left is raised as :class:`NotSent`."""

    def close(self) -> None:  # noqa: B027 - most channels hold nothing to release
        """Release connections (called when the configuration is replaced)."""
