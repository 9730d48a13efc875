"""The cover sheet the print vendor sees first in each batch file.

One A4 page drawn with ReportLab: the batch id (also as a Code128 the vendor can scan),
the batch sequence, when the batch was made (Europe/Oslo), which file this is ("part n of
m"), the sender, the counts (letters, pages, sheets, letters going abroad), the envelope,
a table of the batch's files and how the inserter code on each page reads.

Counts only: :class:`CoverInfo` has no place for anything about a debtor, so the cover
cannot show one.

The text is in the letters' own Noto Sans, embedded (the page passes the product's own
print-safety check, as the vendor's first page should): it has æ, ø, å and the letters of
every European alphabet; a character it lacks is shown without its accent where it has one
and as ``?`` otherwise (:func:`drawable`), never as a black box. The barcode sits above the
envelope window's place, which holds nothing but text.

Sheets assume duplex printing where each letter starts on a new sheet: a letter of ``p``
pages takes ``ceil(p / 2)`` sheets (:func:`sheets`). The cover sheet itself is not counted.
"""

from __future__ import annotations

import io
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from reportlab import rl_config  # type: ignore[import-untyped,unused-ignore]
from reportlab.graphics.barcode.code128 import (  # type: ignore[import-untyped,unused-ignore]
    Code128,
)
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped,unused-ignore]
from reportlab.lib.units import mm  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfbase.pdfmetrics import (  # type: ignore[import-untyped,unused-ignore]
    stringWidth,
)
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped,unused-ignore]

from channels.printing.inserter.placement import DEFAULT_PLACEMENT, Placement, describe
from letters.clock import shown
from letters.wording import counted

# content streams Flate only, as the fast renderer writes them (letters/renderers/fast)
rl_config.useA85 = 0
FONT = "Cover-Sans"
BOLD = "Cover-Sans-Bold"
_FONT_FILES = {FONT: "NotoSans-Regular.ttf", BOLD: "NotoSans-Bold.ttf"}
_FONTS_LOCK = threading.Lock()


def _register_fonts() -> frozenset[int]:
    """The cover's fonts registered with ReportLab (once per process); the code points
    both can draw."""
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped,unused-ignore]
    from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped,unused-ignore]

    from letters.paths import ASSET_DIR

    global _COVERED
    with _FONTS_LOCK:
        if _COVERED is None:
            covered: set[int] | None = None
            for name, file in _FONT_FILES.items():
                font = TTFont(name, str(ASSET_DIR / "fonts" / file))
                pdfmetrics.registerFont(font)
                codes = set(font.face.charToGlyph)
                covered = codes if covered is None else covered & codes
            _COVERED = frozenset(covered or ())
        return _COVERED


_COVERED: frozenset[int] | None = None
_BATCH_ID = re.compile(r"[\x21-\x7e]{1,40}")


def drawable(text: str) -> str:
    """``text`` as the cover's fonts can show it: characters they have as they are, others
    without their accent, or ``?``; no control characters.

    >>> drawable("Fjordinkasso Tromsø – Łódź ☃")
    'Fjordinkasso Tromsø – Łódź ?'
    """
    covered = _register_fonts()

    def ok(char: str) -> bool:
        return ord(char) in covered and char.isprintable()

    out = []
    for char in unicodedata.normalize("NFC", text):
        if ok(char):
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and all(ok(c) for c in base) else "?")
    return "".join(out)


def sheets(page_counts: Iterable[int], duplex: bool = True) -> int:
    """Sheets for letters of these page counts, each letter starting on a new sheet.

    >>> sheets([1, 2, 3])
    4
    >>> sheets([1, 2, 3], duplex=False)
    6
    """
    return sum(math.ceil(p / 2) if duplex else p for p in page_counts)


class BatchFile(NamedTuple):
    """One file of the batch: its name and what it holds (cover sheet not counted)."""

    name: str
    letters: int
    pages: int
    sheets: int


