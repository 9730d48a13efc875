"""The ``letters`` command.

    letters schema                      print the job contract's JSON Schema
    letters render JOB.json -o OUT.pdf  render one letter as a preview (nothing is stored)
    letters render DIR -o OUTDIR        render every *.json job in DIR
    letters check LETTER.pdf            run the print-safety check on a PDF

Exit status: 0 all well; 1 a letter failed the print-safety check or could not be
rendered; 2 bad input (a job refused, a file unreadable), with one message per field.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from letters.codes import Code
from letters.job import FieldError, JobRejected, json_schema
from letters.renderers import RenderError
from letters.renderers.safety import check

if TYPE_CHECKING:
    from letters.ledger import Ledger

OK, FAILED, BAD_INPUT = 0, 1, 2

# Piped output (make, CI, logs) gets a width that fits the summary table.
out = Console(
    highlight=False, soft_wrap=True, emoji=False, width=None if sys.stdout.isatty() else 120
)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


@dataclass
class Outcome:
    source: Path
    status: int
    row: tuple[str, ...] | None = None


def _read_job(path: Path) -> Any:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise JobRejected.one("(file)", Code.FILE_UNREADABLE, exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise JobRejected.one("(file)", Code.NOT_UTF8, "not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise JobRejected.one("(file)", Code.NOT_JSON, reason) from None


def _safe_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip(".") or "letter"


def _render_one(source: Path, target: Path) -> Outcome:
    from letters.produce import produce  # heavy imports only when rendering

    try:
        produced = produce(_read_job(source))
    except JobRejected as exc:
        err.print(f"[bold red]{escape(str(source))}[/]: refused")
        for e in exc.errors:
            err.print(f"  {e}", markup=False)
        return Outcome(source, BAD_INPUT)
    except RenderError as exc:
        err.print(f"[bold red]{escape(str(source))}[/]: could not be rendered: {escape(str(exc))}")
        return Outcome(source, FAILED)
    except Exception as exc:  # one broken job must not stop a folder of others
        err.print(
            f"[bold red]{escape(str(source))}[/]: internal error {type(exc).__name__}: "
            f"{escape(str(exc))} (please report it with the job file)"
        )
        return Outcome(source, FAILED)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(produced.rendered.pdf)
    letter = produced.composed.letter
    status = OK
    if not produced.safety.ok:
        status = FAILED
        err.print(
            f"[bold red]{escape(str(source))}[/]: print-safety check failed ({escape(str(target))})"
        )
        for failure in produced.safety.failures:
            err.print(f"  {failure}", markup=False)
    row = (
        source.stem,
        letter.kind,
        letter.language,
        str(produced.safety.pages),
        letter.kid,
        letter.due_date.isoformat(),
        "ok" if produced.safety.ok else "FAILED",
    )
    return Outcome(source, status, row)


def cmd_render(args: argparse.Namespace) -> int:
    source: Path = args.source
    if source.is_dir():
        jobs = sorted(source.glob("*.json"))
        if not jobs:
            err.print(f"{source}: no *.json job files", markup=False)
            return BAD_INPUT
        target_dir: Path = args.output or Path("out")
        targets = [target_dir / f"{_safe_name(j.stem)}.pdf" for j in jobs]
    elif source.is_file():
        target = args.output or Path(f"{_safe_name(source.stem)}.pdf")
        if target.is_dir():
            target = target / f"{_safe_name(source.stem)}.pdf"
        jobs, targets = [source], [target]
    else:
        err.print(f"{source}: no such file or folder", markup=False)
        return BAD_INPUT
    outcomes = [_render_one(job, target) for job, target in zip(jobs, targets, strict=True)]
    table = Table(title="Rendered letters (previews: nothing was stored or sent)")
    for heading in ("job", "kind", "lang", "pages", "KID", "due", "check"):
        table.add_column(heading, no_wrap=True)
    for outcome in outcomes:
        if outcome.row:
            table.add_row(*outcome.row)
    if table.row_count:
        out.print(table)
    refused = sum(o.status == BAD_INPUT for o in outcomes)
    failed = sum(o.status == FAILED for o in outcomes)
    written = sorted({str(target.parent) for target in targets if target.exists()})
    out.print(f"{len(outcomes) - refused - failed} rendered, {refused} refused, {failed} failed")
    if written:
        out.print(f"PDFs in {', '.join(written)}")
    return BAD_INPUT if refused else FAILED if failed else OK


def cmd_schema(_: argparse.Namespace) -> int:
    out.print_json(json.dumps(json_schema()))
    return OK


def cmd_codes(args: argparse.Namespace) -> int:
    from letters import codes

    if args.json:
        listed = [{"code": str(c), "family": c.family, "meaning": c.meaning} for c in codes.Code]
        out.print_json(json.dumps(listed, ensure_ascii=False))
    else:
        print(codes.markdown(), end="")
    return OK


def cmd_check(args: argparse.Namespace) -> int:
    try:
        data = args.pdf.read_bytes()
    except OSError as exc:
        err.print(f"{args.pdf}: {exc.strerror}", markup=False)
        return BAD_INPUT
    report = check(data)
    if any(f.code is Code.PDF_UNREADABLE for f in report.findings):  # not a PDF at all
        err.print(f"{args.pdf}: {report.findings[0]} [{report.findings[0].code}]", markup=False)
        return BAD_INPUT
    for finding in report.findings:
        out.print(f"{args.pdf}: {finding} [{finding.code}]", markup=False)
    out.print(
        f"{args.pdf}: {report.pages} pages, " + ("ok" if report.ok else "FAILED"), markup=False
    )
    return OK if report.ok else FAILED


def cmd_run(args: argparse.Namespace) -> int:
    from letters.config import get_settings
    from letters.pipeline.inprocess import run

    if not args.source.exists():
        err.print(f"{args.source}: no such file or folder", markup=False)
        return BAD_INPUT
    return run(args.source, get_settings(), out, close_batch=not args.keep_batch_open)


def _ledger() -> Ledger:
    from letters.config import get_settings
    from letters.ledger import Ledger

    ledger = Ledger(get_settings().database_url)
    ledger.migrate()
    return ledger


def _overview(as_json: bool) -> int:
    view = _ledger().overview()
    if as_json:
        out.print_json(view.model_dump_json())
        return OK
    jobs = ", ".join(f"{n} {status}" for status, n in sorted(view.jobs.items())) or "none"
    out.print(f"jobs: {jobs}", markup=False)
    by_channel = view.delivered_by_channel
    delivered = ", ".join(f"{n} by {c}" for c, n in sorted(by_channel.items())) or "none"
    out.print(f"delivered: {delivered}", markup=False)
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
            b.closed_at.isoformat() if b.closed_at else "",
            b.folder or "",
        )
    out.print(table)
    out.print("One job's history: `letters status JOB_ID`.")
    return OK


def cmd_status(args: argparse.Namespace) -> int:
    if args.job_id is None:
        return _overview(args.json)
    history = _ledger().history(args.job_id)
    if history is None:
        err.print(f"no job {args.job_id!r} in the ledger", markup=False)
        return BAD_INPUT
    if args.json:
        out.print_json(history.model_dump_json())
        return OK
    job, letter = history.job, history.letter
    out.print(f"[bold]{job.id}[/]  {job.kind}  case {job.reference}  status [bold]{job.status}[/]")
    if job.error:
        code = f" {job.error_code}" if job.error_code else ""
        out.print(f"  error{code} ({job.error_class}): {job.error}", markup=False)
    if letter:
        out.print(
            f"  letter {letter.id}: {letter.template} v{letter.template_version} "
            f"(sha256 {letter.template_sha256[:12]}…) by {letter.renderer}, "
            f"{letter.pages} page(s), KID {letter.kid}, due {letter.due_date.isoformat()}, "
            f"password expires {letter.password_expires_at.isoformat()}"
        )
        out.print(f"  pdf sha256 {letter.pdf_sha256} at {letter.archive_path}")
    table = Table(title="History")
    for heading in ("at", "what", "detail"):
        table.add_column(heading, overflow="fold")
    rows = [(e.at, e.event, e.detail or "") for e in history.events]
    for a in history.attempts:
        detail = a.external_id or f"{a.error_code}: {a.error}"
        rows.append((a.at, f"{a.channel} {a.status}", detail))
    batch = history.print_batch
    if batch:
        rows.append((batch.joined_at, f"print batch {batch.id}", f"now {batch.status}"))
        if batch.closed_at:
            rows.append((batch.closed_at, "print batch closed", batch.folder or ""))
        if batch.handed_off_at:
            rows.append((batch.handed_off_at, "print batch handed off", batch.id))
    for h in history.holds:
        rows.append((h.placed_at, "hold placed", h.reason))
        if h.released_at:
            rows.append((h.released_at, "hold released", h.release_reason or ""))
    for at, what, detail in sorted(rows, key=lambda r: r[0]):
        table.add_row(at.isoformat(), what, detail)
    out.print(table)
    return OK


def cmd_batch(args: argparse.Namespace) -> int:
    from channels.printing.batch import BatchCloser, BatchError
    from letters.pipeline.runtime import Runtime

    rt = Runtime.from_settings()
    closer = BatchCloser(rt.settings, rt.ledger, rt.archive)
    if args.action == "list":
        return _overview(as_json=False)
    try:
        closed = closer.close(args.batch)
    except BatchError as exc:
        err.print(str(exc), markup=False)
        return BAD_INPUT
    if not closed:
        out.print("no open print batch: nothing to close")
    for b in closed:
        how = "was already written; recorded as closed" if b.adopted else "closed"
        out.print(
            f"print batch {b.id} {how}: {b.letters} letter(s), {b.pages} printed side(s) "
            f"on {b.sheets} sheet(s) in {len(b.files)} file(s) → {b.folder}",
            markup=False,
        )
    status = OK
    for receipt in closer.hand_off():
        if "error" in receipt:
            err.print(
                f"print batch {receipt['batch']} NOT handed off: {receipt['error']}",
                markup=False,
            )
            status = FAILED
        else:
            out.print(
                f"print batch {receipt['batch']} handed off: {receipt['target']}", markup=False
            )
    return status


def cmd_hold(args: argparse.Namespace) -> int:
    from letters.numbers import reference
    from letters.pipeline.intake import release

    if not reference.is_valid(args.reference):
        err.print(f"{args.reference!r} is not a valid case reference", markup=False)
        return BAD_INPUT
    if args.command == "hold":
        placed = _ledger().place_hold(args.reference, args.reason)
        out.print(
            f"case {reference.compact(args.reference)} held"
            if placed
            else "case was already held; the reason is recorded"
        )
        return OK
    from letters.pipeline import broker as brokers

    brokers.current()
    resumed = release(args.reference, args.reason)
    out.print(f"released; {len(resumed)} held job(s) continue")
    return OK


def cmd_enqueue(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from letters.ledger import JobConflict
    from letters.pipeline import broker as brokers
    from letters.pipeline.enqueue import read
    from letters.pipeline.runtime import get_runtime

    if not args.file.is_file():
        err.print(f"{args.file}: no such file", markup=False)
        return BAD_INPUT
    brokers.current()
    from letters.pipeline.intake import submit

    runtime = get_runtime()
    accepted, refused = 0, []
    with Progress(console=out, transient=True) as progress:
        task = progress.add_task("enqueueing", total=None)
        for line, data in read(args.file):
            try:
                if isinstance(data, JobRejected):
                    raise data
                submit(data, runtime)
                accepted += 1
            except JobRejected as exc:
                refused.append((line, exc.errors))
            except JobConflict as exc:
                refused.append(
                    (line, [FieldError(field="id", code=Code.JOB_CONFLICT, reason=str(exc))])
                )
            progress.advance(task)
    for line, errors in refused:
        for e in errors:
            err.print(f"{args.file}:{line}: {e}", markup=False)
    out.print(f"{accepted} accepted, {len(refused)} refused", markup=False)
    return BAD_INPUT if refused else OK


def cmd_worker(args: argparse.Namespace) -> int:
    import os

    from letters.pipeline.broker import QUEUES
    from letters.pipeline.runtime import Runtime

    Runtime.from_settings()  # migrate the ledger once, before the processes start
    os.environ["LETTERS_BROKER"] = "redis"
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # one metrics view for all processes
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="letters-metrics-")
    argv = [
        sys.executable,
        "-m",
        "dramatiq",
        "letters.pipeline.worker",
        "--processes",
        str(args.processes),
        "--threads",
        str(args.threads),
        "--queues",
        *QUEUES,
    ]
    os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with dramatiq's


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from letters.http import create_app
    from letters.pipeline import broker as brokers
    from letters.pipeline.runtime import get_runtime

    brokers.current()
    get_runtime()  # migrate before serving
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")
    return OK


def cmd_token(args: argparse.Namespace) -> int:
    from letters.ledger import create_token, revoke_token

    ledger = _ledger()
    if args.action == "create":
        scopes = {s.strip() for s in args.scopes.split(",") if s.strip()}
        try:
            token = create_token(ledger, args.name, scopes)
        except ValueError as exc:
            err.print(str(exc), markup=False)
            return BAD_INPUT
        except Exception:
            err.print(f"a token named {args.name!r} exists already", markup=False)
            return BAD_INPUT
        out.print(token, markup=False)
        err.print("shown once: only its SHA-256 is stored", markup=False)
        return OK
    if revoke_token(ledger, args.name):
        out.print(f"token {args.name!r} revoked", markup=False)
        return OK
    err.print(f"no live token named {args.name!r}", markup=False)
    return BAD_INPUT


def cmd_credentials(args: argparse.Namespace) -> int:
    import datetime as dt
    import getpass

    from letters.credentials import Verdict, login
    from letters.ledger import LedgerAttemptLog, LedgerCredentials

    password = args.password
    if password in (None, "-"):
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline()
    ledger = _ledger()
    verdict = login(
        LedgerCredentials(ledger),
        LedgerAttemptLog(ledger),
        args.reference,
        password.strip(),
        dt.datetime.now(dt.UTC),
    )
    out.print(str(verdict), markup=False)
    return OK if verdict is Verdict.VALID else FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="letters",
        description="Norwegian debt-collection letters: intake, rendering, delivery, evidence.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "codes", help="list the stable codes of every refusal, finding and channel error"
    )
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(func=cmd_codes)
    p = sub.add_parser("schema", help="print the job contract's JSON Schema")
    p.set_defaults(func=cmd_schema)
    p = sub.add_parser("render", help="render job files to PDF previews (nothing is stored)")
    p.add_argument("source", type=Path, help="a job .json file, or a folder of them")
    p.add_argument("-o", "--output", type=Path, help="output PDF (or folder; default out/)")
    p.set_defaults(func=cmd_render)
    p = sub.add_parser("run", help="run the whole pipeline in this process (no services)")
    p.add_argument("source", type=Path, help="JOBS.jsonl, a folder of *.json jobs, or one")
    p.add_argument(
        "--keep-batch-open",
        action="store_true",
        help="leave the print batch open (default: close it at the end)",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("enqueue", help="hand a JSONL or CSV file of jobs to the workers (Redis)")
    p.add_argument("file", type=Path)
    p.set_defaults(func=cmd_enqueue)
    p = sub.add_parser("worker", help="start Dramatiq worker processes on Redis")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    p.add_argument(
        "--threads", type=int, default=1, help="threads per process (rendering is CPU-bound)"
    )
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser(
        "status", help="a job's whole history; without a job id, an overview with print batches"
    )
    p.add_argument("job_id", nargs="?")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("batch", help="print batches: close the open one, or list them")
    p.add_argument("action", choices=["close", "list"])
    p.add_argument("--batch", help="close this batch (default: the open one)")
    p.set_defaults(func=cmd_batch)
    for name, text in (
        ("hold", "hold a case: none of its letters go out"),
        ("release", "release a case's holds; its letters continue"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("reference")
        p.add_argument("--reason", required=True, help="why (recorded in the ledger)")
        p.set_defaults(func=cmd_hold)
    p = sub.add_parser("serve", help="the HTTP service for upstream systems")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("token", help="create or revoke an HTTP API token")
    p.add_argument("action", choices=["create", "revoke"])
    p.add_argument("name")
    p.add_argument(
        "--scopes", default="submit,read", help="comma-separated: submit, read, hold, verify"
    )
    p.set_defaults(func=cmd_token)
    p = sub.add_parser("credentials", help="check a debtor's login")
    p.add_argument("action", choices=["verify"])
    p.add_argument("reference")
    p.add_argument(
        "password", nargs="?", help="the password; omit (or -) to type it or read it from stdin"
    )
    p.set_defaults(func=cmd_credentials)
    p = sub.add_parser("check", help="run the print-safety check on a PDF")
    p.add_argument("pdf", type=Path)
    p.set_defaults(func=cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pydantic import ValidationError

    from letters.config import get_settings

    args = build_parser().parse_args(argv)
    try:
        get_settings()
    except ValidationError as exc:
        for e in exc.errors(include_url=False, include_input=False):
            name = "LETTERS_" + "__".join(str(p) for p in e["loc"]).upper()
            err.print(f"configuration: {name}: {e['msg']}", markup=False)
        return BAD_INPUT
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
