"""Submitting, approving and rejecting versions of templates and rule tables, and what is
in force for a letter.

- An author submits the templates folder's current content of one template, or a new
  version of a rule table: a draft, identified by its sha256.
- A reviewer (or admin) who is not the author approves it, naming the sha256 they
  reviewed and the day it takes effect, or rejects it; both with a comment. Every action
  lands in the audit log.
- Production makes a letter only from the template version approved and in force on the
  letter's date, written out from the ledger (:func:`template_in_force`), and applies the
  rule tables approved and in force (:func:`rulebook_in_force`).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from letters import bundles, rules
from letters.clock import today_oslo
from letters.codes import Code
from letters.config import Settings
from letters.ledger.reviews import ReviewRefused, Reviews, SubjectKind, Version, VersionState
from letters.ledger.store import Ledger
from letters.ledger.users import User
from letters.paths import TEMPLATE_DIR
from letters.rules import tables
from letters.templating import WORKING_COPY, TemplateInfo

log = logging.getLogger(__name__)


def templates_dir(settings: Settings) -> Path:
    """Where authors' templates are read from for a submission or a preview."""
    return settings.review.templates_dir or TEMPLATE_DIR


def subject_kind_of(subject: str) -> SubjectKind:
    if subject in bundles.SUBJECTS:
        return SubjectKind.TEMPLATE
    if subject in tables.TABLE_NAMES:
        return SubjectKind.RULES
    raise ReviewRefused(
        Code.UNKNOWN_SUBJECT,
        f"no template or rule table {subject!r} (templates: {', '.join(bundles.SUBJECTS)}; "
        f"rule tables: {', '.join(tables.TABLE_NAMES)})",
    )


# --- submitting ----------------------------------------------------------------------------


def submit_template(
    ledger: Ledger, settings: Settings, subject: str, author: User, note: str | None
) -> Version:
    """A draft of ``subject`` with the templates folder's content as it is now."""
    if subject_kind_of(subject) is not SubjectKind.TEMPLATE:
        raise ReviewRefused(Code.UNKNOWN_SUBJECT, f"{subject!r} is a rule table, not a template")
    bundle = bundles.read_folder(templates_dir(settings), subject)
    return Reviews(ledger).submit(
        SubjectKind.TEMPLATE,
        subject,
        bundle.sha256,
        bundle.content(),
        author.name,
        note,
        files=bundle.blobs(),
    )


def submit_table(
    ledger: Ledger, document: dict[str, Any], author: User, note: str | None
) -> Version:
    """A draft of a rule table from its document (read from TOML or JSON), checked first."""
    try:
        table = tables.parse_table(document)
    except tables.TableProblem as exc:
        raise ReviewRefused(Code.BAD_TABLE, str(exc)) from None
    return Reviews(ledger).submit(
        SubjectKind.RULES,
        table.name,
        tables.sha256(table),
        tables.document(table),
        author.name,
        note,
    )


def submit_confirmation(
    ledger: Ledger,
    name: str,
    valid_from: dt.date,
    source: str,
    author: User,
    note: str | None,
    *,
    today: dt.date | None = None,
    rehearsal: Path | None = None,
) -> Version:
    """A draft of table ``name`` as in force today with its unconfirmed value from
    ``valid_from`` marked confirmed and ``source`` (what it was checked against) as its
    source. A reviewer approves it like any proposal (four eyes); until then letters that
    rely on the value stay refused."""
    day = today or today_oslo()
    table = rulebook_in_force(ledger, day, rehearsal).tables[name]
    entries = {e.valid_from: e for e in table.entries}
    entry = entries.get(valid_from)
    if entry is None:
        raise ReviewRefused(
            Code.BAD_TABLE,
            f"the table {name!r} has no value taking effect on {valid_from.isoformat()}; its "
            f"values take effect on {', '.join(d.isoformat() for d in entries)}",
        )
    if entry.confirmed:
        raise ReviewRefused(
            Code.BAD_TABLE,
            f"the {name} value from {valid_from.isoformat()} is confirmed already ({entry.source})",
        )
    if len(source.strip()) < 3:
        raise ReviewRefused(Code.BAD_TABLE, "--source: name what the value was checked against")
    document = tables.document(table)
    for e in document["entry"]:
        if e["valid_from"] == valid_from.isoformat():
            e["confirmed"] = True
            e["source"] = source.strip()
    return submit_table(
        ledger, document, author, note or f"confirms {name} from {valid_from.isoformat()}"
    )


# --- deciding ------------------------------------------------------------------------------


