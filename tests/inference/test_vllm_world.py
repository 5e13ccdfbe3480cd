"""An LLM world against a real vLLM server (the CPU build, serving the tiny model): every answer
recorded, nothing illegal applied, the prefix cache seen from the server's own counters, a
replay to the same digest, and a server killed mid-run that the world outlives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from inference.connect import InProcessModel, Target
from inference.traces import latest
from tests.commands import socius
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import parse_scenario

pytestmark = [pytest.mark.llm, pytest.mark.ray]

ROOT = Path(__file__).resolve().parents[2]


def scenario_file(folder: Path, ticks: int = 4) -> Path:
    data = {
        "name": "vllmtest",
        "seed": 8,
        "ticks": ticks,
        "shards": 2,
        "population": {"size": 30, "group_size": 10, "minds": {"heuristic": 1, "llm": 1}},
        "information": {"observation_rate": 0.3},
        "llm": {"decisions": "all", "words": 40, "max_tokens": 96, "outcome_ticks": 2},
    }
    path = folder / "vllmtest.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run_ok(*args: object) -> dict:
    """`socius run ARGS --quiet`, which must succeed; its summary.json."""
    out = Path(str(args[args.index("--out") + 1]))
    proc = socius("run", *args, "--quiet", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads((out / "summary.json").read_text())


def test_an_llm_world_on_ray_against_a_real_server(vllm_server, tmp_path):
    before = vllm_server.metrics()
    run = tmp_path / "run"
    # --metrics-port: the exporter asks the Ray gateways for their figures every tick
    summary = run_ok(
        scenario_file(tmp_path),
        "--llm-endpoint",
        vllm_server.url,
        "--out",
        run,
        "--metrics-port",
        "0",
        "--metrics-linger",
        "0",
    )
    llm = summary["llm"]
    assert llm["llm_decisions"] > 20
    assert llm["llm_answers"] + llm["llm_fallbacks"] == llm["llm_decisions"]
    assert llm["llm_errors"] == 0 and llm["llm_tokens_in"] > 0 and llm["llm_tokens_out"] > 0
    assert summary["totals"]["invalid_actions"] == 0
    # every request and its answer is in the run folder
    requests = latest(run, "request")
    assert len(requests) == llm["llm_requests"]
    valid = [r for r in requests.values() if r["valid"]]
    assert valid, "the tiny model never produced a valid answer"
    for r in valid:  # what validated was one of the decision's legal actions
        assert json.loads(r["answer"], strict=False)["action"] in r["legal"]
    decisions = latest(run, "decision")
    assert len(decisions) == llm["llm_decisions"]
    for d in decisions.values():
        asked = [requests[k] for k in d["requests"]]
        assert d["action"] in asked[0]["legal"]
    # the prefix cache as the server counts it: the same tokens, and most of them hits
    after = vllm_server.metrics()
    queries = after["vllm:prefix_cache_queries_total"] - before["vllm:prefix_cache_queries_total"]
    hits = after["vllm:prefix_cache_hits_total"] - before["vllm:prefix_cache_hits_total"]
    assert queries == llm["llm_tokens_in"]
    assert hits == llm["gateway"]["prefix_hits"]
    assert hits / queries > 0.5
    assert llm["llm_prefix_hit_ratio"] == round(hits / queries, 6)

    # the run again from its record, in process and split differently: the same world
    again = tmp_path / "again"
    replayed = run_ok(
        scenario_file(tmp_path),
        "--llm-replay",
        run,
        "--runtime",
        "local",
        "--shards",
        "3",
        "--out",
        again,
    )
    assert replayed["state_digest"] == summary["state_digest"]
    # and the traces export as chat data
    out = tmp_path / "chat.jsonl"
    proc = socius("traces", "export", run, "--out", out)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == llm["llm_decisions"]
    assert all(x["messages"][-1]["role"] == "assistant" for x in lines)


def test_an_llm_world_on_ray_against_the_engine_in_the_gateway(tiny_model, tmp_path):
    """`--llm-engine`: vLLM's engine runs inside the gateway actor."""
    run = tmp_path / "run"
    summary = run_ok(scenario_file(tmp_path, ticks=3), "--llm-engine", tiny_model, "--out", run)
    llm = summary["llm"]
    assert llm["target"] == f"engine {tiny_model}"
    assert llm["llm_decisions"] > 10 and llm["llm_errors"] == 0 and llm["llm_answers"] > 0
    assert summary["totals"]["invalid_actions"] == 0
    assert len(latest(run, "request")) == llm["llm_requests"]
    assert llm["gateway"]["prefix_queries"] == llm["llm_tokens_in"]
    assert llm["gateway"]["prefix_hits"] > 0


def test_the_world_outlives_a_server_killed_mid_run(vllm_server, tmp_path):
    """Runs last in this module: it kills the module's server."""
    sc = parse_scenario(yaml.safe_load(scenario_file(tmp_path, ticks=5).read_text()))
    folder = tmp_path / "run"
    model = InProcessModel.of(sc, Target("openai", (vllm_server.url,)), 2, folder)
    record = RunRecord(folder, sc, 2)
    rt = LocalRuntime(sc, 2, record, decide=model)
    try:
        before = [rt.step() for _ in range(2)]
        vllm_server.stop()
        after = [rt.step() for _ in range(3)]
    finally:
        rt.close()
        record.close()
    assert rt.completed == 5
    assert sum(s.c["llm_answers"] for s in before) > 0
    assert sum(s.c["llm_decisions"] for s in after) > 0
    assert all(s.c["llm_fallbacks"] == s.c["llm_decisions"] for s in after)
    assert all(s.c["llm_errors"] == s.c["llm_requests"] > 0 for s in after)
    assert all(s.c["llm_answers"] == 0 for s in after)
