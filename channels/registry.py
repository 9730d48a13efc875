"""The channels configured in this installation, by routing name.

Print (the print batch) is always there; e-mail when an SMTP host is set; Digipost when
its API address is set. A channel without configuration is left out, and routing says so.
Each channel gets its circuit breaker (:mod:`channels.breaker`), made with it: new
settings make new channels with closed breakers.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from channels.base import Channel, PermanentError
from channels.breaker import Breaker

if TYPE_CHECKING:
    from letters.pipeline.runtime import Runtime

log = logging.getLogger(__name__)
_built: tuple[object, object, dict[str, Channel], dict[str, Breaker]] | None = None
_lock = threading.Lock()  # worker threads share one set of channels and breakers


def configured(runtime: Runtime) -> dict[str, Channel]:
    """Built once per runtime (settings and ledger), not per letter: a TLS context, a
    template environment and an HTTP connection pool are not free."""
    return _current(runtime)[2]


def breakers(runtime: Runtime) -> dict[str, Breaker]:
    """The breaker of each configured channel (this process's)."""
    return _current(runtime)[3]


def _current(runtime: Runtime) -> tuple[object, object, dict[str, Channel], dict[str, Breaker]]:
    global _built
    with _lock:
        if _built is None or _built[0] is not runtime or _built[1] is not runtime.settings:
            if _built is not None:
                for channel in _built[2].values():
                    channel.close()
            s = runtime.settings
            channels = _build(runtime)
            guards = {
                name: Breaker(name, s.breaker_failures, s.breaker_cool_down_seconds)
                for name in channels
            }
            _built = (runtime, runtime.settings, channels, guards)
        return _built


def _build(runtime: Runtime) -> dict[str, Channel]:
    from channels.printing.channel import PrintChannel
    from letters.ledger.batches import Batches

    settings = runtime.settings
    out: dict[str, Channel] = {"print": PrintChannel(Batches(runtime.ledger), settings)}
    if settings.smtp.host:
        from channels.email import EmailChannel

        tls = ssl.create_default_context(
            cafile=str(settings.smtp.ca_file) if settings.smtp.ca_file else None
        )
        out["email"] = EmailChannel(settings.smtp, settings.sender, tls, _bodies(runtime))
    if settings.digipost.configured:
        from channels.digipost.channel import DigipostChannel

        try:
            out["digipost"] = DigipostChannel(settings.digipost)
        except Exception as exc:  # an unreadable key: the other channels still work
            log.error("Digipost is configured but cannot start (%s); left out", type(exc).__name__)
    return out


def _bodies(runtime: Runtime) -> Callable[[str], Path]:
    """The approved e-mail body in force today, per language; none approved is a permanent
    refusal for this channel (routing moves the letter on)."""
    from letters.clock import today_oslo
    from letters.ledger.reviews import ReviewRefused
    from letters.workbench import approval

    def folder(language: str) -> Path:
        try:
            return approval.email_folder(
                runtime.ledger, runtime.settings, language, today_oslo(runtime.settings)
            )
        except ReviewRefused as exc:
            raise PermanentError(exc.code, str(exc)) from None

    return folder