def decide(
    ledger: Ledger,
    version_id: int,
    reviewer: User,
    *,
    approve: bool,
    sha256: str,
    comment: str,
    effective_from: dt.date | None = None,
    today: dt.date | None = None,
) -> Version:
    """Approve or reject a draft as ``reviewer``: a reviewer or admin, not its author, who
    names the sha256 they reviewed. An approval without a day takes effect ``today``
    (default: today in Oslo); one cannot take effect in the past."""
    if not reviewer.may_review():
        raise ReviewRefused(
            Code.ROLE_LACKS_RIGHT,
            f"{reviewer.name} is an {reviewer.role}: only reviewers and admins decide",
        )
    if not comment.strip():
        raise ValueError("a decision needs a comment (what was checked, or why not)")
    today = today or today_oslo()
    if effective_from is not None and effective_from < today:
        raise ValueError(
            f"an approval cannot take effect in the past ({effective_from.isoformat()})"
        )
    if approve and effective_from is None:
        effective_from = today
    forget_in_force()
    return Reviews(ledger).decide(
        version_id,
        reviewer.name,
        approve=approve,
        sha256=sha256,
        comment=comment.strip(),
        effective_from=effective_from,
    )


def retire(ledger: Ledger, version_id: int, reviewer: User, sha256: str, comment: str) -> Version:
    """Withdraw an approved version (a reviewer or admin, naming its sha256): from now on
    the version approved before it applies again, or none."""
    if not reviewer.may_review():
        raise ReviewRefused(
            Code.ROLE_LACKS_RIGHT, f"{reviewer.name} is an {reviewer.role}: only reviewers retire"
        )
    reviews = Reviews(ledger)
    if reviews.version(version_id).sha256 != sha256:
        raise ReviewRefused(Code.STALE_HASH, f"version {version_id} is not {sha256[:12]}…")
    if not comment.strip():
        raise ValueError("retiring a version needs a comment (why)")
    forget_in_force()
    return reviews.retire(version_id, reviewer.name, comment.strip())


# --- what is in force --------------------------------------------------------------------


#: How long a process keeps the template version it found in force before asking the
#: ledger again (an approval or a retirement applies within this time, as rule tables do).
IN_FORCE_SECONDS = 30.0
_in_force: dict[tuple[str, str, dt.date], tuple[float, Version | None]] = {}


def _template_version(ledger: Ledger, subject: str, day: dt.date) -> Version | None:
    key = (ledger.url, subject, day)
    now = time.monotonic()
    cached = _in_force.get(key)
    if cached is not None and now - cached[0] < IN_FORCE_SECONDS:
        return cached[1]
    version = Reviews(ledger).in_force(SubjectKind.TEMPLATE, subject, day)
    if len(_in_force) > 256:
        _in_force.clear()
    _in_force[key] = (now, version)
    return version


def forget_in_force() -> None:
    """Ask the ledger again on the next letter (after an approval made in this process)."""
    _in_force.clear()


def template_approved(
    ledger: Ledger, settings: Settings, kind: str, language: str, day: dt.date
) -> bool:
    """Whether a letter of ``kind.language`` dated ``day`` can be made (cheap: at most one
    query every IN_FORCE_SECONDS). Always true in development mode."""
    if settings.review.development:
        return True
    return _template_version(ledger, f"{kind}.{language}", day) is not None


def template_in_force(
    ledger: Ledger, settings: Settings, kind: str, language: str, day: dt.date
) -> TemplateInfo:
    """The version of ``kind.language`` approved and in force on ``day``, written out from
    the ledger. In development mode the templates folder's working copy is used as it is,
    approved or not (and an unapproved one's letters say so); without development mode no
    approved version is ``template-not-approved``."""
    subject = f"{kind}.{language}"
    reviews = Reviews(ledger)
    if settings.review.development:
        bundle = bundles.read_folder(templates_dir(settings), subject)
        approved = reviews.approved(SubjectKind.TEMPLATE, subject, bundle.sha256)
        folder = bundles.materialize(bundle.content(), bundle.blobs(), settings.review.cache_dir)
        return TemplateInfo(
            name=f"{subject}.html",
            version=str(approved.id) if approved else WORKING_COPY,
            renderer=bundle.renderer,
            sha256=bundle.sha256,
            folder=folder,
            approved=approved is not None,
        )
    version = _template_version(ledger, subject, day)
    if version is None:
        raise ReviewRefused(
            Code.TEMPLATE_NOT_APPROVED,
            f"no approved version of the template {subject} is in force on {day.isoformat()}",
        )
    return version_info(ledger, settings, version)


def version_info(ledger: Ledger, settings: Settings, version: Version) -> TemplateInfo:
    """A template version (any state) as something to render, written out of the ledger."""
    return TemplateInfo(
        name=f"{version.subject}.html",
        version=str(version.id),
        renderer=str(version.content["renderer"]),
        sha256=version.sha256,
        folder=version_folder(ledger, settings, version),
        approved=version.state is VersionState.APPROVED,
    )


def email_folder(ledger: Ledger, settings: Settings, language: str, day: dt.date) -> Path:
    """The folder of the e-mail body ``email.<language>`` approved and in force on ``day``
    (in development mode the templates folder as it is)."""
    subject = f"email.{language}"
    if settings.review.development:
        return templates_dir(settings)
    version = Reviews(ledger).in_force(SubjectKind.TEMPLATE, subject, day)
    if version is None:
        raise ReviewRefused(
            Code.TEMPLATE_NOT_APPROVED,
            f"no approved version of the e-mail body {subject} is in force on {day.isoformat()}",
        )
    return version_folder(ledger, settings, version)


