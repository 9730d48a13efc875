"""Where the inserter code goes on the page, checked against what must stay clear.

A :class:`Placement` is the code's area in mm from the page's top-left corner (quiet zones
included); :func:`validate_placement` refuses one off the printable page, in the envelope
window, in the left-margin barcode zone Digipost and printers keep free, or in the letter's
content area (:mod:`letters.geometry`). :func:`describe` is the encoding and placement for
the batch manifest and the cover sheet.

>>> validate_placement(Placement())
>>> Placement().box()
(199.0, 20.0, 205.0, 67.19)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from letters.config import Window
from letters.geometry import A4_MM, CONTENT_MM, DIGIPOST_ZONE_MM, Box, inside, overlaps
from letters.geometry import describe as describe_box
from letters.numbers import inserter_code

#: Modules of the symbol: start C, 8 data characters, check character (11 each), stop (13).
SYMBOL_MODULES = 123
#: Code128 asks for a quiet zone of at least 10 modules before and after the symbol.
QUIET_MODULES = 10
#: Printers leave a border unprinted; keep the code this far inside the sheet's edge (the
#: bars are drawn, not text, so they may come nearer the edge than text may).
BORDER_MM = 4.0


@dataclass(frozen=True)
class Placement:
    """Where the code is drawn, in mm from the page's top-left corner.

    ``(x_mm, y_mm_from_top)`` is the top-left corner of the code's area, quiet zones
    included. ``rotate`` turns the symbol to run down the page (bars horizontal, start
    character at the top), for a margin that is tall but narrow.

    The default is that: the right margin, x 199-205 mm, y 20-67 mm. The letter's content
    ends at x 192 mm (18 mm right margin) on every page; 5 mm remain to the sheet's edge.
    """

    x_mm: float = 199.0
    y_mm_from_top: float = 20.0
    module_mm: float = 0.33
    height_mm: float = 6.0
    rotate: bool = True

    @property
    def length_mm(self) -> float:
        """The symbol's length along its reading direction, quiet zones included."""
        return (SYMBOL_MODULES + 2 * QUIET_MODULES) * self.module_mm

    def box(self) -> Box:
        """The code's area: (left, top, right, bottom) in mm from the top-left corner."""
        across, along = (
            (self.height_mm, self.length_mm) if self.rotate else (self.length_mm, self.height_mm)
        )
        return (self.x_mm, self.y_mm_from_top, self.x_mm + across, self.y_mm_from_top + along)


DEFAULT_PLACEMENT = Placement()


def _mm(box: Box) -> str:
    return describe_box(box, decimals=1)


def validate_placement(
    placement: Placement,
    page_w_mm: float = A4_MM[0],
    page_h_mm: float = A4_MM[1],
    window: Window | None = None,
) -> None:
    """Raise :class:`ValueError` naming what the placement's area breaks: the printable
    page, the envelope window, the left-margin barcode zone, or the letter's content area.

    >>> validate_placement(Placement(x_mm=100, y_mm_from_top=50))
    Traceback (most recent call last):
        ...
    ValueError: the envelope window (x 15.0–120.0 mm, y 44.0–79.0 mm) overlaps the inserter code at x 100.0–106.0 mm, y 50.0–97.2 mm
    """  # noqa: E501
    p = placement
    if not 0.25 <= p.module_mm <= 0.6:
        raise ValueError(f"module width: {p.module_mm} mm is not in 0.25-0.6 mm")
    if not 4.0 <= p.height_mm <= 15.0:
        raise ValueError(f"bar height: {p.height_mm} mm is not in 4-15 mm")
    box = p.box()
    printable = (BORDER_MM, BORDER_MM, page_w_mm - BORDER_MM, page_h_mm - BORDER_MM)
    if not inside(box, printable):
        raise ValueError(
            f"the printable page ({_mm(printable)}, {BORDER_MM:g} mm from the edge) does not "
            f"hold the inserter code at {_mm(box)}"
        )
    w = window or Window()
    zones: tuple[tuple[str, Box], ...] = (
        ("the envelope window", (w.left, w.top, w.left + w.width, w.top + w.height)),
        ("the left-margin barcode zone", DIGIPOST_ZONE_MM),
        ("the letter's content area", CONTENT_MM),
    )
    for name, zone in zones:
        if overlaps(box, zone):
            raise ValueError(f"{name} ({_mm(zone)}) overlaps the inserter code at {_mm(box)}")


@lru_cache(maxsize=64)
def validate_for_page(
    placement: Placement, page_w_mm: float, page_h_mm: float, window: tuple[float, ...]
) -> None:
    """:func:`validate_placement` for a page size and a window ``(left, top, width,
    height)``, remembered: every page of a batch asks again."""
    left, top, width, height = window
    validate_placement(
        placement, page_w_mm, page_h_mm, Window(left=left, top=top, width=width, height=height)
    )


def describe(placement: Placement = DEFAULT_PLACEMENT) -> dict[str, Any]:
    """The encoding and placement, for the batch manifest and the cover sheet (JSON-ready).

    >>> describe()['summary']
    'Code128 set C, 16 digits BBBB LLLLLL PP MM E C: batch mod 10000, letter in batch, page, pages, 1 on last page, Luhn check; vertical at x 199.0–205.0 mm, y 20.0–67.2 mm from top-left'
    """  # noqa: E501
    box = placement.box()
    return {
        "name": "inserter control code",
        "symbology": "Code128",
        "code_set": "C",
        "length": inserter_code.LENGTH,
        "fields": [
            {"name": name, "digits": f"{at + 1}-{at + size}", "meaning": meaning}
            for name, at, size, meaning in inserter_code.FIELDS
        ],
        "example": inserter_code.encode(42, 17, 1, 3),
        "placement": {
            "x_mm": round(box[0], 2),
            "y_mm_from_top": round(box[1], 2),
            "width_mm": round(box[2] - box[0], 2),
            "height_mm": round(box[3] - box[1], 2),
            "orientation": "vertical, start at the top" if placement.rotate else "horizontal",
            "module_mm": placement.module_mm,
            "bar_height_mm": placement.height_mm,
            "quiet_zone_modules": QUIET_MODULES,
        },
        "pages": "every page of every letter; no human-readable text",
        "summary": (
            "Code128 set C, 16 digits BBBB LLLLLL PP MM E C: batch mod 10000, letter in batch, "
            "page, pages, 1 on last page, Luhn check; "
            f"{'vertical' if placement.rotate else 'horizontal'} at {_mm(box)} from top-left"
        ),
    }
