"""A rendered diff between two versions of a template: for every proof case, what the text
says differently and a picture of both versions' pages side by side with the changed
regions marked, so a one-word change is approved without reading forty pages again."""

from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from letters.config import Settings
from letters.templating import TemplateInfo
from letters.workbench.proofs import Proof, proof

#: Side of the squares the pages are compared in, in pixels at the proof resolution.
TILE = 12
MARK = (220, 0, 40)


@dataclass(frozen=True)
class CaseDiff:
    case: str
    title: str
    text: str  # a unified diff of the pages' text ("" when the text is the same)
    picture: Image.Image  # old | new, every page, changed regions marked
    changed_regions: int

    @property
    def changed(self) -> bool:
        return bool(self.text) or self.changed_regions > 0


def _regions(old: Image.Image, new: Image.Image) -> list[tuple[int, int, int, int]]:
    """The tiles where two pages differ, merged into boxes row by row."""
    width, height = max(old.width, new.width), max(old.height, new.height)
    a = Image.new("RGB", (width, height), "white")
    b = a.copy()
    a.paste(old)
    b.paste(new)
    diff = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 40 else 0)
    boxes: list[tuple[int, int, int, int]] = []
    for top in range(0, height, TILE):
        run: tuple[int, int] | None = None
        for left in range(0, width + TILE, TILE):
            hit = left < width and diff.crop((left, top, left + TILE, top + TILE)).getbbox()
            if hit and run is None:
                run = (left, left)
            elif hit and run is not None:
                run = (run[0], left)
            elif run is not None:
                boxes.append((run[0], top, run[1] + TILE, top + TILE))
                run = None
    merged: list[tuple[int, int, int, int]] = []
    for box in boxes:  # join boxes that touch the one above
        for i, m in enumerate(merged):
            if m[3] == box[1] and box[0] <= m[2] and m[0] <= box[2]:
                merged[i] = (min(m[0], box[0]), m[1], max(m[2], box[2]), box[3])
                break
        else:
            merged.append(box)
    return merged


def _side_by_side(old: Proof, new: Proof) -> tuple[Image.Image, int]:
    pages = max(len(old.pages), len(new.pages))
    blank = Image.new("RGB", (old.pages[0].width, old.pages[0].height), (235, 235, 235))
    width, height = blank.width, blank.height
    gap = 16
    picture = Image.new("RGB", (2 * width + 3 * gap, pages * (height + gap) + gap), "white")
    draw = ImageDraw.Draw(picture)
    count = 0
    for i in range(pages):
        a = old.pages[i] if i < len(old.pages) else blank
        b = new.pages[i] if i < len(new.pages) else blank
        y = gap + i * (height + gap)
        picture.paste(a, (gap, y))
        picture.paste(b, (2 * gap + width, y))
        for box in _regions(a, b):
            count += 1
            for x in (gap, 2 * gap + width):
                draw.rectangle(
                    (x + box[0] - 2, y + box[1] - 2, x + box[2] + 2, y + box[3] + 2),
                    outline=MARK,
                    width=3,
                )
    return picture, count


def diff(
    old: TemplateInfo,
    new: TemplateInfo,
    subject: str,
    settings: Settings,
    day: dt.date,
) -> list[CaseDiff]:
    """Every proof case of ``subject`` made from both versions, compared."""
    out = []
    for a, b in zip(
        proof(old, subject, settings, day), proof(new, subject, settings, day), strict=True
    ):
        lines_a = [line for page in a.texts for line in page.splitlines()]
        lines_b = [line for page in b.texts for line in page.splitlines()]
        text = "\n".join(
            difflib.unified_diff(
                lines_a,
                lines_b,
                f"{old.version} {a.case.id}",
                f"{new.version} {b.case.id}",
                n=1,
                lineterm="",
            )
        )
        picture, regions = _side_by_side(a, b)
        out.append(CaseDiff(a.case.id, a.case.title, text, picture, regions))
    return out


def write(diffs: list[CaseDiff], folder: Path) -> list[Path]:
    """Per case ``<case>.diff`` (text) and ``<case>.png`` (old | new), into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for d in diffs:
        text = folder / f"{d.case}.diff"
        text.write_text(d.text + ("\n" if d.text else ""), "utf-8")
        png = folder / f"{d.case}.png"
        d.picture.save(png)
        written += [text, png]
    return written
