"""Font subsets that are the same in every letter, so a print batch file stores each once.

ReportLab embeds, per font and document, a subset of at most 256 codes. The first subset
always holds ASCII at its own codes; every other character takes the next free code in the
order the letter first draws it. So two letters that differ in a name (``Søren`` before or
after ``Ærlig``) embed different subsets of the same font, and a batch file of 1,000 letters
carried 1,000 copies of each font.

:class:`RepertoireTTFont` makes the first subset a fixed one: when a document first draws a
character outside ASCII in the font, the whole :data:`REPERTOIRE` (the letters of Norwegian,
Sami and the European names seen most in Norway, and typographic punctuation) is given its
codes first, in its fixed order. A character outside the repertoire (a Cyrillic name, say)
goes to a second subset of its own, so the first one stays the same. Every letter then
embeds one of two first subsets per font, ASCII alone or ASCII and the repertoire, byte for
byte the same in every letter (and its widths and ToUnicode map with it);
:mod:`channels.printing.sharing` keeps one copy of each in a batch file.

The price: a letter that draws any character outside ASCII in a font embeds the repertoire's
glyphs in it (about 100 more, some 4 KB a font) whether it uses them or not.

>>> len(REPERTOIRE), len(set(REPERTOIRE)), all(ord(ch) > 0x7F for ch in REPERTOIRE)
(127, 127, True)
>>> FIRST_SUBSET_CODES >= 1 + len(REPERTOIRE)  # codes 1-31 and 128-255 are free
True
"""

from __future__ import annotations

import threading
from typing import Any

from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]

#: The characters every first subset has (after ASCII), in this order. Never reorder or
#: remove one: that changes every letter's PDF (a renderer revision, letters.bundles).
REPERTOIRE = (
    # Norwegian, Danish, Swedish, German, Icelandic and Finnish
    "æøåÆØÅäöüÄÖÜßéÉðÐþÞ"
    # French, Spanish, Portuguese, Italian, Dutch
    "èÈêÊëËáÁàÀâÂãÃíÍìÌîÎïÏóÓòÒôÔõÕúÚùÙûÛñÑçÇýÝÿ"
    # Northern, Lule and Southern Sami (beyond the above)
    "čČđĐŋŊšŠŧŦžŽ"
    # Polish, Lithuanian, Latvian, Czech, Romanian, Turkish (the most frequent)
    "ąĄćĆęĘłŁńŃśŚźŹżŻėĖūŪřŘăĂșȘțȚğĞıİşŞ"
    # punctuation and signs the templates and debtors' texts use
    "–—‘’‚“”„«»…•·§°€£×½"
)
#: Codes a first subset has for characters outside ASCII (1-31 and 128-255).
FIRST_SUBSET_CODES = 31 + 128


class RepertoireTTFont(TTFont):  # type: ignore[misc]
    """A TrueType font whose first subset in every document is ASCII, or ASCII and
    :data:`REPERTOIRE`; any other character goes to the subsets after it.

    One font object serves every thread of a process (ReportLab's registry is global), and
    writing a document's subsets reads the font file through the face's one read position
    (``seek``, then ``read_ushort``): two threads writing at once read each other's glyphs,
    making a broken subset or an ``IndexError``. So a document's fonts are written under the
    font's lock; laying out and drawing (which only read the face's tables) run in parallel.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._subset_lock = threading.Lock()

    def addObjects(self, doc: Any) -> None:
        with self._subset_lock:
            super().addObjects(doc)

    def splitString(self, text: Any, doc: Any, encoding: str = "utf-8") -> Any:
        state = self._assignState(doc)
        if not getattr(state, "repertoire", False) and _new_codes(self, state, text):
            # before the first character that takes a code of its own
            state.repertoire = True
            super().splitString(REPERTOIRE, doc, encoding)
            # the rest of the first subset stays empty: characters outside the repertoire
            # start a subset of their own
            state.nextCode = max(state.nextCode, 256)
        return super().splitString(text, doc, encoding)


def _new_codes(font: TTFont, state: Any, text: Any) -> bool:
    """Whether drawing ``text`` would give a character a code (ASCII has its own)."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    assigned, glyphs = state.assignments, font.face.charToGlyph
    # ReportLab draws a no-break space as a space
    return any(c not in assigned and c in glyphs and c != 0xA0 for c in map(ord, text))
