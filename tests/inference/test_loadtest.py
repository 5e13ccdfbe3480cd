"""`socius loadtest` against the instant server (answers at once, or fails and stalls on purpose):
the accounting, the figures' definitions, the files, sweeps, live metrics, generators on Ray and
the mistakes a user makes. The agreement with a real vLLM server is in test_loadtest_vllm.py."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from inference.connect import Target
from inference.loadtest.drive import Measurement
from inference.loadtest.figures import Sample, Slo, measure
from inference.loadtest.live import LiveFigures
from inference.loadtest.pool import LocalPool
from inference.loadtest.report import table
from inference.loadtest.workload import Knobs, closed_world, recorded, schedule
from inference.prompt import Cast
from inference.vllm_server import parse_metrics
from tests.commands import instant, socius
from world.errors import UserError


def counts(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/counts", timeout=5) as r:
        return dict(json.loads(r.read()))


def closed_level(
    url: str, out: Path, characters: int, seed: int, timeout: float, live: LiveFigures | None = None
) -> dict[str, Any]:
    """One closed-loop level of `characters` for 3 ticks against `url`: its figures."""
    pool = LocalPool(Target("openai", (url,), concurrency=64), timeout=timeout)
    try:
        m = Measurement(pool, out, Slo(), live)
        m.context_length = pool.start()
        return m.closed(closed_world(characters, Knobs(), seed=seed, timeout=timeout), ticks=3)
    finally:
        pool.close()


def test_figures_follow_vllms_definitions() -> None:
    """TPOT = (E2E - TTFT) / (output - 1) per request; percentiles are numpy's; goodput counts
    the answered requests within every SLO, over the span from first send to last answer."""
    samples = [
        Sample(outcome="ok", started=0.0, ttft=0.1, e2e=1.1, itl=[0.5, 0.5], output_tokens=11),
        Sample(outcome="ok", started=1.0, ttft=0.3, e2e=0.3, output_tokens=1, input_tokens=7),
        Sample(outcome="ok", started=2.0, ttft=0.2, e2e=2.2, itl=[1.0, 1.0], output_tokens=5),
        Sample(outcome="error", started=2.5, e2e=0.1, error="HTTP 500"),
        Sample(outcome="timeout", started=3.0, e2e=1.0),
    ]
    f = measure(samples, Slo.parse("ttft=250,tpot=200"))
    assert (f["requests"], f["ok"], f["error"], f["timeout"]) == (5, 3, 1, 1)
    assert f["duration_s"] == pytest.approx(4.2)  # 0.0 .. 2.0 + 2.2
    assert f["request_throughput"] == pytest.approx(3 / 4.2)
    # TPOT: 1.0/10 = 0.1 s and 2.0/4 = 0.5 s; the one-token answer has none
    assert f["tpot_ms"]["mean"] == pytest.approx(300.0)
    assert f["ttft_ms"]["median"] == pytest.approx(200.0)
    assert f["itl_ms"]["p90"] == pytest.approx(float(np.percentile([500, 500, 1000, 1000], 90)))
    # good: #1 (ttft 100, tpot 100) and #2 (ttft 300 > 250: no); #3 tpot 500 > 200: no
    assert f["good"] == 1 and f["goodput"] == pytest.approx(1 / 4.2)
    assert measure(samples)["good"] == 3  # no SLO: every answer counts


@pytest.mark.parametrize(
    "text, words",
    [("ttft=abc", "positive number"), ("latency=5", "NAME=MS"), ("ttft", "NAME=MS")],
)
def test_bad_slo_is_named(text: str, words: str) -> None:
    with pytest.raises(UserError, match=words):
        Slo.parse(text)


def test_every_request_is_accounted_for(tmp_path: Path) -> None:
    """A server that fails every 7th request and never answers every 11th: each request sent
    ends exactly once as ok, error or timeout, as the server saw them."""
    with instant("--fail-every", 7, "--stall-every", 11) as url:
        f = closed_level(url, tmp_path, 24, seed=3, timeout=1.0)
        seen = counts(url)
    assert f["requests"] == seen["requests"] > 20
    assert f["timeout"] == seen["stalled"] > 0
    assert f["error"] == seen["failed"] > 0
    assert f["ok"] + f["error"] + f["timeout"] == f["requests"]
    lines = (tmp_path / "characters-24" / "samples.jsonl").read_text().splitlines()
    assert len(lines) == f["requests"]
    # the world recorded the same requests it sent
    _, records = recorded(tmp_path / "characters-24")
    assert len(records) == f["requests"]


def test_connections_closed_as_they_are_reused_are_resent_and_counted(tmp_path: Path) -> None:
    """A server that hangs up on 3 requests that come on kept-alive connections (its idle timer
    fired as they came): each is sent again and answered, no request fails, and the level counts
    the 3 resends in loadtest.json's figures and the table."""
    with instant("--hang-up", 3) as url:
        f = closed_level(url, tmp_path, 12, seed=3, timeout=5.0)
        seen = counts(url)
    assert seen["hung_up"] == 3
    assert f["resent_on_closed"] == 3
    assert (f["error"], f["timeout"]) == (0, 0) and f["ok"] == f["requests"] == seen["requests"]
    rendered = Console(record=True, width=200)
    rendered.print(table([f]))
    assert re.search(r"resent on a closed connection\s*│\s*3\s", rendered.export_text())


