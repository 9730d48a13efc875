"""Templates stay inside the element/class subset documented in letter.css, so a second
(ReportLab) renderer can reproduce every letter."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from letters.paths import STYLESHEET
from letters.produce import Produced
from letters.templating import documented_subset
from tests.conftest import JOB_FILES


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.elements: set[str] = set()
        self.classes: set[str] = set()
        self.attributes: set[str] = set()
        self.stack: list[tuple[str, set[str]]] = []
        self.outside_barcode: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        in_barcode = any("barcode" in c for _, c in self.stack)
        if tag in {"svg", "g", "rect"} and not in_barcode:
            self.outside_barcode.add(tag)
        if not in_barcode:
            self.elements.add(tag)
            self.classes |= classes
            self.attributes |= {name for name, _ in attrs}
        if tag not in {"br", "meta", "rect"}:
            self.stack.append((tag, classes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in {"br", "meta", "rect"}:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


@pytest.mark.parametrize("name", [p.stem for p in JOB_FILES])
def test_letter_html_uses_only_the_documented_subset(
    produced: dict[str, Produced], name: str
) -> None:
    subset = documented_subset()
    seen = Collector()
    seen.feed(produced[name].html)
    assert seen.elements <= subset.elements, seen.elements - subset.elements
    assert seen.classes <= subset.classes, seen.classes - subset.classes
    assert not seen.outside_barcode
    # nothing to fetch and no inline styling
    assert seen.attributes <= {
        "class",
        "colspan",
        "lang",
        "charset",
        "name",
        "content",
        "data-label",
        "data-of",
        "data-value",
        "data-symbology",
    }


def test_stylesheet_selects_only_documented_classes() -> None:
    subset = documented_subset()
    rules = STYLESHEET.read_text("utf-8").split("*/", 1)[1]
    used = set(re.findall(r"\.([a-z][a-z0-9-]*)", re.sub(r'"[^"]*"', "", rules)))
    assert used <= subset.classes, used - subset.classes
    for banned in (
        "position: absolute",
        "position: fixed",
        "float:",
        "display: flex",
        "display: grid",
        "transform",
    ):
        assert banned not in rules
