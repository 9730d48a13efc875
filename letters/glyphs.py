r"""Which characters the letter fonts can draw (glyphs), and which are invisible.

Text that reaches the page (names, address lines, invoice numbers, descriptions, fee
labels) must be drawable by the bundled fonts, or the debtor would see empty boxes, and
must not carry invisible control or formatting characters (a right-to-left override can
make a printed name or amount read differently from what was sent).

>>> unprintable("Bjørg Ågot Æsøy-Kløvstad")
[]
>>> unprintable("Kari\u202eNordmann")
['U+202E (invisible control or formatting character)']
>>> unprintable("王芳")
["'王' U+738B (not in the letter fonts)", "'芳' U+82B3 (not in the letter fonts)"]
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from fontTools.ttLib import TTFont

from letters.paths import ASSET_DIR

#: Control, format, surrogate, private-use, unassigned and line/paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@lru_cache(maxsize=1)
def font_coverage() -> frozenset[int]:
    """Code points every bundled letter font can draw."""
    cover: set[int] | None = None
    for path in sorted((ASSET_DIR / "fonts").glob("*.ttf")):
        font = TTFont(path, lazy=True)
        cmap = set(font.getBestCmap())
        font.close()
        cover = cmap if cover is None else cover & cmap
    return frozenset(cover or ())


def unprintable(text: str) -> list[str]:
    """The characters of ``text`` a letter cannot print, each described once."""
    found: list[str] = []
    cover = font_coverage()
    for ch in dict.fromkeys(text):
        code = f"U+{ord(ch):04X}"
        if unicodedata.category(ch) in _INVISIBLE:
            found.append(f"{code} (invisible control or formatting character)")
        elif ord(ch) not in cover:
            found.append(f"{ch!r} {code} (not in the letter fonts)")
    return found
