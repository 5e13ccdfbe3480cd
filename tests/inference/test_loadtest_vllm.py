"""Trust the numbers: `socius loadtest` against vLLM's real OpenAI server (CPU build, a small
random model made here) agrees with the server's own `/metrics` for the same requests: every
request accounted for, the tokens, the prefix-cache hits, and mean TTFT and E2E within 10
percent, closed loop and open loop.

The server's histograms give exact means (sum / count) over the requests it served during the
test, which are exactly the requests the tool sent (nothing else talks to this module's
server), so means are what is compared; the tool's percentiles come from the same samples.

What a client sees always includes time the server's histograms do not: vLLM starts its clock
(`arrival_time`) once its HTTP front end has parsed, templated and tokenized the request, and
the answer is written back after it stops. On a real deployment that is milliseconds against an
engine's hundreds; so the server here is made engine-bound too, with the tiny model widened to
1024 and 4 layers (138 MB). The front end shares a core with vLLM's scheduler and with the
tool, so what it adds grows with anything else busy on this 2-core machine: a tick's burst of
requests waits its turn to be tokenized one after another, 50-60 ms on average at rest, and
under a process spinning beside the test 60-300 ms. With a cheaper engine (512 wide) that was
up to 1.44 of the server's TTFT under such a process, 1.04-1.06 at rest; with this one, as
the test runs it (24 characters, 2 ticks, then the record replayed at 8 requests/s, beyond what
this engine serves, so answers queue for it as on a loaded deployment): closed loop 1.019 of
the server's mean TTFT at rest and 1.023 beside a spinning process, open loop 1.011 and
1.025, E2E 1.009 at most. The client's figures can never be below the server's, and that is
checked too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from inference.tiny_model import make_tiny_model
from inference.vllm_server import VLLMServer
from tests.commands import socius

pytestmark = [pytest.mark.llm, pytest.mark.slow]

TOLERANCE = 0.10


@pytest.fixture(scope="module")
def engine_bound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VLLMServer]:
    model = make_tiny_model(tmp_path_factory.mktemp("models") / "wider", hidden=1024, layers=4)
    log = tmp_path_factory.mktemp("vllm") / "server.log"
    with VLLMServer(model, log=log) as server:
        yield server


def delta(before: dict[str, float], after: dict[str, float], name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


def agrees(level: dict[str, Any], before: dict[str, float], after: dict[str, float]) -> None:
    assert level["requests"] > 40, level
    assert level["ok"] + level["error"] + level["timeout"] == level["requests"]
    assert level["error"] == level["timeout"] == 0, level
    # the server finished exactly the requests the tool saw answered, with the same tokens
    assert delta(before, after, "vllm:request_success_total") == level["ok"]
    assert delta(before, after, "vllm:prompt_tokens_total") == level["input_tokens"]
    assert delta(before, after, "vllm:generation_tokens_total") == level["output_tokens"]
    # the prefix cache, as the server counts it
    queries = delta(before, after, "vllm:prefix_cache_queries_total")
    hits = delta(before, after, "vllm:prefix_cache_hits_total")
    assert level["prefix_cache_queries"] == queries and level["prefix_cache_hits"] == hits
    assert level["prefix_cache_hit_ratio"] == pytest.approx(hits / queries)
    for ours, theirs in (
        ("ttft_ms", "vllm:time_to_first_token_seconds"),
        ("e2e_ms", "vllm:e2e_request_latency_seconds"),
    ):
        n = delta(before, after, f"{theirs}_count")
        assert n == level["ok"], theirs
        server_mean_ms = delta(before, after, f"{theirs}_sum") / n * 1e3
        ours_ms = level[ours]["mean"]
        said = f"{ours}: socius {ours_ms:.1f} ms, vLLM {server_mean_ms:.1f} ms"
        assert ours_ms >= server_mean_ms, "a client cannot see less time than the server: " + said
        assert ours_ms - server_mean_ms <= TOLERANCE * server_mean_ms, said


def measured(server: VLLMServer, out: Path, *args: object) -> tuple[dict[str, Any], ...]:
    """One level of `socius loadtest` against `server`: its figures, and the server's own
    metrics before and after."""
    before = server.metrics()
    proc = socius("loadtest", "--endpoint", server.url, *args, "--out", out, timeout=900)
    after = server.metrics()
    assert proc.returncode == 0, proc.stderr
    (level,) = json.loads((out / "loadtest.json").read_text())["levels"]
    return level, before, after


def test_closed_then_open_loop_agree_with_the_server(
    engine_bound: VLLMServer, tmp_path: Path
) -> None:
    closed = tmp_path / "closed"
    level, before, after = measured(
        engine_bound,
        closed,
        *("--characters", 24, "--ticks", 2),
        *("--generators", 1, "--generator-cpus", 0),
    )
    agrees(level, before, after)
    assert level["prefix_cache_hit_ratio"] > 0.5  # the world's prompts share their prefixes

    replayed, before, after = measured(
        engine_bound,
        tmp_path / "open",
        *("--replay", closed / "characters-24", "--rates", 8, "--generators", 0),
    )
    assert replayed["requests"] == level["requests"]  # the record, every request of it
    agrees(replayed, before, after)
