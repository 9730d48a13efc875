"""Templates stay inside the element/class subset documented in letter.css, so a second
(ReportLab) renderer can reproduce every letter."""

from __future__ import annotations

import re

import pytest

from letters.paths import STYLESHEET
from letters.produce import Produced
from letters.templating import documented_subset
from letters.workbench.lint import ATTRIBUTES, Collector
from tests.conftest import JOB_FILES


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
    assert seen.attributes <= ATTRIBUTES
    assert "style" not in ATTRIBUTES and "src" not in ATTRIBUTES and "href" not in ATTRIBUTES


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
