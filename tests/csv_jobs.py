"""Jobs as `letters enqueue` and `letters run` read them from a CSV file: one job with one
claim per row, the columns of :data:`letters.pipeline.enqueue.CSV_COLUMNS`."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

#: A reminder that passes every rule on the fixtures' date (2026-11-20).
REMINDER_ROW = {
    "id": "csv-0001", "kind": "reminder", "language": "nb", "letter_date": "2026-11-20",
    "reference": "AX-2026-700001", "creditor_name": "Nordlys Energi AS",
    "creditor_org_number": "912345688", "debtor_type": "person",
    "debtor_name": "Kari Nordmann", "consent_email": "true",
    "debtor_email": "kari@example.no", "address_line1": "Storgata 12 B",
    "postal_code": "0161", "city": "Oslo", "invoice_number": "2026-10-4471",
    "invoice_date": "2026-09-20", "due_date": "2026-10-05", "principal": "1249.00",
    "description": "Strøm september 2026", "fees": "reminder_fee:37.50",
    "account_number": "15031123450",
}  # fmt: skip


def write_csv(path: Path, rows: Iterable[dict[str, str]]) -> Path:
    """``rows`` written to ``path`` under the header every CSV of jobs has."""
    from letters.pipeline.enqueue import CSV_COLUMNS

    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path
