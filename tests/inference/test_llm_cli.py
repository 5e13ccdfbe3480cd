"""Pointing socius at a model: each mistake gets one clear line, exit code 2, and no run folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands import ROOT, socius

LLM_VILLAGE = ROOT / "examples" / "village-llm.yaml"
VILLAGE = ROOT / "examples" / "village.yaml"
SMALL = ("--ticks", "2", "--characters", "30")


def refused(proc, *words: str, usage: bool = False) -> None:
    """Exit code 2 and one line naming the problem (after the usage, for a flag argparse
    rejects), no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert usage or len(lines) == 1, lines
    for w in words:
        assert w in lines[-1], lines[-1]


@pytest.mark.parametrize("runtime", ["local", pytest.param("ray", marks=pytest.mark.ray)])
def test_an_endpoint_that_does_not_answer(tmp_path, runtime):
    out = tmp_path / "run"
    proc = socius(
        "run",
        LLM_VILLAGE,
        *SMALL,
        "--runtime",
        runtime,
        "--llm-endpoint",
        "127.0.0.1:9",
        "--out",
        out,
        timeout=300,
    )
    refused(proc, "no LLM endpoint answered", "http://127.0.0.1:9", "--llm-endpoint")
    assert not out.exists(), "a run that never started left a folder behind"


@pytest.mark.parametrize(
    "args, words",
    [
        ((LLM_VILLAGE,), ("llm mind", "--llm-endpoint", "--llm-engine", "--llm-replay")),
        ((VILLAGE, "--llm-endpoint", "http://127.0.0.1:9"), ("no character", "llm")),
        ((LLM_VILLAGE, "--llm-replay", "{tmp}"), ("no LLM traces",)),
        ((LLM_VILLAGE, "--llm-engine", "{tmp}"), ("no model", "config.json")),
        ((LLM_VILLAGE, "--llm-endpoint", "x", "--llm-engine", "y"), ("not allowed with",)),
    ],
)
def test_mistakes_are_named(tmp_path: Path, args, words):
    args = tuple(str(a).replace("{tmp}", str(tmp_path)) for a in args)
    proc = socius("run", *args, *SMALL, "--runtime", "local", "--out", tmp_path / "run")
    refused(proc, *words, usage="not allowed with" in words)
    assert not (tmp_path / "run").exists()


def test_exporting_traces_of_a_run_without_them(tmp_path):
    proc = socius("traces", "export", tmp_path)
    refused(proc, "no LLM traces")
    proc = socius("traces", "export", tmp_path / "nowhere")
    refused(proc, "not found")
