"""The print-safety check names what would go wrong at the print vendor or Digipost."""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from reportlab.lib import pdfencrypt
from reportlab.lib.pagesizes import A4, landscape, letter
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from letters.codes import Code
from letters.config import Settings
from letters.renderers.safety import Finding, check

ADDRESS = ["Kari Nordmann", "Storgata 12 B", "0161 OSLO"]


Size = tuple[float, float]


def _pdf(
    pages: int = 1,
    size: Size = A4,
    draw: Callable[[canvas.Canvas, Size], None] | None = None,
    sizes: list[Size] | None = None,
    encrypt: str | pdfencrypt.StandardEncryption | None = None,
) -> bytes:
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=size, encrypt=encrypt)
    for i in range(pages):
        if sizes:
            size = sizes[i]
            c.setPageSize(size)
        # Helvetica is one of the standard 14 fonts: ReportLab does not embed it.
        c.setFont("Helvetica", 10)
        y = size[1] - 50 * mm
        for line in ADDRESS:
            c.drawString(22 * mm, y, line)
            y -= 4.5 * mm
        if draw and i == 0:
            draw(c, size)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_each_failure_is_named() -> None:
    def bad(c: canvas.Canvas, size: tuple[float, float]) -> None:
        c.drawString(5 * mm, size[1] - 120 * mm, "in the Digipost zone")
        c.rect(100 * mm, size[1] - 70 * mm, 30 * mm, 10 * mm, fill=1)  # across the window edge

    report = check(_pdf(draw=bad), ADDRESS)
    text = "\n".join(report.failures)
    assert "font Helvetica is not embedded" in text
    assert "text in Digipost's left-margin zone" in text and "in the Digipost zone" in text
    assert "graphics in the envelope window" in text
    assert not report.ok
    # each with its stable code and the page it is on, the sentence unchanged
    by_code = {f.code: f for f in report.findings}
    assert "font Helvetica is not embedded" in by_code[Code.FONT_NOT_EMBEDDED].message
    assert "in the Digipost zone" in by_code[Code.DIGIPOST_ZONE_NOT_EMPTY].message
    assert "graphics in the envelope window" in by_code[Code.WINDOW_GRAPHICS].message
    assert {f.page for f in report.findings} == {1}
    # where it is, as a person measures it on the page
    assert str(by_code[Code.WINDOW_GRAPHICS]) == (
        "page 1: graphics in the envelope window at x 100–130 mm, y 60–70 mm"
    )
    assert by_code[Code.DIGIPOST_ZONE_NOT_EMPTY].message == (
        "page 1: text in Digipost's left-margin zone (x 0–15 mm, y 95–175 mm)"
        " at x 5–36 mm, y 117–121 mm: 'in the Digipost zone'"
    )
    assert all(f.code.family == "print" for f in report.findings)


def test_wrong_size_and_orientation() -> None:
    report = check(_pdf(size=landscape(A4)))
    assert any("not A4 portrait" in f and "landscape" in f for f in report.failures)
    assert [f.code for f in report.findings if "not A4" in f.message] == [Code.NOT_A4]


def test_a_document_not_on_a4_is_reported_once_with_its_pages() -> None:
    report = check(_pdf(pages=3, size=letter))
    not_a4 = [f for f in report.findings if f.code is Code.NOT_A4]
    assert not_a4 == [Finding(Code.NOT_A4, "pages 1–3: 216 × 279 mm portrait, not A4 portrait", 1)]
    assert report.pages == 3


def test_only_the_pages_not_on_a4_are_named() -> None:
    report = check(_pdf(pages=4, sizes=[A4, letter, letter, landscape(A4)]))
    (not_a4,) = [f for f in report.findings if f.code is Code.NOT_A4]
    assert not_a4.message == (
        "pages 2–3: 216 × 279 mm portrait; page 4: 297 × 210 mm landscape, not A4 portrait"
    )
    assert not_a4.page == 2


def test_too_many_pages() -> None:
    report = check(_pdf(pages=3), settings=Settings(max_pages=2))
    assert "3 pages; at most 2 are allowed" in report.failures
    assert Finding(Code.TOO_MANY_PAGES, "3 pages; at most 2 are allowed") in report.findings


