"""The print-safety check every rendered letter passes before it may be sent.

It reads the PDF as a print vendor or Digipost would and names each failure, as a
:class:`Finding` with a stable code (family "print", :mod:`letters.codes`) and a sentence:

- every page A4 portrait (``not-a4``, once for the pages it concerns);
- every font embedded (``font-not-embedded``);
- no text off the page or within 5 mm of its edge, the print area's border (``text-at-edge``);
- nothing in Digipost's left-margin zone (x 0–15 mm, y 95–175 mm from the top, any page;
  ``digipost-zone-not-empty``);
- on page 1, the envelope window holds the address block and nothing else, and the
  address fits inside it (``window-graphics``, ``window-text-crosses-edge``,
  ``window-not-address-only``);
- no more pages than allowed (``too-many-pages``);
- a PDF that is encrypted (``pdf-encrypted``) or cannot be read at all (``pdf-unreadable``)
  is reported as such, not raised.

Page geometry (A4, the zones, boxes in mm from the top-left) is :mod:`letters.geometry`.
"""

from __future__ import annotations

import ctypes
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from letters.codes import Code
from letters.config import Settings, get_settings
from letters.geometry import (
    A4_PT,
    DIGIPOST_ZONE_MM,
    EDGE_MM,
    MM,
    describe,
    from_pdf,
    inside,
    overlaps,
    to_pdf,
)
from letters.pdfium_lock import PDFIUM

# DIGIPOST_ZONE_MM stays importable from here for the print batch; letters.geometry has it.
__all__ = ["DIGIPOST_ZONE_MM", "Finding", "SafetyReport", "check"]

#: How far a page may be from A4 and still be A4 (points).
TOLERANCE_PT = 1.0
#: How far address text may reach past the envelope window's edge (points).
WINDOW_SLACK_PT = 0.5
_TEXT, _FORM = pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_FORM


@dataclass(frozen=True)
class Finding:
    """One reason the letter may not be sent: a stable ``code``, the sentence a person
    reads, and the page it is on (the first page it concerns; None for the whole PDF)."""

    code: Code
    message: str
    page: int | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class SafetyReport:
    pages: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def failures(self) -> list[str]:
        """The findings' sentences."""
        return [f.message for f in self.findings]


def _norm(text: str) -> str:
    """White space collapsed and accents composed: "A" + combining ring is "Å". PDFium
    reports a hyphen that ends a line (a name broken after "Fjeldstad-") as U+0002; it is
    the hyphen printed there."""
    text = text.replace("\x02", "-")
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text).strip())


def _joined(text: str) -> str:
    """Text compared as read, whichever way its lines were broken: PDFium joins a line that
    ends in a hyphen to the next without a space ("Sørensen-" + "Bakkehaug"), so no space
    after a hyphen counts."""
    return _norm(text).replace("- ", "-")


def _at(page_height: float, bounds: Sequence[float]) -> str:
    """Where an object's PDF bounds are, as a person measures it: ``x 5–40 mm, y 120–124 mm``."""
    return describe(from_pdf(page_height, bounds))


def _pages(numbers: Sequence[int]) -> str:
    """Page numbers as a person writes them.

    >>> _pages([2]), _pages([1, 2, 3]), _pages([1, 3, 4, 6])
    ('page 2', 'pages 1–3', 'pages 1, 3–4, 6')
    """
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    text = ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs)
    return ("page " if len(numbers) == 1 else "pages ") + text


def _not_a4(sizes: Sequence[tuple[float, float]]) -> Finding | None:
    """One finding for every page that is not A4 portrait, by size, or None.

    >>> _not_a4([(612, 792), (612, 792), A4_PT]).message
    'pages 1–2: 216 × 279 mm portrait, not A4 portrait'
    """
    found: dict[str, list[int]] = {}  # the size as a person reads it → its pages
    for number, (width, height) in enumerate(sizes, start=1):
        if abs(width - A4_PT[0]) > TOLERANCE_PT or abs(height - A4_PT[1]) > TOLERANCE_PT:
            orientation = "landscape" if width > height else "portrait"
            size = f"{width / MM:.0f} × {height / MM:.0f} mm {orientation}"
            found.setdefault(size, []).append(number)
    if not found:
        return None
    text = "; ".join(f"{_pages(numbers)}: {size}" for size, numbers in found.items())
    first = min(numbers[0] for numbers in found.values())
    return Finding(Code.NOT_A4, f"{text}, not A4 portrait", first)


def _font(obj: Any) -> tuple[str, bool]:
    """The base name of a text object's font and whether the PDF embeds it."""
    font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
    size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
    name = buffer.value.decode("latin-1", "replace").split("+")[-1]
    return name, pdfium_c.FPDFFont_GetIsEmbedded(font) == 1


def _open(pdf: bytes) -> pdfium.PdfDocument | Finding:
    try:
        return pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            return Finding(Code.PDF_ENCRYPTED, "the PDF is encrypted (it needs a password)")
        # one wording for one situation, whatever PDFium calls it ("Data format error")
        return Finding(Code.PDF_UNREADABLE, "not a readable PDF: its structure cannot be read")


