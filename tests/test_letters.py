"""Every fixture made into a letter and read back as the debtor, print vendor and Digipost
would read it."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from io import BytesIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from letters.produce import Produced
from letters.templating import bare_url
from tests.conftest import JOB_FILES, load_job
from tests.pdftext import barcodes, norm, page_texts

NAMES = [p.stem for p in JOB_FILES]
#: What a debtor reads for each fee code when the job gives no label of its own.
FEE_WORDING = {
    "nb": {
        "reminder_fee": "Purregebyr",
        "notice_fee": "Inkassovarselgebyr",
        "payment_request_fee": "Gebyr for betalingsoppfordring",
        "collection_fee": "Inkassosalær",
    },
    "en": {
        "reminder_fee": "Reminder fee",
        "notice_fee": "Debt collection notice fee",
        "payment_request_fee": "Payment request fee",
        "collection_fee": "Debt collection fee",
    },
}


def _text(p: Produced) -> str:
    return " ".join(page_texts(p.rendered.pdf))


def _fmt_money(value: Decimal, lang: str) -> str:
    whole, _, cents = f"{value:.2f}".partition(".")
    groups = f"{int(whole):,}"
    return groups.replace(",", " ") + "," + cents if lang == "nb" else groups + "." + cents


MANDATORY: dict[tuple[str, str], list[str]] = {
    ("reminder", "nb"): ["Betalingspåminnelse"],
    ("reminder", "en"): ["Payment reminder"],
    ("collection_notice", "nb"): [
        "Inkassovarsel",
        "vil det bli sendt til inkasso",
        "inkassokostnader",
    ],
    ("collection_notice", "en"): [
        "Debt collection notice",
        "it will be sent to debt collection",
        "Debt collection costs may then accrue",
    ],
    ("payment_request", "nb"): [
        "Betalingsoppfordring",
        "innsigelse",
        "Hovedstol",
        "Forsinkelsesrente",
        "inndrevet rettslig",
        "Finansklagenemnda",
    ],
    ("payment_request", "en"): [
        "Payment request",
        "objection",
        "Principal",
        "Late-payment interest",
        "legal proceedings",
        "Finansklagenemnda",
    ],
    ("enforcement_notice", "nb"): [
        "Varsel om tvangsfullbyrdelse",
        "vil det bli begjært tvangsfullbyrdelse",
        "§ 4-18",
    ],
    ("enforcement_notice", "en"): [
        "Notice of legal enforcement",
        "legal enforcement will be requested",
        "§ 4-18",
    ],
    ("payment_plan", "nb"): [
        "Bekreftelse på betalingsplan",
        "KID for avdraget",
        "er betalingsplanen brutt",
        "betalingsanmerkning",
        "når som helst betale hele gjelden",
    ],
    ("payment_plan", "en"): [
        "Payment plan confirmation",
        "KID for the instalment",
        "the payment plan is broken",
        "payment remark",
        "pay the whole debt",
    ],
}


@pytest.mark.parametrize("name", NAMES)
def test_letter_passes_the_print_safety_check(produced: dict[str, Produced], name: str) -> None:
    report = produced[name].safety
    assert report.ok, report.failures
    assert 1 <= report.pages <= 20


@pytest.mark.parametrize("name", NAMES)
def test_letter_carries_everything_the_debtor_needs(
    produced: dict[str, Produced], name: str
) -> None:
    p = produced[name]
    letter = p.composed.letter
    text = _text(p)
    lang = letter.language
    for phrase in MANDATORY[(letter.kind, lang)]:
        assert phrase in text, phrase
    # payment box: amount, account, KID, due date
    assert _fmt_money(letter.total, lang) in text
    assert letter.account_number in text and letter.account_number.count(" ") == 2
    assert letter.kid in text
    due = (
        letter.due_date.strftime("%d.%m.%Y")
        if lang == "nb"
        else letter.due_date.strftime("%-d %b %Y")
    )
    assert due in text
    # login box: reference, password, expiry and the portal
    assert letter.reference in text
    assert letter.password.reveal() in text
    assert letter.letter_date.isoformat() == "2026-11-20"  # every fixture's date
    assert ("11.12.2026" if lang == "nb" else "11 Dec 2026") in text  # 20 Nov + 21 days
    assert bare_url(letter.sender.portal_url) in text
    assert "QuickPay" in text
    # parties, claims: principal, interest and each fee separately
    assert norm(letter.creditor.name) in text
    for claim in letter.claims:
        assert claim.invoice_number in text
        assert _fmt_money(claim.principal, lang) in text
        for fee in claim.fees:
            assert (fee.label or FEE_WORDING[lang][fee.code]) in text
        if claim.interest is not None:
            assert _fmt_money(claim.interest, lang) in text


NB_MONTHS = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
]
EN_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


@pytest.mark.parametrize("name", NAMES)
def test_every_date_on_the_page_is_written_one_way(
    produced: dict[str, Produced], name: str
) -> None:
    """nb: ``04.12.2026`` everywhere; en: ``4 Dec 2026`` everywhere, every month in three
    letters (no "4. desember 2026" beside "04.12.2026", no "Sept" beside "Jul")."""
    p = produced[name]
    letter = p.composed.letter
    text = _text(p)
    if letter.language == "nb":
        written = re.findall(r"\b\d{1,2}\.\s*(?:" + "|".join(NB_MONTHS) + r")\b", text)
        assert written == [], written
        dates = re.findall(r"\b\d{2}\.\d{2}\.\d{4}\b", text)
        assert letter.letter_date.strftime("%d.%m.%Y") in dates
        assert letter.due_date.strftime("%d.%m.%Y") in dates
        assert text.count(letter.due_date.strftime("%d.%m.%Y")) >= 3  # head, lead, payment box
    else:
        months = "|".join(m for m in EN_MONTHS if len(m) > 3) + "|Sept"
        written = re.findall(r"\b\d{1,2}\s+(?:" + months + r")\b", text)
        assert written == [], written
        assert re.findall(r"\b\d{1,2}\.\d{2}\.\d{4}\b", text) == []
        assert letter.letter_date.strftime("%-d %b %Y") in text
        assert text.count(letter.due_date.strftime("%-d %b %Y")) >= 3


def test_september_is_abbreviated_like_every_other_month() -> None:
    import datetime as dt
    from types import SimpleNamespace

    from letters.templating import make_environment

    def both(language: str, day: dt.date) -> str:
        template = make_environment().from_string("{{ d | short_date }}|{{ d | long_date }}")
        return template.render(letter=SimpleNamespace(language=language), d=day)

    for month in range(1, 13):
        day = dt.date(2026, month, 4)
        assert both("en", day) == f"{day:%-d %b %Y}|{day:%-d %b %Y}"
        assert both("nb", day) == f"{day:%d.%m.%Y}|{day:%d.%m.%Y}"
    assert both("en", dt.date(2026, 9, 30)) == "30 Sep 2026|30 Sep 2026"
    assert both("nb", dt.date(2026, 12, 4)) == "04.12.2026|04.12.2026"


def test_payment_request_states_rate_and_date_interest_runs_from(
    produced: dict[str, Produced],
) -> None:
    # the rates themselves, each with its period: tests/test_interest_periods.py
    text = _text(produced["payment_request.nb"])
    assert "Forsinkelsesrente fra 15.08.2026" in text
    assert re.search(r"fastsatt for hvert halvår: \d+,\d\d % per år fra 15\.08\.2026\.", text)
    text = _text(produced["payment_request.en"])
    assert "Late-payment interest from 15 Aug 2026" in text
    assert re.search(r"set for each half year: \d+\.\d\d% a year from 15 Aug 2026\.", text)


def test_totals_add_up(produced: dict[str, Produced]) -> None:
    letter = produced["payment_request.nb"].composed.letter
    assert letter.total == Decimal("3420.00") + Decimal("104.25") + Decimal("675.00")
    assert "4 199,25 kr" in _text(produced["payment_request.nb"])


@pytest.mark.parametrize("name", NAMES)
def test_barcode_decodes_to_the_letter_id_clear_of_window_and_margin_zone(
    produced: dict[str, Produced], name: str
) -> None:
    p = produced[name]
    found = barcodes(p.rendered.pdf)
    assert [b.text for b in found] == [p.composed.letter.id]
    code = found[0]
    assert "128" in code.format
    in_window = code.left_mm < 120 and code.top_mm < 79 and code.bottom_mm > 44
    in_zone = code.left_mm < 15 and code.top_mm < 175 and code.bottom_mm > 95
    assert not in_window and not in_zone


@pytest.mark.parametrize("name", [n for n in NAMES if load_job(n)["debtor"].get("national_id")])
def test_no_national_id_anywhere(produced: dict[str, Produced], name: str) -> None:
    p = produced[name]
    nid = load_job(name)["debtor"]["national_id"]
    text = _text(p).replace(" ", "")
    assert nid not in text and nid[:6] not in text
    assert nid not in p.html


def test_window_shows_only_the_address(produced: dict[str, Produced]) -> None:
    import pypdfium2 as pdfium

    p = produced["edge.foreign-address"]
    doc = pdfium.PdfDocument(p.rendered.pdf)
    page = doc[0]
    mm = 72 / 25.4
    h = page.get_height()
    shown = norm(page.get_textpage().get_text_bounded(15 * mm, h - 79 * mm, 120 * mm, h - 44 * mm))
    doc.close()
    assert (
        shown == "Returadresse: Postboks 1234 Sentrum, 0106 OSLO, NORWAY Emma Johansson "
        "Drottninggatan 55 111 21 Stockholm SVERIGE"
    )


def test_long_claim_list_flows_onto_more_pages(produced: dict[str, Produced]) -> None:
    p = produced["edge.many-claims"]
    pages = page_texts(p.rendered.pdf)
    assert len(pages) == 3
    for i, page in enumerate(pages, start=1):
        assert f"Side {i} av 3" in page
    assert "Faktura" in pages[1]  # the table heading repeats
    text = " ".join(pages)
    for i in range(34):
        assert f"K-{1000 + i}" in text
    # the total is printed once, after the last claim (not at the foot of pages 1 and 2)
    total = "Å betale 9 373,70 kr"
    assert text.count(total) == 1
    last = max(i for i, page in enumerate(pages) if "K-1033" in page)
    assert total in pages[last] and pages[last].index("K-1033") < pages[last].index(total)


def test_markup_and_template_syntax_in_input_print_literally(
    produced: dict[str, Produced],
) -> None:
    p = produced["edge.markup-in-names"]
    text = _text(p)
    assert "<script>alert('x')</script> {{ letter.password }}" in text
    assert "<b>Bold</b> & Sons {{ 7*7 }} AS" in text
    assert "{% raw %}Main St 1 & <i>Co</i>" in text
    assert "{{ sender.name }} <u>x</u>" in text
    assert "<script>" not in p.html and "&lt;script&gt;" in p.html
    assert "49" not in text.replace(p.composed.letter.id_formatted, "")


@pytest.mark.parametrize("name", ["reminder.nb", "payment_request.en"])
def test_pdf_has_title_language_and_embedded_fonts(
    produced: dict[str, Produced], name: str
) -> None:
    p = produced[name]
    reader = PdfReader(BytesIO(p.rendered.pdf))
    assert reader.metadata is not None
    heading = {"reminder.nb": "Betalingspåminnelse", "payment_request.en": "Payment request"}
    assert reader.metadata.title == f"{heading[name]} – {p.composed.letter.reference}"
    assert reader.trailer["/Root"]["/Lang"] == p.composed.letter.language
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            # Type0 with a descendant (WeasyPrint) or a simple TrueType font (ReportLab)
            simple = "/DescendantFonts" not in font
            font_ = font if simple else font["/DescendantFonts"][0].get_object()
            desc = font_["/FontDescriptor"].get_object()
            assert "/FontFile2" in desc
            fonts.add(str(font["/BaseFont"]).split("+")[-1])
    assert {"Letter-Sans", "Letter-Sans-Bold", "Letter-Mono"} <= fonts


def test_retry_gives_the_same_kid_and_letter_id_but_a_new_password() -> None:
    from letters.produce import produce

    job = load_job("reminder.en")
    a, b = produce(json.loads(json.dumps(job))), produce(job)
    assert a.composed.letter.kid == b.composed.letter.kid
    assert a.composed.letter.id == b.composed.letter.id
    assert a.composed.letter.password != b.composed.letter.password


def test_template_metadata_is_recorded(produced: dict[str, Produced]) -> None:
    from letters import bundles
    from letters.paths import TEMPLATE_DIR

    info = produced["reminder.nb"].template
    assert info.name == "reminder.nb.html"
    # a preview is made from the templates folder as it is: a working copy, not a version
    assert info.version == "working copy" and not info.approved and info.renderer == "fast"
    assert info.sha256 == bundles.read_folder(TEMPLATE_DIR, "reminder.nb").sha256


@settings(max_examples=60, deadline=None)
@given(st.from_regex(r"(99|00|[0-9]{2})[0-9]{18}", fullmatch=True))
def test_letter_id_bars_scan_as_the_id(value: str) -> None:
    """The bars drawn for a letter id read back as that id (python-barcode alone loses a
    leading "99")."""
    import zxingcpp
    from PIL import Image, ImageDraw

    from letters.barcodes import modules

    bars = modules(value)
    scale, quiet = 3, 30
    image = Image.new("L", (len(bars) * scale + 2 * quiet, 60), 255)
    draw = ImageDraw.Draw(image)
    for i, m in enumerate(bars):
        if m == "1":
            draw.rectangle([quiet + i * scale, 5, quiet + (i + 1) * scale - 1, 54], fill=0)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [value]


def test_a_template_that_fails_is_a_render_error_with_its_code(tmp_path: Any) -> None:
    import shutil

    from letters.compose import compose
    from letters.paths import TEMPLATE_DIR
    from letters.renderers import RenderError
    from letters.templating import make_environment, render_html
    from letters.validation import parse

    shutil.copytree(TEMPLATE_DIR, tmp_path / "t")
    letter = compose(parse(load_job("reminder.nb"))).letter
    broken = tmp_path / "t" / "reminder.nb.html"
    broken.write_text(broken.read_text("utf-8").replace("letter.total", "letter.totl"), "utf-8")
    with pytest.raises(RenderError) as failed:
        render_html(letter, make_environment(tmp_path / "t"))
    assert failed.value.code == "template-error" and "totl" in str(failed.value)
    broken.unlink()
    with pytest.raises(RenderError) as missing:
        render_html(letter, make_environment(tmp_path / "t"))
    assert missing.value.code == "template-missing"


def _lines(pdf: bytes) -> list[str]:
    """Every printed line of every page, as pdfium reads them (a wrapped cell ends a line)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        found = []
        for page in doc:
            found += [norm(line) for line in page.get_textpage().get_text_range().splitlines()]
        return found
    finally:
        doc.close()


