"""Commands that make or check letters without sending anything: ``render``, ``check``,
``schema`` and ``codes`` (for compliance and upstream teams)."""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from letters.cli.console import BAD_INPUT, FAILED, OK, err, out
from letters.codes import Code


@dataclass
class Outcome:
    source: Path
    status: int
    row: tuple[str, ...] | None = None


def _read_job(path: Path) -> Any:
    from letters.job import JobRejected

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


def _render_one(source: Path, target: Path, templates: dict[Any, Any]) -> Outcome:
    """One preview; ``templates`` holds the working copies read so far by this command (a
    folder of previews reads each template once, as it was when the command began)."""
    from rich.markup import escape

    from letters.fsutil import atomic_write
    from letters.job import JobRejected
    from letters.produce import produce  # heavy imports only when rendering
    from letters.renderers import RenderError

    try:
        data = _read_job(source)
        key = (data.get("kind"), data.get("language")) if isinstance(data, dict) else None
        produced = produce(data, template=templates.get(key))
        templates.setdefault((produced.job.kind, produced.job.language), produced.template)
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
    atomic_write(target, produced.rendered.pdf)  # 0600: the letter carries its password
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


def _rehearsal_rules() -> None:
    """In a rehearsal (``LETTERS_REHEARSAL_RULES``), previews use its tables as the
    pipeline does; otherwise the shipped ones."""
    from letters import rules
    from letters.config import get_settings
    from letters.rules import tables

    folder = get_settings().rehearsal_rules
    if folder is not None:
        rules.use(tables.rehearsal(folder))


def cmd_render(args: argparse.Namespace) -> int:
    from rich.table import Table

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
    _rehearsal_rules()
    templates: dict[Any, Any] = {}  # (kind, language) → the working copy read
    outcomes = [_render_one(j, t, templates) for j, t in zip(jobs, targets, strict=True)]
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


def register(sub: Any) -> None:
    p = sub.add_parser("render", help="render job files to PDF previews (nothing is stored)")
    p.add_argument("source", type=Path, help="a job .json file, or a folder of them")
    p.add_argument("-o", "--output", type=Path, help="output PDF (or folder; default out/)")
    p.set_defaults(func=cmd_render)
    p = sub.add_parser("check", help="run the print-safety check on a PDF")
    p.add_argument("pdf", type=Path)
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("schema", help="print the job contract's JSON Schema")
    p.set_defaults(func=cmd_schema)
    p = sub.add_parser(
        "codes", help="list the stable codes of every refusal, finding and channel error"
    )
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(func=cmd_codes)
