"""Characters with adapters of their own: a world whose groups answer with two different LoRA
adapters against a real vLLM CPU server sends each request under its adapter's name (seen in
the traces, and in the server's own figures: the requests it finished and the adapters it ran;
vLLM counts requests by base model only), replays to its digest, and a scenario
naming an adapter the server does not serve is refused with one line."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from inference.traces import latest
from inference.train import train
from inference.vllm_server import VLLMServer
from tests.commands import socius
from tests.inference.test_train import rows, write_dataset

pytestmark = [pytest.mark.llm]


@pytest.fixture(scope="module")
def adapters(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two adapters of the tiny model, trained on different data."""
    base = tmp_path_factory.mktemp("adapters")
    made = {}
    for i, name in enumerate(("alpha", "beta")):
        data = write_dataset(base / f"data-{name}", rows(16, seed=10 + i))
        made[name] = train(tiny_model, data, base / name, max_steps=4, lr=1e-2, seed=i).out
    return made


@pytest.fixture(scope="module")
def server(
    tiny_model: Path, adapters: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[VLLMServer]:
    log = tmp_path_factory.mktemp("vllm-lora") / "server.log"
    with VLLMServer(tiny_model, log=log, adapters={k: str(v) for k, v in adapters.items()}) as s:
        yield s


def scenario(folder: Path, adapters: list[dict]) -> Path:
    data = {
        "name": "adapters",
        "seed": 4,
        "ticks": 3,
        "shards": 2,
        "population": {"size": 20, "group_size": 10, "minds": {"llm": 1.0}},
        "llm": {"decisions": "all", "words": 40, "max_tokens": 64, "adapters": adapters},
    }
    path = folder / "adapters.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def served(server: VLLMServer) -> tuple[int, set[str]]:
    """From the server's own Prometheus figures: the requests it finished, and every adapter
    it has run (vLLM names the running adapters in `vllm:lora_requests_info`)."""
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=10) as r:
        text = r.read().decode()
    done, running = 0, set()
    for line in text.splitlines():
        if line.startswith("vllm:request_success_total{"):
            done += int(float(line.rsplit(" ", 1)[1]))
        elif line.startswith("vllm:lora_requests_info{"):
            names = line.split('running_lora_adapters="', 1)[1].split('"', 1)[0]
            running.update(n for n in names.split(",") if n)
    return done, running


def test_each_character_asks_with_its_adapter_and_the_run_replays(
    server: VLLMServer, adapters: dict[str, Path], tmp_path: Path
) -> None:
    world = scenario(
        tmp_path,
        [
            {"name": "alpha", "path": str(adapters["alpha"]), "group": 0},
            {"name": "beta", "path": str(adapters["beta"]), "group": 1},
        ],
    )
    done_before, _ = served(server)
    run = tmp_path / "run"
    proc = socius("run", world, "--llm-endpoint", server.url, "--runtime", "local", "--out", run,
                  "--quiet", timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    requests = latest(run, "request")
    assert requests
    sent: Counter[str] = Counter()
    for r in requests.values():
        expected = "alpha" if r["actor"] < 10 else "beta"
        assert r["adapter"] == expected, r["key"]
        if r["answer"] is not None:
            sent[expected] += 1
    done, running = served(server)
    assert done - done_before == sum(sent.values()) and min(sent.values()) > 0
    assert {"alpha", "beta"} <= running, running

    summary = json.loads((run / "summary.json").read_text())
    again = tmp_path / "again"
    proc = socius("run", world, "--llm-replay", run, "--runtime", "local", "--shards", 1,
                  "--out", again, "--quiet", timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (
        json.loads((again / "summary.json").read_text())["state_digest"] == summary["state_digest"]
    )


def test_an_adapter_the_server_does_not_serve_is_one_line(
    server: VLLMServer, tmp_path: Path
) -> None:
    world = scenario(tmp_path, [{"name": "gamma", "group": 0}])
    out = tmp_path / "run"
    proc = socius("run", world, "--llm-endpoint", server.url, "--runtime", "local", "--out", out)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "gamma" in proc.stderr and "--lora-modules" in proc.stderr
    assert not out.exists()
