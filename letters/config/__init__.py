"""Configuration, below everything that reads it: the agency's own details and the knobs
operations may turn.

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

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from letters.config.digipost import DigipostSettings
from letters.config.intake import Intake
from letters.config.logins import Logins
from letters.config.printing import InserterCode, Printing
from letters.config.retention import Retention
from letters.config.review import Review
from letters.config.sender import Sender, Window
from letters.config.smtp import Smtp
from letters.numbers.kid import Scheme


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
    #: The compliance workbench (``LETTERS_REVIEW__DEVELOPMENT``, ``__TEMPLATES_DIR``, …).
    review: Review = Review()
    #: Debtors' logins: the login key and the limits on failed tries
    #: (``LETTERS_LOGINS__KEY``, ``__LOCK_AFTER``, ``__SOURCE_LIMIT``, …).
    logins: Logins = Logins()
    #: How long closed cases keep their personal data (``LETTERS_RETENTION__DAYS``,
    #: ``__IDLE_CASES``, ``__IDLE_GRACE_DAYS``); ``letters purge`` removes it after that.
    retention: Retention = Retention()
    #: Backpressure at the HTTP intake (``LETTERS_INTAKE__MAX_QUEUE``,
    #: ``__RETRY_AFTER_SECONDS``).
    intake: Intake = Intake()
    kid_length: int = Field(15, ge=4, le=25)
    kid_scheme: Scheme = "mod10"
    password_length: int = Field(12, ge=10, le=40)
    #: Digipost refuses more than 20 pages; print costs argue for fewer.
    max_pages: int = Field(20, ge=1, le=20)
    #: argon2id cost of the hashes letters kept before keyed hashes (letters/credentials.py),
    #: still verified as such (and of the dummy checked beside them): 8 MiB, one pass.
    argon2_memory_kib: int = Field(8 * 1024, ge=4 * 1024)
    argon2_time_cost: int = Field(1, ge=1)

    #: Rehearsals and tests only: pretend today (Oslo) is this date. Letters are dated and
    #: checked against it, so it must never be set in production; it is logged when set.
    clock_date: dt.date | None = None
    #: Rehearsals and tests only (with ``clock_date``): a folder of rule tables
    #: (``<table>.toml``, as in ``letters/rules/data/``) that stand in for the approved
    #: versions, such as the compliance confirmations a rehearsal assumes
    #: (``fixtures/rules/``). Refused without ``clock_date``; logged when set.
    rehearsal_rules: Path | None = None

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
    #: Tries of one channel that failed for the time being (an SMTP server down, say) before
    #: the letter moves to the next channel in its route. Delivery retries back off from
    #: ``delivery_min_backoff_seconds``, doubling (and up to twice that, at random) up to
    #: ``delivery_max_backoff_seconds`` (Dramatiq's jitter): with the defaults the 6 tries
    #: are spread over 12½ to 25 minutes, so a shorter outage delays letters but moves none.
    channel_attempts: int = Field(6, ge=1)
    delivery_min_backoff_seconds: float = Field(30, gt=0)
    delivery_max_backoff_seconds: float = Field(600, gt=0)
    #: The circuit breaker of each channel (channels/breaker.py): after this many outage
    #: failures in a row (unreachable, no answer, a server error) the channel is left alone
    #: for ``breaker_cool_down_seconds``, then one letter tries it; letters meanwhile wait.
    breaker_failures: int = Field(5, ge=1)
    breaker_cool_down_seconds: float = Field(60, gt=0)
    #: A stage taking longer than this is stopped and retried.
    stage_time_limit_seconds: int = Field(120, ge=1)
    #: Where ``letters worker`` serves its Prometheus metrics (127.0.0.1).
    metrics_port: int = Field(9191, ge=1, le=65535)
    #: How often each worker process runs the sweeper.
    sweep_interval_seconds: float = Field(60, gt=0)
    #: A worker silent for this long is taken for dead; its unacknowledged messages return
    #: to the queue (Redis broker maintenance).
    redis_heartbeat_timeout_ms: int = Field(60_000, ge=1_000)
    #: How often each worker process checks that Redis still holds the queues (a sentinel
    #: key); one that lost them (restarted empty, flushed) has its unfinished jobs queued
    #: again at once, not only after ``stale_after_seconds``.
    redis_check_seconds: float = Field(5, gt=0)

    @model_validator(mode="after")
    def _backoff_in_order(self) -> Settings:
        if self.delivery_max_backoff_seconds < self.delivery_min_backoff_seconds:
            raise ValueError(
                "delivery_max_backoff_seconds (LETTERS_DELIVERY_MAX_BACKOFF_SECONDS) is below "
                "delivery_min_backoff_seconds (LETTERS_DELIVERY_MIN_BACKOFF_SECONDS)"
            )
        return self

    @model_validator(mode="after")
    def _rehearsal_only(self) -> Settings:
        if self.rehearsal_rules is not None and self.clock_date is None:
            raise ValueError(
                "rehearsal_rules (LETTERS_REHEARSAL_RULES) stands in for approved rule tables "
                "and is for rehearsals only: set it only together with clock_date "
                "(LETTERS_CLOCK_DATE)"
            )
        if self.rehearsal_rules is not None and not self.rehearsal_rules.is_dir():
            raise ValueError(
                f"rehearsal_rules (LETTERS_REHEARSAL_RULES): no such folder: {self.rehearsal_rules}"
            )
        return self

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
        if path and not Path(path).is_file():
            raise SettingsError(f"LETTERS_CONFIG: no such file: {path}")
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
    if settings.rehearsal_rules is not None:
        logging.getLogger(__name__).warning(
            "LETTERS_REHEARSAL_RULES is set: the rule tables in %s stand in for the approved "
            "versions (rehearsal, not production)",
            settings.rehearsal_rules,
        )
    return settings


def load_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file (used for template metadata)."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


__all__ = [
    "DigipostSettings",
    "InserterCode",
    "Intake",
    "Logins",
    "Printing",
    "Retention",
    "Review",
    "Sender",
    "Settings",
    "Smtp",
    "Window",
    "get_settings",
    "load_toml",
]
