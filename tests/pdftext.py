"""Reading rendered PDFs in tests: text per page, and barcodes from a rasterised page."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pypdfium2 as pdfium

MM = 72 / 25.4


def norm(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def page_texts(pdf: bytes) -> list[str]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [norm(doc[i].get_textpage().get_text_range()) for i in range(len(doc))]
    finally:
        doc.close()


@dataclass
class Barcode:
    text: str
    format: str
    left_mm: float
    top_mm: float
    right_mm: float
    bottom_mm: float


def barcodes(pdf: bytes, page: int = 0, dpi: int = 300) -> list[Barcode]:
    import zxingcpp

    doc = pdfium.PdfDocument(pdf)
    try:
        image = doc[page].render(scale=dpi / 72).to_pil()
    finally:
        doc.close()
    px = 25.4 / dpi
    found = []
    for result in zxingcpp.read_barcodes(image):
        pos = result.position
        xs = [pos.top_left.x, pos.top_right.x, pos.bottom_left.x, pos.bottom_right.x]
        ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
        found.append(
            Barcode(
                result.text,
                str(result.format),
                min(xs) * px,
                min(ys) * px,
                max(xs) * px,
                max(ys) * px,
            )
        )
    return found
