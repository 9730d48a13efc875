"""Print batches as the print vendor's inserting machine and operators read them: the control
code on every page of every letter, where it sits, and the batch file's cover sheet."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime

import barcode
import pikepdf
import pytest
from hypothesis import given
from hypothesis import strategies as st
from reportlab.lib.pagesizes import A6  # type: ignore[import-untyped,unused-ignore]
from reportlab.pdfgen import canvas  # type: ignore[import-untyped,unused-ignore]

from channels.printing import inserter
from channels.printing.cover import BatchFile, CoverInfo, cover_sheet, drawable, sheets
from channels.printing.inserter import DEFAULT_PLACEMENT, Placement, stamping, validate_placement
from channels.printing.inserter.stamping import stamp_into
from letters.config import Window
from letters.geometry import MM
from letters.numbers.inserter_code import encode
from letters.produce import Produced, window_text
from letters.renderers.safety import check
from tests.conftest import JOB_FILES
from tests.inserter_codes import Control, clear_of_content, decode, stamp
from tests.pdftext import Barcode, barcodes, page_texts

NAMES = [p.stem for p in JOB_FILES]
MANY = "edge.many-claims"  # the fixture that runs to three pages

batches = st.integers(0, 10**7)
letters = st.integers(1, 999_999)


@st.composite
def page_of(draw: st.DrawFn) -> tuple[int, int]:
    pages = draw(st.integers(1, 99))
    return draw(st.integers(1, pages)), pages


# --- the code ------------------------------------------------------------------------------


@given(batches, letters, page_of())
def test_code_round_trips_as_sixteen_set_c_digits(
    batch: int, letter: int, page_pages: tuple[int, int]
) -> None:
    page, pages = page_pages
    value = encode(batch, letter, page, pages)
    assert len(value) == 16 and value.isdigit()
    control = decode(value)
    assert control == Control(batch % 10_000, letter, page, pages)
    assert value[14] == ("1" if page == pages else "0") and control.last == (page == pages)
    # the same symbol length for every value: set C all through, no switch to set B
    bars = stamping.symbol(value)
    assert len(bars) == inserter.SYMBOL_MODULES
    if not value.startswith("99"):  # python-barcode drops a leading 99 (see inserter)
        assert bars == str(barcode.Code128(value).build()[0])


@given(batches, letters, page_of(), st.integers(0, 15), st.integers(1, 9))
def test_any_one_wrong_digit_is_refused(
    batch: int, letter: int, page_pages: tuple[int, int], at: int, delta: int
) -> None:
    value = encode(batch, letter, *page_pages)
    wrong = value[:at] + str((int(value[at]) + delta) % 10) + value[at + 1 :]
    with pytest.raises(ValueError):
        decode(wrong)


@given(st.text(max_size=24))
def test_decoding_any_text_either_succeeds_or_names_what_is_wrong(text: str) -> None:
    try:
        decode(text)
    except ValueError as e:
        assert str(e).split(":")[0] in {
            "format", "length", "check digit", "batch", "letter", "page", "pages",
            "end-of-set flag",
        }  # fmt: skip


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((-1, 1, 1, 1), "batch"),
        ((1, 0, 1, 1), "letter"),
        ((1, 1_000_000, 1, 1), "letter"),
        ((1, 1, 0, 1), "page"),
        ((1, 1, 3, 2), "page"),
        ((1, 1, 1, 0), "pages"),
        ((1, 1, 1, 100), "pages"),
    ],
)
def test_out_of_range_input_names_the_field(args: tuple[int, int, int, int], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        encode(*args)


def test_describe_covers_every_digit_for_the_manifest() -> None:
    d = inserter.describe()
    json.dumps(d)  # goes into the batch manifest as it is
    covered: list[int] = []
    for f in d["fields"]:
        first, last = map(int, f["digits"].split("-"))
        covered += range(first, last + 1)
    assert covered == list(range(1, d["length"] + 1))
    assert decode(d["example"]) == Control(42, 17, 1, 3)
    # what the vendor sets the inserter's reader to
    assert d["placement"] == {
        "x_mm": 199.0,
        "y_mm_from_top": 20.0,
        "width_mm": 6.0,
        "height_mm": 47.19,
        "orientation": "vertical, start at the top",
        "module_mm": 0.33,
        "bar_height_mm": 6.0,
        "quiet_zone_modules": 10,
    }


# --- where it goes -------------------------------------------------------------------------


def test_default_placement_is_in_the_right_margin() -> None:
    validate_placement(DEFAULT_PLACEMENT)
    left, _, right, _ = DEFAULT_PLACEMENT.box()
    assert left >= 192 + 5 and right <= 210 - 4  # clear of the content, inside the border
    assert 5 <= DEFAULT_PLACEMENT.height_mm <= 6 and DEFAULT_PLACEMENT.module_mm == 0.33


@pytest.mark.parametrize(
    ("placement", "zone"),
    [
        (Placement(x_mm=60, y_mm_from_top=50, rotate=False), "envelope window"),
        (Placement(x_mm=16, y_mm_from_top=30), "envelope window"),  # runs down into it
        (Placement(x_mm=5, y_mm_from_top=100), "left-margin barcode zone"),
        (Placement(x_mm=5, y_mm_from_top=60), "left-margin barcode zone"),  # runs down into it
        (Placement(x_mm=150, y_mm_from_top=150), "content area"),
        (Placement(x_mm=205), "printable page"),
        (Placement(x_mm=199, y_mm_from_top=260), "printable page"),
        (Placement(module_mm=0.1), "module width"),
        (Placement(height_mm=2), "bar height"),
    ],
)
def test_placement_is_refused_naming_the_zone(placement: Placement, zone: str) -> None:
    with pytest.raises(ValueError, match=zone):
        validate_placement(placement)


def test_the_configured_window_is_respected() -> None:
    wide = Window(left=15, top=10, width=190, height=40)  # a window across the top right
    with pytest.raises(ValueError, match="envelope window"):
        validate_placement(DEFAULT_PLACEMENT, 210, 297, wide)


@pytest.mark.parametrize("name", NAMES)
def test_code_area_is_blank_on_every_page_of_every_letter(
    produced: dict[str, Produced], name: str
) -> None:
    assert clear_of_content(produced[name].rendered.pdf) == []


def test_clear_of_content_finds_what_is_in_the_way(produced: dict[str, Produced]) -> None:
    pdf = produced[MANY].rendered.pdf
    # across the claims table on page 1, and across the footer of every page
    table = clear_of_content(pdf, Placement(x_mm=100, y_mm_from_top=120, rotate=False))
    assert any(
        line.startswith(("page 1: text 'Spesifikasjon'", "page 1: text 'Hovedstol"))
        for line in table
    ), table
    footer = clear_of_content(pdf, Placement(x_mm=150, y_mm_from_top=282, rotate=False))
    assert {line.split(":")[0] for line in footer} == {"page 1", "page 2", "page 3"}
    # a stamped letter has the code itself there
    assert clear_of_content(stamp(pdf, 1, 1)) != []


# --- stamping ------------------------------------------------------------------------------


def _inserter_codes(pdf: bytes, page: int) -> list[Barcode]:
    return [b for b in barcodes(pdf, page) if len(b.text) == 16]


def _in_box(code: Barcode, placement: Placement, slack: float = 1.0) -> bool:
    left, top, right, bottom = placement.box()
    return (
        code.left_mm >= left - slack
        and code.right_mm <= right + slack
        and code.top_mm >= top - slack
        and code.bottom_mm <= bottom + slack
    )


@pytest.fixture(scope="module")
def stamped_many(produced: dict[str, Produced]) -> bytes:
    return stamp(produced[MANY].rendered.pdf, 42, 17)


def test_every_page_carries_its_code_where_placed(
    produced: dict[str, Produced], stamped_many: bytes
) -> None:
    p = produced[MANY]
    assert len(page_texts(stamped_many)) == 3
    for index in range(3):
        found = barcodes(stamped_many, index)
        codes = [b for b in found if b.text != p.composed.letter.id]
        assert [c.text for c in codes] == [encode(42, 17, index + 1, 3)]
        assert _in_box(codes[0], DEFAULT_PLACEMENT), codes[0]
        if index == 0:  # the letter's own barcode still reads
            assert p.composed.letter.id in [b.text for b in found]
    assert [decode(encode(42, 17, n, 3)).last for n in (1, 2, 3)] == [False, False, True]


def test_stamped_letter_is_the_same_letter(
    produced: dict[str, Produced], stamped_many: bytes
) -> None:
    p = produced[MANY]
    assert page_texts(stamped_many) == page_texts(p.rendered.pdf)  # bars carry no text
    # still passes the print-safety check: fonts embedded, window and margin zone clear
    report = check(stamped_many, window_text(p.composed))
    assert report.ok, report.failures
    with pikepdf.open(io.BytesIO(stamped_many)) as pdf:
        assert pdf.docinfo["/Title"] == f"Betalingsoppfordring – {p.composed.letter.reference}"


def test_a_horizontal_code_under_the_footer_reads_too(produced: dict[str, Produced]) -> None:
    bottom = Placement(x_mm=100, y_mm_from_top=288.5, height_mm=4.5, rotate=False)
    pdf = produced["reminder.nb"].rendered.pdf
    assert clear_of_content(pdf, bottom) == []
    # batch 9942: a code that starts with 99, which python-barcode would mis-encode
    codes = _inserter_codes(stamp(pdf, 9942, 9, bottom), 0)
    assert [c.text for c in codes] == [encode(9942, 9, 1, 1)]
    assert _in_box(codes[0], bottom)


def test_stamp_into_appends_letters_to_a_batch(produced: dict[str, Produced]) -> None:
    target = pikepdf.new()
    sources = [produced[MANY].rendered.pdf, produced["reminder.en"].rendered.pdf]
    for seq, data in enumerate(sources, 1):
        with pikepdf.open(io.BytesIO(data)) as source:
            before = [p.obj.Contents.read_bytes() for p in source.pages]
            assert stamp_into(target, source, 10_007, seq) == len(source.pages)
            assert [p.obj.Contents.read_bytes() for p in source.pages] == before  # unchanged
        # the source is closed before the batch is saved
    out = io.BytesIO()
    target.save(out)
    batch = out.getvalue()
    assert page_texts(batch) == page_texts(sources[0]) + page_texts(sources[1])
    expected = [encode(7, 1, 1, 3), encode(7, 1, 2, 3), encode(7, 1, 3, 3), encode(7, 2, 1, 1)]
    assert [_inserter_codes(batch, i)[0].text for i in range(4)] == expected
    assert check(batch).ok  # fonts of both letters came along


def test_a_page_that_cannot_take_the_code_appends_nothing(produced: dict[str, Produced]) -> None:
    small = io.BytesIO()
    c = canvas.Canvas(small, pagesize=A6)
    c.drawString(20, 20, "A6")
    c.showPage()
    c.save()
    target = pikepdf.new()
    with pikepdf.open(small) as source, pytest.raises(ValueError, match="printable page"):
        stamp_into(target, source, 1, 1)
    with pikepdf.open(io.BytesIO(produced["reminder.nb"].rendered.pdf)) as source:
        with pytest.raises(ValueError, match=r"^letter: "):
            stamp_into(target, source, 1, 0)
        source.pages[0].rotate(90)
        with pytest.raises(ValueError, match="rotated"):
            stamp_into(target, source, 1, 1)
    assert len(target.pages) == 0


# --- the cover sheet -----------------------------------------------------------------------

FILES = (
    BatchFile("PB-0042-1.pdf", 250, 310, 262),
    BatchFile("PB-0042-2.pdf", 250, 275, 255),
    BatchFile("PB-0042-utland-Særskilt.pdf", 12, 15, 13),
)


def _info(**changes: object) -> CoverInfo:
    fields: dict[str, object] = {
        "batch_id": "PB-20261120-0042",
        "sequence": 42,
        "created_at": datetime(2026, 11, 20, 13, 5, tzinfo=UTC),
        "sender_name": "Fjordinkasso AS, Tromsø",
        "file_name": "PB-0042-2.pdf",
        "files": FILES,
        "foreign_letters": 12,
        "envelope": "C5 vindu venstre",
    }
    fields.update(changes)
    return CoverInfo(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def cover() -> bytes:
    return cover_sheet(_info())


def test_cover_is_one_a4_page_showing_the_counts(cover: bytes) -> None:
    with pikepdf.open(io.BytesIO(cover)) as pdf:
        assert len(pdf.pages) == 1
        box = pikepdf.Rectangle(pdf.pages[0].mediabox)
        assert (round(box.width / MM), round(box.height / MM)) == (210, 297)
    (text,) = page_texts(cover)
    for expected in (
        "Batch id PB-20261120-0042",
        "Batch sequence 42",
        "Created 2026-11-20 14:05:00 CET",
        "File PB-0042-2.pdf (part 2 of 3)",
        "Sender Fjordinkasso AS, Tromsø",
        "Envelope C5 vindu venstre",
        "Letters 512 Pages 600 Sheets 530 (duplex) Foreign letters 12",
        "PB-0042-1.pdf 250 310 262",
        "PB-0042-2.pdf (this file) 250 275 255",
        "PB-0042-utland-Særskilt.pdf 12 15 13",
        "Total (3 files) 512 600 530",
        "16 digits BBBB LLLLLL PP MM E C",
    ):
        assert expected in text, expected


def test_cover_barcode_scans_as_the_batch_id(cover: bytes) -> None:
    assert [b.text for b in barcodes(cover)] == ["PB-20261120-0042"]


def test_cover_is_reproducible_and_summer_time_shows(cover: bytes) -> None:
    assert cover_sheet(_info()) == cover
    summer = cover_sheet(_info(created_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC)))
    assert "2026-06-01 12:00:00 CEST" in page_texts(summer)[0]


def test_cover_for_the_whole_batch_from_plain_tuples() -> None:
    info = CoverInfo(
        batch_id="PB000007",
        sequence=7,
        created_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
        sender_name="Fjordinkasso AS",
        files=(("C5-001.pdf", 3, 5, 4), ("C4-001.pdf", 1, 12, 6)),
    )
    (text,) = page_texts(cover_sheet(info))
    assert "File the whole batch (2 files)" in text
    assert "Letters 4 Pages 17 Sheets 10 (duplex) Inserter code" in text  # nothing not given
    assert "Envelope" not in text and "Foreign" not in text


def test_cover_with_many_files_stays_on_one_page() -> None:
    files = [BatchFile(f"PB-0042-{n:03d}.pdf", 10, 14, 12) for n in range(1, 121)]
    pdf = cover_sheet(_info(files=files, file_name="PB-0042-001.pdf", foreign_letters=0))
    (text,) = page_texts(pdf)
    assert "more files" in text and "Total (120 files) 1 200 1 680 1 440" in text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"created_at": datetime(2026, 11, 20, 13, 5)}, "created_at"),
        ({"file_name": "other.pdf"}, "file_name"),
        ({"batch_id": "batch med mellomrom"}, "batch_id"),
        ({"foreign_letters": 513}, "foreign_letters"),
        ({"files": [BatchFile("a.pdf", 2, 4, 1)], "file_name": "a.pdf"}, "files"),
        ({"files": [BatchFile("a.pdf", 2, 1, 2)], "file_name": "a.pdf"}, "files"),
    ],
)
def test_inconsistent_cover_info_is_refused(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}: "):
        _info(**changes)


@given(st.lists(st.integers(1, 20), max_size=50))
def test_sheets_each_letter_on_a_new_sheet(page_counts: list[int]) -> None:
    n = sheets(page_counts)
    assert n == sum(math.ceil(p / 2) for p in page_counts)
    assert len(page_counts) <= n <= sum(page_counts)
    assert sheets(page_counts, duplex=False) == sum(page_counts)


@given(st.text(max_size=40))
def test_cover_text_is_always_drawable_and_keeps_norwegian_letters(text: str) -> None:
    from channels.printing.cover import _register_fonts

    covered = _register_fonts()
    shown = drawable(text)
    assert all(ord(ch) in covered and ch.isprintable() for ch in shown)
    assert drawable("æøåÆØÅ " + text).startswith("æøåÆØÅ ")


@pytest.mark.parametrize("sender", ["Fjordinkasso AS", "Łódź Windykacja Sp. z o.o. — Ærøskøbing"])
def test_the_cover_passes_the_products_own_print_check(sender: str) -> None:
    """The vendor's first page: fonts embedded, nothing but text where the envelope
    window would be, no text across its edge (one finding for all the bars, if any)."""
    from letters.renderers.safety import check

    report = check(cover_sheet(_info(sender_name=sender)))
    assert report.ok, [str(f) for f in report.findings]
    assert "Łódź" in page_texts(cover_sheet(_info(sender_name=sender)))[0] or "Ł" not in sender
