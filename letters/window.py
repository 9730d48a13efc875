"""The address block behind the envelope window: the recipient's lines, each fitted to the
window's width with the letter font's own metrics, and whether they fit in its height.

Posten's addressing rules for letter mail, as Norwegian print vendors restate them, want
the address in 10–12 pt, in one font and size throughout, the postal code and place
together on one line; letters abroad end with the country in Norwegian capitals on a line
of its own (the domain notes). So the window text is never shrunk below the stylesheet's
10 pt: a name or street line too wide for the window is broken onto a further line, at a
space, after a hyphen or solidus, or (a single word wider than the window) between two
characters; the postal code and place and the country are never broken. When the lines
that result do not fit in the window's height, :func:`problems` refuses the job at intake,
naming the field, so that whatever the contract accepts can be printed.

The widths are those of the font file the stylesheet names for ``p.recipient`` (Noto Sans
Regular), read with fontTools as ReportLab reads them (advance widths, no kerning; the
reference renderer's kerning narrows these lines, and :data:`SAFETY_MM` is kept free
besides). The font is read on first use, so importing this module stays light.

>>> fit("Anne-Marie Fjeldstad-Haugland", 60)
['Anne-Marie', 'Fjeldstad-', 'Haugland']
>>> fit("Storgata 12-14", 1000)
['Storgata 12-14']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from babel import Locale

from letters.codes import Code
from letters.config import Settings, Window
from letters.geometry import CONTENT_MM, MM
from letters.paths import ASSET_DIR
from letters.refusals import FieldError

if TYPE_CHECKING:
    from letters.job import Debtor

#: The recipient's type in letters/templates/letter.css (``p.recipient``, ``html``): the
#: font file, size (pt) and line height (a test holds the stylesheet to these).
FONT_FILE = "NotoSans-Regular.ttf"
FONT_SIZE_PT = 10.0
LINE_HEIGHT = 1.25
#: The address column of the page-1 head (``table.head td.brand``, the column ``td.address``
#: shares), from the content's left edge.
COLUMN_MM = 98.0
#: Where the first recipient line's box starts, mm from the page top: the @page top margin
#: (12), the head's first row (28), ``td.address`` padding (4.5), the return-address line
#: (6.5 pt × 1.35) and its bottom margin (1.5).
FIRST_LINE_TOP_MM = 12 + 28 + 4.5 + 6.5 * 1.35 / MM + 1.5
#: Kept free at the window's right and bottom edges: the reference renderer's kerning and
#: glyphs reaching a little outside their line box.
SAFETY_MM = 1.0

_SPACE = re.compile(r"[ \t\n\r\f]+")  # what HTML collapses to one space
#: A line may break after a hyphen or solidus when a letter follows ("Fjeldstad-|Haugland",
#: "Transport/|Logistikk", not "12-|14").
_AFTER_HYPHEN = re.compile(r"(?<=[-/\u2010\u2013])(?=[^\W\d_])")


@lru_cache(maxsize=1)
def _advances() -> tuple[dict[int, float], float]:
    """Code point → advance width (em) in the recipient's font, and the .notdef width."""
    from fontTools.ttLib import TTFont

    font = TTFont(ASSET_DIR / "fonts" / FONT_FILE, lazy=True)
    try:
        per_em = font["head"].unitsPerEm
        metrics = font["hmtx"].metrics
        widths = {cp: metrics[glyph][0] / per_em for cp, glyph in font.getBestCmap().items()}
        return widths, metrics[font.getGlyphOrder()[0]][0] / per_em
    finally:
        font.close()


def width_pt(text: str, size: float = FONT_SIZE_PT) -> float:
    """The printed width of ``text`` in the recipient's font at ``size`` pt."""
    widths, notdef = _advances()
    return sum(widths.get(ord(ch), notdef) for ch in text) * size


def _pieces(text: str) -> Iterator[tuple[str, str]]:
    """(piece, what follows it: " " or "") for the unbreakable pieces of ``text``."""
    for word in _SPACE.split(text.strip()):
        parts = _AFTER_HYPHEN.split(word)
        for i, part in enumerate(parts):
            yield part, ("" if i < len(parts) - 1 else " ")


def _split_word(word: str, limit: float, measure: Callable[[str], float]) -> list[str]:
    """A word wider than ``limit`` cut between characters (never before a combining mark)."""
    lines = []
    while measure(word) > limit:
        cut = 1
        for i in range(2, len(word)):
            if unicodedata.category(word[i])[0] == "M":
                continue
            if measure(word[:i]) > limit:
                break
            cut = i
        while cut < len(word) and unicodedata.category(word[cut])[0] == "M":
            cut += 1
        lines.append(word[:cut])
        word = word[cut:]
    return [*lines, word] if word else lines


