"""The load test's figures, live, for Prometheus: `socius loadtest --metrics-port P`.

Counters of requests by outcome and of tokens, and histograms (seconds) of TTFT, TPOT, ITL and
E2E, fed with every sample as it is drained from the generators, so Grafana shows the same
figures the final table gives while the test runs. The `level` gauge says which level of a sweep
is running (requests per second, or characters); `goodput` is the last finished level's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from inference.loadtest.figures import OUTCOMES, Sample
from world.errors import UserError

#: From 1 ms to 2 minutes: CPU test servers and loaded GPU clusters both land inside.
BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    120.0,
)


class LiveFigures:
    def __init__(self, port: int, host: str = "0.0.0.0") -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "socius_loadtest_requests",
            "Requests sent, by how they ended (ok, error, timeout).",
            ["outcome"],
            registry=r,
        )
        for outcome in OUTCOMES:
            self.requests.labels(outcome)
        self.tokens = Counter(
            "socius_loadtest_tokens", "Tokens of answered requests.", ["kind"], registry=r
        )
        self.tokens.labels("input")
        self.tokens.labels("output")
        self.cached = Counter(
            "socius_loadtest_prefix_cache_hits",
            "Prompt tokens the server reports served from its prefix cache.",
            registry=r,
        )
        self.ttft = self._histogram("socius_loadtest_ttft_seconds", "Time to first token.")
        self.tpot = self._histogram(
            "socius_loadtest_tpot_seconds", "Time per output token after the first."
        )
        self.itl = self._histogram(
            "socius_loadtest_itl_seconds", "Gap between consecutive streamed chunks."
        )
        self.e2e = self._histogram("socius_loadtest_e2e_seconds", "End-to-end request latency.")
        self.level = Gauge(
            "socius_loadtest_level",
            "The running sweep level (requests per second, open loop; characters, closed).",
            registry=r,
        )
        self.goodput = Gauge(
            "socius_loadtest_goodput",
            "Requests per second meeting every SLO, in the last finished level.",
            registry=r,
        )
        try:
            self.server, self.thread = start_http_server(port, host, registry=r)
        except OSError as err:
            raise UserError(
                f"--metrics-port {port}: cannot listen on {host}:{port} "
                f"({err.strerror or err}); choose another port"
            ) from None
        self.port = int(self.server.server_address[1])

    def _histogram(self, name: str, doc: str) -> Histogram:
        return Histogram(name, doc, buckets=BUCKETS, registry=self.registry)

    def add(self, samples: Iterable[Sample]) -> None:
        for s in samples:
            self.requests.labels(s.outcome).inc()
            if s.outcome != "ok":
                continue
            self.tokens.labels("input").inc(s.input_tokens)
            self.tokens.labels("output").inc(s.output_tokens)
            if s.cached_tokens:
                self.cached.inc(s.cached_tokens)
            self.ttft.observe(s.ttft)
            self.e2e.observe(s.e2e)
            if s.tpot is not None:
                self.tpot.observe(s.tpot)
            for gap in s.itl:
                self.itl.observe(gap)

    def finished(self, figures: dict[str, Any]) -> None:
        self.goodput.set(figures["goodput"])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
