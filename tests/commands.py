"""The `socius` command as a user runs it, for tests: a subprocess from the repository root."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inference.vllm_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def socius(
    *args: object, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `python -m actors.cli ARGS` from the repository root and capture what it says;
    `env`: variables set for it besides this process's."""
    return subprocess.run(
        [sys.executable, "-m", "actors.cli", *(str(a) for a in args)],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def as_in_a_terminal() -> None:
    """In the child before it starts: Ctrl-C (SIGINT) as a terminal gives it. A disposition
    of SIG_IGN is inherited across exec, and a library in the test process (a model engine, a
    Ray worker) may have set one there: Python then installs no KeyboardInterrupt handler and
    the command would ignore the Ctrl-C the test sends."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def popen_socius(*args: object, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "actors.cli", *(str(a) for a in args)],
        preexec_fn=as_in_a_terminal,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "120", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def instant(*flags: object) -> Iterator[str]:
    """socius' instant OpenAI-compatible server (inference/loadtest/instant.py) with `flags`,
    in its own process; yields its URL."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "inference.loadtest.instant", "--port", str(port), *map(str, flags)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert "instant" in proc.stdout.readline()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