def test_open_loop_replays_the_record_at_its_rate(tmp_path: Path) -> None:
    with instant() as url:
        pool = LocalPool(Target("openai", (url,), concurrency=1000), timeout=10.0, generators=2)
        try:
            m = Measurement(pool, tmp_path, Slo())
            m.context_length = pool.start()
            m.closed(closed_world(30, Knobs(share=0.5), seed=4, timeout=10.0), ticks=4)
            sc, records = recorded(tmp_path / "characters-30")
            before = counts(url)["requests"]
            plan = schedule(sc, records, rate=200.0, arrivals="poisson", seed=9)
            f = m.open(plan, 200.0, "poisson")
        finally:
            pool.close()
        assert counts(url)["requests"] - before == len(records) == f["ok"]
    offsets = np.array([o for o, _ in plan])
    assert (np.diff(offsets) >= 0).all()
    # mean gap of exponential arrivals: 1/rate, within 4 standard errors for this many
    gaps = np.diff(offsets)
    assert abs(gaps.mean() - 1 / 200) < 4 * (1 / 200) / np.sqrt(len(gaps))
    # the requests are the recorded ones, in the order asked
    assert [r.key for _, r in plan] == [r["key"] for r in records]
    # tick bursts: every request of a tick leaves at once, ticks spaced by count / rate
    bursts = schedule(sc, records, rate=50.0, arrivals="ticks", seed=9)
    by_tick: dict[int, set[float]] = {}
    for (offset, _), r in zip(bursts, records, strict=True):
        by_tick.setdefault(r["tick"], set()).add(offset)
    assert all(len(v) == 1 for v in by_tick.values())
    starts = [next(iter(by_tick[t])) for t in sorted(by_tick)]
    sizes = [sum(1 for r in records if r["tick"] == t) for t in sorted(by_tick)]
    assert np.allclose(np.diff(starts), np.array(sizes[:-1]) / 50.0)


