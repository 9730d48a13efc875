from __future__ import annotations

import copy
import datetime
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.digipost_keys import Keys, write_keys
from tests.smtp_server import SmtpServer, running_smtp

# In this test process the pipeline runs on Dramatiq's in-memory broker (Redis is used by
# worker subprocesses); set before anything imports the actors.
os.environ.setdefault("LETTERS_BROKER", "stub")
# The login key (letters.credentials.login_key) of every test process and its subprocesses,
# so no test writes var/login.key into the working tree.
os.environ.setdefault("LETTERS_LOGINS__KEY", "tests-only-login-key-0123456789abcdef")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
JOB_FILES = sorted((FIXTURES / "jobs").glob("*.json"))
FIXTURE_DATE = datetime.date(2026, 11, 20)  # the letter date of every fixture job
#: The compliance confirmations the rehearsal assumes (the 2025 H2 and 2026 H2 interest
#: rates, unconfirmed in the shipped table): what `make main` uses as LETTERS_REHEARSAL_RULES.
REHEARSAL_RULES = FIXTURES / "rules"

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def rehearsal_rulebook() -> Any:
    """The shipped tables with the rehearsal's stand-ins (``fixtures/rules/``)."""
    from letters.rules import tables

    return tables.rehearsal(REHEARSAL_RULES)


@pytest.fixture(scope="session", autouse=True)
def _rehearsal_rules_for_the_session() -> None:
    """Session fixtures (``produced``) make letters with the rehearsal's tables too."""
    from letters import rules

    rules.use(rehearsal_rulebook())


@pytest.fixture(autouse=True)
def _rehearsal_rules() -> Iterator[None]:
    """Every test starts from the tables the rehearsal uses (the shipped ones with the
    confirmations it assumes); a test of the shipped tables as they are uses
    ``rules.use(None)`` itself."""
    from letters import rules

    rules.use(rehearsal_rulebook())
    yield
    rules.use(rehearsal_rulebook())


def load_job(name: str) -> dict[str, Any]:
    path = FIXTURES / "jobs" / f"{name}.json"
    return json.loads(path.read_text("utf-8"))


@pytest.fixture
def job() -> dict[str, Any]:
    """A valid reminder job to vary in a test."""
    return copy.deepcopy(load_job("reminder.nb"))


@pytest.fixture(scope="session")
def produced() -> dict[str, Any]:
    """Every fixture job made into a letter once per test session (name → Produced)."""
    from letters.produce import produce

    return {p.stem: produce(json.loads(p.read_text("utf-8"))) for p in JOB_FILES}


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    """The Digipost sender's key files (tests/digipost_keys.py), written once per session."""
    return write_keys(tmp_path_factory.mktemp("digipost-keys"))


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """A real SMTP server with STARTTLS and login (tests/smtp_server.py): ``(inbox, port,
    client_tls)``; the certificate to trust is ``tmp_path / "cert.pem"``."""
    with running_smtp(tmp_path) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each ledger test runs on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    from tests.services import postgres_database

    return postgres_database()


# --- the pipeline on Dramatiq's in-memory broker -------------------------------------------
from dataclasses import dataclass  # noqa: E402

import dramatiq  # noqa: E402
from dramatiq import Worker  # noqa: E402
from dramatiq.brokers.stub import StubBroker  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from letters.config import Printing, Review, Settings  # noqa: E402
from letters.pipeline import broker as brokers  # noqa: E402
from letters.pipeline.runtime import Runtime, set_runtime  # noqa: E402


class Recorder(dramatiq.Middleware):
    """Keeps every message body the broker is asked to carry."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def before_enqueue(self, broker: Any, message: Any, delay: Any) -> None:
        self.bodies.append(message.encode())


_broker: StubBroker | None = None
recorder = Recorder()


def stub_broker() -> StubBroker:
    global _broker
    if _broker is None:
        broker = brokers.configure("stub")
        assert isinstance(broker, StubBroker), "the test process must use the stub broker"
        broker.add_middleware(recorder)
        _broker = broker
    return _broker


@dataclass
class Pipeline:
    runtime: Runtime
    broker: StubBroker
    tmp: Path

    def submit(self, job: dict[str, Any]) -> str:
        from letters.pipeline.intake import submit

        return submit(job, self.runtime)

    def drain(self) -> None:
        # a stage enqueues the next one, so join every queue until all stay empty
        while True:
            for name in brokers.QUEUES:
                self.broker.join(name, fail_fast=False)
            if not any(
                self.broker.queues[name].unfinished_tasks
                for name in brokers.all_queue_names()
                if name in self.broker.queues
            ):
                return

    def pdf(self, letter_id: str) -> bytes:
        """The letter's PDF as archived (what every channel was given)."""
        letter = self.runtime.ledger.letter(letter_id)
        assert letter is not None, f"no letter {letter_id}"
        return self.runtime.archive.get(letter.pdf_sha256)

    def in_print(self, letter_id: str) -> str | None:
        """The print batch the letter joined, if any."""
        from letters.ledger.batches import Batches

        batch = Batches(self.runtime.ledger).of_letter(letter_id)
        return batch.id if batch else None

    def printed(self) -> list[str]:
        """Every letter in a print batch, sorted."""
        from sqlalchemy import select

        from letters.ledger.models import PrintBatchLetterRow

        with self.runtime.ledger.session() as s:
            return sorted(s.scalars(select(PrintBatchLetterRow.letter_id)))

    def status(self, job_id: str) -> str:
        row = self.runtime.ledger.job(job_id)
        assert row is not None
        return row.status


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    broker = stub_broker()
    import letters.pipeline.actors  # noqa: F401 - binds the actors to the stub broker

    worker = Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def pipeline(tmp_path: Path, worker: Worker) -> Iterator[Pipeline]:
    broker = stub_broker()
    broker.flush_all()
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'ledger.db'}",
        archive_dir=tmp_path / "archive",
        printing=Printing(folder=tmp_path / "print"),
        review=Review(cache_dir=tmp_path / "templates"),
        clock_date=FIXTURE_DATE,  # the fixtures are dated 2026-11-20
        rehearsal_rules=REHEARSAL_RULES,
        delivery_min_backoff_seconds=1,  # not the 30 s of production: a retry in a second
    )
    runtime = Runtime.from_settings(settings)
    set_runtime(runtime)
    try:
        yield Pipeline(runtime, broker, tmp_path)
    finally:
        set_runtime(None)


def password_on(pdf: bytes) -> str:
    from io import BytesIO

    text_ = PdfReader(BytesIO(pdf)).pages[0].extract_text()
    for line in text_.splitlines():
        for label in ("Passord", "Password"):
            if line.startswith(label + " "):
                return line.removeprefix(label).strip().replace(" ", "")
    raise AssertionError("no password on the letter")
