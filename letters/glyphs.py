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
>>> unprintable("Ka\u034fri")  # a combining grapheme joiner: drawn as nothing
['U+034F (invisible control or formatting character)']

A word whose letters come from more than one of the Latin, Greek and Cyrillic scripts is a
look-alike ("Nоrdmann" with a Cyrillic о): it would print like another name.

>>> mixed_scripts("Kari N\u043erdmann")
['Nоrdmann (Cyrillic, Latin)']
>>> mixed_scripts("Ольга Nordmann-Øye")
[]
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from fontTools.ttLib import TTFont

from letters.paths import ASSET_DIR

#: Control, format, surrogate, private-use, unassigned and line/paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Unicode's Default_Ignorable_Code_Point ranges outside those categories (combining
#: grapheme joiner, Hangul fillers, Khmer inherent vowels, Mongolian and other variation
#: selectors): characters a renderer draws as nothing.
_IGNORABLE = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0x1D173, 0x1D17A),
    (0xE0100, 0xE01EF),
)
#: The scripts whose letters look alike.
_LOOKALIKE_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")


def _invisible(ch: str) -> bool:
    code = ord(ch)
    return unicodedata.category(ch) in _INVISIBLE or any(a <= code <= b for a, b in _IGNORABLE)


def _script(ch: str) -> str | None:
    name = unicodedata.name(ch, "")
    return next((s for s in _LOOKALIKE_SCRIPTS if name.startswith(s + " ")), None)


def mixed_scripts(text: str) -> list[str]:
    """The words of ``text`` that mix Latin, Greek and Cyrillic letters, with the scripts."""
    found = []
    for word in "".join(ch if ch.isalpha() else " " for ch in text).split():
        scripts = {s for s in map(_script, word) if s}
        if len(scripts) > 1:
            found.append(f"{word} ({', '.join(sorted(s.title() for s in scripts))})")
    return found


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
        if _invisible(ch):
            found.append(f"{code} (invisible control or formatting character)")
        elif ord(ch) not in cover:
            found.append(f"{ch!r} {code} (not in the letter fonts)")
    return found
