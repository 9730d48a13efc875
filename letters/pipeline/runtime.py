"""The objects every stage shares in one process: settings, ledger, archive, and the rule
tables in force (refreshed from the ledger, so an approval applies without a restart)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from letters import rules
from letters.archive import Archive
from letters.clock import today_oslo
from letters.config import Settings, get_settings
from letters.ledger import Ledger
from letters.workbench import approval, shipped

log = logging.getLogger(__name__)
#: How long a process keeps the rule tables it read from the ledger before reading again.
RULES_REFRESH_SECONDS = 30.0


@dataclass
class Runtime:
    settings: Settings
    ledger: Ledger
    archive: Archive
    _rules_read_at: float = field(default=-RULES_REFRESH_SECONDS, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, migrate: bool = True) -> Runtime:
        s = settings or get_settings()
        ledger = Ledger(s.database_url)
        if migrate:
            ledger.migrate()
            if s.review.trust_shipped:
                shipped.record(ledger)
        if s.review.development:
            log.warning(
                "DEVELOPMENT MODE (LETTERS_REVIEW__DEVELOPMENT): letters are made from "
                "templates that are not approved, and each says NOT APPROVED; never in "
                "production"
            )
        return cls(settings=s, ledger=ledger, archive=Archive(s.archive_dir))

    def refresh_rules(self) -> rules.Rulebook:
        """The rule tables approved and in force today, read from the ledger at most every
        RULES_REFRESH_SECONDS, and applied in this process."""
        now = time.monotonic()
        if now - self._rules_read_at >= RULES_REFRESH_SECONDS:
            rules.use(
                approval.rulebook_in_force(
                    self.ledger, today_oslo(self.settings), self.settings.rehearsal_rules
                )
            )
            self._rules_read_at = now
        return rules.current()


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
