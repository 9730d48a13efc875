"""Long names and addresses in the envelope window: whatever intake accepts prints inside the
window and passes the print-safety check (with the production renderer and the reference);
what the window or the footer cannot show at 10 pt is refused at intake, naming the field."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from letters import window
from letters.codes import Code
from letters.config import Settings
from letters.http import create_app
from letters.job import JobRejected
from letters.ledger import create_token
from letters.paths import STYLESHEET
from letters.produce import produce, window_text
from letters.renderers.registry import get_renderer
from letters.renderers.safety import check
from letters.validation import parse
from tests.conftest import FIXTURE_DATE, Pipeline, load_job

SETTINGS = Settings(clock_date=FIXTURE_DATE)
LONG = {
    # the three names of issue 14: each valid under the contract (at most 70 characters)
    "edge.long-names.hyphenated": (
        "Kristine-Louise-Fjeldstad-Haugland-Sørensen-Bakkehaug-Winther-Ås"
    ),
    "edge.long-names.slash": "Nordvik Bygg/Anlegg/Eiendom/Transport/Logistikk/Maskin/Drift Vest",
    "edge.long-names.single-word": (
        "Tveitengsgårdsbrukseiersamvirkelagsforvaltningsstyremedlemsfondsordfør"
    ),
}


def refusals(job: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(JobRejected) as caught:
        parse(job)
    return {e.field: str(e.code) for e in caught.value.errors}


def test_the_three_long_names_are_the_issues() -> None:
    hyphenated, slash, word = LONG.values()
    assert len(hyphenated) == 64 and " " not in hyphenated and hyphenated.count("-") == 7
    assert "/" in slash and len(slash) <= 70
    assert len(word) == 70 and word.isalpha()
    for name, value in LONG.items():
        assert load_job(name)["debtor"]["name"] == value


@pytest.mark.parametrize("name", list(LONG))
def test_a_long_name_prints_in_the_window_with_both_renderers(name: str) -> None:
    p = produce(load_job(name), SETTINGS)
    assert p.template.renderer == "fast"
    assert p.safety.ok, p.safety.failures
    reference = get_renderer("weasyprint").render(p.html).pdf
    assert check(reference, window_text(p.composed), SETTINGS).ok
    # the name takes two window lines, broken where a reader expects it
    first, second, *_ = p.composed.letter.address_lines
    assert (first + second).replace(" ", "") == LONG[name].replace(" ", "")
    assert first.endswith(
        {"edge.long-names.hyphenated": "-", "edge.long-names.slash": "/"}.get(name, first[-1])
    )


def test_a_name_too_wide_for_the_footer_is_refused_at_intake() -> None:
    job = load_job("reminder.nb")
    job["debtor"]["name"] = "W" * 70  # fits the window over three lines, not the footer line
    assert refusals(job) == {"debtor.name": "name-does-not-fit"}


def test_an_address_taller_than_the_window_is_refused_naming_the_field() -> None:
    job = load_job("edge.foreign-address")  # abroad: the country takes a line of its own
    job["debtor"]["name"] = LONG["edge.long-names.single-word"]  # two lines
    job["debtor"]["address"]["lines"] = ["c/o Lindqvist", "Drottninggatan 55", "Lgh 1102"]
    assert refusals(job) == {"debtor.name": "name-does-not-fit"}
    job["debtor"]["address"]["lines"].pop()  # six lines: the window holds them
    assert parse(job).debtor.address.lines == ["c/o Lindqvist", "Drottninggatan 55"]

    job = load_job("reminder.nb")
    job["debtor"]["address"]["lines"] = ["W" * 50] * 3  # two lines each
    assert refusals(job) == {"debtor.address.lines[0]": "address-does-not-fit"}


def test_the_postal_code_and_place_stay_on_one_line_or_are_refused() -> None:
    job = load_job("edge.foreign-address")
    job["debtor"]["address"]["city"] = "W" * 40
    assert refusals(job) == {"debtor.address.city": "address-does-not-fit"}
    job["debtor"]["address"]["city"] = "Upplands Väsby och Sollentuna kommundel"
    lines = produce(job, SETTINGS).composed.letter.address_lines
    assert "111 21 Upplands Väsby och Sollentuna kommundel" in lines


def test_every_country_name_fits_on_one_window_line() -> None:
    from letters.job import _COUNTRIES

    limit = window.line_width_pt(SETTINGS.window)
    too_wide = [c for c in _COUNTRIES if window.width_pt(window.country_name(c)) > limit]
    assert too_wide == []


# --- what the measurements rest on --------------------------------------------------------


def test_widths_are_the_fast_renderers() -> None:
    from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
    from reportlab.pdfbase.ttfonts import TTFont  # type: ignore[import-untyped]

    from letters.paths import ASSET_DIR

    pdfmetrics.registerFont(TTFont("WindowProbe", str(ASSET_DIR / "fonts" / window.FONT_FILE)))
    for text in ["Bjørg Ågot Æsøy-Kløvstad", "W" * 29, LONG["edge.long-names.single-word"]]:
        assert window.width_pt(text) == pytest.approx(
            pdfmetrics.stringWidth(text, "WindowProbe", window.FONT_SIZE_PT), abs=0.01
        )


def test_the_stylesheet_prints_the_window_as_measured() -> None:
    css = STYLESHEET.read_text("utf-8")

    def rule(selector: str) -> str:
        found = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", css)
        assert found, selector
        return found.group(1)

    assert f"font-size: {window.FONT_SIZE_PT:g}pt" in rule("p.recipient")
    assert f"line-height: {window.LINE_HEIGHT:g}" in rule("p.recipient")
    assert f"width: {window.COLUMN_MM:g}mm" in rule("table.head td.brand")
    assert "font-size: 6.5pt" in rule("p.return-address")
    assert "margin: 0 0 1.5mm 0" in rule("p.return-address")
    assert "padding-top: 4.5mm" in rule("td.address")
    assert f"font-size: {window.FOOTER_PT:g}pt" in rule(".footer")
    assert f"width: {window.FOOTER_MM:g}mm" in rule(".footer")
    assert window.FONT_FILE in css


# --- properties ---------------------------------------------------------------------------

_LETTERS = "WMmiIlaeoøæåÅÆØéü"
_names = st.text(st.sampled_from([*_LETTERS, " ", "-", "/", "'", "."]), min_size=1, max_size=70)


@given(text=st.text(st.sampled_from([*_LETTERS, " ", "-", "/", "1"]), max_size=90))
def test_fitted_lines_are_the_text_and_no_wider_than_asked(text: str) -> None:
    limit = 80.0
    lines = window.fit(text, limit)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert line == line.strip() and line
        assert window.width_pt(line) <= limit or len(line) == 1


@settings(max_examples=30)
@given(
    name=_names,
    lines=st.lists(
        st.text(st.sampled_from([*_LETTERS, " ", "1"]), min_size=1, max_size=50),
        min_size=1,
        max_size=3,
    ),
    abroad=st.booleans(),
)
def test_whatever_intake_accepts_prints_in_the_window(
    name: str, lines: list[str], abroad: bool
) -> None:
    job = load_job("edge.foreign-address" if abroad else "reminder.nb")
    job["debtor"]["name"] = name
    job["debtor"]["address"]["lines"] = lines
    try:
        parse(job)
    except JobRejected as exc:
        # refused for the window, or for blank text (the contract's own length rules)
        assert {str(e.code) for e in exc.errors} <= {
            "name-does-not-fit",
            "address-does-not-fit",
            "too-short",
        }, exc.errors
        return
    p = produce(job, SETTINGS)
    assert p.safety.ok, p.safety.failures


# --- as an upstream system sees it --------------------------------------------------------


def test_intake_answers_202_only_for_names_it_can_print(pipeline: Pipeline) -> None:
    token = create_token(pipeline.runtime.ledger, "upstream", {"submit", "read"})
    headers = {"Authorization": f"Bearer {token}"}
    printable = load_job("edge.long-names.single-word")
    unprintable = copy.deepcopy(printable)
    unprintable["id"], unprintable["debtor"]["name"] = "edge-long-9999", "M" * 70
    with TestClient(create_app(pipeline.runtime)) as client:
        refused = client.post("/v1/jobs", json=unprintable, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "debtor.name"
        assert refused.json()["errors"][0]["code"] == Code.NAME_DOES_NOT_FIT
        assert client.post("/v1/jobs", json=printable, headers=headers).status_code == 202
        pipeline.drain()
        status = client.get(f"/v1/jobs/{printable['id']}", headers=headers).json()
    assert status["job"]["status"] == "delivered"


# --- the claims table in English ----------------------------------------------------------


def _lines_of(pdf: bytes, text: str) -> list[int]:
    """For every occurrence of ``text`` in the PDF, the number of lines it is printed on."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    found = []
    try:
        for index in range(len(doc)):
            textpage = doc[index].get_textpage()
            search = textpage.search(text, match_case=True)
            while hit := search.get_next():
                found.append(textpage.count_rects(hit[0], hit[1]))
    finally:
        doc.close()
    return found


