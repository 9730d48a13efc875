"""``letters status``: one job's whole history, or without a job an overview of the
ledger (jobs by status, deliveries, print batches); ``letters batch list`` shows the
print batches of the same overview."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from letters.cli.console import BAD_INPUT, OK, err, ledger_to_read, oslo_day, out
from letters.wording import counted, ledger_name


def overview(as_json: bool, batches_only: bool = False) -> int:
    """``letters status`` without a job: the jobs by status, deliveries and print batches
    (``batches_only``: the print batches alone, as ``letters batch list`` shows them)."""

    from letters.config import get_settings

    ledger = ledger_to_read()
    if ledger is None:
        return BAD_INPUT
    view = ledger.overview()
    if as_json:
        shown_json = view.model_dump(mode="json")
        if batches_only:
            shown_json = {"print_batches": shown_json["print_batches"]}
        out.print_json(json.dumps(shown_json))
        return OK
    out.print(f"ledger: {ledger_name(get_settings().database_url)}", markup=False)
    if batches_only:
        _batch_table(view.print_batches)
        return OK
    jobs = ", ".join(f"{n} {status}" for status, n in sorted(view.jobs.items())) or "none"
    out.print(f"jobs: {jobs}", markup=False)
    owed = sum(n for status, n in view.jobs.items() if status in ("accepted", "rendered"))
    if owed and _no_worker():
        err.print(
            f"{counted(owed, 'job')} waiting, and no worker is running on the broker: "
            f"start `letters worker` ({'it is' if owed == 1 else 'they are'} kept in the "
            "ledger meanwhile)",
            markup=False,
        )
    by_channel = view.delivered_by_channel
    delivered = ", ".join(f"{n} by {c}" for c, n in sorted(by_channel.items())) or "none"
    out.print(f"delivered: {delivered}", markup=False)
    if view.waiting_on_breaker:  # a channel down: its breaker was open at their last turn
        waiting = ", ".join(f"{n} for {c}" for c, n in sorted(view.waiting_on_breaker.items()))
        out.print(
            f"waiting on an open breaker: {waiting} (the channel failed too often in a row; "
            "they are tried again, see the worker log)",
            markup=False,
        )
    _batch_table(view.print_batches)
    out.print("One job's history: `letters status JOB_ID`.")
    return OK


def _batch_table(batches: list[Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from letters.clock import shown

    table = Table(title="Print batches (newest first)")
    for heading in ("batch", "status", "letters", "sides", "sheets", "closed", "folder"):
        table.add_column(heading, overflow="fold")
    for b in batches:
        table.add_row(
            b.id,
            b.status,
            str(b.letters),
            str(b.pages or ""),
            str(b.sheets or ""),
            shown(b.closed_at),
            escape(b.folder or ""),
        )
    out.print(table)


def _no_worker() -> bool:
    """Whether the configured broker is Redis and no worker process renewed its key there
    (False when it cannot tell: the in-process broker, or Redis not answering)."""
    if os.environ.get("LETTERS_BROKER", "redis") != "redis":
        return False
    from letters.pipeline import broker as brokers

    return brokers.workers_alive(brokers.current()) == 0


def cmd_status(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from letters.clock import shown

    if args.job_id is None:
        return overview(args.json)
    ledger = ledger_to_read()
    if ledger is None:
        return BAD_INPUT
    history = ledger.history(args.job_id)
    if history is None:
        if args.json:  # the same shape as GET /v1/jobs/{id} answers
            missing = {"field": "job_id", "code": "not-found", "reason": "no such job"}
            out.print_json(json.dumps({"errors": [missing]}))
        else:
            err.print(f"no job {args.job_id!r} in the ledger", markup=False)
        return BAD_INPUT
    if args.json:
        out.print_json(history.model_dump_json())
        return OK
    job, letter = history.job, history.letter
    out.print(
        f"[bold]{escape(job.id)}[/]  {job.kind}  case {escape(job.reference)}  "
        f"status [bold]{job.status}[/]"
    )
    if history.closure:
        c = history.closure
        out.print(
            f"  case closed {oslo_day(c.closed_at)} by {c.closed_by}: {c.reason}", markup=False
        )
    if job.purged_at:
        out.print(
            f"  purged on {oslo_day(job.purged_at)} (retention): the debtor's personal data and "
            "the PDF are gone; the hashes and the history are kept",
            markup=False,
        )
    if job.status == "uncertain":
        _uncertain(job.id, job.error_code, job.error, letter.id if letter else "")
    elif job.error:
        # the stable code; the exception's class only for a failure with no code (a defect)
        said = job.error_code or f"({job.error_class or 'no code'})"
        out.print(f"  error {said}: {job.error}", markup=False)
    if letter:
        out.print(
            f"  letter {letter.id}: {letter.template} v{letter.template_version} "
            f"(sha256 {letter.template_sha256[:12]}…) by {letter.renderer}, "
            f"{counted(letter.pages, 'page')}, KID {letter.kid}, "
            f"due {letter.due_date.isoformat()}, "
            f"password expires {shown(letter.password_expires_at)}",
            markup=False,
        )
        if letter.instalment_kids:
            out.print(f"  instalment KIDs {', '.join(letter.instalment_kids)}", markup=False)
        where = (
            f"purged from the archive on {oslo_day(letter.purged_at)} (retention)"
            if letter.purged_at
            else f"at {letter.archive_path}"
        )
        out.print(f"  pdf sha256 {letter.pdf_sha256} {where}", markup=False)
    table = Table(title="History")
    for heading in ("at", "what", "detail"):
        table.add_column(heading, overflow="fold")
    rows = [(e.at, e.event, e.detail or "") for e in history.events]
    for a in history.attempts:
        detail = a.external_id or f"{a.error_code}: {a.error}"
        rows.append((a.at, f"{a.channel} {a.status}", detail))
    batch = history.print_batch
    if batch:
        rows.append((batch.joined_at, "joined print batch", batch.id))
        if batch.closed_at:
            rows.append((batch.closed_at, "print batch closed", batch.folder or ""))
        if batch.handed_off_at:
            rows.append((batch.handed_off_at, "print batch handed off", batch.id))
        if batch.purged_at:
            rows.append((batch.purged_at, "print batch folder purged", "retention"))
    for h in history.holds:
        rows.append((h.placed_at, "hold placed", h.reason))
        if h.released_at:
            rows.append((h.released_at, "hold released", h.release_reason or ""))
    for at, what, detail in sorted(rows, key=lambda r: r[0]):  # text, never markup
        table.add_row(shown(at), escape(what), escape(detail))
    out.print(table)
    return OK


def _uncertain(job_id: str, code: str | None, why: str | None, letter_id: str) -> None:
    from channels.email import message_id
    from letters.config import get_settings

    mid = message_id(letter_id, get_settings().smtp.from_address)
    for line in (
        f"  uncertain {code}: {why}",
        "  Nothing sends it again by itself. Check the mail relay's log for Message-ID "
        f"{mid}, then decide:",
        f'    letters resolve {job_id} --sent --by YOU --reason "…"'
        "    (it went out: recorded as delivered, nothing is sent)",
        f'    letters resolve {job_id} --resend --by YOU --reason "…"'
        "  (send it again, same Message-ID: the debtor may get it twice)",
    ):
        out.print(line, markup=False, soft_wrap=True)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "status", help="a job's whole history; without a job id, an overview with print batches"
    )
    p.add_argument("job_id", nargs="?", help="the job (default: an overview of all)")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_status)
