"""``letters enqueue FILE``: hand a file of jobs to the pipeline (over Redis).

JSONL: one job document per line. CSV: one job with one claim per row, with these columns
(a header row is required; empty cells mean "not given"):

    id, kind, language, letter_date, reference,
    creditor_name, creditor_org_number,
    debtor_type, debtor_name, debtor_national_id, debtor_org_number, debtor_email,
    consent_digipost, consent_email (true/false),
    address_line1, address_line2, address_line3, postal_code, city, country,
    invoice_number, invoice_date, due_date, principal, interest, interest_from, description,
    fees ("code:amount" or "code:amount:charged_on", several separated by ";"),
    notice_sent_on, notice_deadline (the collection notice a payment request follows),
    account_number, kid, kid_scheme, payment_due_date,
    plan_agreed_on, plan_instalments (a payment plan: "amount:due_date" or
    "amount:due_date:kid", several separated by ";"),
    channels (e.g. "digipost;email;print"),
    objection_received (true/false), objection_received_on, objection_answered_on
    (whether the debtor objected before an enforcement notice; all empty: not given)

Good lines are accepted; each bad line is reported with its line number, field and reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from letters import documents
from letters.codes import Code
from letters.job import FieldError, JobRejected

CSV_COLUMNS = [
    "id",
    "kind",
    "language",
    "letter_date",
    "reference",
    "creditor_name",
    "creditor_org_number",
    "debtor_type",
    "debtor_name",
    "debtor_national_id",
    "debtor_org_number",
    "debtor_email",
    "consent_digipost",
    "consent_email",
    "address_line1",
    "address_line2",
    "address_line3",
    "postal_code",
    "city",
    "country",
    "invoice_number",
    "invoice_date",
    "due_date",
    "principal",
    "interest",
    "interest_from",
    "description",
    "fees",
    "notice_sent_on",
    "notice_deadline",
    "account_number",
    "kid",
    "kid_scheme",
    "payment_due_date",
    "plan_agreed_on",
    "plan_instalments",
    "channels",
    "objection_received",
    "objection_received_on",
    "objection_answered_on",
]


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that were given (empty cells are left out, as if absent from a JSON job)."""
    return {k: v for k, v in fields.items() if v not in (None, [])}


def _csv_job(row: dict[str, str]) -> dict[str, Any]:
    def get(name: str) -> str | None:
        value = (row.get(name) or "").strip()
        return value or None

    def flag(name: str) -> bool:
        value = (get(name) or "false").lower()
        if value not in {"true", "false", "yes", "no", "1", "0"}:
            raise JobRejected.one(name, Code.WRONG_TYPE, "use true or false")
        return value in {"true", "yes", "1"}

    instalments = []
    for part in filter(None, (get("plan_instalments") or "").split(";")):
        bits = part.strip().split(":")
        if len(bits) not in (2, 3):
            raise JobRejected.one(
                "plan_instalments", Code.BAD_FORMAT, f"{part!r}: use amount:due_date[:kid]"
            )
        instalments.append(dict(zip(("amount", "due_date", "kid"), bits, strict=False)))
    fees = []
    for part in filter(None, (get("fees") or "").split(";")):
        bits = part.strip().split(":")
        if len(bits) not in (2, 3):
            raise JobRejected(
                [
                    FieldError(
                        field="fees", code=Code.BAD_FORMAT, reason=f"{part!r}: use code:amount"
                    )
                ]
            )
        fee: dict[str, Any] = {"code": bits[0], "amount": bits[1]}
        if len(bits) == 3:
            fee["charged_on"] = bits[2]
        fees.append(fee)
    claim = _given(
        invoice_number=get("invoice_number"),
        invoice_date=get("invoice_date"),
        due_date=get("due_date"),
        principal=get("principal"),
        interest=get("interest"),
        interest_from=get("interest_from"),
        description=get("description"),
        fees=fees,
        notice=_given(sent_on=get("notice_sent_on"), deadline=get("notice_deadline")) or None,
    )
    address = {
        "lines": [
            x for x in (get("address_line1"), get("address_line2"), get("address_line3")) if x
        ],
        "postal_code": get("postal_code"),
        "city": get("city"),
        "country": get("country") or "NO",
    }
    debtor = _given(
        type=get("debtor_type"),
        name=get("debtor_name"),
        national_id=get("debtor_national_id"),
        org_number=get("debtor_org_number"),
        email=get("debtor_email"),
        address=address,
        consents={"digipost": flag("consent_digipost"), "email": flag("consent_email")},
    )
    payment = _given(
        account_number=get("account_number"),
        kid=get("kid"),
        kid_scheme=get("kid_scheme"),
        due_date=get("payment_due_date"),
    )
    job: dict[str, Any] = _given(
        id=get("id"),
        kind=get("kind"),
        language=get("language"),
        letter_date=get("letter_date"),
        reference=get("reference"),
        creditor={"name": get("creditor_name"), "org_number": get("creditor_org_number")},
        debtor=debtor,
        claims=[claim],
        payment=payment,
    )
    objection = _given(
        received=flag("objection_received") if get("objection_received") else None,
        received_on=get("objection_received_on"),
        answered_on=get("objection_answered_on"),
    )
    if objection:
        job["objection"] = objection
    plan = _given(agreed_on=get("plan_agreed_on"), instalments=instalments)
    if plan:
        job["plan"] = plan
    if get("channels"):
        job["channels"] = [c.strip() for c in (get("channels") or "").split(";") if c.strip()]
    return job


