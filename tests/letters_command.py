"""The ``letters`` command as an operator runs it: a subprocess from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def run(*args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``letters ARGS`` in a subprocess, with extra environment variables."""
    return subprocess.run(
        [sys.executable, "-m", "letters", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
        env={**os.environ, **env},
    )
