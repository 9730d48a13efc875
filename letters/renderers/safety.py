"""The print-safety check every rendered letter passes before it may be sent.

It reads the PDF as a print vendor or Digipost would and names each failure:
- every page A4 portrait;
- every font embedded;
- no text off the page or within 5 mm of its edge;
- nothing in Digipost's left-margin zone (x 0–15 mm, y 95–175 mm from the top, any page);
- on page 1, the envelope window holds the address block and nothing else, and the
  address fits inside it;
- no more pages than allowed.
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

from letters.config import Settings, get_settings

MM = 72 / 25.4
A4_PT = (210 * MM, 297 * MM)
TOLERANCE_PT = 1.0
#: Digipost's print rule: keep x 0–15 mm, y 95–175 mm (from the top) free on every page.
DIGIPOST_ZONE_MM = (0.0, 95.0, 15.0, 175.0)  # left, top, right, bottom
_TEXT, _PATH, _IMAGE, _SHADING, _FORM = 1, 2, 3, 4, 5
#: Printers leave an edge unprinted; text there (or off the page: a word too long to
#: wrap pushing a column out) is lost.
EDGE_MM = 5.0


@dataclass
class SafetyReport:
    pages: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _norm(text: str) -> str:
    """White space collapsed and accents composed: "A" + combining ring is "Å"."""
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", text).strip())


def _rect_pt(page_height: float, box_mm: tuple[float, float, float, float]) -> tuple[float, ...]:
    """(left, top, right, bottom) in mm from the top-left → PDF (left, bottom, right, top)."""
    left, top, right, bottom = box_mm
    return (left * MM, page_height - bottom * MM, right * MM, page_height - top * MM)


def _overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(inner: Sequence[float], outer: Sequence[float], slack: float = 0.5) -> bool:
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def _mm(page_height: float, box: Sequence[float]) -> str:
    return (
        f"x {box[0] / MM:.0f}–{box[2] / MM:.0f} mm, y {(page_height - box[3]) / MM:.0f}–"
        f"{(page_height - box[1]) / MM:.0f} mm"
    )


def _font(obj: Any) -> tuple[str, bool]:
    """The base name of a text object's font and whether the PDF embeds it."""
    font = pdfium_c.FPDFTextObj_GetFont(obj.raw)
    size = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDFFont_GetBaseFontName(font, buffer, size)
    name = buffer.value.decode("latin-1", "replace").split("+")[-1]
    return name, pdfium_c.FPDFFont_GetIsEmbedded(font) == 1


def check(
    pdf: bytes,
    address_block: Sequence[str] | None = None,
    settings: Settings | None = None,
) -> SafetyReport:
    """Inspect a rendered letter. ``address_block`` is the text expected in the window
    (return-address line and recipient lines); when given, the window must hold exactly it.
    """
    s = settings or get_settings()
    report = SafetyReport()
    doc = pdfium.PdfDocument(pdf)
    try:
        if pdfium_c.FPDF_GetSecurityHandlerRevision(doc.raw) != -1:
            report.failures.append("the PDF is encrypted")
            return report
        report.pages = len(doc)
        if report.pages > s.max_pages:
            report.failures.append(f"{report.pages} pages; at most {s.max_pages} are allowed")
        not_embedded: set[str] = set()
        w = s.window
        for index in range(report.pages):
            page = doc[index]
            number = index + 1
            width, height = page.get_size()
            if abs(width - A4_PT[0]) > TOLERANCE_PT or abs(height - A4_PT[1]) > TOLERANCE_PT:
                orientation = "landscape" if width > height else "portrait"
                report.failures.append(
                    f"page {number}: {width / MM:.0f} × {height / MM:.0f} mm {orientation}, "
                    "not A4 portrait"
                )
            zone = _rect_pt(height, DIGIPOST_ZONE_MM)
            printable = _rect_pt(
                height, (EDGE_MM, EDGE_MM, width / MM - EDGE_MM, height / MM - EDGE_MM)
            )
            window = _rect_pt(height, (w.left, w.top, w.left + w.width, w.top + w.height))
            textpage = page.get_textpage()
            for obj in page.get_objects(max_depth=8):
                if obj.type == _FORM:
                    continue
                if obj.type == _TEXT:
                    name, embedded = _font(obj)
                    if not embedded and name not in not_embedded:
                        not_embedded.add(name)
                        report.failures.append(f"page {number}: font {name} is not embedded")
                bounds = obj.get_bounds()
                if obj.type == _TEXT and not _inside(bounds, printable, slack=0):
                    sample = _norm(textpage.get_text_bounded(*bounds))[:40]
                    report.failures.append(
                        f"page {number}: text outside the printable area (a {EDGE_MM:.0f} mm "
                        f"edge) at {_mm(height, bounds)}" + (f": {sample!r}" if sample else "")
                    )
                if _overlaps(bounds, zone):
                    what = "text" if obj.type == _TEXT else "graphics"
                    sample = _norm(textpage.get_text_bounded(*bounds))[:40]
                    report.failures.append(
                        f"page {number}: {what} in Digipost's left-margin zone "
                        f"(x 0–15 mm, y 95–175 mm) at {_mm(height, bounds)}"
                        + (f": {sample!r}" if sample else "")
                    )
                if number == 1 and _overlaps(bounds, window):
                    if obj.type != _TEXT:
                        report.failures.append(
                            f"page 1: graphics in the envelope window at {_mm(height, bounds)}"
                        )
                    elif not _inside(bounds, window):
                        sample = _norm(textpage.get_text_bounded(*bounds))[:40]
                        report.failures.append(
                            f"page 1: text crosses the edge of the envelope window at "
                            f"{_mm(height, bounds)}: {sample!r}"
                        )
            if number == 1 and address_block is not None:
                seen_text = _norm(textpage.get_text_bounded(*window))
                expected = _norm(" ".join(address_block))
                if seen_text != expected:
                    report.failures.append(
                        "page 1: the envelope window shows "
                        f"{seen_text!r}, expected only the address {expected!r}"
                    )
            textpage.close()
            page.close()
    finally:
        doc.close()
    return report
