"""Print batches as the print vendor receives them: letters join the open batch, closing
writes one folder (cover sheet, merged PDFs in postal order with the inserter code on every
page, manifests, checksums, READY last), and no letter is ever in two batches."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import select

from channels.base import Outgoing, PermanentError, PostalAddress
from channels.printing.batch import BatchCloser, BatchError
from channels.printing.channel import PrintChannel
from channels.printing.publish import verify
from letters.codes import Code
from letters.ledger import BatchStatus
from letters.ledger.batches import Batches
from letters.numbers import inserter_code
from tests.conftest import JOB_FILES, Pipeline, load_job


def run_fixtures(pipeline: Pipeline, names: list[str] | None = None) -> dict[str, str]:
    """Submit fixture jobs (all by default) and drain; job id → letter id."""
    jobs = [load_job(n) for n in (names or [p.stem for p in JOB_FILES])]
    ids = {job["id"]: pipeline.submit(job) for job in jobs}
    pipeline.drain()
    return ids


def closer_of(pipeline: Pipeline) -> BatchCloser:
    """A batch closer over the pipeline's settings (as they are now), ledger and archive."""
    rt = pipeline.runtime
    return BatchCloser(rt.settings, rt.ledger, rt.archive)


def read_csv(folder: Path) -> list[dict[str, str]]:
    with (folder / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def codes_on(pdf_path: Path, scale: float = 300 / 72) -> list[list[str]]:
    """Every Code128 value found on each page, as a scanner would read them."""
    doc = pdfium.PdfDocument(str(pdf_path))
    try:
        found = []
        for page in doc:
            image = page.render(scale=scale, grayscale=True).to_pil()
            found.append(sorted(r.text for r in zxingcpp.read_barcodes(image)))
        return found
    finally:
        doc.close()


def test_closing_writes_the_vendor_folder(pipeline: Pipeline) -> None:
    ids = run_fixtures(pipeline)
    [closed] = closer_of(pipeline).close()
    folder = closed.folder
    assert folder.name == closed.id and (folder / "READY").exists()
    assert verify(folder) == []
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "00-cover.pdf" and "manifest.json" in names and "SHA256SUMS" in names
    rows = read_csv(folder)
    # every printed letter exactly once, in postal order with letters abroad last
    assert sorted(r["letter_id"] for r in rows) == sorted(ids.values())
    keys = [(r["country"] != "NO", r["country"], r["postal_code"]) for r in rows]
    assert keys == sorted(keys)
    assert rows[-1]["country"] != "NO"
    assert [int(r["sequence"]) for r in rows] == list(range(1, len(rows) + 1))
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert [e["letter_id"] for e in manifest["letters"]] == [r["letter_id"] for r in rows]
    assert manifest["totals"]["letters"] == len(rows) == closed.letters
    assert [f["name"] for f in manifest["inserter_code"]["fields"]][:2] == ["batch", "letter"]
    # each letter's pages sit where the manifest says, carrying their inserter code
    for r in rows:
        letter = pipeline.runtime.ledger.letter(r["letter_id"])
        assert letter is not None and r["sha256"] == letter.pdf_sha256
        assert int(r["pages"]) == letter.page_count
    by_file: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_file.setdefault(r["file"], []).append(r)
    for name, members in by_file.items():
        with pikepdf.open(folder / name) as pdf:
            # duplex: every letter starts on a new sheet, so odd letters get a blank back
            assert len(pdf.pages) == sum(2 * int(r["sheets"]) for r in members)
            for r in members:
                first = int(r["first_page"]) - 1
                assert first % 2 == 0  # a front side
                if int(r["pages"]) % 2:
                    blank = pdf.pages[first + int(r["pages"])]
                    assert not blank.get("/Contents")  # nothing printed on it
    sample = next(r for r in rows if int(r["pages"]) > 1)  # the many-claims letter
    codes = codes_on(folder / sample["file"])
    first = int(sample["first_page"]) - 1
    pages = int(sample["pages"])
    for n in range(pages):
        expected = inserter_code.encode(closed.sequence, int(sample["sequence"]), n + 1, pages)
        assert expected in codes[first + n]
        assert sample["letter_id"] in codes[first + n] or n > 0  # the letter's own code, p. 1


def test_the_cover_sheet_counts_what_is_in_the_batch(pipeline: Pipeline) -> None:
    run_fixtures(pipeline, ["reminder.nb", "edge.many-claims", "edge.foreign-address"])
    [closed] = closer_of(pipeline).close()
    doc = pdfium.PdfDocument(str(closed.folder / "00-cover.pdf"))
    try:
        assert len(doc) == 1
        text = doc[0].get_textpage().get_text_range()
        image = doc[0].render(scale=300 / 72, grayscale=True).to_pil()
    finally:
        doc.close()
    assert closed.id in text
    # 1 + 3 + 1 letter pages, each odd letter with a blank back: 8 sides on 4 sheets
    assert closed.letters == 3 and closed.pages == 8 and closed.sheets == 4
    for figure in ("3", "8", "4"):
        assert figure in text
    assert closed.id in [r.text for r in zxingcpp.read_barcodes(image)]
    for job in ("reminder.nb", "edge.many-claims"):  # no debtor data on the cover
        assert load_job(job)["debtor"]["name"] not in text


def test_closing_twice_makes_no_second_batch(pipeline: Pipeline) -> None:
    run_fixtures(pipeline, ["reminder.nb", "reminder.en"])
    closer = closer_of(pipeline)
    [first] = closer.close()
    sums = (first.folder / "SHA256SUMS").read_bytes()
    assert closer.close() == []
    with pytest.raises(BatchError, match="no print batch PB999999"):
        closer.close("PB999999")
    assert closer.close(first.id) == []  # naming a closed batch does nothing
    assert [p.name for p in first.folder.parent.iterdir()] == [first.id]
    assert (first.folder / "SHA256SUMS").read_bytes() == sums
    # a letter handled again (a redelivered message) stays in its batch
    letter = pipeline.runtime.ledger.letter_for_job(load_job("reminder.nb")["id"])
    assert letter is not None
    joined = Batches(pipeline.runtime.ledger).join(letter.id, "0|0000", 1)
    assert (joined.batch_id, joined.new) == (first.id, False)


def test_letters_after_a_close_go_into_the_next_batch(pipeline: Pipeline) -> None:
    run_fixtures(pipeline, ["reminder.nb"])
    closer = closer_of(pipeline)
    [first] = closer.close()
    run_fixtures(pipeline, ["reminder.en"])
    [second] = closer.close()
    assert (first.sequence, second.sequence) == (1, 2)
    assert [r["letter_id"] for r in read_csv(second.folder)] == [
        pipeline.runtime.ledger.letter_for_job(load_job("reminder.en")["id"]).id  # type: ignore[union-attr]
    ]


def test_a_crash_mid_close_is_finished_by_the_next_close(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = run_fixtures(pipeline, ["reminder.nb", "reminder.en", "edge.foreign-address"])
    closer = closer_of(pipeline)

    def crash(*_: Any) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr("channels.printing.publish.fsync_dir", crash)
        with pytest.raises(OSError):
            closer.close()
    batches = Batches(pipeline.runtime.ledger)
    [row] = batches.listing()
    assert row.status == "closing"
    assert not (pipeline.tmp / "print" / row.id / "READY").exists()
    # the lease of the crashed close has not run out: another close leaves it alone
    assert closer.close() == []
    with batches.ledger.session() as s:  # … until it has
        from letters.ledger.models import PrintBatchRow

        stuck = s.get(PrintBatchRow, row.id)
        assert stuck is not None
        stuck.lease_at = None
    [done] = closer.close()
    assert done.id == row.id and done.letters == 3
    assert sorted(r["letter_id"] for r in read_csv(done.folder)) == sorted(ids.values())
    assert verify(done.folder) == []
    assert sorted(p.name for p in done.folder.parent.iterdir()) == [row.id]  # no leftovers
    assert batches.get(row.id).status == BatchStatus.CLOSED  # type: ignore[union-attr]


def published_then_crashed(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> tuple[BatchCloser, Batches, Any, Path]:
    """A close killed after READY was written but before the ledger recorded it."""
    run_fixtures(pipeline, ["reminder.nb"])
    closer = closer_of(pipeline)
    batches = Batches(pipeline.runtime.ledger)

    def crash(*_: Any, **__: Any) -> None:
        raise RuntimeError("killed after READY")

    with monkeypatch.context() as patch:
        patch.setattr(batches.__class__, "mark_closed", crash)
        with pytest.raises(RuntimeError):
            closer.close()
    [row] = batches.listing()
    return closer, batches, row, pipeline.tmp / "print" / row.id


def test_a_folder_written_before_a_crash_is_adopted_not_rewritten(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    closer, batches, row, folder = published_then_crashed(pipeline, monkeypatch)
    ready = (folder / "READY").read_bytes()
    with batches.ledger.session() as s:
        from letters.ledger.models import PrintBatchRow

        s.get(PrintBatchRow, row.id).lease_at = None  # type: ignore[union-attr]
    [done] = closer.close()
    assert done.adopted and (folder / "READY").read_bytes() == ready


def test_a_folder_another_ledger_wrote_is_not_adopted(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two ledgers on one print folder (`make main` on SQLite, then a PostgreSQL ledger
    with the same jobs): the same letter ids, other PDFs. The folder is not this ledger's
    batch and must not be recorded as it."""
    from letters.ledger.models import LetterRow, PrintBatchRow

    closer, batches, row, folder = published_then_crashed(pipeline, monkeypatch)
    ready = (folder / "READY").read_bytes()
    with batches.ledger.session() as s:
        s.get(PrintBatchRow, row.id).lease_at = None  # type: ignore[union-attr]
        for letter in s.scalars(select(LetterRow)):
            letter.pdf_sha256 = "0" * 64  # as the other ledger made it: another password
    assert closer.close() == []
    [why] = closer.unfinished
    assert f"print batch {row.id} has READY but cannot be adopted" in why
    assert "not this ledger's" in why
    assert batches.get(row.id).status != BatchStatus.CLOSED  # type: ignore[union-attr]
    assert (folder / "READY").read_bytes() == ready  # the folder left as it was


def test_a_letter_failing_the_print_check_never_enters_a_batch(pipeline: Pipeline) -> None:
    channel = PrintChannel(Batches(pipeline.runtime.ledger), pipeline.runtime.settings)
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=(200, 200))  # not A4, standard font not embedded
    page.drawString(10, 100, "not a letter")
    page.save()
    letter = Outgoing(
        "12345678901234567890",
        "job-x",
        "X-1",
        "Kari",
        buffer.getvalue(),
        address=PostalAddress("Kari", ("Gate 1",), "0150", "OSLO"),
    )
    with pytest.raises(PermanentError) as info:
        channel.deliver(letter)
    assert info.value.code == Code.PRINT_UNSAFE
    assert "A4" in str(info.value)
    assert Batches(pipeline.runtime.ledger).listing() == []


def test_letters_joining_while_a_batch_closes_are_never_lost(pipeline: Pipeline) -> None:
    """Joins racing a close: each letter is in exactly one batch, and every closed batch's
    manifest lists exactly the letters the ledger has in it."""
    from letters.ledger.models import JobRow, LetterRow

    ids = run_fixtures(pipeline, ["reminder.nb"])
    template = pipeline.runtime.ledger.letter(next(iter(ids.values())))
    assert template is not None
    batches = Batches(pipeline.runtime.ledger)
    fake = [f"{90000000000000000000 + i}" for i in range(60)]
    with pipeline.runtime.ledger.session() as s:  # letters as the render stage records them
        job = s.get(JobRow, template.job_id)
        assert job is not None
        for lid in fake:
            s.add(
                JobRow(
                    id=f"j{lid}",
                    content_sha256="0" * 64,
                    payload=job.payload,
                    kind=job.kind,
                    reference=job.reference,
                    letter_id=lid,
                    status="delivering",
                    accepted_at=job.accepted_at,
                    updated_at=job.updated_at,
                )
            )
            s.flush()
            s.add(
                LetterRow(
                    **{
                        c.name: getattr(template, c.name)
                        for c in LetterRow.__table__.columns
                        if c.name not in ("id", "job_id")
                    },
                    id=lid,
                    job_id=f"j{lid}",
                )
            )
    closer = closer_of(pipeline)
    closed: list[Any] = []

    def joiner() -> None:
        for lid in fake:
            batches.join(lid, "0|0150", 1)

    thread = threading.Thread(target=joiner)
    thread.start()
    while thread.is_alive():
        closed += closer.close()
    thread.join()
    closed += closer.close()
    seen = [r["letter_id"] for b in closed for r in read_csv(b.folder)]
    assert sorted(seen) == sorted([*ids.values(), *fake])  # each exactly once
    assert all(b.status != BatchStatus.OPEN for b in batches.listing())


def test_status_shows_the_batch_a_letter_went_into(pipeline: Pipeline) -> None:
    run_fixtures(pipeline, ["reminder.nb"])
    job_id = load_job("reminder.nb")["id"]
    history = pipeline.runtime.ledger.history(job_id)
    assert history is not None and history.print_batch is not None
    assert history.print_batch.status == BatchStatus.OPEN
    [closed] = closer_of(pipeline).close()
    history = pipeline.runtime.ledger.history(job_id)
    assert history is not None and history.print_batch is not None
    assert history.print_batch.id == closed.id
    assert history.print_batch.status == BatchStatus.CLOSED
    overview = pipeline.runtime.ledger.overview()
    assert overview.print_batches[0].letters == 1
    assert overview.delivered_by_channel == {"print": 1}


def test_sha256sums_cover_every_file(pipeline: Pipeline) -> None:
    run_fixtures(pipeline, ["reminder.nb"])
    [closed] = closer_of(pipeline).close()
    for line in (closed.folder / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((closed.folder / name).read_bytes()).hexdigest() == digest
    (closed.folder / "manifest.csv").write_text("tampered")
    assert verify(closed.folder) == ["manifest.csv does not match its checksum"]


def test_the_daily_cutoff_closes_only_a_batch_opened_before_it(pipeline: Pipeline) -> None:
    import datetime as dt

    from letters.clock import OSLO
    from letters.config import Printing

    run_fixtures(pipeline, ["reminder.nb"])
    [row] = Batches(pipeline.runtime.ledger).listing()
    opened = row.opened_at.astimezone(OSLO)
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={"printing": Printing(folder=pipeline.tmp / "print", cutoff=dt.time(16, 0))}
    )
    cutoff_today = opened.replace(hour=16, minute=0, second=0, microsecond=0)
    if cutoff_today <= opened:  # the batch opened after today's cut-off: use tomorrow's
        cutoff_today += dt.timedelta(days=1)
    closer = closer_of(pipeline)
    assert closer.close_at_cutoff(at=cutoff_today - dt.timedelta(minutes=1)) == []
    [closed] = closer.close_at_cutoff(at=cutoff_today + dt.timedelta(minutes=1))
    assert closed.id == row.id and (closed.folder / "READY").exists()
    assert closer.close_at_cutoff(at=cutoff_today + dt.timedelta(hours=1)) == []


def test_closed_batches_are_handed_to_the_vendors_sftp_server(pipeline: Pipeline) -> None:
    from letters.config import Printing
    from tests.sftp_server import running

    root = pipeline.tmp / "vendor"
    (root / "inbox").mkdir(parents=True)
    run_fixtures(pipeline, ["reminder.nb", "reminder.en"])
    with running(root, pipeline.tmp / "keys") as server:
        handoff = {
            "kind": "sftp",
            "sftp": {
                "host": server.host,
                "port": server.port,
                "username": server.username,
                "key_file": str(server.client_key_file),
                "host_key_sha256": server.host_key_sha256,
                "remote_dir": "inbox",
            },
        }
        pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
            update={
                "printing": Printing.model_validate(
                    {"folder": pipeline.tmp / "print", "handoff": handoff}
                )
            }
        )
        closer = closer_of(pipeline)
        [closed] = closer.close()
        [receipt] = closer.hand_off()
        assert closer.hand_off() == []  # handed off once
    delivered = root / "inbox" / closed.id
    assert receipt["batch"] == closed.id and not receipt["already_there"]
    assert sorted(p.name for p in delivered.iterdir()) == sorted(
        p.name for p in closed.folder.iterdir()
    )
    assert verify(delivered) == []
    assert Batches(pipeline.runtime.ledger).get(closed.id).status == "handed_off"  # type: ignore[union-attr]


def test_a_batch_the_vendor_already_has_under_its_name_is_reported_and_kept(
    pipeline: Pipeline,
) -> None:
    """A different batch of the same name, complete (READY) in the vendor's drop folder, is
    never overwritten: the operator is told by its code, and the batch stays closed."""
    from letters.config import Printing

    vendor = pipeline.tmp / "vendor"
    theirs = vendor / "PB000001"
    theirs.mkdir(parents=True)
    (theirs / "SHA256SUMS").write_text(f"{hashlib.sha256(b'x').hexdigest()}  00-cover.pdf\n")
    (theirs / "READY").write_text("PB000001\n")
    before = sorted((p.name, p.read_bytes()) for p in theirs.iterdir())
    run_fixtures(pipeline, ["reminder.nb"])
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={
            "printing": Printing.model_validate(
                {"folder": pipeline.tmp / "print", "handoff": {"kind": "folder", "folder": vendor}}
            )
        }
    )
    closer = closer_of(pipeline)
    [closed] = closer.close()
    assert closed.id == "PB000001"
    [report] = closer.hand_off()
    assert (report["batch"], report["code"]) == (closed.id, Code.HANDOFF_CONFLICT)
    assert report["error"].startswith("handoff-conflict: ")
    assert sorted((p.name, p.read_bytes()) for p in theirs.iterdir()) == before
    assert Batches(pipeline.runtime.ledger).get(closed.id).status == "closed"  # type: ignore[union-attr]
    assert [r["code"] for r in closer.hand_off()] == [Code.HANDOFF_CONFLICT]  # and next round


def test_a_letter_that_cannot_be_printed_is_left_out_and_its_job_fails(
    pipeline: Pipeline,
) -> None:
    ids = run_fixtures(pipeline, ["reminder.nb", "reminder.en"])
    bad = ids["rem-en-0001"]
    letter = pipeline.runtime.ledger.letter(bad)
    assert letter is not None
    pipeline.runtime.archive.path_for(letter.pdf_sha256).write_bytes(b"%PDF-1.7 damaged")
    [closed] = closer_of(pipeline).close()
    assert [r["letter_id"] for r in read_csv(closed.folder)] == [ids["rem-nb-0001"]]
    assert closed.letters == 1
    row = pipeline.runtime.ledger.job("rem-en-0001")
    assert row is not None and row.status == "failed"
    assert "left out of print batch PB000001" in (row.error or "")
    history = pipeline.runtime.ledger.history("rem-en-0001")
    assert history is not None and history.attempts[-1].status == "failed"
    assert row.error_code is not None and row.error_code == history.attempts[-1].error_code
    assert pipeline.in_print(bad) is None


def test_a_published_batch_that_no_longer_verifies_is_not_written_again(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    closer, batches, row, folder = published_then_crashed(pipeline, monkeypatch)
    (folder / "C5-001.pdf").unlink()  # the vendor already took the file
    with batches.ledger.session() as s:
        from letters.ledger.models import PrintBatchRow

        s.get(PrintBatchRow, row.id).lease_at = None  # type: ignore[union-attr]
    run_fixtures(pipeline, ["reminder.en"])
    [second] = closer.close()  # the stuck batch is left to an operator; the next one closes
    assert second.id != row.id
    assert not (folder / "C5-001.pdf").exists()  # not written (and printed) again
    assert batches.get(row.id).status == "closing"  # type: ignore[union-attr]


def with_inserter_at(pipeline: Pipeline, x_mm: float, y_mm_from_top: float) -> None:
    """One fixture letter in the open batch, with the inserter code configured at (x, y)."""
    from letters.config import InserterCode, Printing

    run_fixtures(pipeline, ["reminder.nb"])
    pipeline.runtime.settings = pipeline.runtime.settings.model_copy(
        update={
            "printing": Printing(
                folder=pipeline.tmp / "print",
                inserter=InserterCode(x_mm=x_mm, y_mm_from_top=y_mm_from_top),
            )
        }
    )


def test_an_inserter_code_position_over_the_window_is_refused(pipeline: Pipeline) -> None:
    with_inserter_at(pipeline, 100, 50)
    with pytest.raises(BatchError, match="LETTERS_PRINTING__INSERTER: the envelope window"):
        closer_of(pipeline).close()
    assert not (pipeline.tmp / "print" / "PB000001" / "READY").exists()


def test_the_inserter_code_goes_where_it_is_configured(pipeline: Pipeline) -> None:
    with_inserter_at(pipeline, 199.5, 200.0)
    [closed] = closer_of(pipeline).close()
    manifest = json.loads((closed.folder / "manifest.json").read_text("utf-8"))
    assert manifest["inserter_code"]["placement"]["y_mm_from_top"] == 200.0
    [row] = read_csv(closed.folder)
    expected = inserter_code.encode(closed.sequence, 1, 1, 1)
    assert expected in codes_on(closed.folder / row["file"])[0]
