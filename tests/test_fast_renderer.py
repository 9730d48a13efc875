"""The fast (ReportLab) renderer against the WeasyPrint reference: for every fixture, the same
HTML gives the same text on the same pages, the address, payment box, login box and barcode
in the same place, embedded fonts, a barcode that scans and a letter that passes the
print-safety check. Templates outside the documented subset are refused by name."""

from __future__ import annotations

import json
import pickle
import re
import unicodedata
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from letters import templating
from letters.barcodes import barcode_html
from letters.codes import Code
from letters.compose import Composed, compose
from letters.config import Settings
from letters.produce import window_text
from letters.renderers import RenderError
from letters.renderers.fast.renderer import FastRenderer
from letters.renderers.fast.style import UnsupportedStyle
from letters.renderers.fast.tree import UnsupportedTemplate
from letters.renderers.registry import get_renderer
from letters.renderers.safety import check
from letters.validation import parse
from tests.conftest import FIXTURE_DATE, JOB_FILES
from tests.pdftext import MM, barcodes, page_texts

NAMES = [p.stem for p in JOB_FILES]
SETTINGS = Settings(clock_date=FIXTURE_DATE)
TITLES = {
    "nb": ("Betalingsinformasjon", "Logg inn på Min side"),
    "en": ("Payment details", "Log in to My page"),
}


@dataclass
class Pair:
    composed: Composed
    html: str
    reference: bytes
    fast: bytes


@pytest.fixture(scope="module")
def pairs() -> dict[str, Pair]:
    """Every fixture's HTML rendered once by each renderer."""
    reference, fast = get_renderer("weasyprint"), get_renderer("fast")
    out = {}
    for path in JOB_FILES:
        composed = compose(parse(json.loads(path.read_text("utf-8"))), SETTINGS)
        html = templating.render_html(composed.letter)
        out[path.stem] = Pair(composed, html, reference.render(html).pdf, fast.render(html).pdf)
    return out


def _find(pdf: bytes, text: str) -> tuple[int, float, float]:
    """(page, left mm, top mm) of the first character of the first ``text`` in the PDF."""
    doc = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(doc)):
            page = doc[index]
            textpage = page.get_textpage()
            found = textpage.search(text, match_case=True).get_next()
            if found:
                left, _, _, top = textpage.get_charbox(found[0])
                return index, left / MM, (page.get_height() - top) / MM
        raise AssertionError(f"{text!r} is not in the PDF")
    finally:
        doc.close()


