from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# In this test process the pipeline runs on Dramatiq's in-memory broker (Redis is used by
# worker subprocesses); set before anything imports the actors.
os.environ.setdefault("LETTERS_BROKER", "stub")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
JOB_FILES = sorted((FIXTURES / "jobs").glob("*.json"))

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each ledger test runs on SQLite and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    from tests.services import postgres_database

    return postgres_database()
