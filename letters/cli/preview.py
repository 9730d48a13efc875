"""Commands that make or check letters without sending anything: ``render``, ``check``,
``schema`` and ``codes`` (for compliance and upstream teams)."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from letters.cli.console import BAD_INPUT, FAILED, OK, cannot_read, counted, err, out
from letters.codes import Code


@dataclass
class Outcome:
    source: Path
    status: int
    row: tuple[str, ...] | None = None
    #: what to tell the user about this job, in order: (text, with rich markup)
    said: list[tuple[str, bool]] = field(default_factory=list)
    #: the pipeline would refuse it today (its letter date): the preview says so
    dated: bool = False
    #: the same for ``--json``: plain values, stable codes
    record: dict[str, Any] = field(default_factory=dict)


def _read_job(path: Path) -> Any:
    from letters.job import JobRejected

    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise JobRejected.one("(file)", Code.FILE_UNREADABLE, exc.strerror or str(exc)) from None
    except UnicodeDecodeError:
        raise JobRejected.one("(file)", Code.NOT_UTF8, "not UTF-8 text") from None
    from letters import documents

    return documents.loads(text, "(file)")  # as the HTTP service and `letters run` read it


def _safe_name(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", stem).lstrip(".") or "letter"


#: The working copies read so far by this process (a folder of previews reads each template
#: once, as it was when the command began): (kind, language) → template.
_TEMPLATES: dict[Any, Any] = {}


def _render_one(source: Path, target: Path) -> Outcome:
    """One preview, written to ``target``; what to say of it is in the outcome (a folder
    rendered in several processes is reported in the order of its files)."""
    from rich.markup import escape

    from letters.clock import today_oslo
    from letters.fsutil import atomic_write, private_dirs
    from letters.job import JobRejected
    from letters.produce import produce  # heavy imports only when rendering
    from letters.renderers import RenderError
    from letters.rules.calendar import letter_date_problem

    name = escape(str(source))
    try:
        data = _read_job(source)
        key = (data.get("kind"), data.get("language")) if isinstance(data, dict) else None
        produced = produce(data, template=_TEMPLATES.get(key))
        _TEMPLATES.setdefault((produced.job.kind, produced.job.language), produced.template)
    except JobRejected as exc:
        said = [(f"[bold red]{name}[/]: refused", True)]
        said += [(f"  {e}", False) for e in exc.errors]
        errors = [e.model_dump(mode="json") for e in exc.errors]
        record = {"file": str(source), "outcome": "refused", "errors": errors}
        return Outcome(source, BAD_INPUT, said=said, record=record)
    except RenderError as exc:
        text = f"[bold red]{name}[/]: could not be rendered: {escape(str(exc))}"
        error = {"code": str(exc.code), "reason": str(exc)}
        record = {"file": str(source), "outcome": "failed", "errors": [error]}
        return Outcome(source, FAILED, said=[(text, True)], record=record)
    except Exception as exc:  # one broken job must not stop a folder of others
        text = (
            f"[bold red]{name}[/]: internal error {type(exc).__name__}: "
            f"{escape(str(exc))} (please report it with the job file) [{Code.RENDER_DEFECT}]"
        )
        error = {"code": str(Code.RENDER_DEFECT), "reason": f"{type(exc).__name__}: {exc}"}
        record = {"file": str(source), "outcome": "failed", "errors": [error]}
        return Outcome(source, FAILED, said=[(text, True)], record=record)
    private_dirs(target.parent)  # 0700, as every folder the product makes
    atomic_write(target, produced.rendered.pdf)  # 0600: the letter carries its password
    letter = produced.composed.letter
    outcome = Outcome(source, OK)
    if not produced.safety.ok:
        outcome.status = FAILED
        outcome.said.append(
            (f"[bold red]{name}[/]: print-safety check failed ({escape(str(target))})", True)
        )
        outcome.said += [(f"  {failure}", False) for failure in produced.safety.failures]
    problem = letter_date_problem(letter.letter_date, today_oslo())
    if problem is not None:  # a preview shows it; the pipeline would refuse the job today
        outcome.dated = True
        outcome.said.append(
            (f"[yellow]{name}[/]: a preview only: the pipeline refuses this job today", True)
        )
        outcome.said.append((f"  {problem}", False))
    outcome.record = {
        "file": str(source),
        "outcome": "rendered" if produced.safety.ok else "failed",
        "job": produced.job.id,
        "kind": letter.kind,
        "language": letter.language,
        "pages": produced.safety.pages,
        "kid": letter.kid,
        "due_date": letter.due_date.isoformat(),
        "letter_date": letter.letter_date.isoformat(),
        "pdf": str(target),
        "findings": [
            {"code": str(f.code), "message": f.message, "page": f.page}
            for f in produced.safety.findings
        ],
        # the pipeline would refuse it today: a preview only
        "refused_today": {"code": str(problem.code), "reason": problem.reason} if problem else None,
    }
    check = "ok" if produced.safety.ok else "FAILED"
    outcome.row = (
        produced.job.id,
        letter.kind,
        letter.language,
        str(produced.safety.pages),
        letter.kid,
        letter.due_date.isoformat(),
        f"{check}, {problem.code}" if problem else check,
    )
    return outcome


def _rehearsal_rules() -> None:
    """In a rehearsal (``LETTERS_REHEARSAL_RULES``), previews use its tables as the
    pipeline does; otherwise the shipped ones."""
    from letters import rules
    from letters.config import get_settings
    from letters.rules import tables

    folder = get_settings().rehearsal_rules
    if folder is not None:
        rules.use(tables.rehearsal(folder))


#: More letters than this and the table is a summary (``--verbose`` for a row each).
ROWS_SHOWN = 30
#: A folder of at least this many jobs is rendered in several processes (``--jobs``).
PARALLEL_FROM = 16


def _render_all(pairs: list[tuple[Path, Path]], processes: int) -> list[Outcome]:
    """Each (job file, PDF) rendered, in order; in ``processes`` forked processes (they
    share what this one imported) when there are enough jobs to be worth it."""
    import multiprocessing

    processes = min(processes, len(pairs) // (PARALLEL_FROM // 2) or 1)
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [_render_one(j, t) for j, t in pairs]
    from concurrent.futures import ProcessPoolExecutor

    import letters.produce  # noqa: F401  (imported once, here, before the fork)

    context = multiprocessing.get_context("fork")
    chunk = max(1, min(16, len(pairs) // (processes * 4)))
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        sources, targets = zip(*pairs, strict=True)
        done = list(pool.map(_render_one, sources, targets, chunksize=chunk))
    return done


def cmd_render(args: argparse.Namespace) -> int:
    import os

    from rich.table import Table

    source: Path = args.source
    if source.is_dir():
        jobs = sorted(source.glob("*.json"))
        if not jobs:
            err.print(f"{source}: no *.json job files", markup=False)
            return BAD_INPUT
        target_dir: Path = args.output or Path("out")
        if target_dir.suffix.lower() == ".pdf" or target_dir.is_file():
            err.print(
                f"-o {target_dir}: a folder of jobs makes one PDF each; give -o a folder, "
                "not a file",
                markup=False,
            )
            return BAD_INPUT
        targets = [target_dir / f"{_safe_name(j.stem)}.pdf" for j in jobs]
    elif source.is_file():
        target = args.output or Path("out") / f"{_safe_name(source.stem)}.pdf"
        if target.is_dir() or (args.output is not None and target.suffix.lower() != ".pdf"):
            target = target / f"{_safe_name(source.stem)}.pdf"
        jobs, targets = [source], [target]
    else:
        cannot_read(source, folder_too=True)
        return BAD_INPUT
    _rehearsal_rules()
    processes = args.jobs or os.cpu_count() or 1
    outcomes = _render_all(list(zip(jobs, targets, strict=True)), processes)
    refused = sum(o.status == BAD_INPUT for o in outcomes)
    failed = sum(o.status == FAILED for o in outcomes)
    status = BAD_INPUT if refused else FAILED if failed else OK
    if args.json:
        report = {
            "rendered": len(outcomes) - refused - failed,
            "refused": refused,
            "failed": failed,
            "letters": [o.record for o in outcomes],
        }
        out.print_json(json.dumps(report, ensure_ascii=False))
        return status
    for outcome in outcomes:
        for text, markup in outcome.said:
            err.print(text, markup=markup)
    rows = [o.row for o in outcomes if o.row]
    if args.verbose or len(rows) <= ROWS_SHOWN:
        table = Table(title="Rendered letters (previews: nothing was stored or sent)")
        for heading in ("job", "kind", "lang", "pages", "KID", "due", "check"):
            table.add_column(heading, no_wrap=True)
        for row in rows:
            table.add_row(*row)
    else:  # more than a screenful: how many of each
        from collections import Counter

        table = Table(title=f"Rendered letters: {len(rows)} (a summary; --verbose lists each)")
        for heading in ("kind", "lang", "pages", "check", "letters"):
            table.add_column(heading, no_wrap=True)
        groups = Counter((r[1], r[2], r[3], r[6]) for r in rows)
        for group, n in sorted(groups.items()):
            table.add_row(*group, str(n))
    if table.row_count:
        out.print(table)
    written = sorted({str(target.parent) for target in targets if target.exists()})
    out.print(f"{len(outcomes) - refused - failed} rendered, {refused} refused, {failed} failed")
    dated = sum(o.dated for o in outcomes)
    if dated:
        out.print(
            f"{dated} {'preview carries' if dated == 1 else 'previews carry'} a letter date "
            "the pipeline refuses today (see above): a preview only, nothing to send",
            markup=False,
        )
    if len(targets) == 1 and targets[0].exists():
        out.print(f"PDF: {targets[0]}", markup=False)
    elif written:
        out.print(f"PDFs in {', '.join(written)}", markup=False)
    return status


def cmd_schema(_: argparse.Namespace) -> int:
    from letters.job import json_schema

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
    from letters.renderers.safety import check

    try:
        data = args.pdf.read_bytes()
    except OSError as exc:
        cannot_read(args.pdf, exc)
        return BAD_INPUT
    report = check(data)
    if args.json:
        findings = [
            {"code": str(f.code), "message": f.message, "page": f.page} for f in report.findings
        ]
        unreadable = any(f.code is Code.PDF_UNREADABLE for f in report.findings)
        out.print_json(
            json.dumps(
                {
                    "file": str(args.pdf),
                    "pages": report.pages,
                    "ok": report.ok,
                    "findings": findings,
                },
                ensure_ascii=False,
            )
        )
        return BAD_INPUT if unreadable else OK if report.ok else FAILED
    if any(f.code is Code.PDF_UNREADABLE for f in report.findings):  # not a PDF at all
        err.print(f"{args.pdf}: {report.findings[0]} [{report.findings[0].code}]", markup=False)
        return BAD_INPUT
    for finding in report.findings:
        out.print(f"{args.pdf}: {finding} [{finding.code}]", markup=False)
    out.print(
        f"{args.pdf}: {counted(report.pages, 'page')}, " + ("ok" if report.ok else "FAILED"),
        markup=False,
    )
    return OK if report.ok else FAILED


def processes(value: str) -> int:
    """An argparse ``type`` for ``--jobs``: a count of processes, 0 for one per core.

    >>> processes("2")
    2
    >>> processes("-3")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be a number of processes (0: one per CPU core)
    """
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError("must be a number of processes (0: one per CPU core)")
    return number


def register(sub: Any) -> None:
    p = sub.add_parser("render", help="render job files to PDF previews (nothing is stored)")
    p.add_argument("source", type=Path, help="a job .json file, or a folder of them")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where the PDFs go: for one job a .pdf file or a folder, for a folder of jobs a "
        "folder (default: out/)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=processes,
        metavar="N",
        default=0,
        help=f"render a folder of {PARALLEL_FROM} or more jobs in N processes (default: one "
        "per CPU core)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help=f"a row for every letter, however many (default: a summary beyond {ROWS_SHOWN})",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_render)
    p = sub.add_parser("check", help="run the print-safety check on a PDF")
    p.add_argument("pdf", type=Path, help="the PDF to check")
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("schema", help="print the job contract's JSON Schema")
    p.set_defaults(func=cmd_schema)
    p = sub.add_parser(
        "codes", help="list the stable codes of every refusal, finding and channel error"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    p.set_defaults(func=cmd_codes)
