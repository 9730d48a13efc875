"""Commands for compliance: ``users`` and ``audit``, and what the template and rule-table
commands share (signing in, deciding, the JSON form of a version).

Who acts is always a named user of the workbench (``--user``), who signs in with their
password (typed, or read from standard input when it is not a terminal); an approval
names the exact sha256 the reviewer looked at.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from typing import TYPE_CHECKING, Any

from letters.cli.console import BAD_INPUT, OK, err, ledger_to_read, login_name, open_ledger, out
from letters.names import Role

if TYPE_CHECKING:
    from letters.ledger.reviews import ReviewRefused, SubjectKind, Version
    from letters.ledger.users import User


def _password(prompt: str = "password: ") -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")


def signed_in(args: argparse.Namespace) -> User:
    from letters.workbench import accounts

    return accounts.sign_in(open_ledger(), args.user, _password(f"password for {args.user}: "))


def current_settings() -> Any:
    from letters.config import get_settings

    return get_settings()


def version_json(v: Version) -> dict[str, Any]:
    return {
        "id": v.id,
        "kind": str(v.subject_kind),
        "subject": v.subject,
        "sha256": v.sha256,
        "state": str(v.state),
        "author": v.author,
        "note": v.note,
        "created_at": v.created_at.isoformat(),
        "reviewed_by": v.reviewed_by,
        "reviewed_at": v.reviewed_at.isoformat() if v.reviewed_at else None,
        "review_comment": v.review_comment,
        "effective_from": v.effective_from.isoformat() if v.effective_from else None,
    }


def refused(exc: ReviewRefused | ValueError) -> int:
    code = getattr(exc, "code", None)
    err.print(f"refused: {exc}" + (f" [{code}]" if code else ""), markup=False)
    return BAD_INPUT


def decide(args: argparse.Namespace, kind: SubjectKind) -> int:
    from letters.clock import today_oslo
    from letters.ledger.reviews import ReviewRefused, Reviews
    from letters.workbench import approval

    try:
        user = signed_in(args)
        ledger = open_ledger()
        if Reviews(ledger).version(args.version).subject_kind is not kind:
            raise ValueError(f"version {args.version} is not a {kind} version")
        effective = getattr(args, "effective_from", None)
        if args.action == "retire":
            retired = approval.retire(ledger, args.version, user, args.sha256, args.comment)
            out.print(f"{retired.subject} v{retired.id} retired by {user.name}", markup=False)
            return OK
        decided = approval.decide(
            ledger,
            args.version,
            user,
            approve=args.action == "approve",
            sha256=args.sha256,
            comment=args.comment,
            effective_from=dt.date.fromisoformat(effective) if effective else None,
            today=today_oslo(current_settings()),
        )
    except (ReviewRefused, ValueError) as exc:
        return refused(exc)
    if args.json:
        out.print_json(json.dumps(version_json(decided), ensure_ascii=False))
        return OK
    when = f" from {decided.effective_from.isoformat()}" if decided.effective_from else ""
    out.print(
        f"{decided.subject} v{decided.id} {decided.state} by {decided.reviewed_by}{when}",
        markup=False,
    )
    return OK


def submitted(args: argparse.Namespace, version: Version) -> int:
    if args.json:
        out.print_json(json.dumps(version_json(version), ensure_ascii=False))
    else:
        out.print(
            f"{version.subject}: draft v{version.id} ({version.sha256}) waits for a reviewer",
            markup=False,
        )
    return OK


def cmd_users(args: argparse.Namespace) -> int:
    from letters.ledger.users import Users
    from letters.workbench import accounts

    found = ledger_to_read() if args.action == "list" else open_ledger()
    if found is None:
        return BAD_INPUT
    ledger = found
    if args.action == "list":
        users = Users(ledger).all()
        if args.json:
            listed = [{"name": u.name, "role": str(u.role), "disabled": u.disabled} for u in users]
            out.print_json(json.dumps(listed))
        else:
            for u in users:
                out.print(f"{u.name}  {u.role}" + ("  (disabled)" if u.disabled else ""))
        return OK
    if not args.name or not args.role:
        err.print("users create needs a NAME and --role", markup=False)
        return BAD_INPUT
    password = _password(f"new password for {args.name}: ")
    try:
        user = accounts.create(ledger, args.name, Role(args.role), password, by=login_name())
    except ValueError as exc:
        return refused(exc)
    out.print(f"user {user.name} ({user.role}) created", markup=False)
    return OK


def cmd_audit(args: argparse.Namespace) -> int:
    from rich.table import Table

    from letters.clock import shown
    from letters.ledger.reviews import Reviews

    ledger = ledger_to_read()
    if ledger is None:
        return BAD_INPUT
    entries = Reviews(ledger).audit_log(limit=args.limit, subject=args.subject)
    if args.json:
        listed = [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "kind": e.subject_kind,
                "subject": e.subject,
                "version": e.version_id,
                "sha256": e.sha256,
                "detail": e.detail,
            }
            for e in entries
        ]
        out.print_json(json.dumps(listed, ensure_ascii=False))
        return OK
    if not entries:
        about = f" about {args.subject}" if args.subject else ""
        out.print(f"no audit entries{about}", markup=False)
        return OK
    table = Table(title="Audit log (newest first, Oslo time)")
    for heading in ("at", "who", "action", "subject", "version", "detail"):
        table.add_column(heading)
    for e in entries:
        table.add_row(
            shown(e.at),
            e.actor,
            e.action,
            e.subject,
            f"v{e.version_id}" if e.version_id else "",
            e.detail or "",
        )
    out.print(table)
    return OK


def author_args(q: argparse.ArgumentParser) -> None:
    q.add_argument("--note", help="what changed, why, and the source")
    q.add_argument("--user", required=True, help="the author")
    q.add_argument("--json", action="store_true", help="machine-readable output (JSON)")


def decision_parsers(actions: Any, what: str) -> None:
    helps = {
        "approve": f"approve a {what}",
        "reject": f"reject a {what}",
        "retire": "withdraw an approved version: new letters no longer use it",
    }
    for name, text in helps.items():
        q = actions.add_parser(name, help=text)
        q.add_argument("version", type=int, help="the version number (as `list` shows it)")
        q.add_argument("--sha256", required=True, help="the exact version reviewed")
        q.add_argument("--comment", required=True, help="what was checked, or why not")
        q.add_argument("--user", required=True, help="the reviewer (not the author)")
        q.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
        if name == "approve":
            q.add_argument("--effective-from", help="YYYY-MM-DD (default: today)")


def register(sub: Any) -> None:
    p = sub.add_parser("users", help="compliance: the workbench's users")
    p.add_argument("action", choices=["create", "list"], help="create a user, or list them")
    p.add_argument("name", nargs="?", help="the new user's name (for create)")
    p.add_argument(
        "--role", choices=[str(r) for r in Role], help="what the new user may do (for create)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("audit", help="compliance: the audit log of every privileged action")
    p.add_argument("--subject", help="only this template or table")
    p.add_argument("--limit", type=int, default=100, help="at most this many entries, newest first")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_audit)
