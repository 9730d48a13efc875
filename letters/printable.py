r"""Which characters a letter can print.

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
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from fontTools.ttLib import TTFont

from letters.paths import ASSET_DIR

if TYPE_CHECKING:
    from letters.job import Job

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


def _printed_fields(job: Job) -> Iterator[tuple[str, str]]:
    yield "creditor.name", job.creditor.name
    yield "debtor.name", job.debtor.name
    address = job.debtor.address
    for i, line in enumerate(address.lines):
        yield f"debtor.address.lines[{i}]", line
    yield "debtor.address.postal_code", address.postal_code
    yield "debtor.address.city", address.city
    for i, claim in enumerate(job.claims):
        yield f"claims[{i}].invoice_number", claim.invoice_number
        if claim.description:
            yield f"claims[{i}].description", claim.description
        for j, fee in enumerate(claim.fees):
            if fee.label:
                yield f"claims[{i}].fees[{j}].label", fee.label


def check(job: Job) -> list[tuple[str, str]]:
    """(field, reason) for every printed field holding a character the letter cannot print."""
    problems = []
    for field, text in _printed_fields(job):
        bad = unprintable(text)
        if bad:
            problems.append((field, "cannot be printed: " + ", ".join(bad[:5])))
    return problems