def _fonts(pdf: bytes) -> dict[str, bool]:
    """Base font name (subset tag removed) → whether the font program is embedded."""
    fonts: dict[str, bool] = {}
    for page in PdfReader(BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            else:
                descriptor = font["/FontDescriptor"]
            name = str(font["/BaseFont"]).split("+")[-1]
            embedded = any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            fonts[name] = fonts.get(name, True) and embedded
    return fonts


def test_the_fast_renderer_is_selected_by_name() -> None:
    renderer = get_renderer("fast")
    assert isinstance(renderer, FastRenderer)
    assert renderer.name == "fast"
    # its earlier name (ledger rows, old manifests) finds the same shared instance
    assert get_renderer("reportlab") is renderer
    assert get_renderer("weasyprint").name == "weasyprint"
    with pytest.raises(RenderError, match="known: fast, weasyprint") as unknown:
        get_renderer("nonesuch")
    assert unknown.value.code is Code.RENDERER_UNKNOWN


@pytest.mark.parametrize("name", NAMES)
def test_same_text_on_the_same_pages(pairs: dict[str, Pair], name: str) -> None:
    pair = pairs[name]
    assert page_texts(pair.fast) == page_texts(pair.reference)


@pytest.mark.parametrize("name", NAMES)
def test_address_boxes_and_barcode_sit_where_the_reference_puts_them(
    pairs: dict[str, Pair], name: str
) -> None:
    pair = pairs[name]
    letter = pair.composed.letter
    payment, login = TITLES[letter.language]
    for text in (letter.address_lines[0], letter.return_address, payment, login):
        want, got = _find(pair.reference, text), _find(pair.fast, text)
        assert got[0] == want[0], f"{text!r} on page {got[0] + 1}, reference {want[0] + 1}"
        assert abs(got[1] - want[1]) <= 1 and abs(got[2] - want[2]) <= 1, (text, got, want)
    (want_code,), (got_code,) = barcodes(pair.reference), barcodes(pair.fast)
    for side in ("left_mm", "top_mm", "right_mm", "bottom_mm"):
        assert abs(getattr(got_code, side) - getattr(want_code, side)) <= 1, side


@pytest.mark.parametrize("name", NAMES)
def test_barcode_scans_as_the_letter_id(pairs: dict[str, Pair], name: str) -> None:
    pair = pairs[name]
    found = barcodes(pair.fast)
    assert [b.text for b in found] == [pair.composed.letter.id]
    assert "128" in found[0].format


@pytest.mark.parametrize("name", NAMES)
def test_fonts_are_embedded_under_the_reference_names(pairs: dict[str, Pair], name: str) -> None:
    fast, reference = _fonts(pairs[name].fast), _fonts(pairs[name].reference)
    assert all(fast.values()), fast
    assert set(fast) == set(reference)


@pytest.mark.parametrize("name", NAMES)
def test_both_renderers_pass_the_print_safety_check(pairs: dict[str, Pair], name: str) -> None:
    pair = pairs[name]
    window = window_text(pair.composed)
    fast, reference = check(pair.fast, window, SETTINGS), check(pair.reference, window, SETTINGS)
    assert fast.ok, fast.failures
    assert reference.ok, reference.failures
    assert fast.pages == reference.pages


def test_long_claim_list_paginates_like_the_reference(pairs: dict[str, Pair]) -> None:
    pages = page_texts(pairs["edge.many-claims"].fast)
    assert len(pages) == 3
    for number, text in enumerate(pages, start=1):
        assert f"Side {number} av 3" in text
        assert "Faktura Fakturadato" in text or number == 3  # the heading repeats
    # the total row is printed once, after the last claim, not at the foot of every page
    text = " ".join(pages)
    assert text.count("Å betale 9 373,70 kr") == 1
    assert text.index("K-1033") < text.index("Å betale 9 373,70 kr")
    reference = " ".join(page_texts(pairs["edge.many-claims"].reference))
    assert reference.count("Å betale 9 373,70 kr") == 1
    assert [("Å betale" in page) for page in pages] == [
        ("Å betale" in page) for page in page_texts(pairs["edge.many-claims"].reference)
    ]


def test_title_author_and_language_match_the_reference(pairs: dict[str, Pair]) -> None:
    for pair in pairs.values():
        fast, reference = PdfReader(BytesIO(pair.fast)), PdfReader(BytesIO(pair.reference))
        assert fast.metadata is not None and reference.metadata is not None
        assert fast.metadata.title == reference.metadata.title
        assert fast.metadata.author == reference.metadata.author
        assert fast.trailer["/Root"]["/Lang"] == reference.trailer["/Root"]["/Lang"]


def test_markup_in_input_prints_as_text(pairs: dict[str, Pair]) -> None:
    text = " ".join(page_texts(pairs["edge.markup-in-names"].fast))
    assert "<script>alert('x')</script> {{ letter.password }}" in text
    assert "<b>Bold</b> & Sons {{ 7*7 }} AS" in text


@pytest.mark.parametrize("value", ["99000000000000000042", "99999999999999999999", "0012"])
def test_barcodes_starting_with_99_scan(pairs: dict[str, Pair], value: str) -> None:
    html = re.sub(
        r'<div class="barcode".*?</svg></div>',
        lambda _: str(barcode_html(value)),
        pairs["reminder.en"].html,
        flags=re.S,
    )
    pdf = get_renderer("fast").render(html).pdf
    assert [b.text for b in barcodes(pdf)] == [value]


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ("<h1>", '<h1><img src="https://example.com/x.png">', "element <img>"),
        ('<p class="howto">', '<p class="howto shout">', "class 'shout'"),
        ('<p class="howto">', '<p class="howto" style="color: red">', "attribute 'style'"),
        ('<p class="howto">', '<p class="howto"><a href="x">x</a>', "element <a>"),
        ('<td class="gap">', '<td class="gap" onclick="x()">', "attribute 'onclick'"),
    ],
)
def test_html_outside_the_subset_is_refused_by_name(
    pairs: dict[str, Pair], old: str, new: str, named: str
) -> None:
    html = pairs["reminder.nb"].html.replace(old, new, 1)
    with pytest.raises(UnsupportedTemplate) as refused:
        get_renderer("fast").render(html)
    assert named in str(refused.value)
    assert "body >" in str(refused.value)  # and where
    assert refused.value.code is Code.OUTSIDE_SUBSET


@pytest.mark.parametrize(
    ("addition", "named"),
    [
        ("p.howto { float: left; }", "property 'float'"),
        ("p.howto { text-align: justify; }", "'justify'"),
        ("table.boxes > tr { color: #000; }", "selector 'table.boxes > tr'"),
        ("td.gap { border: 1pt dashed #000; }", "'dashed'"),
        (
            '@font-face { font-family: "X"; src: url("/etc/passwd"); }',
            "only bundled asset files",
        ),
    ],
)
def test_css_outside_the_subset_is_refused_by_name(
    tmp_path: Path, addition: str, named: str
) -> None:
    import shutil

    from letters.paths import TEMPLATE_DIR

    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, folder)
    sheet = folder / "letter.css"
    sheet.write_text(sheet.read_text("utf-8") + "\n" + addition + "\n", "utf-8")
    with pytest.raises(UnsupportedStyle, match=re.escape(named)) as refused:
        FastRenderer(folder)
    assert refused.value.code is Code.OUTSIDE_SUBSET


def test_a_box_taller_than_a_page_is_a_layout_failure(pairs: dict[str, Pair]) -> None:
    """A bordered paragraph may not be split; one longer than a page cannot be laid out."""
    long = '<p class="warning">' + "ord " * 4000 + "</p>"
    html = pairs["reminder.nb"].html.replace('<p class="howto">', long + '<p class="howto">', 1)
    with pytest.raises(RenderError, match="cannot be laid out on A4 pages") as failed:
        get_renderer("fast").render(html)
    assert failed.value.code is Code.LAYOUT_FAILED