@dataclass(frozen=True)
class CoverInfo:
    """What a cover shows.

    ``files`` are all the batch's files in order, as :class:`BatchFile` or plain
    ``(name, letters, pages, sheets)`` tuples. With ``file_name`` the cover opens that one
    file (its place in ``files`` is the "part n of m"); without, it opens the whole batch.
    ``created_at`` must carry a time zone. ``foreign_letters`` and ``envelope`` are shown
    when given.
    """

    batch_id: str
    sequence: int
    created_at: datetime
    sender_name: str
    files: Sequence[BatchFile | tuple[str, int, int, int]]
    file_name: str | None = None
    foreign_letters: int | None = None
    envelope: str | None = None
    duplex: bool = True
    placement: Placement = field(default=DEFAULT_PLACEMENT)
    rows: tuple[BatchFile, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        files = tuple(BatchFile(*f) for f in self.files)
        object.__setattr__(self, "files", files)
        object.__setattr__(self, "rows", files)
        if not _BATCH_ID.fullmatch(self.batch_id):
            raise ValueError(f"batch_id: {self.batch_id!r} is not 1-40 printable ASCII")
        if self.sequence < 0:
            raise ValueError(f"sequence: {self.sequence} is negative")
        if self.created_at.utcoffset() is None:
            raise ValueError("created_at: has no time zone")
        if not files:
            raise ValueError("files: a batch has at least one file")
        names = [f.name for f in files]
        if len(set(names)) != len(names):
            raise ValueError("files: a file name appears twice")
        if self.file_name is not None and self.file_name not in names:
            raise ValueError(f"file_name: {self.file_name!r} is not one of the batch's files")
        for f in files:
            _check_file(f, self.duplex)
        if self.foreign_letters is not None and not 0 <= self.foreign_letters <= self.letters:
            raise ValueError(
                f"foreign_letters: {self.foreign_letters} is not in 0-{self.letters} letters"
            )

    @property
    def part(self) -> int | None:
        """This file's place among the batch's files (from 1), if the cover is for one."""
        if self.file_name is None:
            return None
        return [f.name for f in self.rows].index(self.file_name) + 1

    @property
    def parts(self) -> int:
        return len(self.rows)

    @property
    def letters(self) -> int:
        return sum(f.letters for f in self.rows)

    @property
    def pages(self) -> int:
        return sum(f.pages for f in self.rows)

    @property
    def sheets(self) -> int:
        return sum(f.sheets for f in self.rows)


def _check_file(f: BatchFile, duplex: bool) -> None:
    if min(f.letters, f.pages, f.sheets) < 0:
        raise ValueError(f"files: {f.name}: negative count")
    if f.pages < f.letters:
        raise ValueError(f"files: {f.name}: {f.pages} pages for {f.letters} letters")
    # each letter starts a new sheet: at least one sheet a letter, at most one a page
    least = max(f.letters, math.ceil(f.pages / 2)) if duplex else f.pages
    if not least <= f.sheets <= f.pages:
        raise ValueError(
            f"files: {f.name}: {f.sheets} sheets for {f.letters} letters of {f.pages} pages"
        )


# --- drawing -------------------------------------------------------------------------------

PAGE_W, PAGE_H = A4
MARGIN = 20 * mm
LINE = 5.2 * mm
#: File-table columns: name, then letters, pages, sheets (right-aligned at these x).
_COLUMNS = (MARGIN, PAGE_W - MARGIN - 60 * mm, PAGE_W - MARGIN - 30 * mm, PAGE_W - MARGIN)
_TABLE_BOTTOM = 32 * mm


def _fit(text: str, font: str, size: float, width: float) -> str:
    """``text`` shortened with an ellipsis to fit ``width``."""
    text = drawable(text)
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    for word in drawable(text).split():
        if lines and stringWidth(f"{lines[-1]} {word}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _below_window_edge(y: float, size: float) -> float:
    """The baseline for a line of ``size`` pt at ``y``, moved below the envelope window's
    bottom edge when the line would straddle it (text may sit inside the window's place,
    not across its edge: the product's check refuses that on a letter's first page)."""
    from letters.config.sender import Window

    window = Window()
    edge = float(PAGE_H - (window.top + window.height) * mm)
    if y - 0.3 * size < edge + 0.5 * mm and y + size > edge - 0.5 * mm:
        return float(edge - size - 1 * mm)
    return y


def _count(n: int) -> str:
    """Thousands grouped with a space, as in Norway: 12 345."""
    return f"{n:,}".replace(",", " ")


def cover_sheet(info: CoverInfo) -> bytes:
    """The cover sheet as a one-page A4 PDF (the same bytes for the same ``info``)."""
    _register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1, initialFontName=FONT)
    part = f"part {info.part} of {info.parts}" if info.file_name else counted(info.parts, "file")
    c.setTitle(drawable(f"Cover sheet {info.batch_id}, {part}"))
    c.setAuthor(drawable(info.sender_name))
    c.setCreator("letters")

    y = PAGE_H - MARGIN - 4 * mm
    c.setFont(BOLD, 18)
    c.drawString(MARGIN, y, "PRINT BATCH COVER SHEET")
    c.setFont(FONT, 9)
    c.drawRightString(PAGE_W - MARGIN, y, "Not for mailing: remove before inserting")
    # the barcode ends above the envelope window's place (44 mm from the top by default),
    # which holds nothing but text, so the page passes the product's own check
    symbol = Code128(info.batch_id, barWidth=0.33 * mm, barHeight=11 * mm, humanReadable=False)
    y = PAGE_H - 41 * mm
    symbol.drawOn(c, MARGIN - symbol.lquiet, y)
    y -= 8 * mm
    c.setFont(BOLD, 14)
    c.drawString(MARGIN, y, info.batch_id)
    y -= 10 * mm

    created = shown(info.created_at)
    rows: list[tuple[str, str]] = [
        ("Batch id", info.batch_id),
        ("Batch sequence", str(info.sequence)),
        ("Created", created),
        ("File", f"{info.file_name} ({part})" if info.file_name else f"the whole batch ({part})"),
        ("Sender", info.sender_name),
    ]
    if info.envelope is not None:
        rows.append(("Envelope", info.envelope))
    rows += [
        ("Letters", _count(info.letters)),
        ("Pages", _count(info.pages)),
        ("Sheets", f"{_count(info.sheets)} ({'duplex' if info.duplex else 'simplex'})"),
    ]
    if info.foreign_letters is not None:
        rows.append(("Foreign letters", _count(info.foreign_letters)))
    label_w = 45 * mm
    value_w = PAGE_W - 2 * MARGIN - label_w
    for label, value in rows:
        y = _below_window_edge(y, 10)
        c.setFont(FONT, 10)
        c.drawString(MARGIN, y, label)
        c.setFont(BOLD, 10)
        c.drawString(MARGIN + label_w, y, _fit(value, BOLD, 10, value_w))
        y -= LINE

    y = _below_window_edge(y - 2 * mm, 10)
    c.setFont(FONT, 10)
    c.drawString(MARGIN, y, "Inserter code")
    c.setFont(FONT, 8.5)
    for line in _wrap(describe(info.placement)["summary"], FONT, 8.5, value_w):
        c.drawString(MARGIN + label_w, y, line)
        y -= 4 * mm
    y -= 6 * mm

    _files_table(c, info, y)

    c.setFont(FONT, 8)
    c.drawString(
        MARGIN,
        MARGIN - 6 * mm,
        "Counts exclude this cover sheet. Each letter starts on a new sheet. "
        "No personal data on this page.",
    )
    c.showPage()
    c.save()
    return buffer.getvalue()


def _files_table(c: Canvas, info: CoverInfo, top: float) -> None:
    c.setFont(BOLD, 11)
    c.drawString(MARGIN, top, "Files in this batch")
    y = top - 7 * mm
    heads = ("File", "Letters", "Pages", "Sheets")
    c.setFont(BOLD, 9)
    c.drawString(_COLUMNS[0], y, heads[0])
    for x, head in zip(_COLUMNS[1:], heads[1:], strict=True):
        c.drawRightString(x, y, head)
    c.setLineWidth(0.6)
    c.line(MARGIN, y - 1.6 * mm, PAGE_W - MARGIN, y - 1.6 * mm)
    y -= LINE

    room = int((y - _TABLE_BOTTOM) // LINE) - 1  # rows left above the totals line
    files: list[BatchFile] = list(info.rows)
    if len(files) > room:
        rest = files[room - 1 :]
        files = [
            *files[: room - 1],
            BatchFile(
                f"... and {len(rest)} more files",
                sum(f.letters for f in rest),
                sum(f.pages for f in rest),
                sum(f.sheets for f in rest),
            ),
        ]
    name_w = _COLUMNS[1] - _COLUMNS[0] - 25 * mm
    for f in files:
        this = f.name == info.file_name
        c.setFont(BOLD if this else FONT, 9)
        name = _fit(f.name, BOLD if this else FONT, 9, name_w)
        c.drawString(_COLUMNS[0], y, f"{name}  (this file)" if this else name)
        for x, n in zip(_COLUMNS[1:], (f.letters, f.pages, f.sheets), strict=True):
            c.drawRightString(x, y, _count(n))
        y -= LINE
    c.line(MARGIN, y + LINE - 1.6 * mm, PAGE_W - MARGIN, y + LINE - 1.6 * mm)
    c.setFont(BOLD, 9)
    c.drawString(_COLUMNS[0], y, f"Total ({counted(info.parts, 'file')})")
    for x, n in zip(_COLUMNS[1:], (info.letters, info.pages, info.sheets), strict=True):
        c.drawRightString(x, y, _count(n))
