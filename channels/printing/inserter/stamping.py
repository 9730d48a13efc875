"""Drawing the inserter code on a letter's pages as they join a batch PDF.

The code is a Code128 symbol of the 16 digits of :mod:`letters.numbers.inserter_code`, all
in set C (two digits per symbol character), 123 modules wide. Its modules come from
:func:`letters.barcodes.set_c`, a set-C-only encoder over python-barcode's pattern table:
python-barcode 0.16 itself drops a leading ``99`` pair (it takes data value 99 after the
start character for a "switch to set C" and folds it into the start), so batch 9900-9999
would scan as 14 digits.

It is drawn as black vector rectangles in one extra content stream per page (no fonts, no
images), where the :class:`~channels.printing.inserter.placement.Placement` says.

>>> len(symbol(inserter_code.encode(9942, 1, 1, 1)))  # python-barcode: 112, the leading 99 lost
123
"""

from __future__ import annotations

import re

import pikepdf

from channels.printing.inserter.placement import (
    DEFAULT_PLACEMENT,
    QUIET_MODULES,
    Placement,
    validate_for_page,
)
from letters.barcodes import set_c
from letters.config import Window
from letters.geometry import MM
from letters.numbers import inserter_code

_RUNS = re.compile("1+")
_PUSH = b"q\n"


def symbol(value: str) -> str:
    """The Code128 symbol of an even number of digits, all in set C, as modules
    (:func:`letters.barcodes.set_c`)."""
    return set_c(value)


def bars(value: str, placement: Placement, page_box: tuple[float, float, float, float]) -> bytes:
    """The content-stream operators that draw the code: one filled path of rectangles.

    ``page_box`` is the page's media box (llx, lly, urx, ury) in points. The operators
    first close the ``q`` put before the page's own content, so they start from the
    page's initial graphics state, and are marked as an artifact (not part of the text).
    """
    pattern = symbol(value)
    m = placement.module_mm * MM
    across = placement.height_mm * MM
    left = page_box[0] + placement.x_mm * MM
    top = page_box[3] - placement.y_mm_from_top * MM
    quiet = QUIET_MODULES * m
    ops = []
    for run in _RUNS.finditer(pattern):
        start = quiet + run.start() * m
        size = len(run.group()) * m
        if placement.rotate:
            ops.append(f"{left:.3f} {top - start - size:.3f} {across:.3f} {size:.3f} re")
        else:
            ops.append(f"{left + start:.3f} {top - across:.3f} {size:.3f} {across:.3f} re")
    return ("Q\n/Artifact BMC\nq\n0 g\n" + "\n".join(ops) + "\nf\nQ\nEMC\n").encode("ascii")


def page_codes(
    source: pikepdf.Pdf, batch: int, letter: int, placement: Placement, window: Window | None
) -> list[str]:
    """The code of every page of the letter ``source``, once every page is known to take
    one where ``placement`` says (else :class:`ValueError`, naming what is wrong)."""
    pages = len(source.pages)
    if batch < 0:
        raise ValueError(f"batch: {batch} is negative")
    if not 1 <= letter <= 999_999:
        raise ValueError(f"letter: {letter} is not in 1-999999")
    if not 1 <= pages <= 99:
        raise ValueError(f"pages: the letter has {pages} pages, not 1-99")
    w = window or Window()
    window_box = (w.left, w.top, w.width, w.height)
    for number, page in enumerate(source.pages, 1):
        if page.rotation % 360:
            raise ValueError(f"page {number}: rotated by {page.rotation}°; cannot place the code")
        box = pikepdf.Rectangle(page.mediabox)
        validate_for_page(
            placement, round(box.width / MM, 1), round(box.height / MM, 1), window_box
        )
    return [inserter_code.encode(batch, letter, n, pages) for n in range(1, pages + 1)]


def stamp_page(page: pikepdf.Page, value: str, placement: Placement) -> None:
    """Draw the code ``value`` on ``page`` (one more content stream; the page's own content
    is wrapped in ``q … Q`` so it cannot change how the bars are drawn)."""
    box = pikepdf.Rectangle(page.mediabox)
    page.contents_add(_PUSH, prepend=True)
    page.contents_add(bars(value, placement, (box.llx, box.lly, box.urx, box.ury)))


def stamp_into(
    target: pikepdf.Pdf,
    source: pikepdf.Pdf,
    batch: int,
    letter: int,
    placement: Placement = DEFAULT_PLACEMENT,
    window: Window | None = None,
) -> int:
    """Append every page of the letter ``source`` to the batch ``target``, each with its
    code drawn on, and return the number of pages appended. ``source`` is not changed.

    Nothing is appended when a page cannot take the code (ValueError). The pages, fonts
    and images are copied into ``target`` at once, so ``source`` may be closed as soon as
    this returns. Memory grows with ``target`` (about 0.1 MB per one-page letter; 0.03 MB
    when the batch closer shares the fonts, :mod:`channels.printing.sharing`), so the
    batch closer saves and starts a new ``target`` every ``letters_per_file`` letters.
    ``window`` defaults to the standard C5 window of :class:`letters.config.Window`; pass
    the configured one (``settings.window``) when it differs.
    """
    values = page_codes(source, batch, letter, placement, window)
    for page, value in zip(source.pages, values, strict=True):
        target.pages.append(page)
        stamp_page(target.pages[-1], value, placement)
    return len(values)
