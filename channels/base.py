"""What every channel is: deliver one letter, return a receipt or raise a typed error.

One error taxonomy for all channels: :class:`RetriableError` (try the same channel again
later) and :class:`PermanentError` (this channel will not take this letter; routing may move
it to the next channel). Each carries a short machine-readable ``code``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


class ChannelError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class RetriableError(ChannelError):
    """A transient failure: the same channel may succeed later."""


class PermanentError(ChannelError):
    """This channel cannot deliver this letter."""


@dataclass(frozen=True)
class Outgoing:
    """A letter ready for a channel: its ids, the PDF and the recipient's name."""

    letter_id: str
    job_id: str
    reference: str
    recipient_name: str
    pdf: bytes
    language: str = "nb"
    email: str | None = None


@dataclass(frozen=True)
class Receipt:
    channel: str
    external_id: str
    details: dict[str, Any] = field(default_factory=dict)


class Channel(ABC):
    name: str

    @abstractmethod
    def deliver(self, letter: Outgoing) -> Receipt:
        """Hand the letter over; re-delivering the same letter must not duplicate it."""
