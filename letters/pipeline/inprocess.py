"""``letters run``: the whole pipeline in one process, with no services to start.

Dramatiq's in-memory broker and an in-process worker carry the same actors that
``letters worker`` runs over Redis; the ledger is an SQLite file. Letters go through the
configured channels (Digipost, e-mail) or join the print batch, which is closed at the end
(``--keep-batch-open`` leaves it open for a later ``letters batch close``). Input is a
JSONL file (one job per line), a CSV file (as ``letters enqueue`` reads it), a folder of
``*.json`` jobs, or one ``.json`` file.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from letters import documents
from letters.clock import today_oslo
from letters.codes import Code
from letters.config import Settings
from letters.job import FieldError, JobRejected
from letters.ledger import JobConflict, JobStatus
from letters.wording import counted, ledger_name
from letters.workbench import approval

DONE = frozenset({JobStatus.DELIVERED, JobStatus.FAILED, JobStatus.HELD, JobStatus.UNCERTAIN})


@dataclass
class Entry:
    where: str  # "file.jsonl:12" or "folder/job.json"
    job_id: str | None = None
    letter_id: str | None = None
    errors: list[FieldError] = field(default_factory=list)


def read_jobs(source: Path) -> Iterator[tuple[str, Any]]:
    """(where, parsed JSON or a JobRejected describing why it could not be read)."""

    def decode(where: str, raw: bytes, field: str) -> tuple[str, Any]:
        try:
            return where, documents.job_document(documents.loads(raw, field), field)
        except JobRejected as exc:
            return where, exc

    if source.is_dir():
        for path in sorted(source.glob("*.json")):
            yield decode(str(path), path.read_bytes(), "(file)")
    elif source.suffix == ".json":
        yield decode(str(source), source.read_bytes(), "(file)")
    else:  # JSONL or CSV, read as `letters enqueue` reads them
        from letters.pipeline.enqueue import read

        for number, data in read(source):
            yield f"{source}:{number}", data


#: More jobs than this and ``letters run`` shows a summary instead of a row each.
ROWS_SHOWN = 30


def run(
    source: Path,
    settings: Settings,
    console: Console,
    close_batch: bool = True,
    verbose: bool = False,
    as_json: bool = False,
) -> int:
    """Run every job of ``source`` and report on ``console`` (with ``as_json``, the report
    is one JSON document on stdout and ``console``, then stderr, has only the warnings and
    the progress)."""
    from dramatiq import Worker
    from dramatiq.brokers.stub import StubBroker

    from letters.pipeline import broker as brokers
    from letters.pipeline.runtime import Runtime, set_runtime

    broker = brokers.configure("stub")
    assert isinstance(broker, StubBroker)
    runtime = Runtime.from_settings(settings)
    set_runtime(runtime)
    from letters.pipeline.intake import submit  # actors bind to the stub broker here

    for table in approval.table_status(
        runtime.ledger, today_oslo(settings), settings.rehearsal_rules
    ):
        if table.unconfirmed:
            console.print(
                f"[bold red]warning:[/] rule table {table.name} has values marked unconfirmed "
                f"(in force from {', '.join(d.isoformat() for d in table.unconfirmed)}): letters "
                "that state or rely on them are refused until compliance confirms them; see "
                "`letters rules list` \\[rule-unconfirmed]"
            )
        if table.running_out:
            console.print(
                f"[bold red]warning:[/] rule table {table.name} is known only until "
                f"{table.known_until.isoformat()} ({table.days_left} days left): letters that "
                "need it are refused after that; see `letters rules list` \\[table-runs-out]"
            )

    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    entries: list[Entry] = []
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            intake = progress.add_task("accepting", total=None)
            for where, data in read_jobs(source):
                entry = Entry(where)
                entries.append(entry)
                if isinstance(data, JobRejected):
                    entry.errors = data.errors
                else:
                    try:
                        entry.letter_id = submit(data, runtime)
                        entry.job_id = data["id"]
                    except JobRejected as exc:
                        entry.errors = exc.errors
                    except JobConflict as exc:
                        entry.errors = [
                            FieldError(field="id", code=Code.JOB_CONFLICT, reason=str(exc))
                        ]
                progress.advance(intake)
            progress.update(intake, total=len(entries))
            ids = [e.job_id for e in entries if e.job_id]
            letters = progress.add_task("letters", total=len(ids))
            idle_polls = 0
            while True:
                statuses = runtime.ledger.statuses(ids)
                progress.update(letters, completed=sum(s in DONE for s in statuses.values()))
                if all(s in DONE for s in statuses.values()):
                    break
                # A stage sends the next message before it acknowledges its own, so an empty
                # queue seen twice in a row means nothing is left to do (e.g. all skipped).
                pending = sum(
                    broker.queues[name].unfinished_tasks
                    for name in brokers.all_queue_names()
                    if name in broker.queues
                )
                idle_polls = idle_polls + 1 if pending == 0 else 0
                if idle_polls >= 2:
                    break
                time.sleep(0.1)
    finally:
        worker.stop()
    results = _results(entries, runtime)
    totals = _totals(results)
    if not as_json:
        _summary(results, totals, runtime, console, verbose)
    batches = _close_print_batch(runtime, None if as_json else console) if close_batch else []
    if as_json:
        report = {
            **totals,
            "ledger": ledger_name(runtime.settings.database_url),
            "letters": results,
            "print_batches": batches,
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
    return 2 if totals["refused"] else 1 if totals["failed"] else 0


def _close_print_batch(runtime: Any, console: Console | None) -> list[dict[str, Any]]:
    """Close the open print batch and hand it off; what became of each batch (told on
    ``console`` unless it is None: ``--json`` reports them instead)."""
    from channels.printing.batch import BatchCloser

    closer = BatchCloser(runtime.settings, runtime.ledger, runtime.archive)
    batches: dict[str, dict[str, Any]] = {}
    for b in closer.close():
        batches[b.id] = {
            "batch": b.id,
            "letters": b.letters,
            "printed_sides": b.pages,
            "sheets": b.sheets,
            "files": len(b.files),
            "folder": str(b.folder),
            "handed_off": None,
            "error": None,
        }
        if console is not None:
            console.print(
                f"Print batch [bold]{b.id}[/] closed: {counted(b.letters, 'letter')}, "
                f"{counted(b.pages, 'printed side')} on {counted(b.sheets, 'sheet')} in "
                f"{counted(len(b.files), 'file')} → {escape(str(b.folder))}"
            )
    for receipt in closer.hand_off():
        told = batches.setdefault(receipt["batch"], {"batch": receipt["batch"]})
        told["handed_off"] = None if "error" in receipt else str(receipt["target"])
        told["error"] = receipt.get("error")
        if console is None:
            continue
        if "error" in receipt:
            console.print(
                f"[bold red]Print batch {receipt['batch']} NOT handed off[/]: "
                f"{escape(receipt['error'])} (`letters batch close` tries again)"
            )
        else:
            console.print(
                f"Print batch {receipt['batch']} handed off: {escape(str(receipt['target']))}"
            )
    return list(batches.values())


def _results(entries: list[Entry], runtime: Any) -> list[dict[str, Any]]:
    """What became of each job read, in the order read: plain values, stable codes."""
    results: list[dict[str, Any]] = []
    for entry in entries:
        if entry.errors:
            errors = [e.model_dump(mode="json") for e in entry.errors]
            results.append({"where": entry.where, "status": "refused", "errors": errors})
            continue
        assert entry.job_id is not None
        history = runtime.ledger.history(entry.job_id)  # the job, its letter and attempts
        assert history is not None  # accepted above: the ledger has it
        job, letter, attempts = history.job, history.letter, history.attempts
        last = attempts[-1] if attempts and attempts[-1].status == "delivered" else None
        results.append(
            {
                "where": entry.where,
                "job": entry.job_id,
                "kind": job.kind,
                "status": str(job.status),
                "pages": letter.pages if letter else None,
                "channel": last.channel if last else None,
                # the Digipost or e-mail message id, or the print batch
                "delivered_as": last.external_id if last else None,
                "error_code": job.error_code,
                "error": job.error,
                "hold_reason": runtime.ledger.hold_reason(job.reference)
                if job.status == JobStatus.HELD
                else None,
            }
        )
    return results


def _summary(
    results: list[dict[str, Any]],
    totals: dict[str, int],
    runtime: Any,
    console: Console,
    verbose: bool,
) -> None:
    rows: list[tuple[str, str, str, str, str, str]] = []  # ..., and the row's group
    for r in results:
        if r["status"] == "refused":
            continue
        where = group = ""
        if r["status"] == JobStatus.FAILED:
            where, group = r["error"] or "", f"failed: {r['error_code'] or 'no code'}"
        elif r["status"] == JobStatus.UNCERTAIN:  # `letters status JOB` says what to do
            where = f"{r['error']} ({r['error_code']}; see letters status {r['job']})"
            group = "uncertain"
        elif r["status"] == JobStatus.HELD:
            where, group = "held: " + (r["hold_reason"] or ""), "held"
        elif r["channel"] is not None:
            where = (
                f"print batch {r['delivered_as']}"
                if r["channel"] == "print"
                else f"{r['channel']} {r['delivered_as']}"
            )
            group = where if r["channel"] == "print" else r["channel"]
        pages = "" if r["pages"] is None else str(r["pages"])
        rows.append((r["job"], r["kind"], r["status"], pages, where, group))
    if verbose or len(rows) <= ROWS_SHOWN:
        table = Table(title="Letters")
        for heading in ("job", "kind", "status", "pages"):
            table.add_column(heading, no_wrap=True)
        table.add_column("where / why", overflow="fold")
        for row in rows:
            table.add_row(*row[:5])
    else:  # more than a screenful: how many went where; each one that needs a look named
        table = Table(title=f"Letters: {len(rows)} (a summary; --verbose lists each)")
        for heading in ("kind", "status", "where", "letters"):
            table.add_column(heading, no_wrap=heading != "where", overflow="fold")
        groups = Counter((kind, status, group) for _, kind, status, _, _, group in rows)
        for (kind, status, group), n in sorted(groups.items()):
            table.add_row(kind, status, group, str(n))
    if rows:  # none when every job was refused: the refusals below say it
        console.print(table)
    if not verbose and len(rows) > ROWS_SHOWN:
        for job_id, _, status, _, where, _ in rows:
            if status in (JobStatus.FAILED, JobStatus.UNCERTAIN, JobStatus.HELD):
                console.print(f"[bold]{escape(job_id)}[/] {status}: {escape(where)}")
    for r in results:
        if r["status"] == "refused":
            console.print(f"[bold red]{escape(r['where'])}[/]: refused")
            for error in r["errors"]:
                console.print(
                    f"  {error['field']}: {error['reason']} [{error['code']}]", markup=False
                )
    console.print(
        f"{totals['handled']} accepted and handled, {totals['refused']} refused, "
        f"{totals['failed']} failed. Ledger: {ledger_name(runtime.settings.database_url)}. "
        "See one job's history with `letters status JOB_ID`."
    )


def _totals(results: list[dict[str, Any]]) -> dict[str, int]:
    refused = sum(r["status"] == "refused" for r in results)
    failed = sum(r["status"] == JobStatus.FAILED for r in results)
    return {"handled": len(results) - refused - failed, "refused": refused, "failed": failed}
