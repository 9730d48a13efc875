"""How the product words what people read, the same in every command and page: counts with
their plurals, and which ledger a URL names. Plain functions, importable at once."""

from __future__ import annotations


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` and the word, singular or plural as English has it.

    >>> counted(1, "page"), counted(2, "page"), counted(0, "file"), counted(3, "case")
    ('1 page', '2 pages', '0 files', '3 cases')
    >>> counted(2, "batch", "batches")
    '2 batches'
    """
    return f"{n} {word if n == 1 else plural or word + 's'}"


def ledger_name(url: str) -> str:
    """Which ledger a URL names, as a person reads it: the SQLite file's path, or the
    database URL without its password.

    >>> ledger_name("sqlite:///var/letters.db")
    'var/letters.db'
    >>> ledger_name("postgresql+psycopg://app:secret@db.example/letters")
    'postgresql+psycopg://app:***@db.example/letters'
    """
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    return parsed.render_as_string(hide_password=True)
