"""Commands for compliance: ``letters templates list|lint|proof|diff|submit|approve|reject``."""

from __future__ import annotations

import argparse
import json
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
    version_json,
)
from letters.wording import counted


def cmd_templates(args: argparse.Namespace) -> int:
    from rich.table import Table

    from letters.clock import today_oslo
    from letters.ledger.reviews import ReviewRefused, SubjectKind
    from letters.workbench import approval

    settings = current_settings()
    if args.action == "list":
        today = today_oslo(settings)
        ledger = ledger_to_read()
        if ledger is None:
            return BAD_INPUT
        status = approval.template_status(ledger, settings, today)
        if args.json:
            listed = [
                {
                    "subject": t.subject,
                    "in_force": version_json(t.in_force) if t.in_force else None,
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
            user = signed_in(args)
            version = approval.submit_template(
                open_ledger(), settings, args.subject, user, args.note
            )
        except (ReviewRefused, ValueError) as exc:
            return refused(exc)
        out.print(
            f"{version.subject}: draft v{version.id} ({version.sha256}) waits for a reviewer",
            markup=False,
        )
        return OK
    return decide(args, SubjectKind.TEMPLATE)


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
    from letters.ledger.reviews import Reviews
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
    from letters.ledger.reviews import ReviewRefused
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
            unsafe = [p.case.id for p in made if not p.produced.safety.ok]
            if args.json:
                listed = {
                    "subject": args.subject,
                    "version": template.version,
                    "sha256": template.sha256,
                    "cases": [
                        {"case": p.case.id, "pages": len(p.pages), "safe": p.produced.safety.ok}
                        for p in made
                    ],
                    "files": [str(w) for w in written],
                }
                out.print_json(json.dumps(listed))
            else:
                out.print(
                    f"{len(made)} proof cases of {args.subject} ({template.version}) in {target}"
                )
            if unsafe:
                err.print(f"fail the print check: {', '.join(unsafe)}", markup=False)
                return FAILED
            return OK if written else FAILED
        old = _template(settings, args.subject, args.old)
        new = _template(settings, args.subject, args.new)
        diffs = diff.diff(old, new, args.subject, settings, day)
        diff.write(diffs, target)
    except (ReviewRefused, ValueError) as exc:
        return refused(exc)
    if args.json:
        listed = {
            "subject": args.subject,
            "old": {"version": old.version, "sha256": old.sha256},
            "new": {"version": new.version, "sha256": new.sha256},
            "cases": [
                {
                    "case": d.case,
                    "changed": d.changed,
                    "changed_regions": d.changed_regions,
                    "text": d.text,
                    "picture": str(target / f"{d.case}.png"),
                }
                for d in diffs
            ],
        }
        out.print_json(json.dumps(listed, ensure_ascii=False))
        return OK
    for d in diffs:
        state = counted(d.changed_regions, "changed region") if d.changed else "the same"
        out.print(f"{d.case}: {state}", markup=False)
    out.print(f"{args.subject} {old.version} → {new.version}: text diffs and pictures in {target}")
    return OK


def register(sub: Any) -> None:
    p = sub.add_parser("templates", help="compliance: template versions and their approval")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", help="what to do")
    q = actions.add_parser("list", help="each template: the version in force, the working copy")
    q.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    q = actions.add_parser("lint", help="check templates for what they must and must not say")
    q.add_argument("path", type=Path, nargs="?", help="a templates folder (default: authors')")
    q.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    q = actions.add_parser("proof", help="the proof cases of a template as PDF and PNG")
    q.add_argument("subject", help="e.g. reminder.nb")
    q.add_argument("--version", default="working", help="working (default), in-force or N")
    q.add_argument("-o", "--output", type=Path, help="folder (default out/proof/SUBJECT)")
    q.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    q = actions.add_parser("diff", help="a rendered diff of two versions of a template")
    q.add_argument("subject", help="e.g. reminder.nb")
    q.add_argument("--old", default="in-force", help="in-force (default), working or N")
    q.add_argument("--new", default="working", help="working (default), in-force or N")
    q.add_argument("-o", "--output", type=Path, help="folder (default out/diff/SUBJECT)")
    q.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    q = actions.add_parser("submit", help="submit the working copy of a template as a draft")
    q.add_argument("subject", help="e.g. reminder.nb, or email.en")
    author_args(q)
    decision_parsers(actions, "draft")
    p.set_defaults(func=cmd_templates)
