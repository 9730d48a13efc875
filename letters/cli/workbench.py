"""Commands for compliance: ``templates``, ``rules``, ``users`` and ``audit``.

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
import tomllib
from pathlib import Path
from typing import Any

from rich.table import Table

from letters.cli.console import BAD_INPUT, FAILED, OK, err, open_ledger, out
from letters.clock import OSLO
from letters.ledger.reviews import ReviewRefused, Reviews, SubjectKind, Version
from letters.ledger.users import Role, User, Users


def _password(prompt: str = "password: ") -> str:
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    return sys.stdin.readline().rstrip("\n")


def _signed_in(args: argparse.Namespace) -> User:
    from letters.workbench import accounts

    return accounts.sign_in(open_ledger(), args.user, _password(f"password for {args.user}: "))


def _settings() -> Any:
    from letters.config import get_settings

    return get_settings()


def _version_json(v: Version) -> dict[str, Any]:
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


def _refused(exc: ReviewRefused | ValueError) -> int:
    code = getattr(exc, "code", None)
    err.print(f"refused: {exc}" + (f" [{code}]" if code else ""), markup=False)
    return BAD_INPUT


# --- templates -----------------------------------------------------------------------------


def cmd_templates(args: argparse.Namespace) -> int:
    from letters.clock import today_oslo
    from letters.workbench import approval

    settings = _settings()
    if args.action == "list":
        today = today_oslo(settings)
        status = approval.template_status(open_ledger(), settings, today)
        if args.json:
            listed = [
                {
                    "subject": t.subject,
                    "in_force": _version_json(t.in_force) if t.in_force else None,
                    "working_copy": {
                        "sha256": t.working_sha256,
                        "version": t.working_version.id if t.working_version else None,
                        "state": t.working_state,
                    },
                    "drafts": [d.id for d in t.drafts],
                }
                for t in status
            ]
            out.print_json(json.dumps(listed))
        else:
            table = Table(title=f"Templates on {today.isoformat()}")
            for heading in ("template", "in force", "approved by", "from", "working copy"):
                table.add_column(heading)
            table.add_column("drafts")
            for t in status:
                f = t.in_force
                since = f.effective_from.isoformat() if f and f.effective_from else ""
                table.add_row(
                    t.subject,
                    f"v{f.id} {f.sha256[:12]}" if f else "NONE",
                    f.reviewed_by or "" if f else "",
                    since,
                    f"{t.working_sha256[:12]} ({t.working_state})",
                    ", ".join(f"v{d.id}" for d in t.drafts),
                )
            out.print(table)
        missing = [t.subject for t in status if t.in_force is None]
        if missing:
            err.print(f"no approved version in force: {', '.join(missing)}", markup=False)
            return FAILED
        return OK
    if args.action == "lint":
        return _lint(args, settings)
    if args.action in ("proof", "diff"):
        return _proof_or_diff(args, settings)
    if args.action == "submit":
        try:
            user = _signed_in(args)
            version = approval.submit_template(
                open_ledger(), settings, args.subject, user, args.note
            )
        except (ReviewRefused, ValueError) as exc:
            return _refused(exc)
        out.print(
            f"{version.subject}: draft v{version.id} ({version.sha256}) waits for a reviewer",
            markup=False,
        )
        return OK
    return _decide(args, SubjectKind.TEMPLATE)


def _lint(args: argparse.Namespace, settings: Any) -> int:
    from letters.clock import today_oslo
    from letters.workbench import approval, lint

    folder = args.path or approval.templates_dir(settings)
    if not folder.is_dir():
        err.print(f"{folder}: no such folder", markup=False)
        return BAD_INPUT
    found = lint.lint(folder, settings, today_oslo(settings))
    if args.json:
        out.print_json(json.dumps(lint.as_json(found), ensure_ascii=False))
    else:
        for finding in found:
            out.print(str(finding), markup=False)
        out.print(f"{folder}: {len(found)} finding{'' if len(found) == 1 else 's'}")
    return FAILED if found else OK


def _template(settings: Any, subject: str, which: str) -> Any:
    """A template version by what the reviewer calls it: ``working`` (the folder as it is),
    ``in-force`` (the approved version in force today) or a version number."""
    from letters.clock import today_oslo
    from letters.templating import working_copy
    from letters.workbench import approval

    kind, _, language = subject.partition(".")
    if which == "working":
        return working_copy(kind, language, approval.templates_dir(settings))
    ledger = open_ledger()
    if which == "in-force":
        return approval.template_in_force(ledger, settings, kind, language, today_oslo(settings))
    version = Reviews(ledger).version(int(which.removeprefix("v")))
    if version.subject != subject:
        raise ValueError(f"version {version.id} is of {version.subject}, not {subject}")
    return approval.version_info(ledger, settings, version)


def _proof_or_diff(args: argparse.Namespace, settings: Any) -> int:
    from letters import bundles
    from letters.clock import today_oslo
    from letters.workbench import diff, proofs

    if args.subject not in bundles.LETTER_SUBJECTS:
        err.print(f"{args.subject}: not a letter template", markup=False)
        return BAD_INPUT
    day = today_oslo(settings)
    target = args.output or Path("out") / args.action / args.subject
    try:
        if args.action == "proof":
            template = _template(settings, args.subject, args.version)
            made = proofs.proof(template, args.subject, settings, day)
            written = proofs.write(made, target, f"{args.subject} {template.version}")
            out.print(f"{len(made)} proof cases of {args.subject} ({template.version}) in {target}")
            unsafe = [p.case.id for p in made if not p.produced.safety.ok]
            if unsafe:
                err.print(f"fail the print check: {', '.join(unsafe)}", markup=False)
                return FAILED
            return OK if written else FAILED
        old = _template(settings, args.subject, args.old)
        new = _template(settings, args.subject, args.new)
        diffs = diff.diff(old, new, args.subject, settings, day)
        diff.write(diffs, target)
    except (ReviewRefused, ValueError) as exc:
        return _refused(exc)
    for d in diffs:
        state = f"{d.changed_regions} changed region(s)" if d.changed else "the same"
        out.print(f"{d.case}: {state}", markup=False)
    out.print(f"{args.subject} {old.version} → {new.version}: text diffs and pictures in {target}")
    return OK


def _decide(args: argparse.Namespace, kind: SubjectKind) -> int:
    from letters.clock import today_oslo
    from letters.workbench import approval

    try:
        user = _signed_in(args)
        ledger = open_ledger()
        if Reviews(ledger).version(args.version).subject_kind is not kind:
            raise ValueError(f"version {args.version} is not a {kind} version")
        effective = getattr(args, "effective_from", None)
        decided = approval.decide(
            ledger,
            args.version,
            user,
            approve=args.action == "approve",
            sha256=args.sha256,
            comment=args.comment,
            effective_from=dt.date.fromisoformat(effective) if effective else None,
            today=today_oslo(_settings()),
        )
    except (ReviewRefused, ValueError) as exc:
        return _refused(exc)
    when = f" from {decided.effective_from.isoformat()}" if decided.effective_from else ""
    out.print(
        f"{decided.subject} v{decided.id} {decided.state} by {decided.reviewed_by}{when}",
        markup=False,
    )
    return OK


# --- rules ---------------------------------------------------------------------------------


def cmd_rules(args: argparse.Namespace) -> int:
    from letters.clock import today_oslo
    from letters.workbench import approval

    if args.action == "list":
        today = today_oslo(_settings())
        status = approval.table_status(open_ledger(), today)
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
        return FAILED if ending else OK
    if args.action == "propose":
        try:
            document = _read_document(args.file)
            user = _signed_in(args)
            version = approval.submit_table(open_ledger(), document, user, args.note)
        except (ReviewRefused, ValueError) as exc:
            return _refused(exc)
        out.print(
            f"{version.subject}: draft v{version.id} ({version.sha256}) waits for a reviewer",
            markup=False,
        )
        return OK
    return _decide(args, SubjectKind.RULES)


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


# --- users and the audit log ---------------------------------------------------------------


def cmd_users(args: argparse.Namespace) -> int:
    from letters.workbench import accounts

    ledger = open_ledger()
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
        user = accounts.create(ledger, args.name, Role(args.role), password, by="operator")
    except ValueError as exc:
        return _refused(exc)
    out.print(f"user {user.name} ({user.role}) created", markup=False)
    return OK


def cmd_audit(args: argparse.Namespace) -> int:
    entries = Reviews(open_ledger()).audit_log(limit=args.limit, subject=args.subject)
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
    table = Table(title="Audit log (newest first, Oslo time)")
    for heading in ("at", "who", "action", "subject", "version", "detail"):
        table.add_column(heading)
    for e in entries:
        table.add_row(
            e.at.astimezone(OSLO).strftime("%Y-%m-%d %H:%M:%S"),
            e.actor,
            e.action,
            e.subject,
            f"v{e.version_id}" if e.version_id else "",
            e.detail or "",
        )
    out.print(table)
    return OK


def register(sub: Any) -> None:
    p = sub.add_parser("templates", help="compliance: template versions and their approval")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser("list", help="each template: the version in force, the working copy")
    q.add_argument("--json", action="store_true")
    q = actions.add_parser("lint", help="check templates for what they must and must not say")
    q.add_argument("path", type=Path, nargs="?", help="a templates folder (default: authors')")
    q.add_argument("--json", action="store_true")
    q = actions.add_parser("proof", help="the proof cases of a template as PDF and PNG")
    q.add_argument("subject", help="e.g. reminder.nb")
    q.add_argument("--version", default="working", help="working (default), in-force or N")
    q.add_argument("-o", "--output", type=Path, help="folder (default out/proof/SUBJECT)")
    q = actions.add_parser("diff", help="a rendered diff of two versions of a template")
    q.add_argument("subject", help="e.g. reminder.nb")
    q.add_argument("--old", default="in-force", help="in-force (default), working or N")
    q.add_argument("--new", default="working", help="working (default), in-force or N")
    q.add_argument("-o", "--output", type=Path, help="folder (default out/diff/SUBJECT)")
    q = actions.add_parser("submit", help="submit the working copy of a template as a draft")
    q.add_argument("subject", help="e.g. reminder.nb, or email.en")
    q.add_argument("--note", help="what changed and why")
    q.add_argument("--user", required=True, help="the author")
    for name, text in (("approve", "approve a draft"), ("reject", "reject a draft")):
        q = actions.add_parser(name, help=text)
        q.add_argument("version", type=int)
        q.add_argument("--sha256", required=True, help="the exact version reviewed")
        q.add_argument("--comment", required=True)
        q.add_argument("--user", required=True, help="the reviewer (not the author)")
        if name == "approve":
            q.add_argument("--effective-from", help="YYYY-MM-DD (default: at once)")
    p.set_defaults(func=cmd_templates)

    p = sub.add_parser("rules", help="compliance: the dated rule tables and their approval")
    actions = p.add_subparsers(dest="action", required=True)
    q = actions.add_parser(
        "list", help="each table: today's value, source, days left (exit 1 within 30 days)"
    )
    q.add_argument("--json", action="store_true")
    q = actions.add_parser("propose", help="propose a new version of a table (TOML or JSON)")
    q.add_argument("file", type=Path)
    q.add_argument("--note", help="what changed and the source")
    q.add_argument("--user", required=True, help="the author")
    for name, text in (("approve", "approve a proposal"), ("reject", "reject a proposal")):
        q = actions.add_parser(name, help=text)
        q.add_argument("version", type=int)
        q.add_argument("--sha256", required=True, help="the exact version reviewed")
        q.add_argument("--comment", required=True)
        q.add_argument("--user", required=True, help="the reviewer (not the author)")
        if name == "approve":
            q.add_argument("--effective-from", help="YYYY-MM-DD (default: at once)")
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("users", help="compliance: the workbench's users")
    p.add_argument("action", choices=["create", "list"])
    p.add_argument("name", nargs="?")
    p.add_argument("--role", choices=[str(r) for r in Role])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("audit", help="compliance: the audit log of every privileged action")
    p.add_argument("--subject", help="only this template or table")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_audit)
