"""Settings of the debtors' logins (``LETTERS_LOGINS__…``): the login key and the limits on
failed tries (see :mod:`letters.lockout`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class Logins(BaseModel):
    """How a login is checked and how failed tries are held back."""

    #: The server secret behind each password's lookup tag (HMAC-SHA256, stored beside the
    #: argon2 hash so one argon2 verification answers however many letters a case has) and
    #: behind the case pseudonyms in log lines. At least 32 characters; the same on every
    #: machine that makes letters or checks logins. Unset: read from ``key_file``.
    key: SecretStr | None = Field(None, min_length=32)
    #: Where the login key is kept when ``key`` is unset: created (32 random bytes, mode
    #: 0600) the first time it is needed if the ledger is SQLite; with any other ledger it
    #: must be installed (the same on every machine). Back it up apart from the ledger: a
    #: lost key makes the passwords of letters already sent answer "wrong" until they expire.
    key_file: Path = Path("var/login.key")
    #: One case reference from one source: this many wrong passwords within ``window_seconds``
    #: lock the pair (answer "locked") until the oldest of them is ``window_seconds`` old.
    #: Other sources, the debtor's own among them, are not affected.
    lock_after: int = Field(5, ge=1)
    #: The window every limit counts failed tries in.
    window_seconds: int = Field(15 * 60, ge=60)
    #: One source, across all references: after this many failed tries (wrong or locked)
    #: within the window each further try must wait, doubling from ``delay_seconds`` up to
    #: ``max_delay_seconds`` after the source's last failed try (HTTP 429 with Retry-After).
    delay_after: int = Field(10, ge=1)
    delay_seconds: int = Field(1, ge=1)
    max_delay_seconds: int = Field(5 * 60, ge=1)
    #: One source, across all references: this many failed tries within the window and it is
    #: refused (HTTP 429) until the oldest of them is out of the window.
    source_limit: int = Field(50, ge=1)
