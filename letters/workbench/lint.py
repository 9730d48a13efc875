"""``letters templates lint``: what a template must say and must not, checked on its proofs.

For every letter template in a folder, each proof case is made by the production renderer
and read back as a debtor reads it. Findings carry a stable code, the rule's source and the
place:

- ``missing-statement``: a statement the kind must make (:mod:`letters.rules.statements`);
- ``missing-detail``: the due date, KID, account number, reference, password, its expiry,
  the total or the creditor is not printed;
- ``forbidden-content``: the debtor's national id number is printed;
- ``outside-subset`` (and the other render codes): HTML or CSS outside what both
  renderers lay out alike, or a template that fails;
- the print-safety codes (``window-not-address-only``, …): what the print check finds;
- ``languages-differ``: the nb and en templates of a kind do not make the same statements
  or print the same fields of the letter.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from letters import bundles
from letters.codes import Code
from letters.compose import Letter
from letters.config import Settings
from letters.job import JobRejected
from letters.produce import produce
from letters.renderers import RenderError
from letters.rules import statements
from letters.templating import (
    TemplateInfo,
    documented_subset,
    working_copy,
)
from letters.workbench.proofs import cases

#: Attributes a letter's HTML may carry (nothing that fetches or styles inline).
ATTRIBUTES = frozenset(
    {
        "class",
        "colspan",
        "lang",
        "charset",
        "name",
        "content",
        "data-label",
        "data-of",
        "data-value",
        "data-symbology",
    }
)


@dataclass(frozen=True)
class Finding:
    code: Code
    subject: str
    place: str
    message: str
    source: str = ""

    def __str__(self) -> str:
        source = f" ({self.source})" if self.source else ""
        return f"{self.subject}: {self.place}: {self.message}{source} [{self.code}]"


class Collector(HTMLParser):
    """The elements, classes and attributes used outside the barcode, the barcode's own
    elements used anywhere else, and the text a reader sees."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: set[str] = set()
        self.classes: set[str] = set()
        self.attributes: set[str] = set()
        self.outside_barcode: set[str] = set()
        self.stack: list[tuple[str, set[str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = set((dict(attrs).get("class") or "").split())
        in_barcode = any("barcode" in c for _, c in self.stack)
        if tag in {"svg", "g", "rect"} and not in_barcode:
            self.outside_barcode.add(tag)
        if not in_barcode:
            self.elements.add(tag)
            self.classes |= classes
            self.attributes |= {name for name, _ in attrs}
        if tag not in {"br", "meta", "rect"}:
            self.stack.append((tag, classes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in {"br", "meta", "rect"}:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if not any(t in ("head", "title") for t, _ in self.stack):
            self.text.append(data)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\x02", "-").replace("\u00a0", " ")).strip()


def _details(letter: Letter) -> dict[str, list[str]]:
    """Each detail a debtor needs, and the forms it may be printed in."""

    def dates(day: dt.date) -> list[str]:
        return [
            day.strftime("%d.%m.%Y"),
            f"{day.day} {day.strftime('%b')} {day.year}",
            f"{day.day} {day.strftime('%b').replace('Sep', 'Sept')} {day.year}",
        ]

    def money(value: Decimal) -> list[str]:
        whole, cents = f"{value:.2f}".split(".")
        groups = f"{int(whole):,}"
        return [f"{groups.replace(',', ' ')},{cents}", f"{groups},{cents}", f"{groups}.{cents}"]

    details = {
        "the due date": dates(letter.due_date),
        "the KID": [letter.kid],
        "the account number": [letter.account_number],
        "the reference": [letter.reference],
        "the password": [letter.password.reveal()],
        "the password's expiry": dates(letter.password_expires),
        "the total": money(letter.total),
        "the creditor": [letter.creditor.name],
    }
    # inkassoloven § 10 (2) (b), (c): what each claim concerns, the principal and each
    # addition separately (every kind prints them; a reminder's reader needs them too)
    for i, claim in enumerate(letter.claims):
        details[f"claim {i + 1}'s principal"] = money(claim.principal)
        if claim.description:
            details[f"what claim {i + 1} concerns"] = [claim.description]
        for fee in claim.fees:
            details[f"claim {i + 1}'s {fee.code}"] = money(fee.amount)
    return details


def _fields(folder: Path, subject: str) -> set[str]:
    """The letter fields (``letter.x``) a kind template itself prints."""
    source = (folder / f"{subject}.html").read_text("utf-8")
    return set(re.findall(r"\bletter\.([a-z_]+)", source))


def lint_subject(
    template: TemplateInfo, subject: str, settings: Settings, day: dt.date
) -> tuple[list[Finding], set[str]]:
    """The findings of one letter template, and the statements it makes."""
    kind, _, language = subject.partition(".")
    found: list[Finding] = []
    made: set[str] = set()
    subset = documented_subset(template.folder / "letter.css")
    for case in cases(subject, day):
        place = f"proof {case.id}"
        try:
            produced = produce(case.job, settings, template, specimen=True)
        except RenderError as exc:
            found.append(Finding(exc.code, subject, place, str(exc)))
            continue
        except JobRejected as exc:  # the proof case itself, on this day's rules
            found.append(Finding(exc.errors[0].code, subject, place, f"proof case refused: {exc}"))
            continue
        seen = Collector()
        seen.feed(produced.html)
        outside = sorted(
            [f"element <{e}>" for e in seen.elements - subset.elements]
            + [f"<{e}> outside the barcode" for e in seen.outside_barcode]
            + [f"class {c!r}" for c in seen.classes - subset.classes]
            + [f"attribute {a!r}" for a in seen.attributes - ATTRIBUTES]
        )
        if outside:
            found.append(
                Finding(
                    Code.OUTSIDE_SUBSET,
                    subject,
                    place,
                    "outside the documented subset: " + ", ".join(outside),
                    "letter.css",
                )
            )
        text = _norm(" ".join(seen.text))
        letter = produced.composed.letter
        for what, forms in _details(letter).items():
            if not any(_norm(f) in text for f in forms):
                found.append(Finding(Code.MISSING_DETAIL, subject, place, f"{what} is not printed"))
        national_id = case.job["debtor"].get("national_id")
        if national_id and re.sub(r"\D", "", national_id) in re.sub(r"\D", "", text):
            found.append(
                Finding(
                    Code.FORBIDDEN_CONTENT,
                    subject,
                    place,
                    "the national id number is printed",
                    "personopplysningsloven; the contract: used only to identify the recipient",
                )
            )
        for statement in statements.for_kind(kind):
            if statement.found_in(text, language):
                made.add(statement.id)
            elif case.id == "standard":
                found.append(
                    Finding(
                        Code.MISSING_STATEMENT,
                        subject,
                        place,
                        f"does not say {statement.says}",
                        statement.source,
                    )
                )
        for finding in produced.safety.findings:
            found.append(Finding(finding.code, subject, place, finding.message, "print check"))
    return found, made


def lint(folder: Path, settings: Settings, day: dt.date) -> list[Finding]:
    """Every finding of every letter template in ``folder``."""
    found: list[Finding] = []
    said: dict[str, dict[str, set[str]]] = {}
    for subject in bundles.LETTER_SUBJECTS:
        kind, _, language = subject.partition(".")
        try:
            template = working_copy(kind, language, folder)
        except bundles.BundleProblem as exc:
            found.append(Finding(Code.TEMPLATE_MISSING, subject, str(folder), str(exc)))
            continue
        findings, made = lint_subject(template, subject, settings, day)
        found += findings
        said.setdefault(kind, {})[language] = made
        said[kind][f"fields:{language}"] = _fields(template.folder, subject)
    for kind, by in said.items():
        if {"nb", "en"} <= set(by) and by["nb"] != by["en"]:
            only = sorted(by["nb"] ^ by["en"])
            found.append(
                Finding(
                    Code.LANGUAGES_DIFFER,
                    f"{kind}.nb/en",
                    "statements",
                    f"only one language makes: {', '.join(only)}",
                )
            )
        if {"fields:nb", "fields:en"} <= set(by) and by["fields:nb"] != by["fields:en"]:
            only = sorted(by["fields:nb"] ^ by["fields:en"])
            found.append(
                Finding(
                    Code.LANGUAGES_DIFFER,
                    f"{kind}.nb/en",
                    "letter fields",
                    f"only one language prints: {', '.join(f'letter.{f}' for f in only)}",
                )
            )
    return found


def as_json(findings: list[Finding]) -> list[dict[str, Any]]:
    return [
        {
            "code": str(f.code),
            "subject": f.subject,
            "place": f.place,
            "message": f.message,
            "source": f.source,
        }
        for f in findings
    ]
