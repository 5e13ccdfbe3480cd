"""The run's Prometheus exporter, scraped by a real Prometheus (Debian's package, started here on
loopback): the series are there, and what PromQL reads agrees with the run's summary.json."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from actors.drive.driver import Driver
from actors.drive.exporter import RunExporter
from inference.connect import InProcessModel
from inference.vllm_server import free_port
from tests.commands import ROOT, instant, socius
from tests.inference.scripted import Scripted, good_answer, legal_of
from tests.prometheus import Prometheus, prometheus
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import load_scenario

pytestmark = [pytest.mark.slow]

VILLAGE = ROOT / "examples" / "village.yaml"


@pytest.fixture
def scraped(tmp_path: Path) -> Iterator[tuple[Prometheus, int]]:
    port = free_port()
    with prometheus(tmp_path, {"socius": port}) as prom:
        yield prom, port


def scraped_run(port: int, out: Path, *args: object) -> dict:
    """`socius run ARGS` in process, serving metrics on `port`; its summary.json."""
    proc = socius(
        "run",
        *args,
        "--runtime",
        "local",
        "--metrics-port",
        port,
        "--metrics-linger",
        "30",
        "--out",
        out,
        "--quiet",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "no scrape" not in proc.stderr
    return json.loads((out / "summary.json").read_text())


def test_a_run_scraped_live_agrees_with_its_record(scraped, tmp_path):
    prom, port = scraped
    # a few seconds of ticks: Prometheus scrapes the run while it lives
    summary = scraped_run(port, tmp_path / "run", VILLAGE, "--ticks", "150", "--characters", "4000")
    totals = summary["totals"]
    prom.settle("socius_ticks_total", 150)
    assert prom.value("socius_ticks_total") == summary["ticks"] == 150
    for outcome in ("made", "kept", "broken"):
        got = prom.value(f'socius_promises_total{{outcome="{outcome}"}}')
        assert got == totals[f"promises_{outcome}"]
    for key in (
        "betrayals",
        "trades",
        "trade_volume",
        "gifts",
        "gossip",
        "apologies",
        "forgiveness",
        "contributions",
        "free_rides",
        "invalid_actions",
    ):
        assert prom.value(f"socius_{key}_total") == totals[key], key
    envelopes = prom.query("sum(last_over_time(socius_envelopes_total[10m]))")
    assert float(envelopes[0]["value"][1]) == totals["envelopes"]
    coop = prom.value('socius_decisions_total{choice="cooperate"}')
    defect = prom.value('socius_decisions_total{choice="defect"}')
    assert round(coop / (coop + defect), 6) == totals["cooperation_rate"]
    # by role: the roles' acts add up to the world's, and every role's trust is a fraction
    for choice, whole in (("cooperate", coop), ("defect", defect)):
        parts = prom.query(
            f'sum(last_over_time(socius_decisions_by_role_total{{choice="{choice}"}}[10m]))'
        )
        assert float(parts[0]["value"][1]) == whole
    trust = prom.query("last_over_time(socius_mean_trust_by_role[10m])")
    assert {t["metric"]["role"] for t in trust} >= {"farmer", "child", "elder"}
    assert all(0.0 <= float(t["value"][1]) <= 1.0 for t in trust)
    final = summary["final"]
    for key in ("mean_trust", "wealth_gini", "emotion_inference_accuracy", "cooperation_rate"):
        assert prom.value(f"socius_{key}") == pytest.approx(final[key], abs=1e-9), key
    assert prom.value("socius_checkpoints_total") == summary["checkpoints"]
    # durations are histograms, one tick observed per tick
    assert prom.value("socius_tick_duration_seconds_count") == 150
    assert prom.value("socius_shard_step_seconds_count") == 150 * summary["shards"]
    # (that the series are served after every tick, not only at the end, is
    # test_the_series_are_live_after_every_tick's: how many scrapes fall within a run depends
    # on how fast the machine ticks)
    # no series names a character (every series the run had: the run is over, so they are
    # stale by now and an instant selector would find none; a range selector still does)
    labels = prom.query('{__name__=~"socius_.+"}[10m]')
    names = {s["metric"]["__name__"] for s in labels}
    assert {"socius_ticks_total", "socius_promises_total"} <= names and all(
        set(s["metric"])
        <= {"__name__", "instance", "job", "kind", "choice", "outcome", "direction", "role", "le"}
        for s in labels
    )


def test_the_series_are_live_after_every_tick(tmp_path):
    """The exporter serves each tick's figures as soon as the tick ends, not only at the end of
    the run: read from its endpoint after each tick, the tick counter is that tick."""
    port = free_port()
    sc = load_scenario(VILLAGE).with_overrides(ticks=3, population={"size": 40})
    record = RunRecord(tmp_path / "run", sc, 1)
    rt = LocalRuntime(sc, 1, record)
    driver = Driver(rt, record, exporter=RunExporter(port, host="127.0.0.1"))
    try:
        for tick in (1, 2, 3):
            driver.step()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
                lines = r.read().decode().splitlines()
            assert f"socius_ticks_total {float(tick)}" in lines
    finally:
        driver.close_exporter(0)
        rt.close()
        record.close()


def test_a_port_in_use_is_named(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = socius(
            "run",
            VILLAGE,
            "--runtime",
            "local",
            "--ticks",
            "2",
            "--metrics-port",
            port,
            "--metrics-host",
            "127.0.0.1",
            "--out",
            tmp_path / "run",
        )
    assert proc.returncode == 2
    assert f"--metrics-port {port}" in proc.stderr and "Traceback" not in proc.stderr


def test_the_inference_series_agree_with_the_record(scraped, tmp_path):
    """An LLM run (answers replayed from a record made here) exports its inference figures."""
    prom, port = scraped
    scenario = ROOT / "examples" / "village-llm.yaml"
    sc = load_scenario(scenario).with_overrides(ticks=6)
    first = tmp_path / "first"
    model = InProcessModel(sc, Scripted(lambda r: good_answer(legal_of(r)[0])), 2, first)
    record = RunRecord(first, sc, 2)
    rt = LocalRuntime(sc, 2, record, decide=model)
    try:
        rt.run()
    finally:
        rt.close()
        record.close()
    summary = scraped_run(port, tmp_path / "run", scenario, "--ticks", "6", "--llm-replay", first)
    llm = summary["llm"]
    prom.settle("socius_ticks_total", 6)
    assert llm["llm_decisions"] > 0
    for key in ("decisions", "requests", "answers", "retries", "fallbacks", "errors"):
        assert prom.value(f"socius_llm_{key}_total") == llm[f"llm_{key}"], key
    assert prom.value("socius_llm_invalid_answers_total") == llm["llm_invalid"]
    assert prom.value('socius_llm_tokens_total{direction="prompt"}') == llm["llm_tokens_in"]
    assert prom.value("socius_llm_request_duration_seconds_count") == sum(llm["latency_histogram"])


def test_requests_resent_on_a_closed_connection_are_exported(scraped, tmp_path):
    """A run whose model server hangs up on 3 requests on kept-alive connections: each is sent
    again, the run counts no model error, and Prometheus reads the 3 resends the summary has."""
    prom, port = scraped
    with instant("--hang-up", 3) as url:
        summary = scraped_run(
            port, tmp_path / "run", ROOT / "examples" / "village-llm.yaml", "--ticks", 4,
            "--characters", 12, "--llm-endpoint", url,
        )  # fmt: skip
    llm = summary["llm"]
    prom.settle("socius_ticks_total", 4)
    assert llm["llm_errors"] == 0 and llm["llm_requests"] > 3
    assert llm["gateway"]["resent_on_closed"] == 3
    assert prom.value("socius_llm_resent_on_closed_total") == 3
