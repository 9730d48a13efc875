"""The e-mail channel's SMTP server (``LETTERS_SMTP__…``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, SecretStr


class Smtp(BaseModel):
    """The e-mail channel's SMTP server. Without a host the channel is not configured."""

    host: str | None = None
    port: int = 587
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = "brev@fjordinkasso.example"
    from_name: str = "Fjordinkasso AS"
    timeout_seconds: float = 30
    #: A CA bundle to trust instead of the system's (a private relay's certificate).
    ca_file: Path | None = None
