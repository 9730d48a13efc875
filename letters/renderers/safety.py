"""The print-safety check every rendered letter passes before it may be sent.

It reads the PDF as a print vendor or Digipost would and names each failure:
- every page A4 portrait;
- every font embedded;
- nothing in Digipost's left-margin zone (x 0–15 mm, y 95–175 mm from the top, any page);
- on page 1, the envelope window holds the address block and nothing else, and the
  address fits inside it;
- no more pages than allowed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, cast

import pypdfium2 as pdfium
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from letters.settings import Settings, get_settings

MM = 72 / 25.4
A4_PT = (210 * MM, 297 * MM)
TOLERANCE_PT = 1.0
#: Digipost's print rule: keep x 0–15 mm, y 95–175 mm (from the top) free on every page.
DIGIPOST_ZONE_MM = (0.0, 95.0, 15.0, 175.0)  # left, top, right, bottom
_TEXT, _PATH, _IMAGE, _SHADING, _FORM = 1, 2, 3, 4, 5


@dataclass
class SafetyReport:
    pages: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


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


def _fonts(resources: Any, seen: set[int]) -> Iterator[tuple[str, DictionaryObject]]:
    if not resources:
        return
    resources = resources.get_object()
    for _name, ref in (resources.get("/Font") or {}).items():
        font = ref.get_object()
        if id(font) not in seen:
            seen.add(id(font))
            yield str(font.get("/BaseFont", _name)), font
    for ref in (resources.get("/XObject") or {}).values():
        xobj = ref.get_object()
        if xobj.get("/Subtype") == "/Form":
            yield from _fonts(xobj.get("/Resources"), seen)


def _embedded(font: DictionaryObject) -> bool:
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        return True
    if subtype == "/Type0":
        descendants = cast(ArrayObject, font["/DescendantFonts"])
        font = cast(DictionaryObject, descendants[0].get_object())
    descriptor = font.get("/FontDescriptor")
    if descriptor is None:
        return False
    descriptor = descriptor.get_object()
    return any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


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
    reader = PdfReader(BytesIO(pdf))
    if reader.is_encrypted:
        report.failures.append("the PDF is encrypted")
        return report
    seen: set[int] = set()
    for number, page in enumerate(reader.pages, start=1):
        for name, font in _fonts(page.get("/Resources"), seen):
            if not _embedded(font):
                report.failures.append(f"page {number}: font {name.lstrip('/')} is not embedded")

    doc = pdfium.PdfDocument(pdf)
    try:
        report.pages = len(doc)
        if report.pages > s.max_pages:
            report.failures.append(f"{report.pages} pages; at most {s.max_pages} are allowed")
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
            window = _rect_pt(height, (w.left, w.top, w.left + w.width, w.top + w.height))
            textpage = page.get_textpage()
            for obj in page.get_objects(max_depth=8):
                if obj.type == _FORM:
                    continue
                bounds = obj.get_bounds()
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
