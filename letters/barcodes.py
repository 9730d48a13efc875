"""The Code128 barcode on every letter (the letter id, for scanning returned mail).

Drawn by python-barcode as vector SVG and placed inline in the letter HTML; the value also
sits in the element's ``data-value`` so a renderer that draws barcodes natively need not
parse the SVG.
"""

from __future__ import annotations

import re
from functools import lru_cache

import barcode
from barcode.writer import SVGWriter
from markupsafe import Markup, escape

#: Module (narrowest bar) width and bar height in mm; 0.3 mm prints and scans reliably.
MODULE_WIDTH_MM = 0.3
HEIGHT_MM = 9.0
QUIET_ZONE_MM = 2.5

_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BACKGROUND = re.compile(r'<rect width="100%" height="100%" style="fill:white"/>')
_PRINTABLE = re.compile(r"[\x20-\x7e]{1,48}")


@lru_cache(maxsize=1024)
def code128_svg(value: str) -> str:
    """Inline SVG markup (no XML prologue) of a Code128 symbol for ``value``."""
    svg = barcode.Code128(value, writer=SVGWriter()).render(
        {
            "module_width": MODULE_WIDTH_MM,
            "module_height": HEIGHT_MM,
            "quiet_zone": QUIET_ZONE_MM,
            "write_text": False,
            "margin_top": 0,
            "margin_bottom": 0,
        }
    )
    text = _COMMENT.sub("", _PROLOGUE.sub("", svg.decode("utf-8"), count=1))
    # Bars as presentation attributes: HTML engines read style="" as CSS and warn on "fill".
    text = _BACKGROUND.sub("", text).replace('style="fill:black;"', 'fill="#000"')
    return re.sub(r">\s+<", "><", text).strip()


def barcode_html(value: str) -> Markup:
    """The barcode element the templates place: ``<div class="barcode" data-value=…>``.

    The SVG is python-barcode's own drawing (rectangles only) of a printable-ASCII value,
    so it is trusted markup; the value itself is escaped.
    """
    if not _PRINTABLE.fullmatch(value):
        raise ValueError("a Code128 value is 1-48 printable ASCII characters")
    svg = Markup(code128_svg(value))  # noqa: S704 - generated SVG, see docstring
    return Markup('<div class="barcode" data-symbology="code128" data-value="{}">{}</div>').format(
        escape(value), svg
    )