def fit(text: str, limit_pt: float, measure: Callable[[str], float] = width_pt) -> list[str]:
    """``text`` broken into lines no wider than ``limit_pt``, greedily as CSS breaks lines:
    at spaces, after a hyphen or solidus before a letter, and inside a word only when the
    word alone is wider than a line. Joined with spaces, the lines read as ``text`` does
    with its white space collapsed (a line ending in "-" or "/" is followed by no space)."""
    lines: list[str] = []
    line, gap = "", ""
    for piece, after in _pieces(text):
        trial = line + gap + piece if line else piece
        if measure(trial) <= limit_pt:
            line, gap = trial, after
            continue
        if line:
            lines.append(line)
        *full, line = _split_word(piece, limit_pt, measure) or [""]
        lines.extend(full)
        gap = after
    if line:
        lines.append(line)
    return lines


#: The running footer (``.footer`` in letter.css): its type size and width, and room for
#: the label before the reference ("Referanse", "Reference"). The footer's line
#: "Referanse AX-2026-500003 · <name>" must stay one line: a second would push the page
#: number into the printer's edge.
FOOTER_PT = 7.0
FOOTER_MM = 170.0
FOOTER_LABEL_MM = 15.0


def footer_problems(name: str, reference: str) -> list[FieldError]:
    """A refusal for a name too wide for the line every page's footer prints it on."""
    used = width_pt(f"{reference} · {name}", FOOTER_PT) / MM + FOOTER_LABEL_MM
    room = FOOTER_MM - SAFETY_MM
    if used <= room:
        return []
    return [
        FieldError(
            field="debtor.name",
            code=Code.NAME_DOES_NOT_FIT,
            reason=f"too wide for the footer line every page prints it on with the reference "
            f"({used:.0f} mm at {FOOTER_PT:.0f} pt, at most {room:.0f} mm)",
        )
    ]


@dataclass(frozen=True)
class Part:
    """One part of the recipient block: the job field it comes from, its text, and whether
    it may be broken over lines (the postal code and place and the country may not)."""

    field: str
    text: str
    breakable: bool = True


def block(debtor: Debtor) -> list[Part]:
    """The recipient block as Posten reads it: name, street lines, postal code and place
    (the place in capitals in Norway), and abroad the country in Norwegian capitals."""
    addr = debtor.address
    out = [Part("debtor.name", debtor.name)]
    out += [Part(f"debtor.address.lines[{i}]", line) for i, line in enumerate(addr.lines)]
    place = addr.city.upper() if addr.country == "NO" else addr.city
    out.append(Part("debtor.address.city", f"{addr.postal_code} {place}", breakable=False))
    if addr.country != "NO":
        out.append(Part("debtor.address.country", country_name(addr.country), breakable=False))
    return out


def country_name(country: str) -> str:
    """The country as a letter from Norway names it: in Norwegian capitals (SVERIGE)."""
    return str(Locale("nb").territories[country]).upper()


def line_width_pt(window: Window) -> float:
    """How wide a recipient line may be: the address column, cut by the window's right edge."""
    right = min(CONTENT_MM[0] + COLUMN_MM, window.left + window.width)
    return (right - CONTENT_MM[0] - SAFETY_MM) * MM


def capacity(window: Window) -> int:
    """How many recipient lines the window shows whole."""
    line_mm = FONT_SIZE_PT * LINE_HEIGHT / MM
    room = window.top + window.height - SAFETY_MM - FIRST_LINE_TOP_MM
    return max(0, int(room / line_mm + 1e-9))


def layout(block: list[Part], window: Window) -> list[tuple[Part, list[str]]]:
    """Each part with the window lines it takes."""
    limit = line_width_pt(window)
    return [(p, fit(p.text, limit) if p.breakable else [" ".join(p.text.split())]) for p in block]


def lines(block: list[Part], window: Window) -> tuple[str, ...]:
    """The recipient block as printed in the window, one string a line."""
    return tuple(line for _, taken in layout(block, window) for line in taken)


def problems(block: list[Part], settings: Settings) -> list[FieldError]:
    """Why the block cannot be printed in the envelope window (none when it can)."""
    window = settings.window
    limit = line_width_pt(window)
    laid = layout(block, window)
    found = []
    for part, taken in laid:
        if not part.breakable and width_pt(taken[0]) > limit:
            found.append(
                FieldError(
                    field=part.field,
                    code=Code.ADDRESS_DOES_NOT_FIT,
                    reason=f"{taken[0]!r} is wider than the envelope window "
                    f"({width_pt(taken[0]) / MM:.0f} mm at {FONT_SIZE_PT:.0f} pt, "
                    f"at most {limit / MM:.0f} mm) and may not be broken over two lines",
                )
            )
    used, room = sum(len(taken) for _, taken in laid), capacity(window)
    if used > room and not found:
        # blame the part broken over most lines: the name first, then the street lines
        part, taken = max(laid, key=lambda pt: len(pt[1]) if pt[0].breakable else 0)
        code = Code.NAME_DOES_NOT_FIT if part.field == "debtor.name" else Code.ADDRESS_DOES_NOT_FIT
        found.append(
            FieldError(
                field=part.field,
                code=code,
                reason=f"the address needs {used} lines in the envelope window at "
                f"{FONT_SIZE_PT:.0f} pt and it holds {room}; this field alone takes "
                f"{len(taken)}: shorten it",
            )
        )
    return found
