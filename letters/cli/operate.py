"""Commands for operators: ``run``, ``worker``, ``enqueue``, ``serve`` and ``status``
(print batches are in :mod:`letters.cli.batch`, an operator's decisions on a case or a
letter in :mod:`letters.cli.cases`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from letters.cli.console import (
    BAD_INPUT,
    FAILED,
    OK,
    cannot_read,
    err,
    job_lines,
    ledger_name,
    ledger_to_read,
    oslo_day,
    out,
    port,
    progress,
    rich_console,
)
from letters.codes import Code
from letters.wording import counted


def cmd_run(args: argparse.Namespace) -> int:
    from letters.config import get_settings
    from letters.pipeline.inprocess import run

    if not args.source.exists():
        cannot_read(args.source, folder_too=True)
        return BAD_INPUT
    return run(
        args.source,
        get_settings(),
        rich_console(err if args.json else out),
        close_batch=not args.keep_batch_open,
        verbose=args.verbose,
        as_json=args.json,
    )


def overview(as_json: bool) -> int:
    from rich.markup import escape
    from rich.table import Table

    from letters.clock import shown
    from letters.config import get_settings

    ledger = ledger_to_read()
    if ledger is None:
        return BAD_INPUT
    view = ledger.overview()
    if as_json:
        out.print_json(view.model_dump_json())
        return OK
    out.print(f"ledger: {ledger_name(get_settings().database_url)}", markup=False)
    jobs = ", ".join(f"{n} {status}" for status, n in sorted(view.jobs.items())) or "none"
    out.print(f"jobs: {jobs}", markup=False)
    owed = sum(n for status, n in view.jobs.items() if status in ("accepted", "rendered"))
    if owed and _no_worker():
        err.print(
            f"{counted(owed, 'job')} waiting, and no worker is running on the broker: "
            "start `letters worker` (they are kept in the ledger meanwhile)",
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
    table = Table(title="Print batches (newest first)")
    for heading in ("batch", "status", "letters", "sides", "sheets", "closed", "folder"):
        table.add_column(heading, overflow="fold")
    for b in view.print_batches:
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
    out.print("One job's history: `letters status JOB_ID`.")
    return OK


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


def cmd_enqueue(args: argparse.Namespace) -> int:
    from letters.job import FieldError, JobRejected
    from letters.ledger import JobConflict
    from letters.pipeline import broker as brokers
    from letters.pipeline.enqueue import read
    from letters.pipeline.runtime import get_runtime

    if not args.file.is_file():
        cannot_read(args.file)
        return BAD_INPUT
    brokers.current()
    from letters.pipeline.intake import BrokerUnreachable, submit

    runtime = get_runtime()
    accepted, refused, unqueued = 0, [], []
    with progress() as bar:
        task = bar.add_task("accepting", total=job_lines(args.file))
        for line, data in read(args.file):
            try:
                if isinstance(data, JobRejected):
                    raise data
                submit(data, runtime)
                accepted += 1
            except BrokerUnreachable as exc:  # committed; the sweeper queues it later
                accepted += 1
                unqueued.append(exc.job_id)
            except JobRejected as exc:
                refused.append((line, exc.errors))
            except JobConflict as exc:
                refused.append(
                    (line, [FieldError(field="id", code=Code.JOB_CONFLICT, reason=str(exc))])
                )
            bar.advance(task)
    if args.json:
        import json

        report = {
            "file": str(args.file),
            "accepted": accepted,
            "refused": [
                {"line": line, "field": e.field, "code": str(e.code), "reason": e.reason}
                for line, errors in refused
                for e in errors
            ],
            "not_queued": unqueued,  # committed; queued by a worker once the broker is back
        }
        out.print_json(json.dumps(report, ensure_ascii=False))
        return FAILED if unqueued else BAD_INPUT if refused else OK
    for line, errors in refused:
        for e in errors:
            err.print(f"{args.file}:{line}: {e}", markup=False)
    out.print(f"{accepted} accepted, {len(refused)} refused", markup=False)
    if unqueued:
        shown = ", ".join(unqueued[:20]) + (
            f" and {len(unqueued) - 20} more" if len(unqueued) > 20 else ""
        )
        err.print(
            f"the broker ({_safe_url(runtime.settings.redis_url)}) was unreachable: "
            f"{counted(len(unqueued), 'accepted job')} kept in the ledger but not yet queued "
            f"({shown}); a running worker queues them within "
            f"{runtime.settings.redis_check_seconds:g} s of the broker being back (its "
            f"sweeper within {runtime.settings.stale_after_seconds} s at the latest); "
            "nothing needs to be sent again [broker-unreachable]",
            markup=False,
        )
        return FAILED
    return BAD_INPUT if refused else OK


def _safe_url(url: str) -> str:
    """A broker URL without its password."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)


