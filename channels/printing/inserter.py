"""The inserter control code printed on every page of a print batch.

The print vendor's inserting machine reads it to know where each letter (one envelope's
set of sheets) starts and ends. It is a Code128 symbol of 16 digits, all in Code128 set C
(two digits per symbol character), so the whole symbol is 123 modules wide:

=======  ======  =================================================================
digits   field   meaning
=======  ======  =================================================================
1-4      batch   the batch sequence number modulo 10000
5-10     letter  the letter's sequence number within the batch, 1-999999
11-12    page    this page's number within the letter, 1-99
13-14    pages   the letter's page count, 1-99
15       end     end-of-set flag: 1 on the letter's last page, 0 on every other
16       check   Luhn (mod 10) check digit over digits 1-15
=======  ======  =================================================================

The check digit is not there for the scanner (Code128 carries its own check symbol) but
because an even number of digits keeps the symbol in set C: 15 digits would need a switch
to set B for the last digit, and the symbol would be 134 modules, not 123. It also lets an
operator's keyed-in code be checked.

The symbol's modules come from :func:`letters.barcodes.set_c`, a set-C-only encoder over
python-barcode's pattern table: python-barcode 0.16 itself drops a leading ``99`` pair (it
takes data value 99 after the start character for a "switch to set C" and folds it into
the start), so batch 9900-9999 would scan as 14 digits.

The verbs follow python-stdnum: :func:`compact`, :func:`calc_check_digit`,
:func:`validate`, :func:`is_valid`, :func:`encode`, :func:`decode`.

>>> encode(42, 17, 1, 3)
'0042000017010307'
>>> decode('0042000017010307')
Control(batch=42, letter=17, page=1, pages=3)
>>> decode(encode(42, 17, 3, 3)).last
True
>>> encode(10042, 17, 3, 3)  # the batch sequence wraps at 10000
'0042000017030313'
>>> encode(42, 0, 1, 1)
Traceback (most recent call last):
    ...
ValueError: letter: 0 is not in 1-999999
>>> decode('0042000017010315')
Traceback (most recent call last):
    ...
ValueError: end-of-set flag: 1 on page 1 of 3 (1 only on the last page)
>>> decode('0042000017010305')
Traceback (most recent call last):
    ...
ValueError: check digit: 5, expected 7
>>> is_valid('0042 000017 01 03 0 7')
True

:func:`stamp_into` appends a letter's pages to a batch PDF with the code drawn on each
page, as black vector rectangles in one extra content stream per page (no fonts, no
images). Where the code goes is a :class:`Placement`; :func:`validate_placement` refuses
one in the envelope window, in the left-margin barcode zone Digipost and printers keep
free, or in the letter's content area, and :func:`clear_of_content` checks a rendered
letter. :func:`describe` is the encoding and placement for the batch manifest.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, overload

import pikepdf
import pypdfium2 as pdfium
from stdnum import luhn

from letters.barcodes import set_c
from letters.config import Window
from letters.renderers.safety import DIGIPOST_ZONE_MM

MM = 72 / 25.4
LENGTH = 16
#: Modules of the symbol: start C, 8 data characters, check character (11 each), stop (13).
SYMBOL_MODULES = 123
#: Code128 asks for a quiet zone of at least 10 modules before and after the symbol.
QUIET_MODULES = 10
#: A4 portrait in mm.
A4_MM = (210.0, 297.0)
#: Where a letter prints, (left, top, right, bottom) in mm from the page's top-left corner:
#: the @page margins of letters/templates/letter.css (12 18 20 22 mm) with the footer, which
#: sits in the bottom margin and ends about 287.5 mm from the top.
CONTENT_MM = (22.0, 12.0, 192.0, 288.0)
#: Printers leave a border unprinted; keep the code this far inside the sheet's edge.
BORDER_MM = 4.0

_FIELDS = (
    # name, first digit (0-based), digits, meaning
    ("batch", 0, 4, "batch sequence number modulo 10000"),
    ("letter", 4, 6, "letter sequence number within the batch, 1-999999"),
    ("page", 10, 2, "page number within the letter, 1-99"),
    ("pages", 12, 2, "page count of the letter, 1-99"),
    ("end", 14, 1, "end-of-set flag: 1 on the letter's last page, else 0"),
    ("check", 15, 1, "Luhn (mod 10) check digit over digits 1-15"),
)
_RUNS = re.compile("1+")
_TEXT, _FORM = 1, 5
_KIND = {1: "text", 2: "graphics", 3: "image", 4: "shading"}

Box = tuple[float, float, float, float]  # left, top, right, bottom; mm from the top-left


@dataclass(frozen=True)
class Control:
    """One page's control code: the letter's place in the batch and the page's in the letter."""

    batch: int
    letter: int
    page: int
    pages: int

    def __post_init__(self) -> None:
        _in_range("batch", self.batch, 0, 9999)
        _in_range("letter", self.letter, 1, 999_999)
        _in_range("pages", self.pages, 1, 99)
        _in_range("page", self.page, 1, 99)
        if self.page > self.pages:
            raise ValueError(f"page: {self.page} is after the last page ({self.pages})")

    @property
    def last(self) -> bool:
        """The end-of-set flag: this is the letter's last page."""
        return self.page == self.pages

    @property
    def value(self) -> str:
        """The 16 digits in the symbol."""
        digits = f"{self.batch:04d}{self.letter:06d}{self.page:02d}{self.pages:02d}{self.last:d}"
        return digits + calc_check_digit(digits)