CLAIMS_HEADING = {
    "nb": ["Faktura", "Fakturadato", "Forfalt", "Spesifikasjon", "Beløp"],
    "en": ["Invoice", "Invoice date", "Was due", "Item", "Amount"],
}


@pytest.mark.parametrize("name", NAMES)
def test_table_headings_and_dates_do_not_wrap_in_their_cells(
    produced: dict[str, Produced], name: str
) -> None:
    p = produced[name]
    letter = p.composed.letter
    lines = _lines(p.rendered.pdf)
    heading = " ".join(CLAIMS_HEADING[letter.language])
    assert heading in lines, [line for line in lines if "Faktura" in line or "Invoice" in line]
    fmt = "%d.%m.%Y" if letter.language == "nb" else "%-d %b %Y"
    for claim in letter.claims:
        row = [line for line in lines if line.startswith(claim.invoice_number + " ")]
        dates = f"{claim.invoice_date.strftime(fmt)} {claim.due_date.strftime(fmt)}"
        assert row and row[0].startswith(f"{claim.invoice_number} {dates} "), row


@pytest.mark.parametrize("name", NAMES)
def test_every_page_names_the_reference_and_the_debtor(
    produced: dict[str, Produced], name: str
) -> None:
    p = produced[name]
    letter = p.composed.letter
    label = "Referanse" if letter.language == "nb" else "Reference"
    for page in page_texts(p.rendered.pdf):
        assert f"{label} {letter.reference} · {norm(letter.debtor.name)}" in page


