"""The template lint as compliance runs it: the shipped templates are clean, and each kind of
defect a template could have is found with its code, place and source."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from letters.codes import Code
from letters.config import Settings
from letters.paths import TEMPLATE_DIR
from letters.workbench.lint import Finding, lint

DAY = dt.date(2026, 11, 20)
SETTINGS = Settings(clock_date=DAY)


def test_the_shipped_templates_are_clean() -> None:
    assert [str(f) for f in lint(TEMPLATE_DIR, SETTINGS, DAY)] == []


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new), "utf-8")


CASES: list[tuple[str, Callable[[Path], object], Code, str]] = [
    (
        "the right to object dropped",
        lambda f: (
            edit(
                f,
                "payment_request.en.html",
                ", or by the same deadline tell us if you believe the claim is not correct "
                "(objection)",
                "",
            ),
            edit(f, "payment_request.en.html", "received an objection", "heard from you"),
        ),
        Code.MISSING_STATEMENT,
        "payment_request.en",
    ),
    (
        "the interest rates left out of the note under the table (§ 10 (d))",
        lambda f: edit(
            f,
            "labels/nb.html",
            "{{ p.rate | percent }}{% if loop.first %} per år{% endif %} fra",
            "fra",
        ),
        Code.MISSING_STATEMENT,
        "payment_request.nb",
    ),
    (
        "the KID left out of the payment box",
        lambda f: edit(
            f, "layout.html", '<td class="mono">{{ letter.kid }}</td>', '<td class="mono"></td>'
        ),
        Code.MISSING_DETAIL,
        "reminder.nb",
    ),
    (
        "what the claim concerns left out (§ 10 (b))",
        lambda f: edit(
            f, "layout.html", "{% if claim.description %}: {{ claim.description }}{% endif %}", ""
        ),
        Code.MISSING_DETAIL,
        "payment_request.nb",
    ),
    (
        "an image",
        lambda f: edit(
            f, "reminder.nb.html", "{% block intro %}", '{% block intro %}<img class="logo">'
        ),
        Code.OUTSIDE_SUBSET,
        "reminder.nb",
    ),
    (
        "the board's name in the window",
        lambda f: edit(
            f,
            "layout.html",
            '<p class="recipient">',
            '<p class="recipient">{{ sender.complaints_board }}<br>',
        ),
        Code.WINDOW_NOT_ADDRESS_ONLY,
        "collection_notice.en",
    ),
]


@pytest.mark.parametrize(("what", "change", "code", "subject"), CASES, ids=[c[0] for c in CASES])
def test_a_defect_is_found_with_its_code_and_place(
    tmp_path: Path, what: str, change: Callable[[Path], object], code: Code, subject: str
) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, folder)
    change(folder)
    found = lint(folder, SETTINGS, DAY)
    assert any(f.code is code and f.subject == subject for f in found), [str(f) for f in found]
    assert all(isinstance(f, Finding) and f.place for f in found)


def test_the_two_languages_must_say_the_same_things(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, folder)
    # the English enforcement notice loses its warning: only nb still makes it
    edit(
        folder,
        "enforcement_notice.en.html",
        "legal enforcement will be requested",
        "we may take further steps",
    )
    found = {(f.code, f.subject) for f in lint(folder, SETTINGS, DAY)}
    assert (Code.MISSING_STATEMENT, "enforcement_notice.en") in found
    assert (Code.LANGUAGES_DIFFER, "enforcement_notice.nb/en") in found


def test_a_printed_national_id_is_forbidden(tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, folder)
    # a template cannot reach the national id (the letter does not carry it), but a
    # creditor name could: the proof's debtor id typed into the wording is still caught
    edit(folder, "reminder.en.html", "{% block intro %}", "{% block intro %}<p>15038512363</p>")
    found = [f for f in lint(folder, SETTINGS, DAY) if f.code is Code.FORBIDDEN_CONTENT]
    assert found and found[0].subject == "reminder.en" and "national id" in found[0].message
