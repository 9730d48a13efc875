"""What every command shares: the consoles, the exit statuses and the ledger."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from letters.ledger import Ledger

#: Exit statuses: all well; a letter failed (print-safety check, rendering); bad input.
OK, FAILED, BAD_INPUT = 0, 1, 2

# Piped output (make, CI, logs) gets a width that fits the summary table.
out = Console(
    highlight=False, soft_wrap=True, emoji=False, width=None if sys.stdout.isatty() else 120
)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def open_ledger() -> Ledger:
    """The configured ledger, migrated to the current schema (with the shipped approvals
    recorded, when the installation trusts them)."""
    from letters.config import get_settings
    from letters.ledger import Ledger
    from letters.workbench import shipped

    settings = get_settings()
    found = Ledger(settings.database_url)
    found.migrate()
    if settings.review.trust_shipped:
        shipped.record(found)
    return found


def oslo_day(at: dt.datetime) -> str:
    """The day of a stored (UTC) time in Oslo, as people read it: ``2026-11-20``."""
    from letters.clock import OSLO

    return at.astimezone(OSLO).date().isoformat()


def by_argument(p: argparse.ArgumentParser) -> None:
    """``--by NAME``: who does it, for the audit log (default: the login name)."""
    p.add_argument(
        "--by",
        default=_login_name(),
        help="who does it, recorded in the audit log (default: your login name)",
    )


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unnamed"
