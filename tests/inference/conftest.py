"""The tiny model and a real vLLM server, shared by the inference tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.tiny_model import make_tiny_model
from inference.vllm_server import VLLMServer


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight Llama with its own tokenizer, made for this session (no download)."""
    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny")


@pytest.fixture(scope="module")
def vllm_server(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    """vLLM's OpenAI-compatible server (CPU build) serving the tiny model, for one module."""
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    with VLLMServer(tiny_model, log=log) as server:
        yield server
