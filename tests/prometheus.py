"""A real Prometheus (Debian's package) on loopback, for the tests, and its HTTP API."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.vllm_server import free_port


class Prometheus:
    def __init__(self, folder: Path, targets: dict[str, int]) -> None:
        """Scrapes each job's target on 127.0.0.1 every second."""
        self.port = free_port()
        config = folder / "prometheus.yml"
        jobs = "".join(
            f"  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
            for job, port in targets.items()
        )
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n" + jobs
        )
        self.proc = subprocess.Popen(
            [
                shutil.which("prometheus") or "prometheus",
                f"--config.file={config}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Prometheus did not become ready")

    def query(self, promql: str, at: float | None = None) -> list[dict]:
        """An instant query's result vector (at `at`, a Unix time, or now)."""
        params = {"query": promql, **({"time": f"{at:.3f}"} if at is not None else {})}
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]["result"]

    def query_range(self, promql: str, start: float, end: float, step: float = 1.0) -> list[dict]:
        """A range query's result matrix: what a Grafana time-series panel asks for."""
        params = {"query": promql, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": str(step)}
        url = f"http://127.0.0.1:{self.port}/api/v1/query_range?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return [series for series in body["data"]["result"] if series["values"]]

    def value(self, metric: str) -> float:
        """The last value a series had (the run is over, so its series are stale by now)."""
        result = self.query(f"last_over_time({metric}[10m])")
        assert len(result) == 1, (metric, result)
        return float(result[0]["value"][1])

    def settle(self, metric: str, want: float, timeout: float = 15.0) -> None:
        """Wait until the last scrape is stored (the exporter's final scrape is answered just
        before the run exits; Prometheus appends it a moment later)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got = self.query(f"last_over_time({metric}[10m])")
            if got and float(got[0]["value"][1]) == want:
                return
            time.sleep(0.2)
        raise AssertionError(f"{metric} never reached {want}: {got}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@contextlib.contextmanager
def prometheus(folder: Path, targets: dict[str, int]) -> Iterator[Prometheus]:
    if shutil.which("prometheus") is None:
        pytest.fail("Debian's prometheus package is missing: scripts/setup.sh test installs it")
    prom = Prometheus(folder, targets)
    try:
        yield prom
    finally:
        prom.stop()
