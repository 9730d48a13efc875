"""Commands for compliance: ``letters rules list|propose|confirm|approve|reject``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

from letters.cli.console import BAD_INPUT, FAILED, OK, err, ledger_to_read, open_ledger, out
from letters.cli.workbench import (
    author_args,
    current_settings,
    decide,
    decision_parsers,
    refused,
    signed_in,
    submitted,
)
from letters.names import TABLE_NAMES


def cmd_rules(args: argparse.Namespace) -> int:
    from rich.table import Table

    from letters.clock import today_oslo
    from letters.ledger.reviews import ReviewRefused, SubjectKind
    from letters.workbench import approval

    if args.action == "list":
        settings = current_settings()
        today = today_oslo(settings)
        ledger = ledger_to_read()
        if ledger is None:
            return BAD_INPUT
        status = approval.table_status(ledger, today, settings.rehearsal_rules)
        if args.json:
            listed = [
                {
                    "table": s.name,
                    "title": s.title,
                    "version": s.version,
                    "value_today": s.value_today,
                    "source": s.source,
                    "confirmed": s.confirmed,
                    "known_until": s.known_until.isoformat(),
                    "days_left": s.days_left,
                    "running_out": s.running_out,
                    "pending": list(s.pending),
                    "unconfirmed": [d.isoformat() for d in s.unconfirmed],
                }
                for s in status
            ]
            out.print_json(json.dumps(listed, ensure_ascii=False))
        else:
            table = Table(title=f"Rule tables on {today.isoformat()}")
            for heading in ("table", "today", "source", "confirmed", "known until", "days left"):
                table.add_column(heading)
            table.add_column("version / drafts")
            for s in status:
                drafts = ", ".join(f"v{p}" for p in s.pending)
                table.add_row(
                    s.name,
                    s.value_today,
                    s.source,
                    "yes" if s.confirmed else "NO",
                    s.known_until.isoformat(),
                    f"{s.days_left}" + (" (!)" if s.running_out else ""),
                    s.version + (f" / drafts {drafts}" if drafts else ""),
                )
            out.print(table)
        ending = [s for s in status if s.running_out]
        for s in ending:
            err.print(
                f"{s.name} is known only until {s.known_until.isoformat()} ({s.days_left} days): "
                "letters that need it are refused from the day after; propose and approve "
                "the next values now [table-runs-out]",
                markup=False,
            )
        doubtful = [s for s in status if s.unconfirmed]
        for s in doubtful:
            days = ", ".join(d.isoformat() for d in s.unconfirmed)
            err.print(
                f"{s.name} has values marked unconfirmed (in force from {days}): letters that "
                "state or rely on them are refused; check them against the source and "
                f"confirm them (letters rules confirm {s.name} DAY --source WHERE-CHECKED "
                "--user NAME) "
                "[rule-unconfirmed]",
                markup=False,
            )
        return FAILED if ending or doubtful else OK
    if args.action == "propose":
        try:
            document = _read_document(args.file)
            user = signed_in(args)
            version = approval.submit_table(open_ledger(), document, user, args.note)
        except (ReviewRefused, ValueError) as exc:
            return refused(exc)
        return submitted(args, version)
    if args.action == "confirm":
        try:
            user = signed_in(args)
            version = approval.submit_confirmation(
                open_ledger(),
                args.table,
                args.valid_from,
                args.source,
                user,
                args.note,
                today=today_oslo(current_settings()),
                rehearsal=current_settings().rehearsal_rules,
            )
        except (ReviewRefused, ValueError) as exc:
            return refused(exc)
        return submitted(args, version)
    return decide(args, SubjectKind.RULES)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _read_document(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:  # TOML dates arrive as dates; the document carries them as text
            data = json.loads(json.dumps(tomllib.loads(text), default=str))
    except (UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: not a TOML or JSON table: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a table document is an object")
    return data


def register(sub: Any) -> None:
    p = sub.add_parser("rules", help="compliance: the dated rule tables and their approval")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="what to do")
    q = actions.add_parser(
        "list", help="each table: today's value, source, days left (exit 1 within 30 days)"
    )
    q.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    q = actions.add_parser("propose", help="propose a new version of a table (TOML or JSON)")
    q.add_argument("file", type=Path, help="the proposed table, a .toml or .json file")
    author_args(q)
    q = actions.add_parser(
        "confirm",
        help="propose the table in force with one unconfirmed value confirmed (a reviewer "
        "approves it like any proposal)",
    )
    q.add_argument("table", choices=TABLE_NAMES, help="the rule table")
    q.add_argument("valid_from", type=_day, help="the day the value takes effect (YYYY-MM-DD)")
    q.add_argument(
        "--source",
        required=True,
        help="what it was checked against (e.g. the ministry's publication or Lovdata's id)",
    )
    author_args(q)
    decision_parsers(actions, "proposal")
    p.set_defaults(func=cmd_rules)