def cmd_worker(args: argparse.Namespace) -> int:
    import logging
    import subprocess

    from letters.config import get_settings
    from letters.pipeline.supervisor import LOG_FORMAT, Supervisor, child_command, quiet_libraries

    if args.processes < 1 or args.threads < 1:
        err.print("--processes and --threads must be at least 1", markup=False)
        return BAD_INPUT
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    quiet_libraries()
    # the ledger migrated once, before the processes start, in a process of its own
    prepared = subprocess.run([sys.executable, "-m", "letters.pipeline.prepare"], check=False)
    if prepared.returncode:
        return FAILED
    os.environ["LETTERS_BROKER"] = "redis"
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # one metrics view for all processes
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="letters-metrics-")
    from prometheus_client import multiprocess

    from letters.metrics import serve_worker_metrics

    serve_worker_metrics(get_settings().metrics_port)  # up while a child restarts
    supervisor = Supervisor(
        child_command(args.threads, args.stop_timeout),
        args.processes,
        stop_timeout=args.stop_timeout,
        on_death=multiprocess.mark_process_dead,
    )
    return supervisor.run()


def cmd_serve(args: argparse.Namespace) -> int:
    import socket

    import uvicorn
    from dramatiq.brokers.stub import StubBroker

    from letters.http import create_app
    from letters.pipeline import broker as brokers
    from letters.pipeline.runtime import get_runtime

    try:  # a clear word now rather than uvicorn's log line after the start-up
        with socket.create_server((args.host, args.port)):
            pass
    except OSError as exc:
        why = os.strerror(exc.errno) if exc.errno else str(exc)
        err.print(f"cannot listen on {args.host}:{args.port}: {why}", markup=False)
        return BAD_INPUT
    broker = brokers.current()
    runtime = get_runtime()  # migrate before serving
    carried = (
        "the in-memory broker (LETTERS_BROKER=stub: jobs taken are queued in this process "
        "only, and no worker sees them)"
        if isinstance(broker, StubBroker)
        else _safe_url(runtime.settings.redis_url)
    )
    out.print(
        f"letters serve on http://{args.host}:{args.port}: ledger "
        f"{ledger_name(runtime.settings.database_url)}, broker {carried}; the OpenAPI "
        "document at /openapi.json",
        markup=False,
    )
    alive = brokers.workers_alive(broker)
    if alive == 0:
        err.print(
            "no worker is running on this broker: jobs taken in wait as `accepted` until "
            "`letters worker` runs (they are kept in the ledger meanwhile)",
            markup=False,
        )
    elif alive is not None:
        out.print(f"{counted(alive, 'worker process', 'worker processes')} on this broker")
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
    return OK


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="run the whole pipeline in this process (no services)")
    p.add_argument(
        "source",
        type=Path,
        help="JOBS.jsonl or JOBS.csv, a folder of *.json jobs, or one .json job",
    )
    p.add_argument(
        "--keep-batch-open",
        action="store_true",
        help="leave the print batch open (default: close it at the end)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="a row for every job, however many (default: a summary beyond 30)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="machine-readable output (JSON) on stdout; warnings and progress on stderr",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("enqueue", help="hand a JSONL or CSV file of jobs to the workers (Redis)")
    p.add_argument("file", type=Path, help="a .jsonl file (one job per line) or a .csv file")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_enqueue)
    p = sub.add_parser("worker", help="run worker processes on Redis, restarting any that dies")
    p.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: one per CPU core)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads per process (default 2: one letter's ledger and broker waits overlap "
        "another's rendering; more adds little, rendering is CPU-bound)",
    )
    p.add_argument(
        "--stop-timeout",
        type=float,
        default=60.0,
        help="seconds a process may take to finish its message on SIGTERM (default 60)",
    )
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser(
        "status", help="a job's whole history; without a job id, an overview with print batches"
    )
    p.add_argument("job_id", nargs="?", help="the job (default: an overview of all)")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("serve", help="the HTTP service for upstream systems")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    p.add_argument("--port", type=port, default=8000, help="the port to listen on")
    p.set_defaults(func=cmd_serve)
