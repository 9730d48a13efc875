"""Settings of the Digipost channel.

Nothing here is read from the environment by itself: the installation's settings can nest a
:class:`DigipostSettings` (e.g. ``LETTERS_DIGIPOST__BASE_URL``). ``base_url`` left at
``None`` means the channel is not configured. Plain ``http`` is accepted only for a
loopback host (the contract-test server); anything else must be ``https``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ReturnAddress(BaseModel):
    """The agency's Norwegian return address, printed on Digipost's cover sheet."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=130)
    lines: tuple[str, ...] = Field(default=(), max_length=3)
    postal_code: str = Field(pattern=r"^[0-9]{4}$")
    city: str = Field(min_length=1, max_length=80)

    @field_validator("lines")
    @classmethod
    def _line_length(cls, lines: tuple[str, ...]) -> tuple[str, ...]:
        if any(len(line) > 100 for line in lines):
            raise ValueError("an address line is at most 100 characters")
        return lines


class DigipostSettings(BaseModel):
    """Where Digipost is, who we are there and how letters for non-users are handled.

    ``print_fallback``: ``"digipost"`` sends print-details so Digipost prints the letter
    for a recipient without a Digipost account (needs ``return_address`` and a print
    agreement); ``"own"`` sends no print-details, and a non-user is a
    ``PermanentError`` (``digipost-not-a-user``) so routing moves the letter to our own print.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str | None = None
    sender_id: int | None = Field(default=None, gt=0)
    #: The enterprise certificate's private key: PEM (optionally encrypted) or PKCS#12.
    key_path: Path | None = None
    key_password: SecretStr | None = None
    #: Digipost's response-signing certificate (PEM). Default: the entry point's.
    server_certificate_path: Path | None = None
    #: CA bundle for the TLS connection (default: the system's).
    ca_file: Path | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)
    print_fallback: Literal["digipost", "own"] = "own"
    return_address: ReturnAddress | None = None
    max_date_skew_seconds: int = Field(default=300, ge=1)

    @field_validator("sender_id", mode="before")
    @classmethod
    def _sender_digits(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip().isdigit():
                raise ValueError("the Digipost sender id is digits only")
            return int(value)
        return value

    @field_validator("base_url")
    @classmethod
    def _safe_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if not parts.hostname:
            raise ValueError("the Digipost base URL needs a host")
        if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
            pass  # the local contract-test server only
        elif parts.scheme != "https":
            raise ValueError("the Digipost base URL must be https (http only on loopback)")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("the Digipost base URL takes no query, fragment or credentials")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _complete(self) -> DigipostSettings:
        if self.base_url is None:
            return self
        if self.sender_id is None or self.key_path is None:
            raise ValueError("Digipost needs sender_id and key_path once base_url is set")
        if self.print_fallback == "digipost" and self.return_address is None:
            raise ValueError('print_fallback="digipost" needs a return_address')
        return self

    @property
    def configured(self) -> bool:
        return self.base_url is not None
