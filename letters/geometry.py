"""Page geometry shared by the print-safety check and the print batch: A4 in millimetres,
the zones a letter must keep free, and boxes measured from the page's top-left corner.

A :data:`Box` is ``(left, top, right, bottom)`` in mm from the top-left corner, as a
person measures a printed page with a ruler. PDF coordinates (points from the bottom-left)
are converted at the edges with :func:`to_pdf` and :func:`from_pdf`.

>>> overlaps((0, 0, 10, 10), (5, 5, 15, 15)), overlaps((0, 0, 10, 10), (10, 0, 20, 10))
(True, False)
>>> describe((15, 44, 120, 79))
'x 15–120 mm, y 44–79 mm'
"""

from __future__ import annotations

from collections.abc import Sequence

#: Points per millimetre (PDF user space is 1/72 inch).
MM = 72 / 25.4
#: A4 portrait, (width, height).
A4_MM = (210.0, 297.0)
A4_PT = (A4_MM[0] * MM, A4_MM[1] * MM)

Box = tuple[float, float, float, float]

#: Digipost's print rule: x 0–15 mm, y 95–175 mm from the top stays free on every page
#: (their printers put a barcode there).
DIGIPOST_ZONE_MM: Box = (0.0, 95.0, 15.0, 175.0)
#: Printers leave an edge unprinted; text within this distance of the sheet's edge is lost.
EDGE_MM = 5.0
#: Where a letter's content prints: the @page margins of letters/templates/letter.css
#: (12 18 20 22 mm) with the footer, which sits in the bottom margin and ends about
#: 287.5 mm from the top.
CONTENT_MM: Box = (22.0, 12.0, 192.0, 288.0)


def overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two boxes (in the same coordinates) share any area."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(inner: Sequence[float], outer: Sequence[float], slack: float = 0.0) -> bool:
    """Whether ``inner`` lies within ``outer`` (``slack`` allowed on every side).

    >>> inside((1, 1, 2, 2), (0, 0, 3, 3)), inside((1, 1, 4, 2), (0, 0, 3, 3))
    (True, False)
    """
    return (
        inner[0] >= outer[0] - slack
        and inner[1] >= outer[1] - slack
        and inner[2] <= outer[2] + slack
        and inner[3] <= outer[3] + slack
    )


def to_pdf(page_height_pt: float, box_mm: Sequence[float]) -> tuple[float, float, float, float]:
    """A box in mm from the top-left → PDF points ``(left, bottom, right, top)``."""
    left, top, right, bottom = box_mm
    return (left * MM, page_height_pt - bottom * MM, right * MM, page_height_pt - top * MM)


def from_pdf(page_height_pt: float, rect_pt: Sequence[float]) -> Box:
    """PDF points ``(left, bottom, right, top)`` → a box in mm from the top-left."""
    left, bottom, right, top = rect_pt
    return (
        left / MM,
        (page_height_pt - top) / MM,
        right / MM,
        (page_height_pt - bottom) / MM,
    )


def describe(box_mm: Sequence[float], decimals: int = 0) -> str:
    """A box as a person reads it: ``x 15–120 mm, y 44–79 mm``."""
    f = f".{decimals}f"
    return f"x {box_mm[0]:{f}}–{box_mm[2]:{f}} mm, y {box_mm[1]:{f}}–{box_mm[3]:{f}} mm"
