"""What a closed print batch says about itself: its manifests and its cover sheet's data.

``manifest.csv`` has one row per letter (:data:`FIELDS`); ``manifest.json`` has the batch
(id, sequence, time, sender, duplex, the inserter code's encoding and position, how a
letter's pages in a file relate to its archived copy), every letter, the files and the
totals. Both are written as the letters are read, so memory stays
flat however large the batch: the JSON's letters go to a scratch file first and are copied
into ``manifest.json`` line by line (:class:`ManifestWriter`).

A manifest cell never starts with what a spreadsheet would run as a formula:

>>> safe_cell("=HYPERLINK(1)"), safe_cell("Kari")
("'=HYPERLINK(1)", 'Kari')
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from channels.printing.inserter.placement import Placement, describe
from letters.ledger.batches import BatchLetter

if TYPE_CHECKING:
    from channels.printing import cover

COVER = "00-cover.pdf"
CSV = "manifest.csv"
JSON = "manifest.json"
_SCRATCH = ".letters.json"
#: How a letter's pages in a file relate to its archived copy (:mod:`.sharing`).
PAGES_IN_FILES = (
    "a letter's pages in a file are its archived pages, each with the inserter code drawn "
    "on in a content stream of its own; fonts and other page resources identical byte for "
    "byte between letters are stored once per file and shared by their pages"
)
FIELDS = (
    "sequence",
    "letter_id",
    "reference",
    "name",
    "address_1",
    "address_2",
    "address_3",
    "postal_code",
    "city",
    "country",
    "envelope",
    "file",
    "first_page",
    "pages",
    "sheets",
    "sha256",
)


@dataclass
class FileInfo:
    """One PDF file of the batch and what is in it."""

    name: str
    envelope: str
    letters: int = 0
    pages: int = 0
    sheets: int = 0


@dataclass(frozen=True)
class Totals:
    letters: int
    pages: int
    sheets: int


def safe_cell(value: str) -> str:
    """A manifest cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def entry(
    letter: BatchLetter, sequence: int, envelope: str, file: str, first_page: int, sheets: int
) -> dict[str, Any]:
    """One letter's row: where it is in the batch and where it goes."""
    # the payload was validated at intake; read it as stored (validating 20,000 jobs
    # again cost a sixth of the close)
    debtor = letter.payload["debtor"]
    addr = debtor["address"]
    street = [*addr["lines"], "", "", ""][:3]
    return {
        "sequence": sequence,
        "letter_id": letter.letter_id,
        "reference": letter.reference,
        "name": debtor["name"],
        "address_1": street[0],
        "address_2": street[1],
        "address_3": street[2],
        "postal_code": addr["postal_code"],
        "city": addr["city"],
        "country": addr.get("country", "NO"),
        "envelope": envelope,
        "file": file,
        "first_page": first_page,
        "pages": letter.page_count,
        "sheets": sheets,
        "sha256": letter.pdf_sha256,
    }


def head(
    batch_id: str,
    sequence: int,
    created: dt.datetime,
    sender: str,
    duplex: bool,
    placement: Placement,
) -> dict[str, Any]:
    """What ``manifest.json`` says of the batch before its letters."""
    return {
        "batch": batch_id,
        "sequence": sequence,
        "created_at": created.isoformat(),
        "sender": sender,
        "duplex": duplex,
        "inserter_code": describe(placement),
        "sha256_of": "each letter's PDF as archived, before the inserter code was added",
        "pages_in_files": PAGES_IN_FILES,
    }


class ManifestWriter:
    """Writes ``manifest.csv`` and a scratch copy of the letters as they come
    (:meth:`add`), then ``manifest.json`` from the scratch file (:meth:`finish`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.foreign = 0  # letters going abroad, for the cover sheet

    def __enter__(self) -> ManifestWriter:
        self._csv = (self.folder / CSV).open("w", newline="", encoding="utf-8")
        self._json = (self.folder / _SCRATCH).open("w", encoding="utf-8")
        self._table = csv.DictWriter(self._csv, fieldnames=FIELDS)
        self._table.writeheader()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._csv.close()
        self._json.close()

    def add(self, row: dict[str, Any]) -> None:
        self.foreign += row["country"] != "NO"
        self._table.writerow({k: safe_cell(str(v)) for k, v in row.items()})
        self._json.write(json.dumps(row, ensure_ascii=False) + "\n")

    def finish(self, head: dict[str, Any], files: list[FileInfo], totals: Totals) -> None:
        """``manifest.json``, written as a stream: the letters are copied line by line from
        the scratch file, never held in memory together. The scratch file is removed."""
        scratch = self.folder / _SCRATCH
        with (self.folder / JSON).open("w", encoding="utf-8") as out:
            out.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "letters": [\n')
            with scratch.open(encoding="utf-8") as src:
                _copy_lines(src, out)
            out.write("\n ],\n")
            out.write(' "files": ' + json.dumps([asdict(f) for f in files], ensure_ascii=False))
            out.write(',\n "totals": ' + json.dumps(asdict(totals)) + "\n}\n")
        scratch.unlink()


def _copy_lines(src: IO[str], out: IO[str]) -> None:
    first = True
    for line in _lines(src):
        out.write(("  " if first else ",\n  ") + line)
        first = False


def _lines(src: IO[str]) -> Iterator[str]:
    for line in src:
        line = line.rstrip("\n")
        if line:
            yield line


def read_summary(folder: Path) -> tuple[tuple[FileInfo, ...], Totals]:
    """The files and totals a written ``manifest.json`` records."""
    manifest = json.loads((folder / JSON).read_text(encoding="utf-8"))
    files = tuple(FileInfo(**f) for f in manifest["files"])
    return files, Totals(**manifest["totals"])


def listed_letters(folder: Path) -> dict[str, str]:
    """The letters a written ``manifest.csv`` lists: letter id → the PDF's SHA-256."""
    with (folder / CSV).open(encoding="utf-8", newline="") as fh:
        return {row["letter_id"]: row["sha256"] for row in csv.DictReader(fh)}


def cover_info(
    head: dict[str, Any],
    created: dt.datetime,
    files: list[FileInfo],
    foreign: int,
    placement: Placement,
) -> cover.CoverInfo:
    """The cover sheet's data: counts only, nothing about a debtor."""
    from channels.printing.cover import CoverInfo

    return CoverInfo(
        batch_id=head["batch"],
        sequence=head["sequence"],
        created_at=created,
        sender_name=head["sender"],
        files=tuple((f.name, f.letters, f.pages, f.sheets) for f in files),
        duplex=head["duplex"],
        foreign_letters=foreign,
        placement=placement,
    )