def version_folder(ledger: Ledger, settings: Settings, version: Version) -> Path:
    """The folder holding exactly the files of a template version (written out once)."""
    target = settings.review.cache_dir / version.sha256
    if target.is_dir():
        return target
    files = Reviews(ledger).blobs(version.content["files"].values())
    return bundles.materialize(version.content, files, settings.review.cache_dir)


def rulebook_in_force(
    ledger: Ledger, day: dt.date, rehearsal: Path | None = None
) -> rules.Rulebook:
    """The rule tables for letters dated ``day``: for each table the approved version in
    force that day, or the shipped table where none is approved; in a rehearsal the tables
    in ``rehearsal`` (``Settings.rehearsal_rules``) stand in for the shipped ones."""
    # the approvals a rehearsal assumes stand in for the shipped tables, before any real one
    book = rules.shipped() if rehearsal is None else tables.rehearsal(rehearsal)
    reviews = Reviews(ledger)
    for name in tables.TABLE_NAMES:
        version = reviews.in_force(SubjectKind.RULES, name, day)
        if version is not None:
            book = book.replace(tables.parse_table(version.content), str(version.id))
    return book


@dataclass(frozen=True)
class TableStatus:
    """A rule table as ``letters rules`` shows it."""

    name: str
    title: str
    version: str
    value_today: str
    source: str
    confirmed: bool
    known_until: dt.date
    days_left: int
    pending: tuple[int, ...]  # drafts waiting for a reviewer
    #: the days the table's unconfirmed values take effect (letters relying on them are
    #: refused until an approved version confirms them)
    unconfirmed: tuple[dt.date, ...] = ()

    @property
    def running_out(self) -> bool:
        return self.days_left <= WARN_DAYS


#: From this many days before a table runs out, operators are warned every day.
WARN_DAYS = 30


def table_status(
    ledger: Ledger, today: dt.date, rehearsal: Path | None = None
) -> list[TableStatus]:
    """Every rule table: the value in force today, its source, confirmed or not, the last
    day it is known for and the days left."""
    book = rulebook_in_force(ledger, today, rehearsal)
    drafts = [
        v for v in Reviews(ledger).versions(SubjectKind.RULES) if v.state is VersionState.DRAFT
    ]
    out = []
    for name in tables.TABLE_NAMES:
        table = book.tables[name]
        try:
            entry = table.on(today)
            value, source, confirmed = show_value(entry.value), entry.source, entry.confirmed
        except rules.RuleUnknown:
            value, source, confirmed = "unknown", "-", False
        out.append(
            TableStatus(
                name=name,
                title=table.title,
                version=book.versions[name],
                value_today=value,
                source=source,
                confirmed=confirmed,
                known_until=table.known_until,
                days_left=(table.known_until - today).days,
                pending=tuple(v.id for v in drafts if v.subject == name),
                unconfirmed=tuple(e.valid_from for e in table.entries if not e.confirmed),
            )
        )
    return out


def show_value(value: Any) -> str:
    """A table entry's value as a person reads it (a scale as its steps)."""
    if isinstance(value, tuple):
        return "; ".join(
            f"≤ {limit}: {factor}" if limit is not None else f"above: {factor}"
            for limit, factor in value
        )
    return str(value)


@dataclass(frozen=True)
class TemplateStatus:
    """A template as ``letters templates list`` and the review page show it."""

    subject: str
    in_force: Version | None
    working_sha256: str
    working_version: Version | None  # the version with the working copy's content, if any
    drafts: tuple[Version, ...]

    @property
    def working_state(self) -> str:
        return str(self.working_version.state) if self.working_version else "not submitted"


def template_status(ledger: Ledger, settings: Settings, today: dt.date) -> list[TemplateStatus]:
    """Every template: the version in force today, the working copy and the drafts."""
    reviews = Reviews(ledger)
    folder = templates_dir(settings)
    out = []
    for subject in bundles.SUBJECTS:
        working = bundles.read_folder(folder, subject).sha256
        versions = reviews.versions(SubjectKind.TEMPLATE, subject)
        out.append(
            TemplateStatus(
                subject=subject,
                in_force=reviews.in_force(SubjectKind.TEMPLATE, subject, today),
                working_sha256=working,
                working_version=next((v for v in versions if v.sha256 == working), None),
                drafts=tuple(v for v in versions if v.state is VersionState.DRAFT),
            )
        )
    return out


def warn_running_out(ledger: Ledger, today: dt.date) -> list[TableStatus]:
    """Log a warning for every rule table that runs out within WARN_DAYS (the workers do
    this once a day, ``letters run`` at its start); the tables concerned."""
    ending = [t for t in table_status(ledger, today) if t.running_out]
    for t in ending:
        log.warning(
            "rule table %s is known only until %s (%d days left): from the day after, "
            "letters that need it are refused; compliance must propose and approve the next "
            "values (letters rules propose) [%s]",
            t.name,
            t.known_until.isoformat(),
            t.days_left,
            Code.TABLE_RUNS_OUT,
        )
    return ending
