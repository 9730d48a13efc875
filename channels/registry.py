"""The channels configured in this installation, by routing name.

Print (the print batch) is always there; e-mail when an SMTP host is set; Digipost when
its API address is set. A channel without configuration is left out, and routing says so.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from channels.base import Channel, PermanentError

if TYPE_CHECKING:
    from letters.pipeline.runtime import Runtime

log = logging.getLogger(__name__)
_built: tuple[object, object, dict[str, Channel]] | None = None


def configured(runtime: Runtime) -> dict[str, Channel]:
    """Built once per runtime (settings and ledger), not per letter: a TLS context, a
    template environment and an HTTP connection pool are not free."""
    global _built
    if _built is None or _built[0] is not runtime or _built[1] is not runtime.settings:
        if _built is not None:
            for channel in _built[2].values():
                channel.close()
        _built = (runtime, runtime.settings, _build(runtime))
    return _built[2]


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
