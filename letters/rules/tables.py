"""Dated rule tables: values that change over time, each with the day it takes effect, its
source and whether that source is confirmed. The numbers are data, not code: the tables
shipped with the product are the TOML files in ``letters/rules/data/``, and compliance
adds new values (2027's inkassosats, the next half year's interest rate) as approved
versions in the ledger (see :mod:`letters.rulebook`), not by a release.

Past a table's ``known_until`` the rule is unknown and letters that need it are refused
(``rule-unknown``) until an approved version reaches further.

>>> book = shipped()
>>> book.inkassosats.on(dt.date(2025, 12, 31)).value, book.inkassosats.on(dt.date(2026, 1, 1)).value
(Decimal('700'), Decimal('750'))
>>> book.inkassosats.on(dt.date(2027, 1, 1))  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
letters.rules.tables.RuleUnknown: no inkassosats is known for 2027-01-01 (known from ...
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from letters.names import TABLE_NAMES as TABLE_NAMES  # the tables every letter may need
from letters.names import TableName as TableName

T = TypeVar("T")

DATA = Path(__file__).parent / "data"

#: One step of the collection fee scale: principal up to ``limit`` (``None``: above the
#: last limit) → times the inkassosats.
Scale = tuple[tuple[Decimal | None, Decimal], ...]


@dataclass(frozen=True)
class Dated(Generic[T]):
    """A rule value in force from ``valid_from`` until the next entry's date."""

    valid_from: dt.date
    value: T
    source: str
    #: False where the value comes from a secondary source not yet checked against Lovdata
    #: or the ministry's own publication.
    confirmed: bool = True


class RuleUnknown(LookupError):
    """No value of a dated rule is known for the day asked about."""


class RuleUnconfirmed(LookupError):
    """The value in force is marked unconfirmed: no letter states it or uses it as a legal
    ceiling until compliance confirms it (an approved version with ``confirmed = true``)."""

    def __init__(self, table: RuleTable[Any], entry: Dated[Any]) -> None:
        self.table = table.name
        self.valid_from = entry.valid_from
        super().__init__(
            f"the {table.title.lower()} in force from {entry.valid_from.isoformat()} "
            f"({_shown(entry.value)} {table.unit}; {entry.source}) is marked unconfirmed in "
            f"the table {table.name!r}: no letter states it or relies on it until compliance "
            f"confirms it (letters rules confirm {table.name} {entry.valid_from.isoformat()} "
            "--source WHERE-CHECKED --user NAME)"
        )


def _shown(value: Any) -> str:
    return "scale" if isinstance(value, tuple) else str(value)


@dataclass(frozen=True)
class RuleTable(Generic[T]):
    """A dated rule: its values with the day each takes effect, and the last day the table is
    known to be right. Past ``known_until`` the rule is unknown (a new half-year rate, a new
    inkassosats or a new act may apply) and letters are refused until compliance adds it."""

    name: str
    title: str
    unit: str
    entries: tuple[Dated[T], ...]
    known_until: dt.date

    def on(self, day: dt.date) -> Dated[T]:
        current = None
        for entry in self.entries:  # sorted by valid_from
            if entry.valid_from <= day:
                current = entry
        if current is None or day > self.known_until:
            raise RuleUnknown(
                f"no {self.title.lower()} is known for {day.isoformat()} (known from "
                f"{self.entries[0].valid_from.isoformat()} to {self.known_until.isoformat()}); "
                f"compliance must propose and approve a new version of the table {self.name!r} "
                "(letters rules propose)"
            )
        return current

    def relied_on(self, day: dt.date) -> Dated[T]:
        """The value in force on ``day`` for a letter that states it or uses it as a legal
        ceiling: as :meth:`on`, and raises :class:`RuleUnconfirmed` when it is unconfirmed."""
        entry = self.on(day)
        if not entry.confirmed:
            raise RuleUnconfirmed(self, entry)
        return entry

    def __iter__(self) -> Iterator[Dated[T]]:
        return iter(self.entries)


# --- the tables as data ------------------------------------------------------------------


class TableProblem(ValueError):
    """A table document that cannot be a rule table; the message names the place."""


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Step(_Doc):
    up_to: Decimal | None = None
    factor: Decimal = Field(gt=0)