def test_live_figures_agree_with_the_table(tmp_path: Path) -> None:
    live = LiveFigures(0, "127.0.0.1")
    with instant("--fail-every", 5) as url:
        f = closed_level(url, tmp_path, 20, seed=5, timeout=5.0, live=live)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{live.port}/metrics", timeout=5) as r:
            text = r.read().decode()
    finally:
        live.close()
    scraped = parse_metrics(text)
    assert scraped["socius_loadtest_requests_total"] == f["requests"]
    assert f'socius_loadtest_requests_total{{outcome="error"}} {float(f["error"])}' in text
    assert scraped["socius_loadtest_tokens_total"] == f["input_tokens"] + f["output_tokens"]
    assert scraped["socius_loadtest_ttft_seconds_count"] == f["ok"]
    assert scraped["socius_loadtest_ttft_seconds_sum"] == pytest.approx(
        f["ttft_ms"]["mean"] * f["ok"] / 1e3
    )
    assert scraped["socius_loadtest_level"] == 20


@pytest.mark.ray
def test_a_sweep_on_ray_generators_writes_table_json_and_plot(tmp_path: Path) -> None:
    out = tmp_path / "lt"
    with instant() as url:
        proc = socius(
            "loadtest",
            "--endpoint",
            url,
            "--characters",
            "30,12",
            "--ticks",
            "3",
            "--generators",
            "2",
            "--generator-cpus",
            "0.5",
            "--slo",
            "ttft=5000",
            "--out",
            out,
            timeout=300,
        )
        seen = counts(url)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((out / "loadtest.json").read_text())
    levels = data["levels"]
    assert [f["level"] for f in levels] == [12, 30]  # levels run in increasing order
    assert sum(f["requests"] for f in levels) == seen["requests"]
    best = max(levels, key=lambda f: f["goodput"])
    assert data["saturation"]["level"] == best["level"]
    assert data["settings"]["generators"] == 2 and data["settings"]["slo_ms"] == {"ttft": 5000}
    assert (out / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "TTFT median" in proc.stdout and "goodput" in proc.stdout
    for f in levels:
        rows = (out / f"characters-{f['level']}" / "samples.jsonl").read_text().splitlines()
        assert len(rows) == f["requests"]


def test_mistakes_get_one_line(tmp_path: Path) -> None:
    made = tmp_path / "made"
    cases = [
        (("--endpoint", "http://127.0.0.1:9", "--rates", "5"), "--replay"),
        (("--endpoint", "http://127.0.0.1:9", "--replay", tmp_path), "not a socius run"),
        (("--endpoint", "http://127.0.0.1:9", "--slo", "fast=1"), "NAME=MS"),
        (("--endpoint", "http://127.0.0.1:9", "--characters", "10,x"), "not one"),
        (("--endpoint", "http://127.0.0.1:9", "--generators", "0", "--out", made), "--endpoint"),
    ]
    for args, words in cases:
        proc = socius("loadtest", *args, timeout=120)
        assert proc.returncode == 2, (args, proc.stderr)
        assert words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not made.exists(), "an endpoint that never answered left a folder"
    (made / "loadtest.json").parent.mkdir()
    (made / "loadtest.json").write_text("{}")
    proc = socius("loadtest", "--endpoint", "http://127.0.0.1:9", "--out", made)
    assert proc.returncode == 2 and "already holds" in proc.stderr
    assert (made / "loadtest.json").read_text() == "{}"


def test_lore_and_history_lengthen_the_shared_and_the_personal_prefix() -> None:
    plain = Cast(closed_world(20, Knobs(), seed=1, timeout=5.0))
    long = Cast(closed_world(20, Knobs(lore=800, history=300), seed=1, timeout=5.0))
    # the rules (the prefix every prompt shares) grow by the lore, the same for everyone
    assert 800 <= len(long.rules.split()) - len(plain.rules.split()) < 830
    assert long.rules.startswith(plain.rules.rstrip("\n"))
    # each persona grows by its own history, and the histories differ
    grown = [len(long.persona(c).split()) - len(plain.persona(c).split()) for c in range(5)]
    assert all(300 <= g < 330 for g in grown), grown
    assert len({long.persona(c) for c in range(5)}) == 5
    first = long.persona(3).split()[2]  # "You are NAME ..." : the history names its character
    assert long.persona(3).count(first) > plain.persona(3).count(first)