def _in_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f"{name}: {value} is not in {low}-{high}")


def compact(value: str) -> str:
    """The code without the spaces and dashes a person may type in it.

    >>> compact(' 0042-000017 01 03 0 7 ')
    '0042000017010307'
    """
    return re.sub(r"[\s-]", "", value)


def calc_check_digit(digits: str) -> str:
    """The Luhn check digit over the first 15 digits.

    >>> calc_check_digit('004200001701030')
    '7'
    """
    return str(luhn.calc_check_digit(digits))


def encode(batch: int, letter: int, page: int, pages: int) -> str:
    """The code for page ``page`` of ``pages`` of letter ``letter`` in batch ``batch``.

    ``batch`` is the batch's running sequence number; only its last four digits are kept.

    >>> encode(7, 123456, 2, 2)
    '0007123456020216'
    >>> encode(-1, 1, 1, 1)
    Traceback (most recent call last):
        ...
    ValueError: batch: -1 is negative
    >>> encode(1, 1, 3, 2)
    Traceback (most recent call last):
        ...
    ValueError: page: 3 is after the last page (2)
    """
    if batch < 0:
        raise ValueError(f"batch: {batch} is negative")
    return Control(batch % 10_000, letter, page, pages).value


def decode(value: str) -> Control:
    """The fields of a code (spaces and dashes ignored); :class:`ValueError` names the
    field that is wrong.

    >>> decode('0007123456020216')
    Control(batch=7, letter=123456, page=2, pages=2)
    >>> decode('0042000017000308')
    Traceback (most recent call last):
        ...
    ValueError: page: 0 is not in 1-99
    >>> decode('42')
    Traceback (most recent call last):
        ...
    ValueError: length: 2 digits, expected 16
    """
    code = compact(value)
    if not code.isascii() or not code.isdigit():
        raise ValueError(f"format: {value!r} is not all digits")
    if len(code) != LENGTH:
        raise ValueError(f"length: {len(code)} digits, expected {LENGTH}")
    expected = calc_check_digit(code[:-1])
    if code[-1] != expected:
        raise ValueError(f"check digit: {code[-1]}, expected {expected}")
    field = {name: int(code[at : at + size]) for name, at, size, _ in _FIELDS}
    control = Control(field["batch"], field["letter"], field["page"], field["pages"])
    if field["end"] != control.last:
        raise ValueError(
            f"end-of-set flag: {field['end']} on page {control.page} of {control.pages} "
            "(1 only on the last page)"
        )
    return control


def validate(value: str) -> str:
    """The compact code if it decodes, else :class:`ValueError` naming the field."""
    decode(value)
    return compact(value)


def is_valid(value: str) -> bool:
    """Whether the code decodes."""
    try:
        decode(value)
    except ValueError:
        return False
    return True


def symbol(value: str) -> str:
    """The Code128 symbol of an even number of digits, all in set C, as modules
    (:func:`letters.barcodes.set_c`).

    >>> len(symbol(encode(9942, 1, 1, 1)))  # python-barcode: 112, the leading 99 lost
    123
    """
    return set_c(value)


# --- where the code goes -------------------------------------------------------------------


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


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _mm(box: Box) -> str:
    return f"x {box[0]:.1f}-{box[2]:.1f} mm, y {box[1]:.1f}-{box[3]:.1f} mm"


def validate_placement(
    placement: Placement,
    page_w_mm: float = A4_MM[0],
    page_h_mm: float = A4_MM[1],
    window: Window | None = None,
) -> None:
    """Raise :class:`ValueError` naming what the placement's area breaks: the printable
    page, the envelope window, the left-margin barcode zone, or the letter's content area.

    >>> validate_placement(Placement())
    >>> validate_placement(Placement(x_mm=100, y_mm_from_top=50))
    Traceback (most recent call last):
        ...
    ValueError: the envelope window (x 15.0-120.0 mm, y 44.0-79.0 mm) overlaps the inserter code at x 100.0-106.0 mm, y 50.0-97.2 mm
    """  # noqa: E501
    p = placement
    if not 0.25 <= p.module_mm <= 0.6:
        raise ValueError(f"module width: {p.module_mm} mm is not in 0.25-0.6 mm")
    if not 4.0 <= p.height_mm <= 15.0:
        raise ValueError(f"bar height: {p.height_mm} mm is not in 4-15 mm")
    box = p.box()
    printable = (BORDER_MM, BORDER_MM, page_w_mm - BORDER_MM, page_h_mm - BORDER_MM)
    if not (
        box[0] >= printable[0]
        and box[1] >= printable[1]
        and box[2] <= printable[2]
        and box[3] <= printable[3]
    ):
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
        if _overlaps(box, zone):
            raise ValueError(f"{name} ({_mm(zone)}) overlaps the inserter code at {_mm(box)}")


