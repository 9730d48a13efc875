"""``letters batch close|list``: close the open print batch (or a named one) into the print
folder and hand it off to the vendor, or list the batches."""

from __future__ import annotations

import argparse
import json
from typing import Any

from letters.cli.console import BAD_INPUT, FAILED, OK, err, out, progress
from letters.cli.status import overview
from letters.wording import counted


def cmd_batch(args: argparse.Namespace) -> int:
    from channels.printing.batch import BatchCloser, BatchError
    from letters.pipeline.runtime import Runtime

    if args.action == "list":  # reads the ledger only: no runtime to build
        return overview(as_json=args.json, batches_only=True)
    rt = Runtime.from_settings()
    closer = BatchCloser(rt.settings, rt.ledger, rt.archive)
    try:
        with progress() as bar:
            tasks: dict[str, Any] = {}

            def advance(batch: str, done: int, total: int) -> None:
                if batch not in tasks:
                    tasks[batch] = bar.add_task(batch, total=total)
                bar.update(tasks[batch], completed=done)

            closer.on_progress = advance
            closed = closer.close(args.batch)
    except BatchError as exc:
        err.print(str(exc), markup=False)
        return BAD_INPUT
    for problem in closer.unfinished:
        err.print(problem, markup=False)
    if args.json:
        receipts = closer.hand_off()
        report = {
            "closed": [
                {
                    "batch": b.id,
                    "letters": b.letters,
                    "pages": b.pages,
                    "sheets": b.sheets,
                    "files": [f.name for f in b.files],
                    "folder": str(b.folder),
                    "adopted": b.adopted,
                }
                for b in closed
            ],
            "handed_off": [r for r in receipts if "error" not in r],
            "not_handed_off": [r for r in receipts if "error" in r],
            "cannot_be_finished": closer.unfinished,
        }
        out.print_json(json.dumps(report, ensure_ascii=False, default=str))
        if closer.unfinished:
            return BAD_INPUT
        return FAILED if report["not_handed_off"] else OK
    if not closed and not closer.unfinished:
        out.print(
            f"print batch {args.batch} is closed already: nothing to close"
            if args.batch
            else "no open print batch: nothing to close",
            markup=False,
        )
    for b in closed:
        how = "was already written; recorded as closed" if b.adopted else "closed"
        out.print(
            f"print batch {b.id} {how}: {counted(b.letters, 'letter')}, "
            f"{counted(b.pages, 'printed side')} on {counted(b.sheets, 'sheet')} in "
            f"{counted(len(b.files), 'file')} → {b.folder}",
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
    return BAD_INPUT if closer.unfinished else status


def register(sub: Any) -> None:
    p = sub.add_parser("batch", help="print batches: close the open one, or list them")
    p.add_argument(
        "action", choices=["close", "list"], help="close the open batch, or list the batches"
    )
    p.add_argument("--batch", help="close this batch (default: the open one)")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_batch)