def test_continuation_pages_name_the_reference_and_the_debtor(
    produced: dict[str, Produced],
) -> None:
    p = produced["edge.many-claims"]
    letter = p.composed.letter
    pages = page_texts(p.rendered.pdf)
    assert len(pages) > 1
    for page in pages[1:]:
        assert letter.reference in page and norm(letter.debtor.name) in page


def test_payment_request_states_the_boards_review_as_the_law_words_it(
    produced: dict[str, Produced],
) -> None:
    """inkassoloven § 10 (2) (f), § 22: the board reviews the debt collection (fees, conduct,
    good collection practice), not whether the claim is owed."""
    nb = _text(produced["payment_request.nb"])
    assert "kreve at klagenemnda, Finansklagenemnda" in nb
    assert "vurderer inkassoarbeidet vårt" in nb and "god inkassoskikk" in nb
    assert "inkassoloven § 22" in nb
    assert "Nemnda avgjør ikke om du skylder kravet" in nb
    assert "bringe tvisten inn" not in nb
    en = _text(produced["payment_request.en"])
    assert "ask the complaints board, Finansklagenemnda" in en
    assert "to review our debt collection" in en and "good debt collection practice" in en
    assert "§ 22" in en
    assert "The board does not decide whether you owe the claim" in en
    assert "bring the dispute" not in en


@pytest.mark.parametrize(
    "name",
    [
        "payment_request.nb",
        "payment_request.en",
        "enforcement_notice.nb",
        "enforcement_notice.en",
        "edge.objection-answered",
    ],
)
def test_a_letter_with_one_claim_fits_on_one_page(produced: dict[str, Produced], name: str) -> None:
    """The contact lines and the signature stay on the page with the claim (the nb payment
    request once spilled them onto a page of their own)."""
    pages = page_texts(produced[name].rendered.pdf)
    assert len(pages) == 1
    assert ("Med vennlig hilsen" in pages[0]) or ("Kind regards" in pages[0])