@lru_cache(maxsize=64)
def _validated(
    placement: Placement, page_w_mm: float, page_h_mm: float, window: tuple[float, ...]
) -> None:
    left, top, width, height = window
    validate_placement(
        placement, page_w_mm, page_h_mm, Window(left=left, top=top, width=width, height=height)
    )


def describe(placement: Placement = DEFAULT_PLACEMENT) -> dict[str, Any]:
    """The encoding and placement, for the batch manifest and the cover sheet (JSON-ready).

    >>> describe()['summary']
    'Code128 set C, 16 digits BBBB LLLLLL PP MM E C: batch mod 10000, letter in batch, page, pages, 1 on last page, Luhn check; vertical at x 199.0-205.0 mm, y 20.0-67.2 mm from top-left'
    """  # noqa: E501
    box = placement.box()
    return {
        "name": "inserter control code",
        "symbology": "Code128",
        "code_set": "C",
        "length": LENGTH,
        "fields": [
            {"name": name, "digits": f"{at + 1}-{at + size}", "meaning": meaning}
            for name, at, size, meaning in _FIELDS
        ],
        "example": encode(42, 17, 1, 3),
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


# --- clear of the letter -------------------------------------------------------------------


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
                if _overlaps(rect, area_mm):
                    text = " ".join(textpage.get_text_bounded(*bounds).split())
                    found.append(f"page {index + 1}: text {text!r} at {_mm(rect)}")
            for obj in page.get_objects(max_depth=8):
                if obj.type in (_TEXT, _FORM):
                    continue
                rect = _to_mm(obj.get_bounds(), left, top)
                if _overlaps(rect, area_mm):
                    what = _KIND.get(obj.type, "object")
                    found.append(f"page {index + 1}: {what} at {_mm(rect)}")
            textpage.close()
            page.close()
    finally:
        doc.close()
    return found


def _to_mm(bounds: tuple[float, float, float, float], left: float, top: float) -> Box:
    """PDF (left, bottom, right, top) in points → (left, top, right, bottom) in mm from the
    page's top-left corner."""
    x0, y0, x1, y1 = bounds
    return ((x0 - left) / MM, (top - y1) / MM, (x1 - left) / MM, (top - y0) / MM)


# --- stamping ------------------------------------------------------------------------------

_PUSH = b"q\n"


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


def _check_pages(
    source: pikepdf.Pdf, batch: int, letter: int, placement: Placement, window: Window | None
) -> list[str]:
    """Every page's code, once every page is known to take one (else ValueError)."""
    pages = len(source.pages)
    if batch < 0:
        raise ValueError(f"batch: {batch} is negative")
    _in_range("letter", letter, 1, 999_999)
    if not 1 <= pages <= 99:
        raise ValueError(f"pages: the letter has {pages} pages, not 1-99")
    w = window or Window()
    window_box = (w.left, w.top, w.width, w.height)
    for number, page in enumerate(source.pages, 1):
        if page.rotation % 360:
            raise ValueError(f"page {number}: rotated by {page.rotation}°; cannot place the code")
        box = pikepdf.Rectangle(page.mediabox)
        _validated(placement, round(box.width / MM, 1), round(box.height / MM, 1), window_box)
    return [encode(batch, letter, n, pages) for n in range(1, pages + 1)]


def _stamp(page: pikepdf.Page, value: str, placement: Placement) -> None:
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
    this returns. Memory grows with ``target`` (about 0.1 MB per one-page letter), so the
    batch closer saves and starts a new ``target`` every few hundred letters.
    ``window`` defaults to the standard C5 window of :class:`letters.config.Window`; pass
    the configured one (``settings.window``) when it differs.
    """
    values = _check_pages(source, batch, letter, placement, window)
    for page, value in zip(source.pages, values, strict=True):
        target.pages.append(page)
        _stamp(target.pages[-1], value, placement)
    return len(values)


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
        values = _check_pages(pdf, batch, letter, placement, window)
        for page, value in zip(pdf.pages, values, strict=True):
            _stamp(page, value, placement)
        return pdf
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        stamp(doc, batch, letter, placement, window)
        out = io.BytesIO()
        doc.save(out)
        return out.getvalue()
