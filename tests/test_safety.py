"""The print-safety check names what would go wrong at the print vendor or Digipost."""

from __future__ import annotations

from io import BytesIO

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from letters.config import Settings
from letters.renderers.safety import check

ADDRESS = ["Kari Nordmann", "Storgata 12 B", "0161 OSLO"]


def _pdf(pages: int = 1, size: tuple[float, float] = A4, draw=None) -> bytes:  # type: ignore[no-untyped-def]
    buf = BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    for i in range(pages):
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


def test_wrong_size_and_orientation() -> None:
    report = check(_pdf(size=landscape(A4)))
    assert any("not A4 portrait" in f and "landscape" in f for f in report.failures)


def test_too_many_pages() -> None:
    report = check(_pdf(pages=3), settings=Settings(max_pages=2))
    assert "3 pages; at most 2 are allowed" in report.failures


def test_window_must_hold_exactly_the_address() -> None:
    def extra(c: canvas.Canvas, size: tuple[float, float]) -> None:
        c.drawString(60 * mm, size[1] - 60 * mm, "INKASSO")

    report = check(_pdf(draw=extra), ADDRESS)
    assert any("envelope window shows" in f and "INKASSO" in f for f in report.failures)


def test_address_overflowing_the_window_is_caught() -> None:
    def long_line(c: canvas.Canvas, size: tuple[float, float]) -> None:
        c.drawString(
            22 * mm,
            size[1] - 75 * mm,
            "a line that runs well past the right edge of the envelope window, surely",
        )

    report = check(_pdf(draw=long_line), ADDRESS)
    assert any("crosses the edge of the envelope window" in f for f in report.failures)


def test_a_clean_letter_passes_except_for_the_font() -> None:
    report = check(_pdf(), ADDRESS)
    assert report.failures == ["page 1: font Helvetica is not embedded"]


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
    assert any("text outside the printable area" in f and "3 420,00" in f for f in report.failures)
