"""The channels configured in this installation, by routing name."""

from __future__ import annotations

import ssl

from channels.base import Channel
from channels.outbox import OutboxChannel
from letters.settings import Settings

_built: tuple[Settings, dict[str, Channel]] | None = None


def configured(settings: Settings) -> dict[str, Channel]:
    """Print (for now the local outbox, until print batches exist) is always there; e-mail
    when an SMTP host is set; Digipost once its client exists. Built once per settings
    object, not per letter (a TLS context and a template environment are not free)."""
    global _built
    if _built is None or _built[0] is not settings:
        _built = (settings, _build(settings))
    return _built[1]


def _build(settings: Settings) -> dict[str, Channel]:
    out: dict[str, Channel] = {"print": OutboxChannel(settings.outbox_dir)}
    if settings.smtp.host:
        from channels.email import EmailChannel

        tls = ssl.create_default_context(
            cafile=str(settings.smtp.ca_file) if settings.smtp.ca_file else None
        )
        out["email"] = EmailChannel(settings.smtp, settings.sender, tls)
    return out
