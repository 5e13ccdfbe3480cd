"""Trust the numbers: `socius loadtest` against vLLM's real OpenAI server (CPU build, the tiny
model) agrees with the server's own `/metrics` for the same requests: every request accounted
for, the tokens, the prefix-cache hits, and mean TTFT and E2E within 10 percent.

The server's histograms give exact means (sum / count) over the requests it served during the
test, which are exactly the requests the tool sent (nothing else talks to this module's
server), so means are what is compared; the tool's percentiles come from the same samples.

What a client sees always includes time the server's histograms do not: vLLM starts its clock
(`arrival_time`) once the HTTP front end has parsed the request, and stops it before the answer
is written back. On this 2-core machine that front end shares a core with the engine's
busy-polling scheduler, and the tiny model is so cheap that the front end, not the engine, is
the slowest part: a burst of a hundred requests at once (a closed-loop tick) waits 100-200 ms in
the front end before vLLM's clock starts. So the client's TTFT is never below the server's
(checked everywhere), E2E agrees within 10 percent everywhere, and TTFT is held to 10 percent
where the engine is what the requests wait for: the open loop offered a little above the
engine's capacity (40 requests per second; the world's own pace is about 29), so they queue in
the engine, where vLLM's clock runs. Measured there: 1.067 of the server's mean TTFT and 1.008
of its E2E; in the closed-loop bursts 1.17-1.19 and 1.03."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from inference.vllm_server import VLLMServer
from tests.commands import socius

TOLERANCE = 0.10


def delta(before: dict[str, float], after: dict[str, float], name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


def agrees(
    level: dict[str, Any], before: dict[str, float], after: dict[str, float], ttft_within: bool
) -> None:
    assert level["requests"] > 30, level
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
        if ours == "e2e_ms" or ttft_within:
            assert ours_ms - server_mean_ms <= TOLERANCE * server_mean_ms, said


def test_closed_then_open_loop_agree_with_the_server(
    vllm_server: VLLMServer, tmp_path: Path
) -> None:
    closed = tmp_path / "closed"
    before = vllm_server.metrics()
    proc = socius(
        "loadtest",
        "--endpoint",
        vllm_server.url,
        "--characters",
        "50",
        "--ticks",
        "3",
        "--generators",
        "1",
        "--generator-cpus",
        "0",
        "--slo",
        "ttft=60000",
        "--out",
        closed,
        timeout=900,
    )
    after = vllm_server.metrics()
    assert proc.returncode == 0, proc.stderr
    (level,) = json.loads((closed / "loadtest.json").read_text())["levels"]
    agrees(level, before, after, ttft_within=False)
    assert level["prefix_cache_hit_ratio"] > 0.5  # the world's prompts share their prefixes

    opened = tmp_path / "open"
    before = vllm_server.metrics()
    proc = socius(
        "loadtest",
        "--endpoint",
        vllm_server.url,
        "--replay",
        closed / "characters-50",
        "--rates",
        "40",
        "--generators",
        "0",
        "--out",
        opened,
        timeout=900,
    )
    after = vllm_server.metrics()
    assert proc.returncode == 0, proc.stderr
    (replayed,) = json.loads((opened / "loadtest.json").read_text())["levels"]
    assert replayed["requests"] == level["requests"]  # the record, every request of it
    agrees(replayed, before, after, ttft_within=True)
