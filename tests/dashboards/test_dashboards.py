"""The Grafana dashboards: the JSON is what dashboards/build.py writes, and every panel's query
returns data from a real Prometheus scraping a live LLM world and the vLLM server it uses."""

from __future__ import annotations

import importlib.util
import json
import re
import time

import pytest
import yaml

from inference.vllm_server import free_port
from tests.commands import ROOT, instant, popen_socius
from tests.prometheus import prometheus

pytestmark = [pytest.mark.slow, pytest.mark.llm]

DASHBOARDS = ROOT / "dashboards"
_spec = importlib.util.spec_from_file_location("dashboards_build", DASHBOARDS / "build.py")
assert _spec is not None and _spec.loader is not None
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


WORLD_BOARDS = ["society.json", "inference.json", "runtime.json"]  # a run's own figures


def panels(boards=None):
    for name in boards or build.DASHBOARDS:
        board = json.loads((DASHBOARDS / name).read_text())
        for panel in board["panels"]:
            for target in panel["targets"]:
                yield name, panel["title"], target["expr"]


def test_the_json_is_what_build_writes():
    for name, board in build.DASHBOARDS.items():
        assert (DASHBOARDS / name).read_text() == build.render(board), (
            f"dashboards/{name} is stale: run python dashboards/build.py"
        )
    uids = [json.loads((DASHBOARDS / n).read_text())["uid"] for n in build.DASHBOARDS]
    assert len(set(uids)) == len(uids)


def test_every_panel_returns_data_from_a_live_run(vllm_server, tmp_path):
    port = free_port()
    scenario = tmp_path / "watched.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "watched",
                "seed": 2,
                "ticks": 100000,  # never ends on its own, however fast: the test stops it
                "shards": 2,
                "population": {"size": 30, "group_size": 10, "minds": {"heuristic": 1, "llm": 1}},
                "llm": {"decisions": "all", "words": 40, "max_tokens": 64},
            }
        )
    )
    targets = {"socius": port, "vllm": vllm_server.port}
    with prometheus(tmp_path, targets) as prom:
        began = time.time()
        run = popen_socius(
            "run",
            scenario,
            "--runtime",
            "local",
            "--llm-endpoint",
            vllm_server.url,
            "--metrics-port",
            port,
            "--metrics-linger",
            "0",
            "--out",
            tmp_path / "run",
            "--quiet",
        )
        try:
            # watch until the run has lived a while: ticks done, answers in, rates defined
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                assert run.poll() is None, run.communicate()
                ticks = prom.query("socius_ticks_total")
                answered = prom.query("socius_llm_requests_total")
                if ticks and answered and float(ticks[0]["value"][1]) >= 4:
                    break
                time.sleep(1)
            else:
                raise AssertionError("the run did not get going within 300 s")
            time.sleep(3)
            # each panel as Grafana draws it: a range query over the run's life so far. (An
            # instant query at one moment finds nothing if that one scrape of a busy machine
            # timed out, and a panel with a gap still shows its data.)
            now = time.time()
            empty = [
                (board, title, expr)
                for board, title, expr in panels(WORLD_BOARDS)
                if not prom.query_range(expr, began, now)
            ]
            assert not empty, "panels without data:\n" + "\n".join(map(str, empty))
        finally:
            run.kill()
            run.wait(timeout=60)
    assert run.returncode is not None


def test_the_loadtest_board_shows_a_live_load_test(tmp_path):
    port = free_port()
    with instant() as url, prometheus(tmp_path, {"socius-loadtest": port}) as prom:
        began = time.time()
        test = popen_socius(
            "loadtest",
            "--endpoint",
            url,
            "--characters",
            "30",
            "--ticks",
            "100000",
            "--generators",
            "0",
            "--metrics-port",
            port,
            "--out",
            tmp_path / "lt",
            "--quiet",
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                assert test.poll() is None, test.communicate()
                sent = prom.query("sum(socius_loadtest_requests_total)")
                if sent and float(sent[0]["value"][1]) > 0:
                    break
                time.sleep(1)
            else:
                raise AssertionError("no load test figures within 120 s")
            time.sleep(3)
            now = time.time()
            empty = [p for p in panels(["loadtest.json"]) if not prom.query_range(p[2], began, now)]
            assert not empty, "panels without data:\n" + "\n".join(map(str, empty))
        finally:
            test.kill()
            test.wait(timeout=60)


def test_panels_use_only_metrics_the_code_exports():
    """Every socius_ name a panel queries is one the exporters define."""
    source = (ROOT / "actors" / "drive" / "exporter.py").read_text()
    source += (ROOT / "inference" / "loadtest" / "live.py").read_text()
    for board, title, expr in panels():
        for name in re.findall(r"socius_[a-z_]+", expr):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            base = base.removesuffix("_total")
            assert base in source, (board, title, name)
