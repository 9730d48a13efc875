"""The ``letters`` command: one module per group of users.

- :mod:`~letters.cli.preview`: ``render``, ``check``, ``schema``, ``codes``;
- :mod:`~letters.cli.operate`: ``run``, ``worker``, ``enqueue``, ``serve``, ``status``,
  ``batch``;
- :mod:`~letters.cli.cases`: ``hold``, ``release``, ``resolve`` (an operator's decisions);
- :mod:`~letters.cli.templates`, :mod:`~letters.cli.rules` and
  :mod:`~letters.cli.workbench` (``users``, ``audit``): compliance;
- :mod:`~letters.cli.retention`: ``case close|reopen``, ``purge`` (personal data);
- :mod:`~letters.cli.access`: ``token``, ``credentials``.

Exit status: 0 all well; 1 a letter failed the print-safety check or could not be
rendered; 2 bad input (a job refused, a file unreadable), with one message per field.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from letters.cli import (
    access,
    batch,
    cases,
    completion,
    operate,
    preview,
    retention,
    rules,
    status,
    templates,
    workbench,
)
from letters.cli.console import BAD_INPUT, err


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("letters")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


#: ``letters --help`` lists the commands by who uses them, in this order.
AUDIENCES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("operators: the pipeline", ("run", "worker", "enqueue", "serve", "status", "batch")),
    ("operators: decisions on a case or a letter", ("hold", "release", "resolve", "case")),
    ("compliance", ("templates", "rules", "users", "audit", "purge")),
    ("upstream teams and template authors", ("render", "check", "schema", "codes")),
    ("access", ("token", "credentials")),
    ("your shell", ("completion",)),
)


class DefaultsShown(argparse.RawDescriptionHelpFormatter):
    """Help that ends each option's text with its default, unless the text says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "default" in text
            or default in (None, False, argparse.SUPPRESS)
            or action.option_strings == []
            or isinstance(default, bool)
        ):
            return text
        return f"{text} (default: %(default)s)" if text else "(default: %(default)s)"


class LettersParser(argparse.ArgumentParser):
    """A parser whose commands (and their own subcommands) start their --help with their
    one line and show each option's default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsShown)
        super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("parser_class", LettersParser)
        action = super().add_subparsers(**kwargs)
        add_parser = action.add_parser

        def described(name: str, **options: Any) -> argparse.ArgumentParser:
            options.setdefault("description", options.get("help"))
            made: argparse.ArgumentParser = add_parser(name, **options)
            return made

        action.add_parser = described  # type: ignore[method-assign]
        return action


#: What each command's exit status means (its --help ends with it; the README lists them).
#: 0 is always "all well"; 2 is always bad input (a refusal, a file or name not found, and
#: for every command arguments it cannot take or a setting that is wrong).
EXIT_STATUS: dict[str, str] = {
    "run": "1 a letter failed; 2 a job refused",
    "worker": "1 a process kept dying at start (worker-keeps-dying), or the ledger unavailable "
    "at start (ledger-unavailable); SIGTERM stops it with 0",
    "enqueue": "1 jobs kept but not queued (the broker unreachable); 2 a line refused",
    "serve": "2 a setting it cannot take (the message names it), or an address it cannot listen on",
    "status": "2 no such job, or no ledger where the settings point",
    "batch": "1 closed but not handed off; 2 no such batch, or one that cannot close",
    "hold": "2 not a valid case reference",
    "release": "2 not a valid case reference",
    "resolve": "2 the job is not uncertain, or no ledger where the settings point",
    "case": "2 not a valid case reference, or reopening a case that is not closed",
    "templates": "1 a template with no version in force, lint findings, a proof failing "
    "the print check; 2 a refused submission or decision",
    "rules": "1 a table running out within 30 days or holding unconfirmed values "
    "(rules list); 2 a refused proposal or decision",
    "users": "2 a refused user (a name taken, a role unknown)",
    "audit": "2 arguments it cannot take, or no ledger where the settings point",
    "purge": "2 --by and --reason missing (without --dry-run)",
    "render": "1 a letter failed the print check or could not be rendered; 2 a job refused",
    "check": "1 the PDF fails the print-safety check; 2 not a readable PDF",
    "schema": "2 arguments it cannot take",
    "codes": "2 arguments it cannot take",
    "token": "2 a name taken, no live token by that name, or scopes unknown",
    "credentials": "1 the password is not valid now (wrong, expired, locked, throttled); "
    "2 not a valid case reference, or no ledger where the settings point",
    "completion": "2 arguments it cannot take",
}


def _grouped(sub: Any) -> str:
    """The commands under their audience, each with its one-line help."""
    helps = {
        action.dest: (action.help or "").removeprefix("compliance: ")
        for action in sub._choices_actions
    }
    width = max(map(len, helps)) + 2
    lines = []
    for audience, names in AUDIENCES:
        lines.append(f"{audience}:")
        lines += [f"  {name:<{width}}{helps[name]}" for name in names]
        lines.append("")
    lines.append("`letters COMMAND --help` tells more of each.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = LettersParser(
        prog="letters",
        description="Norwegian debt-collection letters: intake, rendering, delivery, evidence.",
    )
    parser.add_argument("--version", action="version", version=f"letters {_version()}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of the commands below"
    )
    for group in (
        preview,
        templates,
        rules,
        workbench,
        operate,
        status,
        batch,
        cases,
        retention,
        access,
        completion,
    ):
        group.register(sub)
    parser.epilog = _grouped(sub) + "\nExit status: 0 all well, 2 bad input; each --help says more."
    for name, command in sub.choices.items():
        command.epilog = f"Exit status: 0 all well; {EXIT_STATUS[name]}."
        command.set_defaults(command_parser=command)  # its own usage on a stray argument
    sub._choices_actions = []  # listed by audience in the epilog instead of in one block
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, stray = parser.parse_known_args(argv)  # --help and usage errors end here
    if stray:  # said with the command's own usage, not the top level's
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(stray)}")
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from letters.config import get_settings
    from letters.refusals import in_our_words

    try:
        settings = get_settings()
    except ValidationError as exc:
        for e in exc.errors(include_url=False, include_input=False):
            said = in_our_words(e["type"], str(e["msg"]).removeprefix("Value error, "))
            if e["loc"]:
                name = "LETTERS_" + "__".join(str(p) for p in e["loc"]).upper()
                said = f"{name}: {said}"
            err.print(f"configuration: {said}", markup=False)
        return BAD_INPUT
    except SettingsError as exc:  # a value that is not even JSON where JSON is asked for
        field = re.search(r'field "(\w+)"', str(exc))
        if field:
            cause = f": {exc.__cause__}" if exc.__cause__ else ""
            said = f"LETTERS_{field.group(1).upper()}… cannot be read{cause}"
        else:
            said = str(exc)
        err.print(f"configuration: {said}", markup=False)
        return BAD_INPUT
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from letters.pipeline.faults import ledger_problem

        problem = ledger_problem(exc, settings.database_url)
        if problem is None:
            raise
        err.print(problem[1], markup=False)
        return problem[0]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