@pytest.mark.parametrize("renderer", ["fast", "weasyprint"])
def test_english_headers_and_dates_do_not_wrap_in_their_cells(renderer: str) -> None:
    job = load_job("payment_request.en")
    claim = job["claims"][0]
    # "28 May 2026": the widest day and month an English date prints
    claim["invoice_date"], claim["due_date"] = "2026-05-28", "2026-05-28"
    p = produce(job, SETTINGS)
    pdf = get_renderer(renderer).render(p.html).pdf
    for text in ("Invoice date", "Was due", "Amount", "28 May 2026"):
        lines = _lines_of(pdf, text)
        assert lines and set(lines) == {1}, (text, lines)


def _accepted(data: dict[str, Any]) -> bool:
    try:
        parse(data)
    except JobRejected:
        return False
    return True


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("creditor", "W" * 100, "creditor.name"),
        ("description", "W" * 120, "claims[0].description"),
        ("label", "W" * 60, "claims[0].fees[0].label"),
        ("invoice", "W" * 40, "claims[0].invoice_number"),
    ],
)
def test_a_word_too_wide_for_its_place_is_refused_at_intake(
    where: str, value: str, field: str
) -> None:
    from letters.validation import parse

    data = copy.deepcopy(load_job("reminder.nb"))
    claim = data["claims"][0]
    if where == "creditor":
        data["creditor"]["name"] = value
    elif where == "description":
        claim["description"] = value
    elif where == "label":
        claim["fees"][0]["label"] = value
    else:
        claim["invoice_number"] = value
    with pytest.raises(JobRejected) as refused:
        parse(data)
    assert [(e.field, e.code) for e in refused.value.errors] == [(field, "word-too-wide")]


@pytest.mark.parametrize("name", ["reminder.nb", "payment_request.en", "collection_notice.nb"])
def test_the_widest_words_intake_accepts_print_and_pass_the_check(name: str) -> None:
    """Grow each free-text field by one W until intake refuses it; the widest accepted then
    prints on one page and passes the print-safety check."""
    data = copy.deepcopy(load_job(name))
    claim = data["claims"][0]

    def widest(put: Any) -> None:
        n = 1
        put("W" * (n + 1))
        while _accepted(data):
            n += 1
            put("W" * (n + 1))
        put("W" * n)

    widest(lambda v: data["creditor"].__setitem__("name", v))
    widest(lambda v: claim.__setitem__("description", v))
    widest(lambda v: claim.__setitem__("invoice_number", v))
    for fee in claim["fees"]:
        fee["label"] = claim["description"]
    made = produce(data)
    assert made.safety.findings == []
    assert made.safety.pages == 1