class _Entry(_Doc):
    valid_from: dt.date
    value: Decimal | list[_Step]
    source: str = Field(min_length=3, max_length=300)
    confirmed: bool

    @field_validator("value", mode="before")
    @classmethod
    def _text_numbers(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            raise ValueError('write numbers as text ("750"), so no digit is lost')
        return value


class _Table(_Doc):
    name: TableName
    title: str = Field(min_length=1, max_length=100)
    unit: str = Field(min_length=1, max_length=40)
    known_until: dt.date
    entry: list[_Entry] = Field(min_length=1, max_length=400)

    @model_validator(mode="after")
    def _consistent(self) -> _Table:
        days = [e.valid_from for e in self.entry]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError("entries must be in order of valid_from, one per day")
        if self.known_until < days[-1]:
            raise ValueError("known_until is before the last entry takes effect")
        scale = self.name == "collection_fee_scale"
        for i, e in enumerate(self.entry):
            if scale != isinstance(e.value, list):
                raise ValueError(
                    f"entry[{i}].value: "
                    + ("a list of {up_to, factor} steps" if scale else "one number as text")
                )
            if isinstance(e.value, list):
                limits = [s.up_to for s in e.value]
                if not limits or limits[-1] is not None or None in limits[:-1]:
                    raise ValueError(f"entry[{i}].value: only the last step has no up_to")
                bounded = [x for x in limits if x is not None]
                if bounded != sorted(bounded):
                    raise ValueError(f"entry[{i}].value: up_to grows from step to step")
            elif e.value < 0:
                raise ValueError(f"entry[{i}].value: not negative")
        return self


def _problem(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "(table)"
        lines.append(f"{where}: {str(err['msg']).removeprefix('Value error, ')}")
    return "; ".join(lines)


def parse_table(document: Mapping[str, Any]) -> RuleTable[Any]:
    """A rule table from its document (the TOML file, or a proposal as read from TOML or
    JSON), checked: the entries in order, the value's form right for the table, numbers as
    text. Raises :class:`TableProblem` naming every problem."""
    try:
        doc = _Table.model_validate(dict(document))
    except ValidationError as exc:
        raise TableProblem(_problem(exc)) from None
    entries = []
    for e in doc.entry:
        value: Any = e.value
        if isinstance(value, list):
            value = tuple((s.up_to, s.factor) for s in value)
        entries.append(Dated(e.valid_from, value, e.source, e.confirmed))
    return RuleTable(doc.name, doc.title, doc.unit, tuple(entries), doc.known_until)


def document(table: RuleTable[Any]) -> dict[str, Any]:
    """The table as a document :func:`parse_table` reads back (JSON-ready)."""

    def value(v: Any) -> Any:
        if isinstance(v, tuple):
            return [
                {"factor": str(f)} if limit is None else {"up_to": str(limit), "factor": str(f)}
                for limit, f in v
            ]
        return str(v)

    return {
        "name": table.name,
        "title": table.title,
        "unit": table.unit,
        "known_until": table.known_until.isoformat(),
        "entry": [
            {
                "valid_from": e.valid_from.isoformat(),
                "value": value(e.value),
                "source": e.source,
                "confirmed": e.confirmed,
            }
            for e in table.entries
        ],
    }


def sha256(table: RuleTable[Any]) -> str:
    """What identifies a version of a table: the SHA-256 of its canonical document (comments
    and layout of a TOML file do not count; every value, date and source does)."""
    canonical = json.dumps(document(table), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_toml(path: Path) -> RuleTable[Any]:
    """A table from a TOML file."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise TableProblem(f"{path.name}: not TOML: {exc}") from None
    # TOML dates arrive as dates; the document form carries them as text
    return parse_table(json.loads(json.dumps(data, default=str)))


# --- the rulebook: one version of every table ----------------------------------------------


@dataclass(frozen=True)
class Rulebook:
    """The tables in force: one version of each table, with what identifies it."""

    tables: Mapping[str, RuleTable[Any]]
    #: table name → what that version is (``shipped`` or the ledger's version id)
    versions: Mapping[str, str]

    @property
    def inkassosats(self) -> RuleTable[Decimal]:
        return self.tables["inkassosats"]

    @property
    def interest_rate(self) -> RuleTable[Decimal]:
        return self.tables["interest_rate"]

    @property
    def collection_fee_scale(self) -> RuleTable[Scale]:
        return self.tables["collection_fee_scale"]

    def replace(self, table: RuleTable[Any], version: str) -> Rulebook:
        """This rulebook with ``table`` in place of the version of the same name."""
        return Rulebook({**self.tables, table.name: table}, {**self.versions, table.name: version})


def read_folder(book: Rulebook, folder: Path, label: str) -> Rulebook:
    """``book`` with each table found in ``folder`` (``<name>.toml``) in place of its own,
    marked ``label:<sha256 prefix>`` (a rehearsal's stand-ins for approved versions)."""
    for name in TABLE_NAMES:
        path = folder / f"{name}.toml"
        if path.is_file():
            table = read_toml(path)
            if table.name != name:
                raise TableProblem(f"{path}: holds the table {table.name!r}, not {name!r}")
            book = book.replace(table, f"{label}:{sha256(table)[:12]}")
    return book


@lru_cache(maxsize=8)
def rehearsal(folder: Path) -> Rulebook:
    """The shipped tables with a rehearsal's stand-ins from ``folder``
    (``Settings.rehearsal_rules``), read once per folder."""
    return read_folder(shipped(), Path(folder), "rehearsal")


@lru_cache(maxsize=1)
def shipped() -> Rulebook:
    """The tables that come with the product (``letters/rules/data/*.toml``)."""
    tables: dict[str, RuleTable[Any]] = {n: read_toml(DATA / f"{n}.toml") for n in TABLE_NAMES}
    return Rulebook(tables, dict.fromkeys(TABLE_NAMES, "shipped"))


_current: Rulebook | None = None
_lock = threading.Lock()


def current() -> Rulebook:
    """The rulebook this process applies: the shipped tables, or what :func:`use` set (the
    pipeline sets the approved versions from the ledger)."""
    return _current or shipped()


def use(book: Rulebook | None) -> None:
    """Apply ``book`` from now on in this process (None: the shipped tables)."""
    global _current
    with _lock:
        _current = book
