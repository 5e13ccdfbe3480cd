"""The `socius` command as a user runs it, for tests: a subprocess from the repository root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def socius(*args: object, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `python -m actors.cli ARGS` from the repository root and capture what it says."""
    return subprocess.run(
        [sys.executable, "-m", "actors.cli", *(str(a) for a in args)],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "120"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def popen_socius(*args: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "actors.cli", *(str(a) for a in args)],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
