"""What every command shares: the consoles, the exit statuses and the ledger."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import TYPE_CHECKING, Any

from letters.wording import counted, ledger_name

__all__ = ["counted", "ledger_name"]  # re-exported: the commands take them from here

if TYPE_CHECKING:
    from rich.console import Console

    from letters.ledger import Ledger

#: Exit statuses: all well; a letter failed (print-safety check, rendering); bad input.
OK, FAILED, BAD_INPUT = 0, 1, 2


class _Console:
    """A rich console made on first use: ``letters --help`` and the parser load no rich."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def made(self) -> Console:
        if self._console is None:
            from rich.console import Console

            # Piped output (make, CI, logs) gets a width that fits the summary table.
            width = None if self._stderr or sys.stdout.isatty() else 120
            self._console = Console(
                stderr=self._stderr, highlight=False, soft_wrap=True, emoji=False, width=width
            )
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made(), name)


out: Console = _Console(stderr=False)  # type: ignore[assignment]
err: Console = _Console(stderr=True)  # type: ignore[assignment]


def rich_console(console: Console) -> Console:
    """The rich console itself, for what takes it whole (a progress bar, the main job)."""
    return console.made() if isinstance(console, _Console) else console


def progress() -> Any:
    """A progress bar with counts and totals (``12/300``) and the time taken, as ``letters
    run`` shows it; on standard error, and gone when output is not a terminal."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    console = rich_console(err)
    # not a terminal (a pipe, a log, CI): no bar at all, not even the blank line it leaves
    return Progress(*columns, console=console, transient=True, disable=not console.is_terminal)


def job_lines(path: Any) -> int:
    """About how many jobs a JSONL or CSV file holds (its non-empty lines, less a CSV's
    header), for a progress bar's total; read in big blocks, so cheap next to the jobs."""
    lines = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            lines += block.count(b"\n")
            last = block
    if lines and not last.endswith(b"\n"):
        lines += 1
    elif not lines:
        lines = 1 if path.stat().st_size else 0
    return max(0, lines - 1) if str(path).lower().endswith(".csv") else lines


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


def ledger_to_read() -> Ledger | None:
    """The configured ledger for a command that only reads it (``status``): None, having
    said so, when it is an SQLite file that does not exist (nothing has run here, or the
    setting points elsewhere); a read never creates a ledger."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from letters.config import get_settings

    parsed = make_url(get_settings().database_url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).exists():
        err.print(
            f"no ledger at {file}: nothing has run with this ledger yet (the ledger is "
            "LETTERS_DATABASE_URL; run from the folder `letters run` or `letters worker` "
            "runs in, or set it)",
            markup=False,
        )
        return None
    return open_ledger()


def oslo_day(at: dt.datetime) -> str:
    """The day of a stored (UTC) time in Oslo, as people read it: ``2026-11-20``."""
    from letters.clock import OSLO

    return at.astimezone(OSLO).date().isoformat()


#: The longest name or reason the ledger records (as the HTTP API: ``syntax.REASON_MAX``).
SAID_MAX = 500


def said(value: str) -> str:
    """An argparse ``type`` for what a person writes into the ledger or the audit log (a
    name, a reason): the ends stripped, not empty, one line of printable text.

    >>> said("  disputed by phone ")
    'disputed by phone'
    >>> said(" ")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must not be empty
    """
    import unicodedata

    text = value.strip()
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise argparse.ArgumentTypeError("must be one line of text (no control characters)")
    if len(text) > SAID_MAX:
        raise argparse.ArgumentTypeError(f"must be at most {SAID_MAX} characters")
    return text


def cannot_read(path: object, exc: OSError | None = None, folder_too: bool = False) -> None:
    """Say, in one wording for every command, that ``path`` cannot be read (on stderr,
    with the code ``file-unreadable``): missing, a folder where a file is asked for, or
    what the system said."""
    import errno
    from pathlib import Path

    from letters.codes import Code

    if exc is None and not folder_too and Path(str(path)).is_dir():
        why = "a folder, not a file"
    elif exc is None or exc.errno == errno.ENOENT:
        why = "no such file or folder" if folder_too else "no such file"
    elif exc.errno == errno.EISDIR:
        why = "a folder, not a file"
    else:
        why = (exc.strerror or str(exc)).lower()
    err.print(f"{path}: {why} [{Code.FILE_UNREADABLE}]", markup=False)


def port(value: str) -> int:
    """An argparse ``type`` for a TCP port.

    >>> port("8000")
    8000
    >>> port("99999")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be a port number from 1 to 65535
    """
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535")
    return number


def by_argument(p: argparse.ArgumentParser) -> None:
    """``--by NAME``: who does it, for the audit log (default: the login name)."""
    p.add_argument(
        "--by",
        type=said,
        default=login_name(),
        help="who does it, recorded in the audit log (default: your login name)",
    )


def login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unnamed"
