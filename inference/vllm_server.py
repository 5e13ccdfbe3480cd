"""A local vLLM OpenAI-compatible server, started and stopped from Python (tests, benchmarks).

    with VLLMServer("models/tiny") as server:
        socius run ... --llm-endpoint server.url

The flags are the ones socius' traffic needs from vLLM (see the README, "Thinking with a
language model"): prefix caching on, per-request cached-token counts in `usage`, structured
outputs by xgrammar without free whitespace (small models otherwise spend their tokens on it),
chunked prefill off, because vLLM's CPU build crashes on seeded requests whose prefill was
split ("CPU Generator does not use offset"), and a stream interval of 16 tokens: the first token
still goes out at once (time to first token is unchanged), later ones in groups, which spares the
HTTP front end most of its per-token work (an answer is a short JSON object that nobody reads as
it streams).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def lora_args(adapters: dict[str, str]) -> list[str]:
    """The flags that serve LoRA adapters (name -> folder), each under its name."""
    if not adapters:
        return []
    ranks = [
        int(json.loads((Path(folder) / "adapter_config.json").read_text()).get("r", 8))
        for folder in adapters.values()
    ]
    rank = next(r for r in (8, 16, 32, 64, 128, 256) if r >= max(ranks))
    modules = [f"{name}={Path(folder).resolve()}" for name, folder in sorted(adapters.items())]
    return [
        "--enable-lora",
        "--max-lora-rank",
        str(rank),
        "--max-loras",
        str(len(adapters)),
        "--lora-modules",
        *modules,
    ]


def server_args(
    model: str, port: int, max_model_len: int = 2048, adapters: dict[str, str] | None = None
) -> list[str]:
    """The command line of a vLLM server fit for socius' traffic (and its LoRA adapters)."""
    return [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        model,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--dtype",
        "float32",
        "--max-model-len",
        str(max_model_len),
        "--enforce-eager",
        "--enable-prefix-caching",
        "--enable-prompt-tokens-details",
        "--no-enable-chunked-prefill",
        "--structured-outputs-config",
        '{"backend": "xgrammar", "disable_any_whitespace": true}',
        "--stream-interval",
        "16",
        *lora_args(adapters or {}),
    ]


class VLLMServer:
    """vLLM's OpenAI server in a child process (its own process group, so stopping it stops
    its engine too)."""

    def __init__(
        self,
        model: str | Path,
        port: int | None = None,
        *,
        max_model_len: int = 2048,
        log: Path | None = None,
        ready_timeout: float = 300.0,
        adapters: dict[str, str] | None = None,
        api_key: str = "",
    ) -> None:
        """`adapters`: LoRA adapters (name -> folder) to serve beside the model; `api_key`:
        the key its `/v1` API asks for (VLLM_API_KEY, so it is not on the command line)."""
        self.adapters = dict(adapters or {})
        self.api_key = api_key
        self.model = str(model)
        self.port = port or free_port()
        self.max_model_len = max_model_len
        self.log = log
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> VLLMServer:
        env = {
            **os.environ,
            "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
        }
        if self.api_key:
            env["VLLM_API_KEY"] = self.api_key
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            server_args(self.model, self.port, self.max_model_len, self.adapters),
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the vLLM server exited with code {self.proc.returncode} before it was "
                    f"ready" + (f"; see {self.log}" if self.log else "")
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(1.0)
        self.stop()
        raise RuntimeError(f"the vLLM server was not ready within {self.ready_timeout:g} s")

    def metrics(self) -> dict[str, float]:
        """The server's own Prometheus figures (unlabelled sums over its series)."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as r:
            return parse_metrics(r.read().decode())

    def stop(self) -> None:
        """Stop at once (SIGKILL to the whole group: a test's 'the server died')."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        self.proc = None

    def __enter__(self) -> VLLMServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format to {metric name: value summed over its label sets}."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0.0) + float(m.group(3))
    return out
