"""The objects every stage shares in one process: settings, ledger, archive."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from letters.archive import Archive
from letters.config import Settings, get_settings
from letters.ledger import Ledger


@dataclass
class Runtime:
    settings: Settings
    ledger: Ledger
    archive: Archive

    @classmethod
    def from_settings(cls, settings: Settings | None = None, migrate: bool = True) -> Runtime:
        s = settings or get_settings()
        ledger = Ledger(s.database_url)
        if migrate:
            ledger.migrate()
        return cls(settings=s, ledger=ledger, archive=Archive(s.archive_dir))


_current: Runtime | None = None
_lock = threading.Lock()


def get_runtime() -> Runtime:
    global _current
    with _lock:
        if _current is None:
            _current = Runtime.from_settings()
        return _current


def set_runtime(runtime: Runtime | None) -> None:
    global _current
    with _lock:
        _current = runtime