def test_a_render_error_keeps_its_code_across_processes() -> None:
    for error in (RenderError(Code.LAYOUT_FAILED, "too tall"), UnsupportedStyle("no float")):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.code, str(copy)) == (error.code, str(error))


def _variant(name: str, change: Any) -> tuple[Composed, bytes, bytes]:
    job = json.loads((JOB_FILES[0].parent / f"{name}.json").read_text("utf-8"))
    change(job)
    composed = compose(parse(job), SETTINGS)
    html = templating.render_html(composed.letter)
    return (
        composed,
        get_renderer("weasyprint").render(html).pdf,
        get_renderer("fast").render(html).pdf,
    )


def _set(path: str, value: Any) -> Any:
    def change(job: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = job
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value

    return change


def _many_claims(count: int) -> Any:
    def change(job: dict[str, Any]) -> None:
        first = job["claims"][0]
        job["claims"] = [dict(first, invoice_number=f"INV-{i:03d}") for i in range(count)]

    return change


@pytest.mark.parametrize(
    ("name", "change"),
    [  # line breaks as Pango finds them, beyond ASCII spaces and hyphens (found by fuzzing)
        (
            "payment_request.nb",
            _set(
                "claims.0.description",
                "Strøm|Nettleie|Fastbeløp|Energiledd|Effektledd|Forbruksavgift|Enova|MVA|Rabatt|Justering",
            ),
        ),
        (
            "payment_request.en",
            _set("claims.0.description", "Electricity?Grid!Fixed…Energy‐Power‧Tax"),
        ),
        (
            "reminder.nb",
            _set(
                "creditor.name", "Østre\u2009Åsgårdstrand\u2009Bærekraftige\u2009Kraftlag\u2009AS"
            ),
        ),
        # a claims row is never split over two pages, in either renderer
        ("reminder.en", _many_claims(34)),
        ("payment_request.en", _many_claims(22)),
    ],
)
def test_hard_inputs_lay_out_like_the_reference(name: str, change: Any) -> None:
    composed, reference, fast = _variant(name, change)
    assert page_texts(fast) == page_texts(reference)
    expected = window_text(composed)
    for pdf in (reference, fast):
        report = check(pdf, expected, SETTINGS)
        assert report.ok, report.failures


def test_accents_typed_as_combining_marks_print_as_one_letter() -> None:
    name = "Bjo\u0308rn A\u030asmund"  # as macOS sends it
    composed, reference, fast = _variant("reminder.nb", _set("debtor.name", name))
    assert "Björn Åsmund" in page_texts(fast)[0]

    def composed_texts(pdf: bytes) -> list[str]:
        return [unicodedata.normalize("NFC", t) for t in page_texts(pdf)]

    assert composed_texts(fast) == composed_texts(reference)
    for pdf in (reference, fast):
        report = check(pdf, window_text(composed), SETTINGS)
        assert report.ok, report.failures


def test_letters_made_in_parallel_threads_are_the_letters_made_one_by_one() -> None:
    """A worker process runs two threads (``letters worker --threads``): letters produced
    at the same time in several threads (fonts, subsets, the safety check's pdfium) are
    byte for byte the ones produced one after another."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    from letters.produce import produce

    settings = Settings(clock_date=FIXTURE_DATE)
    jobs = [json.loads(p.read_text("utf-8")) for p in JOB_FILES]

    def one(job: dict[str, Any]) -> tuple[str, bool]:
        made = produce(job, settings, specimen=True)  # the proofs' fixed password
        return hashlib.sha256(made.rendered.pdf).hexdigest(), made.safety.ok

    alone = [one(job) for job in jobs]
    assert all(ok for _, ok in alone)
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(one, jobs * 2))
    assert together == alone * 2


def test_one_renderer_in_four_threads_writes_every_letter_as_alone() -> None:
    """ReportLab reads a font file through one read position per font, shared by every
    thread: without the font's lock two threads writing their subsets at once made a
    different (broken) PDF, silently, in about 1 of 200 renders here (8 of 220 with the
    thread switches below). The GIL is made to switch as often as it can, to find it."""
    import hashlib
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from letters.templating import render_html
    from letters.validation import parse

    settings = Settings(clock_date=FIXTURE_DATE)
    jobs = [json.loads(p.read_text("utf-8")) for p in JOB_FILES]
    pages = [
        render_html(compose(parse(job, specimen=True), settings, specimen=True).letter)
        for job in jobs
    ]
    renderer = FastRenderer()

    def digest(html: str) -> str:
        return hashlib.sha256(renderer.render(html).pdf).hexdigest()

    alone = [digest(html) for html in pages]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(digest, pages * 10))
    finally:
        sys.setswitchinterval(interval)
    different = [i for i, (a, b) in enumerate(zip(alone * 10, together, strict=True)) if a != b]
    assert different == []
