"""Commands for operators: ``run``, ``worker``, ``enqueue``, ``serve`` and ``status``
(print batches are in :mod:`letters.cli.batch`, an operator's decisions on a case or a
letter in :mod:`letters.cli.cases`)."""

from __future__ import annotations

import argparse
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


def cmd_enqueue(args: argparse.Namespace) -> int:
    from letters.job import FieldError, JobRejected
    from letters.ledger import JobConflict
    from letters.pipeline import broker as brokers
    from letters.pipeline.enqueue import read
    from letters.pipeline.runtime import get_runtime

    if not args.file.is_file():
        cannot_read(args.file)
        return BAD_INPUT
    if args.file.suffix.lower() == ".json":  # one job, likely over many lines
        err.print(
            f"{args.file}: a .json file holds one job; enqueue takes a .jsonl file (one job "
            "a line) or a .csv file (`letters run` takes a .json job or a folder of them) "
            f"[{Code.BAD_FILE_LINE}]",
            markup=False,
        )
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
    import subprocess

    from letters.config import get_settings
    from letters.pipeline.supervisor import Supervisor, child_command, configure_logging

    if args.processes < 1 or args.threads < 1:
        err.print("--processes and --threads must be at least 1", markup=False)
        return BAD_INPUT
    configure_logging()
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
    p = sub.add_parser("serve", help="the HTTP service for upstream systems")
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    p.add_argument("--port", type=port, default=8000, help="the port to listen on")
    p.set_defaults(func=cmd_serve)