def _not_utf8(text: str | None) -> bool:
    """A cell decoded with ``surrogateescape`` holds a byte that was not UTF-8."""
    return isinstance(text, str) and any("\udc80" <= ch <= "\udcff" for ch in text)


def _read_csv(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as raw:
        # Bytes that are not UTF-8 become lone surrogates, so one bad row is refused and the
        # rows after it are still read.
        fh = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")
        reader = csv.DictReader(fh)
        try:
            fieldnames = reader.fieldnames
        except csv.Error as exc:
            yield 1, JobRejected.one("(header)", Code.BAD_FILE_LINE, f"not CSV: {exc}")
            return
        if fieldnames is None:
            return
        if any(_not_utf8(name) for name in fieldnames):
            yield 1, JobRejected.one("(header)", Code.NOT_UTF8, "the header is not UTF-8 text")
            return
        unknown = set(fieldnames) - set(CSV_COLUMNS)
        if unknown:
            problem = f"unknown columns: {', '.join(sorted(unknown))}"
            yield 1, JobRejected.one("(header)", Code.BAD_FILE_LINE, problem)
            return
        failed_at, ended = -1, reader.line_num  # the line the last row ended on
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # a cell over the size limit, a stray quote
                # the row began on the line after the last one read
                yield ended + 1, JobRejected.one("(row)", Code.BAD_FILE_LINE, str(exc))
                if reader.line_num == failed_at:  # the reader cannot get past it
                    return
                failed_at = ended = max(reader.line_num, ended + 1)
                continue
            ended = reader.line_num
            if None in row:  # more cells than columns: an unquoted comma, most likely
                problem = "more cells than the header has columns (quote values with commas)"
                yield reader.line_num, JobRejected.one("(row)", Code.BAD_FILE_LINE, problem)
                continue
            bad = [column for column, cell in row.items() if _not_utf8(cell)]
            if bad:
                yield reader.line_num, JobRejected.one(bad[0], Code.NOT_UTF8, "not UTF-8 text")
                continue
            try:
                yield reader.line_num, _csv_job(row)
            except JobRejected as exc:
                yield reader.line_num, exc


def read(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, job document or JobRejected) for every job line of ``path``. Whatever a
    line holds (bytes that are not UTF-8, deep nesting, a 5000-digit number, a CSV cell over
    the size limit), it is refused with its line number and the lines after it are read."""
    if path.suffix.lower() == ".csv":
        yield from _read_csv(path)
        return
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, documents.job_document(documents.loads(line, "(line)"))
            except JobRejected as exc:
                yield number, exc
