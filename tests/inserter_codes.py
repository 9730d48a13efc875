"""The inserter code in tests: one letter stamped on its own, a code's fields as the
vendor's machine reads them, and what on a letter lies where the code would go."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import overload

import pikepdf
import pypdfium2 as pdfium

from channels.printing.inserter import DEFAULT_PLACEMENT, Placement
from channels.printing.inserter.stamping import page_codes, stamp_page
from letters.config import Window
from letters.geometry import Box, describe, from_pdf, overlaps
from letters.numbers import inserter_code

_TEXT, _FORM = 1, 5
_KIND = {1: "text", 2: "graphics", 3: "image", 4: "shading"}


@overload
def stamp(
    pdf: bytes,
    batch: int,
    letter: int,
    placement: Placement = ...,
    window: Window | None = ...,
) -> bytes: ...
@overload
def stamp(
    pdf: pikepdf.Pdf,
    batch: int,
    letter: int,
    placement: Placement = ...,
    window: Window | None = ...,
) -> pikepdf.Pdf: ...
def stamp(
    pdf: bytes | pikepdf.Pdf,
    batch: int,
    letter: int,
    placement: Placement = DEFAULT_PLACEMENT,
    window: Window | None = None,
) -> bytes | pikepdf.Pdf:
    """One letter with its code on every page: PDF bytes in, PDF bytes out, or a
    :class:`pikepdf.Pdf` stamped in place and returned. The document stays as it was
    (metadata, fonts, text), with one more content stream per page."""
    if isinstance(pdf, pikepdf.Pdf):
        values = page_codes(pdf, batch, letter, placement, window)
        for page, value in zip(pdf.pages, values, strict=True):
            stamp_page(page, value, placement)
        return pdf
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        stamp(doc, batch, letter, placement, window)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()


@dataclass(frozen=True)
class Control:
    """One page's control code: the letter's place in the batch and the page's in the letter."""

    batch: int
    letter: int
    page: int
    pages: int

    @property
    def last(self) -> bool:
        """The end-of-set flag: this is the letter's last page."""
        return self.page == self.pages


def decode(value: str) -> Control:
    """The fields of a valid code (a ``ValueError`` naming the wrong field otherwise)."""
    code = inserter_code.validate(value)
    field = {name: int(code[at : at + size]) for name, at, size, _ in inserter_code.FIELDS}
    return Control(field["batch"], field["letter"], field["page"], field["pages"])


def clear_of_content(
    pdf: bytes | pikepdf.Pdf, placement: Placement = DEFAULT_PLACEMENT
) -> list[str]:
    """What on a (not yet stamped) letter lies in the code's area, one line per thing and
    page; empty when the area is blank on every page. Text is found by its text-page boxes,
    graphics and images by their objects' bounds."""
    if isinstance(pdf, pikepdf.Pdf):
        buffer = io.BytesIO()
        pdf.save(buffer)
        pdf = buffer.getvalue()
    area_mm = placement.box()
    found: list[str] = []
    doc = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(doc)):
            page = doc[index]
            left, _, _, top = page.get_mediabox()
            textpage = page.get_textpage()
            for i in range(textpage.count_rects()):
                bounds = textpage.get_rect(i)
                rect = _to_mm(bounds, left, top)
                if overlaps(rect, area_mm):
                    text = " ".join(textpage.get_text_bounded(*bounds).split())
                    found.append(f"page {index + 1}: text {text!r} at {describe(rect, 1)}")
            for obj in page.get_objects(max_depth=8):
                if obj.type in (_TEXT, _FORM):
                    continue
                rect = _to_mm(obj.get_bounds(), left, top)
                if overlaps(rect, area_mm):
                    what = _KIND.get(obj.type, "object")
                    found.append(f"page {index + 1}: {what} at {describe(rect, 1)}")
            textpage.close()
            page.close()
    finally:
        doc.close()
    return found


def _to_mm(bounds: tuple[float, float, float, float], left: float, top: float) -> Box:
    """PDF (left, bottom, right, top) in points on a page whose media box has its left edge
    at ``left`` and top at ``top`` → (left, top, right, bottom) in mm from its top-left."""
    x0, y0, x1, y1 = bounds
    return from_pdf(top, (x0 - left, y0, x1 - left, y1))
