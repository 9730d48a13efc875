"""An operator's decisions on a case or a letter: ``hold`` and ``release`` a case,
``resolve`` an uncertain letter. Each is recorded with who decided and why."""

from __future__ import annotations

import argparse
import json
from typing import Any, Literal

from letters.cli.console import (
    BAD_INPUT,
    OK,
    by_argument,
    err,
    ledger_to_read,
    open_ledger,
    out,
    said,
)
from letters.codes import Code
from letters.wording import counted


def cmd_hold(args: argparse.Namespace) -> int:
    from letters.numbers import reference
    from letters.pipeline.intake import release

    if not reference.is_valid(args.reference):
        err.print(
            f"{args.reference!r} is not a valid case reference [{Code.BAD_REFERENCE}]",
            markup=False,
        )
        return BAD_INPUT
    ref = reference.compact(args.reference)
    ledger = open_ledger()
    if args.command == "hold":
        placed = ledger.place_hold(ref, args.reason, by=args.by)
        waiting = ledger.unfinished_jobs(ref)
        stops = (
            f"{counted(waiting, 'job')} of it not yet sent wait{'s' if waiting == 1 else ''} "
            "for the release"
            if waiting
            else "no job of it is waiting to be sent; jobs that arrive wait for the release"
        )
        if args.json:  # the same shape as POST /v1/cases/{reference}/hold answers
            answer = {"reference": ref, "held": True, "already_held": not placed}
            out.print_json(json.dumps({**answer, "unfinished_jobs": waiting}))
            return OK
        done = f"case {ref} held" if placed else f"case {ref} was held already; the reason is added"
        out.print(f"{done}: {stops}", markup=False)
        return OK
    from letters.pipeline import broker as brokers

    was_held = ledger.is_held(ref)
    resumed = []
    if was_held:
        brokers.current()
        resumed = release(ref, args.reason, by=args.by)
    if args.json:  # the same shape as POST /v1/cases/{reference}/release answers
        answer = {"reference": ref, "held": False, "was_held": was_held, "resumed": resumed}
        out.print_json(json.dumps(answer))
        return OK
    if not was_held:
        out.print(f"case {ref} was not held; nothing changed", markup=False)
        return OK
    out.print(
        f"case {ref} released: {counted(len(resumed), 'job')} held "
        f"go{'es' if len(resumed) == 1 else ''} on"
        if resumed
        else f"case {ref} released: no job of it was waiting",
        markup=False,
    )
    return OK


def cmd_resolve(args: argparse.Namespace) -> int:
    from letters.ledger import JobStatus

    ledger = ledger_to_read()
    if ledger is None:
        return BAD_INPUT
    decision: Literal["sent", "resend"] = "sent" if args.sent else "resend"
    # --by and --reason arrive stripped and not empty (console.said refuses the rest)
    if not ledger.resolve_uncertain(args.job_id, decision, args.by, args.reason):
        row = ledger.job(args.job_id)
        now = f"it is {row.status}" if row else "there is no such job"
        err.print(f"job {args.job_id!r} is not uncertain ({now}): nothing done", markup=False)
        return BAD_INPUT
    told = {"job": args.job_id, "decision": decision, "by": args.by, "reason": args.reason}
    if decision == "sent":
        if args.json:
            out.print_json(json.dumps({**told, "status": str(JobStatus.DELIVERED)}))
        else:
            out.print(f"job {args.job_id}: recorded as delivered by decision of {args.by}")
        return OK
    from letters.pipeline import broker as brokers

    brokers.current()
    from letters.pipeline.actors import deliver_letter

    try:
        deliver_letter.send(args.job_id)
        queued = "sent to the workers"
    except Exception as exc:  # the broker is down: the sweeper takes it up
        queued = f"left for the sweeper (broker: {type(exc).__name__})"
    if args.json:
        told |= {"status": str(JobStatus.RENDERED), "queued": queued == "sent to the workers"}
        out.print_json(json.dumps(told))
        return OK
    out.print(
        f"job {args.job_id}: {JobStatus.RENDERED}, to be sent again ({queued}); "
        f"decided by {args.by}",
        markup=False,
    )
    return OK


def register(sub: Any) -> None:
    for name, text in (
        ("hold", "hold a case: none of its letters go out"),
        ("release", "release a case's holds; its letters continue"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("reference", help="the case reference, as printed on its letters")
        p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
        p.add_argument("--reason", required=True, type=said, help="why (recorded in the ledger)")
        by_argument(p)
        p.set_defaults(func=cmd_hold)
    p = sub.add_parser(
        "resolve",
        help="decide on an uncertain letter (it may have been sent): --sent or --resend",
    )
    p.add_argument("job_id", help="the uncertain job (`letters status` names it)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--sent", action="store_true", help="it went out (e.g. the relay's log shows it)"
    )
    what.add_argument(
        "--resend", action="store_true", help="send it again (the debtor may get it twice)"
    )
    p.add_argument("--by", required=True, type=said, help="who decides (recorded, with the reason)")
    p.add_argument("--reason", required=True, type=said, help="why (recorded in the ledger)")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_resolve)
