"""Commands for personal data: ``case close|reopen`` (the retention period of a case runs
from its closure) and ``purge`` (remove the personal data of cases closed longer than
``LETTERS_RETENTION__DAYS``; ``--dry-run`` shows what would go). Each change is audited."""

from __future__ import annotations

import argparse
import json
from typing import Any

from letters.cli.console import (
    BAD_INPUT,
    OK,
    counted,
    err,
    ledger_to_read,
    open_ledger,
    oslo_day,
    out,
    said,
)
from letters.codes import Code


def _who(args: argparse.Namespace) -> tuple[str, str] | None:
    by, reason = (args.by or "").strip(), (args.reason or "").strip()
    if not by or not reason:
        err.print("--by and --reason must say who does it and why", markup=False)
        return None
    return by, reason


def cmd_case(args: argparse.Namespace) -> int:
    from letters.clock import shown
    from letters.numbers import reference

    if not reference.is_valid(args.reference):
        err.print(
            f"{args.reference!r} is not a valid case reference [{Code.BAD_REFERENCE}]",
            markup=False,
        )
        return BAD_INPUT
    who = _who(args)
    if who is None:
        return BAD_INPUT
    ref = reference.compact(args.reference)
    ledger = open_ledger()
    if args.action == "close":
        closure, made = ledger.close_case(ref, *who)
        day = shown(closure.closed_at)
        if args.json:  # the same shape as POST /v1/cases/{reference}/close answers
            answer = {"reference": ref, "closed": True, "already_closed": not made}
            out.print_json(json.dumps({**answer, **closure.model_dump(mode="json")}))
            return OK
        if made:
            out.print(f"case {ref} closed ({day}): its retention period runs", markup=False)
        else:
            out.print(
                f"case {ref} was closed already ({day} by {closure.closed_by}): unchanged",
                markup=False,
            )
        return OK
    reopened = ledger.reopen_case(ref, *who)
    if args.json:  # the same shape as POST /v1/cases/{reference}/reopen answers
        out.print_json(json.dumps({"reference": ref, "closed": False, "reopened": reopened}))
        return OK if reopened else BAD_INPUT
    if not reopened:
        err.print(f"case {ref} is not closed: nothing done", markup=False)
        return BAD_INPUT
    out.print(f"case {ref} reopened: its retention period no longer runs", markup=False)
    return OK


def cmd_purge(args: argparse.Namespace) -> int:
    from letters import retention
    from letters.pipeline.runtime import Runtime

    who = None if args.dry_run else _who(args)
    if not args.dry_run and who is None:
        return BAD_INPUT
    if args.dry_run and ledger_to_read() is None:  # a survey reads: it makes no ledger
        return BAD_INPUT
    rt = Runtime.from_settings()
    done = retention.survey(rt) if who is None else retention.purge(rt, *who)
    if args.json:
        out.print_json(json.dumps(_as_json(done, rt.settings.retention.days, args.dry_run)))
        return OK
    p = done.plan
    idle = (
        f"; cases never closed, all done, idle since before {p.idle_before.date().isoformat()}"
        if p.idle_before
        else ""
    )
    out.print(
        f"retention {rt.settings.retention.days} days: cases closed before "
        f"{p.closed_before.date().isoformat()} (Oslo){idle}",
        markup=False,
    )
    if done.nothing:
        out.print("nothing to purge", markup=False)
    else:
        verb = "would purge" if args.dry_run else "purged"
        out.print(
            f"{verb} {counted(len(p.cases), 'case')}: {counted(p.jobs, 'job')}, "
            f"{counted(p.letters, 'letter')}, {counted(len(done.pdfs), 'PDF')} in the archive, "
            f"{counted(len(done.folders), 'print batch folder')}",
            markup=False,
        )
        for case in p.cases:
            how = f"closed by {case.closed_by}" if case.why == "closed" else "idle"
            out.print(f"  {case.reference}  {how}, since {oslo_day(case.since)}", markup=False)
        if done.leftovers:
            out.print(
                f"  and {counted(done.leftovers, 'file')} an interrupted purge left "
                "(already purged in the ledger)",
                markup=False,
            )
    if p.waiting:
        out.print(f"waiting: {counted(len(p.waiting), 'case')} due but not finished", markup=False)
        for w in p.waiting:
            out.print(f"  {w.reference}  {w.why}", markup=False)
    if args.dry_run:
        out.print("dry run: nothing changed", markup=False)
    return OK


def _as_json(done: Any, days: int, dry_run: bool) -> dict[str, Any]:
    p = done.plan
    return {
        "dry_run": dry_run,
        "retention_days": days,
        "closed_before": p.closed_before.isoformat(),
        "idle_before": p.idle_before.isoformat() if p.idle_before else None,
        "cases": [
            {
                "reference": c.reference,
                "why": c.why,
                "since": c.since.isoformat(),
                "jobs": len(c.jobs),
                "letters": len(c.letters),
            }
            for c in p.cases
        ],
        "jobs": p.jobs,
        "letters": p.letters,
        "pdfs": len(done.pdfs),
        "print_batch_folders": len(done.folders),
        "leftovers": done.leftovers,
        "waiting": [{"reference": w.reference, "why": w.why} for w in p.waiting],
    }


def register(sub: Any) -> None:
    p = sub.add_parser("case", help="close or reopen a case (its retention period runs)")
    p.add_argument("action", choices=["close", "reopen"], help="close the case, or reopen it")
    p.add_argument("reference", help="the case reference, as printed on its letters")
    p.add_argument("--by", required=True, type=said, help="who closes or reopens it (audited)")
    p.add_argument(
        "--reason", required=True, type=said, help="why: paid, withdrawn, sent to court…"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_case)
    p = sub.add_parser(
        "purge", help="remove the personal data of cases closed longer than the retention"
    )
    p.add_argument(
        "--dry-run", action="store_true", help="list what would go (counts, case references)"
    )
    p.add_argument("--by", type=said, help="who runs the purge (audited; not needed for --dry-run)")
    p.add_argument("--reason", type=said, help="why now (audited; not needed for --dry-run)")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_purge)
