"""The ``letters`` command: one module per group of users.

- :mod:`~letters.cli.preview`: ``render``, ``check``, ``schema``, ``codes``;
- :mod:`~letters.cli.operate`: ``run``, ``worker``, ``enqueue``, ``serve``, ``status``,
  ``batch``, ``hold``, ``release``;
- :mod:`~letters.cli.templates`, :mod:`~letters.cli.rules` and
  :mod:`~letters.cli.workbench` (``users``, ``audit``): compliance;
- :mod:`~letters.cli.retention`: ``case close|reopen``, ``purge`` (personal data);
- :mod:`~letters.cli.access`: ``token``, ``credentials``.

Exit status: 0 all well; 1 a letter failed the print-safety check or could not be
rendered; 2 bad input (a job refused, a file unreadable), with one message per field.
"""

from __future__ import annotations

import argparse
import sys

from letters.cli import access, operate, preview, retention, rules, templates, workbench
from letters.cli.console import BAD_INPUT, err


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("letters")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="letters",
        description="Norwegian debt-collection letters: intake, rendering, delivery, evidence.",
    )
    parser.add_argument("--version", action="version", version=f"letters {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (preview, templates, rules, workbench, operate, retention, access):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # --help and usage errors end here, loading little
    from pydantic import ValidationError

    from letters.config import get_settings

    try:
        get_settings()
    except ValidationError as exc:
        for e in exc.errors(include_url=False, include_input=False):
            name = "LETTERS_" + "__".join(str(p) for p in e["loc"]).upper()
            err.print(f"configuration: {name}: {e['msg']}", markup=False)
        return BAD_INPUT
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
