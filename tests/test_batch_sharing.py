"""A print batch file keeps one copy of each font however many letters it holds (issue 12:
a one-page letter costs at most 8 KB in a batch file), and each letter in it still prints
exactly as its archived copy with its inserter code drawn on."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2 as pdfium

from channels.printing.batch import BatchCloser
from channels.printing.inserter.stamping import stamp_into
from letters.produce import produce
from tests.conftest import Pipeline, load_job
from tests.pdftext import page_texts

#: Debtors unlike each other, as in a real batch: each letter draws its own characters in
#: its own order (the archived PDFs differ in every name and address).
DEBTORS = (
    "Bjørg Ågot Æsøy-Kløvstad",
    "Jérôme Lefèvre",
    "Siv Østby",
    "Jürgen Müller",
    "Nils Ødegård",
    "José Núñez",
    "Máret Sárá Čuđi",
    "Zoë Björk",
    "Ola Haugen",
    "Łucja Wąsowska",
    "Ingrid Løvås",
    "Tor Bjørnstad",
)
STREETS = ("Storgata", "Bøgata", "Ørnevegen", "Åsveien", "Kongens gate")
KINDS = ("reminder.nb", "payment_request.nb", "reminder.en", "collection_notice.nb")
LIMIT = 8 * 1024  # bytes a one-page letter may add to a batch file


def job_for(n: int) -> dict[str, Any]:
    job = load_job(KINDS[n % len(KINDS)])
    job["id"] = f"share-{n:03d}"
    job["debtor"]["name"] = DEBTORS[n % len(DEBTORS)]
    job["debtor"]["address"]["lines"] = [f"{STREETS[n % len(STREETS)]} {n + 1}"]
    job["claims"][0]["invoice_number"] = f"2026-10-{4400 + 7 * n}"
    return job


def close_letters(pipeline: Pipeline, numbers: range) -> Path:
    """Make the letters ``numbers`` and close them into a batch: its folder."""
    for n in numbers:
        pipeline.submit(job_for(n))
    pipeline.drain()
    rt = pipeline.runtime
    [closed] = BatchCloser(rt.settings, rt.ledger, rt.archive).close()
    return closed.folder


def font_files(pdf: pikepdf.Pdf) -> list[bytes]:
    """The raw bytes of every embedded font file the PDF stores."""
    descriptors = [
        obj
        for obj in pdf.objects
        if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/FontDescriptor"
    ]
    return [d.FontFile2.read_raw_bytes() for d in descriptors]


def test_a_batch_file_grows_by_less_than_8_kb_per_one_page_letter(pipeline: Pipeline) -> None:
    small = close_letters(pipeline, range(2))
    big = close_letters(pipeline, range(2, 14))
    sizes = {}
    for folder in (small, big):
        manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
        assert [f["name"] for f in manifest["files"]] == ["C5-001.pdf"]
        assert {e["pages"] for e in manifest["letters"]} == {1}
        sizes[folder] = (folder / "C5-001.pdf").stat().st_size
    added = (sizes[big] - sizes[small]) / 10
    assert added < LIMIT, f"{added / 1024:.1f} KB per added one-page letter"
    # every font file once: twelve letters, no font stored twice
    with pikepdf.open(big / "C5-001.pdf") as pdf:
        files = font_files(pdf)
        assert len(files) == len(set(files))
    # the manifest says how the file's pages relate to the archived letters
    assert "stored once per file" in manifest["pages_in_files"]


def rendered(pdf: bytes | Path, index: int) -> bytes:
    doc = pdfium.PdfDocument(pdf)
    try:
        return bytes(doc[index].render(scale=100 / 72).to_pil().convert("RGB").tobytes())
    finally:
        doc.close()


def test_each_letter_in_a_batch_file_prints_as_archived_with_its_code(
    pipeline: Pipeline,
) -> None:
    folder = close_letters(pipeline, range(6))
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    batch_file = folder / "C5-001.pdf"
    for entry in manifest["letters"]:
        archived = pipeline.runtime.archive.get(entry["sha256"])
        assert hashlib.sha256(archived).hexdigest() == entry["sha256"]
        # the archived letter with its code drawn on, alone in a file of its own
        alone = pikepdf.new()
        with pikepdf.open(io.BytesIO(archived)) as source:
            stamp_into(alone, source, manifest["sequence"], entry["sequence"])
        out = io.BytesIO()
        alone.save(out)
        page = entry["first_page"] - 1
        assert rendered(batch_file, page) == rendered(out.getvalue(), 0), entry["name"]
        assert page_texts(batch_file.read_bytes())[page] == page_texts(archived)[0]


def embedded_fonts(pdf: bytes) -> dict[str, list[bytes]]:
    """Per font name (subset tag included), its font file's and ToUnicode map's bytes."""
    out = {}
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        for obj in doc.objects:
            if isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") == "/Font":
                out[str(obj.BaseFont)] = [
                    obj.FontDescriptor.FontFile2.read_raw_bytes(),
                    obj.ToUnicode.read_raw_bytes(),
                    obj.Widths.unparse(),
                ]
    return out


def test_letters_to_different_debtors_embed_the_same_font_subsets() -> None:
    first, second = job_for(0), job_for(4)  # two reminders in Norwegian
    second["debtor"]["name"] = "Øyvind Åsheim-Ærø"
    second["debtor"]["address"]["lines"] = ["Bøgata 18 – oppgang Ø"]
    fonts = [embedded_fonts(produce(job).rendered.pdf) for job in (first, second)]
    assert fonts[0] and fonts[0] == fonts[1]


def test_a_name_outside_the_fixed_repertoire_keeps_the_shared_subset() -> None:
    plain, cyrillic = job_for(0), job_for(0)
    cyrillic["debtor"]["name"] = "Ольга Nordmann-Øye"
    made = produce(cyrillic)
    assert made.safety.ok, made.safety.findings
    fonts = embedded_fonts(made.rendered.pdf)
    shared = embedded_fonts(produce(plain).rendered.pdf)
    # the first subsets are the plain letter's, byte for byte; the Cyrillic letters are
    # in a second subset of their own
    assert {k: v for k, v in fonts.items() if k.startswith("/AAAAAA+")} == shared
    assert any(k.startswith("/AAAAAB+") for k in fonts)
    assert "Ольга Nordmann-Øye" in page_texts(made.rendered.pdf)[0]
