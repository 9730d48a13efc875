"""The single door in: a job document becomes a :class:`~letters.job.Job` or a refusal.

:func:`parse` checks, in this order, the contract's shape (:mod:`letters.job`), that every
printed field can be printed (:mod:`letters.glyphs`) and the address fits in the envelope
window (:mod:`letters.window`), that a debtor abroad can be told an IBAN, and the legal rules
(:mod:`letters.rules`), and raises :class:`~letters.job.JobRejected` listing every problem,
each with its field, stable code and reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from letters import glyphs, linebreaks, rules, window
from letters.codes import Code
from letters.config import get_settings
from letters.job import FieldError, Job, JobRejected, from_pydantic
from letters.numbers import reference


def printed_fields(job: Job) -> Iterator[tuple[str, str]]:
    """(field, text) for every field of the job that is printed on the letter."""
    yield "creditor.name", job.creditor.name
    yield "debtor.name", job.debtor.name
    address = job.debtor.address
    for i, line in enumerate(address.lines):
        yield f"debtor.address.lines[{i}]", line
    yield "debtor.address.postal_code", address.postal_code
    yield "debtor.address.city", address.city
    for i, claim in enumerate(job.claims):
        yield f"claims[{i}].invoice_number", claim.invoice_number
        if claim.description:
            yield f"claims[{i}].description", claim.description
        for j, fee in enumerate(claim.fees):
            if fee.label:
                yield f"claims[{i}].fees[{j}].label", fee.label


#: The narrowest place each printed field of free text appears in, as (mm, pt): the
#: creditor in the heading's details (a 40 mm column at 8 pt), invoice numbers, what a claim
#: concerns and fee labels in the claims table (8.5 pt). A piece no line break can split
#: (:mod:`letters.linebreaks`, the renderer's own rules) wider than its place would run out
#: of it; bold text is up to a tenth wider, so a piece may fill at most 85 % of the place.
NARROWEST_MM: dict[str, tuple[float, float]] = {
    "creditor.name": (40.0, 8.0),
    "invoice_number": (28.0, 8.5),
    "description": (60.0, 8.5),
    "label": (60.0, 8.5),
}
_MM_PT = 72 / 25.4


def _place(field: str) -> tuple[float, float] | None:
    if field in NARROWEST_MM:
        return NARROWEST_MM[field]
    return NARROWEST_MM.get(field.rsplit(".", 1)[-1])


def too_wide_words(job: Job) -> list[FieldError]:
    """A refusal for every printed field with a word its place on the page cannot hold
    (the debtor's name and address are measured against the window by :mod:`letters.window`)."""
    found = []
    for field, text in printed_fields(job):
        place = _place(field)
        if place is None:
            continue
        mm, size = place
        limit = 0.85 * mm * _MM_PT
        wide = [w for w in linebreaks.pieces(text) if window.width_pt(w, size) > limit]
        if wide:
            found.append(
                FieldError(
                    field=field,
                    code=Code.WORD_TOO_WIDE,
                    reason=f"a word too wide for its place on the letter ({mm:g} mm at "
                    f"{size:g} pt): {wide[0][:30]}{'…' if len(wide[0]) > 30 else ''}; break it "
                    "with a space or a hyphen",
                )
            )
    return found


def unprintable_fields(job: Job) -> list[FieldError]:
    """A refusal for every printed field holding a character the letter cannot print."""
    problems = []
    for field, text in printed_fields(job):
        bad = glyphs.unprintable(text)
        if bad:
            problems.append(
                FieldError(
                    field=field,
                    code=Code.UNPRINTABLE,
                    reason="cannot be printed: " + ", ".join(bad[:5]),
                )
            )
        elif mixed := glyphs.mixed_scripts(text):
            problems.append(
                FieldError(
                    field=field,
                    code=Code.MIXED_SCRIPT,
                    reason="letters of different scripts in one word would print like "
                    "another name: " + ", ".join(mixed[:3]),
                )
            )
    return problems


def unprintable_address(job: Job) -> list[FieldError]:
    """A refusal for a recipient block the envelope window cannot show at the letter's
    type size, or a name too wide for the pages' footer, measured with the font the letter
    prints them in (:mod:`letters.window`)."""
    found = window.problems(window.block(job.debtor), get_settings())
    if not any(e.field == "debtor.name" for e in found):
        found += window.footer_problems(job.debtor.name, reference.format(job.reference))
    return found


def no_way_to_pay_from_abroad(job: Job) -> list[FieldError]:
    """A debtor abroad is told the IBAN and BIC of the payment account: refused when the
    agency has none configured for it (``sender.accounts_abroad``)."""
    if job.debtor.address.country == "NO":
        return []
    if get_settings().sender.abroad(job.payment.account_number) is not None:
        return []
    return [
        FieldError(
            field="payment.account_number",
            code=Code.NO_IBAN_FOR_ACCOUNT,
            reason="the debtor's address is abroad, and no IBAN and BIC are configured for "
            "this account (sender.accounts_abroad): a payer abroad could not pay it",
        )
    ]


def parse(data: Any, *, specimen: bool = False) -> Job:
    """Validate a job (a dict, JSON text or a :class:`Job`) against the contract and the rules.

    Raises :class:`JobRejected` listing every problem found. A ``specimen`` (a workbench
    proof, never sent) may use rule values marked unconfirmed: compliance reviews its
    wording while a value is being checked; a letter for a debtor may not.
    """
    job_id = data.get("id") if isinstance(data, dict) else None
    try:
        if isinstance(data, Job):
            job = data
        elif isinstance(data, str | bytes):
            job = Job.model_validate_json(data)
        else:
            job = Job.model_validate(data)
    except ValidationError as exc:
        raise JobRejected(from_pydantic(exc), job_id if isinstance(job_id, str) else None) from None
    errors = unprintable_fields(job)
    if not errors:
        errors += too_wide_words(job)
    if not any(e.field.startswith("debtor.") for e in errors):
        errors += unprintable_address(job)
    errors += no_way_to_pay_from_abroad(job)
    errors += [
        FieldError(field=v.field, code=v.code, reason=v.reason)
        for v in rules.check(job)
        if not (specimen and v.code is Code.RULE_UNCONFIRMED)
    ]
    if errors:
        raise JobRejected(errors, job.id)
    return job