def test_an_encrypted_pdf_is_refused() -> None:
    with_password = check(_pdf(encrypt="secret"))
    assert [f.code for f in with_password.findings] == [Code.PDF_ENCRYPTED]
    assert not with_password.ok
    owner_only = pdfencrypt.StandardEncryption("", ownerPassword="owner")
    report = check(_pdf(encrypt=owner_only))
    assert report.findings == [Finding(Code.PDF_ENCRYPTED, "the PDF is encrypted")]


def test_a_file_that_is_not_a_pdf_is_a_finding_not_a_crash() -> None:
    for junk in (b"not a pdf", b"", _pdf()[:200]):
        report = check(junk)
        assert report.pages == 0
        assert [f.code for f in report.findings] == [Code.PDF_UNREADABLE]
        assert report.failures[0].startswith("not a readable PDF")
        assert not report.ok


def test_window_must_hold_exactly_the_address() -> None:
    def extra(c: canvas.Canvas, size: tuple[float, float]) -> None:
        c.drawString(60 * mm, size[1] - 60 * mm, "INKASSO")

    report = check(_pdf(draw=extra), ADDRESS)
    assert any("envelope window shows" in f and "INKASSO" in f for f in report.failures)
    (shows,) = [f for f in report.findings if "envelope window shows" in f.message]
    assert (shows.code, shows.page) == (Code.WINDOW_NOT_ADDRESS_ONLY, 1)


def test_address_overflowing_the_window_is_caught() -> None:
    def long_line(c: canvas.Canvas, size: tuple[float, float]) -> None:
        c.drawString(
            22 * mm,
            size[1] - 75 * mm,
            "a line that runs well past the right edge of the envelope window, surely",
        )

    report = check(_pdf(draw=long_line), ADDRESS)
    assert any("crosses the edge of the envelope window" in f for f in report.failures)
    crossing = [f for f in report.findings if "crosses the edge" in f.message]
    assert crossing and all(f.code is Code.WINDOW_TEXT_CROSSES_EDGE for f in crossing)


def test_a_clean_letter_passes_except_for_the_font() -> None:
    report = check(_pdf(), ADDRESS)
    assert report.failures == ["page 1: font Helvetica is not embedded"]
    assert report.findings == [
        Finding(Code.FONT_NOT_EMBEDDED, "page 1: font Helvetica is not embedded", 1)
    ]


def test_text_pushed_off_the_page_is_caught() -> None:
    """A word too long to wrap pushes a column (and the amounts) off the page: the letter
    must not pass."""
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from letters.paths import ASSET_DIR
    from letters.renderers.safety import check

    pdfmetrics.registerFont(TTFont("SafetySans", str(ASSET_DIR / "fonts" / "NotoSans-Regular.ttf")))
    buffer = BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, initialFontName="SafetySans")
    page.setFont("SafetySans", 9)
    page.drawString(150 * 72 / 25.4, 150 * 72 / 25.4, "Beløp 3 420,00 kr ………………………………")
    page.save()
    report = check(buffer.getvalue())
    assert any("text outside the print area" in f and "3 420,00" in f for f in report.failures)
    assert [f.code for f in report.findings] == [Code.TEXT_AT_EDGE]


def test_a_name_broken_after_its_hyphen_passes_the_window_check() -> None:
    from letters.produce import produce
    from tests.conftest import load_job

    job = load_job("reminder.nb")
    job["debtor"]["name"] = "Anne-Marie Kristiansen-Løvenskiold Haugland-Fjeldstad-Brekke"
    made = produce(job)
    assert made.safety.ok, made.safety.failures  # PDFium reads the line-end hyphen as U+0002


def test_many_shapes_in_the_window_are_one_finding_with_their_extent() -> None:
    """A barcode's bars in the envelope window: one finding that says where they all are,
    not one per bar."""
    from io import BytesIO

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    from letters.renderers.safety import check as safety_check

    buffer = BytesIO()
    c = Canvas(buffer, pagesize=A4)
    for n in range(12):  # bars from x 30 mm, y 50-60 mm from the top
        c.rect((30 + 2 * n) * mm, A4[1] - 60 * mm, 1 * mm, 10 * mm, stroke=0, fill=1)
    c.save()
    found = [f for f in safety_check(buffer.getvalue()).findings if f.code == "window-graphics"]
    assert len(found) == 1
    assert "x 30–53 mm, y 50–60 mm (12 shapes)" in found[0].message