def check(
    pdf: bytes,
    address_block: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> SafetyReport:
    """Inspect a rendered letter. ``address_block`` is the text expected in the window
    (return-address line and recipient lines); when given, the window must hold exactly it.
    """
    with PDFIUM:  # PDFium is not thread-safe
        return _check(pdf, address_block, settings)


def _check(
    pdf: bytes,
    address_block: Sequence[str] | None,
    settings: Settings | None,
) -> SafetyReport:
    s = settings or get_settings()
    report = SafetyReport()
    findings = report.findings
    doc = _open(pdf)
    if isinstance(doc, Finding):
        findings.append(doc)
        return report
    try:
        if pdfium_c.FPDF_GetSecurityHandlerRevision(doc.raw) != -1:
            findings.append(Finding(Code.PDF_ENCRYPTED, "the PDF is encrypted"))
            return report
        report.pages = len(doc)
        if report.pages > s.max_pages:
            findings.append(
                Finding(
                    Code.TOO_MANY_PAGES, f"{report.pages} pages; at most {s.max_pages} are allowed"
                )
            )
        not_a4 = _not_a4([doc.get_page_size(i) for i in range(report.pages)])
        if not_a4 is not None:
            findings.append(not_a4)
        not_embedded: set[str] = set()
        w = s.window
        for index in range(report.pages):
            page = doc[index]
            number = index + 1
            width, height = page.get_size()
            zone = to_pdf(height, DIGIPOST_ZONE_MM)
            print_area = to_pdf(
                height, (EDGE_MM, EDGE_MM, width / MM - EDGE_MM, height / MM - EDGE_MM)
            )
            window = to_pdf(height, (w.left, w.top, w.left + w.width, w.top + w.height))
            textpage = page.get_textpage()
            window_graphics: list[Sequence[float]] = []  # one finding for them all
            for obj in page.get_objects(max_depth=8):
                if obj.type == _FORM:
                    continue
                if obj.type == _TEXT:
                    name, embedded = _font(obj)
                    if not embedded and name not in not_embedded:
                        not_embedded.add(name)
                        findings.append(
                            Finding(
                                Code.FONT_NOT_EMBEDDED,
                                f"page {number}: font {name} is not embedded",
                                number,
                            )
                        )
                bounds = obj.get_bounds()
                if obj.type == _TEXT and not inside(bounds, print_area):
                    sample = _norm(textpage.get_text_bounded(*bounds))[:40]
                    findings.append(
                        Finding(
                            Code.TEXT_AT_EDGE,
                            f"page {number}: text outside the print area (a {EDGE_MM:.0f} mm "
                            f"edge) at {_at(height, bounds)}" + (f": {sample!r}" if sample else ""),
                            number,
                        )
                    )
                if overlaps(bounds, zone):
                    what = "text" if obj.type == _TEXT else "graphics"
                    sample = _norm(textpage.get_text_bounded(*bounds))[:40]
                    findings.append(
                        Finding(
                            Code.DIGIPOST_ZONE_NOT_EMPTY,
                            f"page {number}: {what} in Digipost's left-margin zone "
                            f"({describe(DIGIPOST_ZONE_MM)}) at {_at(height, bounds)}"
                            + (f": {sample!r}" if sample else ""),
                            number,
                        )
                    )
                if number == 1 and overlaps(bounds, window):
                    if obj.type != _TEXT:
                        window_graphics.append(bounds)
                    elif not inside(bounds, window, slack=WINDOW_SLACK_PT):
                        sample = _norm(textpage.get_text_bounded(*bounds))[:40]
                        findings.append(
                            Finding(
                                Code.WINDOW_TEXT_CROSSES_EDGE,
                                "page 1: text crosses the edge of the envelope window at "
                                f"{_at(height, bounds)}: {sample!r}",
                                1,
                            )
                        )
            if window_graphics:
                union = (
                    min(b[0] for b in window_graphics),
                    min(b[1] for b in window_graphics),
                    max(b[2] for b in window_graphics),
                    max(b[3] for b in window_graphics),
                )
                shapes = len(window_graphics)
                findings.append(
                    Finding(
                        Code.WINDOW_GRAPHICS,
                        f"page 1: graphics in the envelope window at {_at(height, union)}"
                        + (f" ({shapes} shapes)" if shapes > 1 else ""),
                        1,
                    )
                )
            if number == 1 and address_block is not None:
                seen_text = _joined(textpage.get_text_bounded(*window))
                expected = _joined(" ".join(address_block))
                if seen_text != expected:
                    findings.append(
                        Finding(
                            Code.WINDOW_NOT_ADDRESS_ONLY,
                            "page 1: the envelope window shows "
                            f"{seen_text!r}, expected only the address {expected!r}",
                            1,
                        )
                    )
            textpage.close()
            page.close()
    finally:
        doc.close()
    return report
