"""Configuration: the agency's own details and the knobs operations may turn.

Read from environment variables with the prefix ``LETTERS_`` (nested with ``__``, e.g.
``LETTERS_SENDER__PHONE``) and, when ``LETTERS_CONFIG`` names one, a TOML file. Rules
with legal weight are not here but in :mod:`letters.rules`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from stdnum.no import orgnr

from channels.digipost.config import DigipostSettings
from channels.printing.handoff import HandoffSettings
from letters.numbers.kid import Scheme


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


class Window(BaseModel):
    """The envelope window, in mm from the page's top-left corner (C5 window envelope)."""

    left: float = 15
    top: float = 44
    width: float = 105
    height: float = 35


class InserterCode(BaseModel):
    """Where the inserter control code goes on every page of a print batch, in mm from the
    page's top-left corner (see channels/printing/inserter.py). The default runs down the
    right margin; a position in the window, the left-margin zone or the text is refused
    when a batch is closed."""

    x_mm: float = 199.0
    y_mm_from_top: float = 20.0
    module_mm: float = Field(0.33, ge=0.19, le=1.0)
    height_mm: float = Field(6.0, ge=3.0, le=20.0)
    rotate: bool = True  # True: the code runs down the page


class Printing(BaseModel):
    """Print batches for the print vendor."""

    #: Closed batches are written here, one folder per batch (``PB000001/``).
    folder: Path = Path("out/print")
    #: Printed on both sides: a letter of n pages takes ceil(n/2) sheets.
    duplex: bool = True
    #: Letters of up to this many sheets are folded into C5 window envelopes; thicker ones
    #: go flat in C4 envelopes. The two are written to separate files for the inserter.
    c5_max_sheets: int = Field(5, ge=1)
    #: At most this many letters per PDF file: files a vendor's RIP handles comfortably,
    #: and the memory of a close (about 0.1 MB per letter of an open file; measured by
    #: bench/batch.py, flat in the size of the batch).
    letters_per_file: int = Field(1000, ge=1, le=2_000)
    #: The worker closes the open batch every day at this Oslo time (HH:MM); none: only
    #: ``letters batch close`` closes batches.
    cutoff: dt.time | None = None
    inserter: InserterCode = InserterCode()
    #: Where closed batches go: nowhere (the vendor reads ``folder``), a drop folder, or SFTP.
    handoff: HandoffSettings = HandoffSettings()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LETTERS_",
        env_nested_delimiter="__",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    sender: Sender = Sender()
    window: Window = Window()
    smtp: Smtp = Smtp()
    printing: Printing = Printing()
    #: Digipost API v8 (``LETTERS_DIGIPOST__BASE_URL``, ``__SENDER_ID``, ``__KEY_PATH``, …);
    #: without a base URL the channel is not configured.
    digipost: DigipostSettings = DigipostSettings()
    kid_length: int = Field(15, ge=4, le=25)
    kid_scheme: Scheme = "mod10"
    password_length: int = Field(12, ge=10, le=40)
    #: Digipost refuses more than 20 pages; print costs argue for fewer.
    max_pages: int = Field(20, ge=1, le=20)
    #: argon2id cost for stored password hashes. OWASP's minimums (19 MiB, 2 passes) are
    #: sized for passwords people choose; these are random, 12 symbols from 56 (~70 bits),
    #: and die after 21 days. An attacker holding the ledger still needs ~2^69 hashes of
    #: 8 MiB each per password, so 8 MiB and one pass (~4 ms instead of ~23 ms per letter)
    #: keep the same practical safety at a sixth of the cost.
    argon2_memory_kib: int = Field(8 * 1024, ge=4 * 1024)
    argon2_time_cost: int = Field(1, ge=1)

    #: Rehearsals and tests only: pretend today (Oslo) is this date. Letters are dated and
    #: checked against it, so it must never be set in production; it is logged when set.
    clock_date: dt.date | None = None

    # --- The pipeline (ledger, archive, broker) ---
    #: The ledger: an SQLite file by default; PostgreSQL for several machines
    #: (``postgresql+psycopg://user@host/db``). Also read from ``DATABASE_URL``.
    database_url: str = Field(
        "sqlite:///var/letters.db",
        validation_alias=AliasChoices("LETTERS_DATABASE_URL", "DATABASE_URL"),
    )
    #: The Dramatiq broker for ``letters worker`` and ``letters enqueue``. Also ``REDIS_URL``.
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("LETTERS_REDIS_URL", "REDIS_URL"),
    )
    #: Content-addressed store of every rendered PDF.
    archive_dir: Path = Path("var/archive")
    #: A job with no progress for this long is enqueued again by the sweeper.
    stale_after_seconds: int = Field(300, ge=5)
    #: Retries for transient errors, with exponential backoff between them.
    max_retries: int = Field(5, ge=0)
    #: Transient failures of one channel (an SMTP server down, say) before the letter moves
    #: to the next channel in its route; delivery retries back off up to 10 minutes apart.
    channel_attempts: int = Field(6, ge=1)
    #: A stage taking longer than this is stopped and retried.
    stage_time_limit_seconds: int = Field(120, ge=1)
    #: Where ``letters worker`` serves its Prometheus metrics (127.0.0.1).
    metrics_port: int = Field(9191, ge=1, le=65535)
    #: How often each worker process runs the sweeper.
    sweep_interval_seconds: float = Field(60, gt=0)
    #: A worker silent for this long is taken for dead; its unacknowledged messages return
    #: to the queue (Redis broker maintenance).
    redis_heartbeat_timeout_ms: int = Field(60_000, ge=1_000)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = os.environ.get("LETTERS_CONFIG")
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    settings = Settings()
    if settings.clock_date is not None:
        logging.getLogger(__name__).warning(
            "LETTERS_CLOCK_DATE is set: today is taken to be %s (rehearsal, not production)",
            settings.clock_date.isoformat(),
        )
    return settings


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file (used for template metadata)."""
    with path.open("rb") as fh:
        return tomllib.load(fh)
