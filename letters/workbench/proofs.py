"""Proofs: what a template version prints, for a fixed set of cases a reviewer can rely on.

Every template is proofed with the same cases, dated the day of the proof: the ordinary
letter, long names, a debtor abroad, a company, many claims (several pages) and every fee
its kind can show; the enforcement notice also with an objection received and answered.
Each case is a PDF made by the renderer production uses, its pages as PNG, and one contact
sheet of all pages.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
from PIL import Image, ImageDraw

from letters.config import Settings
from letters.pdfium_lock import PDFIUM
from letters.produce import Produced, produce
from letters.rules.calendar import next_business_day, payment_deadline
from letters.templating import TemplateInfo

#: Resolution of proof pages (a page of A4 is about 1000 pixels high at 120 dpi).
DPI = 120


@dataclass(frozen=True)
class ProofCase:
    id: str
    title: str
    job: dict[str, Any]


#: The day (relative to the letter date) the collection notice before a payment request or
#: an enforcement notice was sent, with its fee.
NOTICE_SENT = -26
NOTICE_FEE = "notice_fee"
#: A payment plan follows the payment request that charged the collection fee (after the
#: notice's deadline, even when Easter moves it), and is agreed the day before its letter.
PLAN_FEE_CHARGED = -5
PLAN_AGREED = -1
#: Its three instalments fall due on the first business day from these days on.
PLAN_DUE = (5, 35, 65)


def _day(day: dt.date, offset: int) -> str:
    return (day + dt.timedelta(days=offset)).isoformat()


def _base(kind: str, language: str, day: dt.date) -> dict[str, Any]:
    fee = {
        "reminder": ("reminder_fee", "37.50"),
        "collection_notice": ("notice_fee", "37.50"),
        "payment_request": ("collection_fee", "250.00"),
        "enforcement_notice": ("collection_fee", "250.00"),
        "payment_plan": ("collection_fee", "250.00"),  # charged by the payment request
    }[kind]
    claim: dict[str, Any] = {
        "invoice_number": "2026-10-4471",
        "invoice_date": _day(day, -75),
        "due_date": _day(day, -60),
        "principal": "1249.00",
        "interest": "12.40",
        "description": "Strøm september",
        "fees": [{"code": fee[0], "amount": fee[1]}],
    }
    if kind == "payment_plan":  # a plan charges no fee and states no interest of its own
        del claim["interest"]
        claim["fees"][0]["charged_on"] = _day(day, PLAN_FEE_CHARGED)
    if kind in ("payment_request", "enforcement_notice"):
        sent = day + dt.timedelta(days=NOTICE_SENT)
        claim["notice"] = {
            "sent_on": sent.isoformat(),
            "deadline": payment_deadline(sent).isoformat(),
        }
    job: dict[str, Any] = {
        "id": f"proof-{kind}-{language}",
        "kind": kind,
        "language": language,
        "letter_date": day.isoformat(),
        "reference": "PR-2026-000001",
        "creditor": {"name": "Nordlys Energi AS", "org_number": "912345688"},
        "debtor": {
            "type": "person",
            "name": "Kari Nordmann",
            "national_id": "15038512363",
            "address": {
                "lines": ["Storgata 12 B"],
                "postal_code": "0161",
                "city": "Oslo",
                "country": "NO",
            },
            "email": "kari.nordmann@example.no",
        },
        "claims": [claim],
        "payment": {"account_number": "15031123450"},
    }
    if kind == "enforcement_notice":
        job["objection"] = {"received": False}
    return job


def _long_names(job: dict[str, Any]) -> None:
    job["debtor"]["name"] = "Anne-Marie Kristiansen-Løvenskiold Haugland-Fjeldstad-Brekke"[:64]
    job["debtor"]["address"]["lines"] = [
        "Øvre Vollgate 112 C, inngang fra bakgården",
        "c/o Bjørnstjerne Bjørnsons minnestiftelse",
    ]
    job["creditor"]["name"] = "Vestlandske Kraft- og Fjernvarmeselskap Sogn og Fjordane AS"


def _abroad(job: dict[str, Any]) -> None:
    job["debtor"]["address"] = {
        "lines": ["Drottninggatan 45"],
        "postal_code": "111 21",
        "city": "Stockholm",
        "country": "SE",
    }


def _company(job: dict[str, Any]) -> None:
    job["debtor"] = {
        "type": "company",
        "name": "Fjellheim Bygg og Anlegg AS",
        "org_number": "923609016",
        "address": {"lines": ["Industriveien 4"], "postal_code": "7080", "city": "Heimdal"},
    }


def _many_claims(job: dict[str, Any]) -> None:
    first = job["claims"][0]
    job["claims"] = [
        dict(
            first,
            invoice_number=f"2026-10-{4471 + i}",
            description=f"Strøm, måler {i + 1}",
            fees=first["fees"] if i == 0 else [],
        )
        for i in range(14)
    ]


def _every_fee(job: dict[str, Any]) -> None:
    day = dt.date.fromisoformat(job["letter_date"])
    claim = job["claims"][0]
    # the reminder 14 days after the due date (-60), the notice 20 days later: after the
    # reminder's deadline even when Easter moves it by five days
    earlier = {
        "reminder": [("reminder_fee", -30)],
        "collection_notice": [("reminder_fee", -30)],
        "payment_request": [("reminder_fee", -46), (NOTICE_FEE, NOTICE_SENT)],
        "enforcement_notice": [("reminder_fee", -46), (NOTICE_FEE, NOTICE_SENT)],
        "payment_plan": [("reminder_fee", -46), (NOTICE_FEE, NOTICE_SENT)],
    }[job["kind"]]
    claim["fees"] = [
        {"code": code, "amount": "37.50", "charged_on": _day(day, offset)}
        for code, offset in earlier
    ] + claim["fees"]


def _objection_answered(job: dict[str, Any]) -> None:
    day = dt.date.fromisoformat(job["letter_date"])
    job["objection"] = {
        "received": True,
        "received_on": _day(day, -18),
        "answered_on": _day(day, -11),
    }


#: (id, title, change, the kinds it is for: None for every kind)
VARIANTS: tuple[
    tuple[str, str, Callable[[dict[str, Any]], None] | None, frozenset[str] | None], ...
] = (
    ("standard", "the ordinary letter", None, None),
    ("long-names", "long names and address lines", _long_names, None),
    ("abroad", "a debtor abroad", _abroad, None),
    ("company", "a company as debtor", _company, None),
    ("many-claims", "many claims (several pages)", _many_claims, None),
    ("every-fee", "every fee its kind can show", _every_fee, None),
    # the standard enforcement notice says no objection was received; this one, an
    # objection received and answered, so compliance sees both wordings
    (
        "objection-answered",
        "an objection received and answered",
        _objection_answered,
        frozenset({"enforcement_notice"}),
    ),
)


def _plan(job: dict[str, Any], day: dt.date) -> dict[str, Any]:
    """Three instalments that add up to the letter's total (the last takes the odd øre)."""
    total = sum(
        (
            Decimal(c["principal"])
            + Decimal(c.get("interest") or 0)
            + sum((Decimal(f["amount"]) for f in c["fees"]), Decimal(0))
            for c in job["claims"]
        ),
        Decimal(0),
    )
    part = (total / len(PLAN_DUE)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    amounts = [part] * (len(PLAN_DUE) - 1) + [total - part * (len(PLAN_DUE) - 1)]
    return {
        "agreed_on": _day(day, PLAN_AGREED),
        "instalments": [
            {
                "amount": f"{amount:.2f}",
                "due_date": next_business_day(day + dt.timedelta(days=offset)).isoformat(),
            }
            for amount, offset in zip(amounts, PLAN_DUE, strict=True)
        ],
    }


def cases(subject: str, day: dt.date) -> list[ProofCase]:
    """The proof cases of a letter template ``kind.language``, dated ``day``."""
    kind, _, language = subject.partition(".")
    out = []
    for case_id, title, change, kinds in VARIANTS:
        if kinds is not None and kind not in kinds:
            continue
        job = copy.deepcopy(_base(kind, language, day))
        job["id"] = f"proof-{subject}-{case_id}"
        if change is not None:
            change(job)
        if kind == "payment_plan":
            job["plan"] = _plan(job, day)
        out.append(ProofCase(case_id, title, job))
    return out


@dataclass(frozen=True)
class Proof:
    case: ProofCase
    produced: Produced
    pages: tuple[Image.Image, ...]

    @property
    def texts(self) -> list[str]:
        """Each page's text, as a reader sees it."""
        with PDFIUM:  # PDFium is not thread-safe
            doc = pdfium.PdfDocument(self.produced.rendered.pdf)
            try:
                out = []
                for page in doc:
                    textpage = page.get_textpage()
                    out.append(textpage.get_text_range())
                    textpage.close()
                    page.close()
                return out
            finally:
                doc.close()


def page_images(pdf: bytes, dpi: int = DPI) -> tuple[Image.Image, ...]:
    with PDFIUM:  # PDFium is not thread-safe
        doc = pdfium.PdfDocument(pdf)
        try:
            return tuple(page.render(scale=dpi / 72).to_pil().convert("RGB") for page in doc)
        finally:
            doc.close()


def proof(template: TemplateInfo, subject: str, settings: Settings, day: dt.date) -> list[Proof]:
    """Every case of ``subject`` made from ``template`` by its renderer."""
    out = []
    for case in cases(subject, day):
        made = produce(case.job, settings, template, specimen=True)
        out.append(Proof(case, made, page_images(made.rendered.pdf)))
    return out


def contact_sheet(proofs: list[Proof], title: str, width: int = 220) -> Image.Image:
    """Every page of every case, small, in one picture: a row per case."""
    thumbs = [[p.resize((width, int(p.height * width / p.width))) for p in x.pages] for x in proofs]
    height = max(t.height for row in thumbs for t in row)
    columns = max(len(row) for row in thumbs)
    margin, label = 12, 22
    sheet = Image.new(
        "RGB",
        (margin + columns * (width + margin), label + len(thumbs) * (height + label + margin)),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    draw.text((margin, 4), title, fill="black")
    y = label
    for proof_, row in zip(proofs, thumbs, strict=True):
        draw.text((margin, y + 4), f"{proof_.case.id}: {proof_.case.title}", fill="black")
        for i, thumb in enumerate(row):
            x = margin + i * (width + margin)
            sheet.paste(thumb, (x, y + label))
            draw.rectangle(
                (x - 1, y + label - 1, x + thumb.width, y + label + thumb.height), outline="#888"
            )
        y += height + label + margin
    return sheet


def write(proofs: list[Proof], folder: Path, title: str) -> list[Path]:
    """Each case's PDF and PNG pages, and ``contact-sheet.png``, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for p in proofs:
        pdf = folder / f"{p.case.id}.pdf"
        pdf.write_bytes(p.produced.rendered.pdf)
        written.append(pdf)
        for n, page in enumerate(p.pages, 1):
            png = folder / f"{p.case.id}-p{n}.png"
            page.save(png)
            written.append(png)
    sheet = folder / "contact-sheet.png"
    contact_sheet(proofs, title).save(sheet)
    written.append(sheet)
    return written


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
