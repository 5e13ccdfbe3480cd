"""The Prometheus exporter: one scrape target for the whole run, served by the coordinator.

Why one target and not Ray's metrics path: every figure a run has is already summed by the
coordinator each tick (shards return their tick statistics; the gateway replicas are asked for
theirs), so the exporter reads the same totals `summary.json` and `metrics.csv` are written
from, and its counters agree with the run record exactly, wherever the shards and gateways run.
Ray's own metrics (per actor, per node) stay available beside it for the runtime's health.

The collector builds its metric families from a snapshot taken after each tick (under a lock,
so a scrape never sees half a tick). Counters end in `_total`, durations are histograms in
seconds, every name starts with `socius_`, and no label carries a character id.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from inference.figures import LATENCY, TTFT
from world.errors import UserError
from world.stats import DURATION_BUCKETS, SCALE, TickStats
from world.vocab import ROLE_NAMES, Kind

#: TickStats counts exported as plain counters: name -> (metric, help).
COUNTERS = {
    "betrayals": ("socius_betrayals_total", "Promises broken and noticed by the promisee."),
    "apologies": ("socius_apologies_total", "Apologies made."),
    "forgiveness": ("socius_forgiveness_total", "Apologies forgiven."),
    "trades": ("socius_trades_total", "Trades settled."),
    "trade_volume": ("socius_trade_volume_total", "Worth of the goods traded, in coin."),
    "trade_offers": ("socius_trade_offers_total", "Trade offers made."),
    "gifts": ("socius_gifts_total", "Gifts given (care and loans included)."),
    "care_gifts": ("socius_care_gifts_total", "Gifts to someone vulnerable."),
    "requests": ("socius_requests_total", "Requests for help."),
    "loans": ("socius_loans_total", "Loans given."),
    "gossip": ("socius_gossip_total", "Pieces of gossip passed on."),
    "contributions": ("socius_contributions_total", "Contributions to a group's project."),
    "free_rides": ("socius_free_rides_total", "Collections a member gave nothing to."),
    "observations": ("socius_observations_total", "Acts seen by a bystander."),
    "invalid_actions": ("socius_invalid_actions_total", "Chosen actions the world refused."),
}
GAUGES = {
    "cooperation_rate": (
        "socius_cooperation_rate",
        "Share of the last tick's acts that cooperated.",
    ),
    "mean_trust": ("socius_mean_trust", "Mean trust over every remembered relationship."),
    "reputation_accuracy": (
        "socius_reputation_accuracy",
        "Share of views of a partner's standing that were right when dealing with them.",
    ),
    "emotion_inference_accuracy": (
        "socius_emotion_inference_accuracy",
        "How well readers guessed hidden feelings (1 - mean absolute error).",
    ),
    "wealth_gini": ("socius_wealth_gini", "Gini coefficient of wealth."),
    "in_need": ("socius_characters_in_need", "Characters hungry or sick."),
    "hungry": ("socius_characters_hungry", "Characters hungry."),
    "sick": ("socius_characters_sick", "Characters sick."),
    "characters": ("socius_characters", "Characters in the world."),
}
LLM_COUNTERS = {
    "llm_decisions": ("socius_llm_decisions_total", "Decisions given to the model."),
    "llm_requests": ("socius_llm_requests_total", "Requests sent to the model."),
    "llm_answers": ("socius_llm_answers_total", "Answers that validated and were used."),
    "llm_invalid": ("socius_llm_invalid_answers_total", "Answers that failed validation."),
    "llm_retries": ("socius_llm_retries_total", "Requests asked again after an invalid answer."),
    "llm_fallbacks": ("socius_llm_fallbacks_total", "Model decisions the heuristic made."),
    "llm_errors": ("socius_llm_errors_total", "Requests that got no answer."),
    "llm_skipped": ("socius_llm_skipped_total", "Decisions kept from the model by the budget."),
}


class RunExporter:
    """Serves the run's metrics on `port`; `update` after every tick."""

    def __init__(self, port: int, host: str = "0.0.0.0", runtime: str = "local") -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._lock = threading.Lock()
        self._scraped = threading.Condition(self._lock)
        self._collects = 0  # collections begun (each scrape is one)
        self._answered_upto = 0  # the latest collection whose answer was written out in full
        self._ticket = threading.local()
        self.runtime = runtime
        self.totals = TickStats()
        self.last = TickStats()
        self.ticks = 0
        self.tick_seconds: list[int] = [0] * (len(DURATION_BUCKETS) + 1)
        self.tick_seconds_sum = 0.0
        self.checkpoints = 0
        self.recoveries = 0
        self.gateway: dict[str, float] = {}
        self.registry.register(self)  # type: ignore[arg-type]
        app = make_wsgi_app(self.registry)

        def counted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            self._ticket.value = 0
            body = app(environ, start_response)
            ticket = self._ticket.value  # set by collect(), in this same thread
            return _Answered(body, lambda: self._answered(ticket))

        try:
            self.server = make_server(
                host, port, counted, server_class=_Server, handler_class=_Quiet
            )
        except OSError as err:
            raise UserError(
                f"--metrics-port {port}: cannot listen on {host}:{port} ({err.strerror or err}); "
                f"choose another port"
            ) from None
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.port = int(self.server.server_address[1])

    def update(
        self,
        ticks: int,
        totals: TickStats,
        last: TickStats,
        tick_seconds: float | None,
        checkpoints: int,
        recoveries: int,
        gateway: dict[str, float] | None = None,
    ) -> None:
        snapshot = TickStats.from_dict(totals.to_dict())
        last_copy = TickStats.from_dict(last.to_dict())
        with self._lock:
            self.totals, self.last, self.ticks = snapshot, last_copy, ticks
            if tick_seconds is not None:
                i = sum(1 for b in DURATION_BUCKETS if tick_seconds > b)
                self.tick_seconds[i] += 1
                self.tick_seconds_sum += tick_seconds
            self.checkpoints, self.recoveries = checkpoints, recoveries
            if gateway is not None:
                self.gateway = dict(gateway)

    def _answered(self, ticket: int) -> None:
        """The answer holding collection `ticket` was written out in full."""
        with self._lock:
            self._answered_upto = max(self._answered_upto, ticket)
            self._scraped.notify_all()

    def wait_for_scrape(self, timeout: float) -> bool:
        """Block until a scrape that starts after now has been answered in full (so the final
        figures are collected), or `timeout` seconds; True if one was."""
        with self._lock:
            begun = self._collects  # a collection begun later holds the figures of now
            end = time.monotonic() + timeout
            while self._answered_upto <= begun:
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self._scraped.wait(left)
            return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the collector --------------------------------------------------------------------

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            families = list(self._families())
            self._collects += 1
            self._ticket.value = self._collects
        yield from families

    def _families(self) -> Iterator[Metric]:
        t, c = self.totals, self.totals.c
        yield _counter("socius_ticks_total", "Ticks completed.", self.ticks)
        env = CounterMetricFamily(
            "socius_envelopes", "Envelopes sent, by act kind.", labels=["kind"]
        )
        for kind in Kind:
            env.add_metric([kind.name.lower()], int(t.kinds[kind]))
        yield env
        dec = CounterMetricFamily(
            "socius_decisions", "Decisions, by what they were.", labels=["choice"]
        )
        neutral = c["decisions"] - c["cooperative"] - c["defecting"]
        for choice, n in (("cooperate", c["cooperative"]), ("defect", c["defecting"])):
            dec.add_metric([choice], n)
        dec.add_metric(["neither"], neutral)
        yield dec
        prom = CounterMetricFamily(
            "socius_promises", "Promises, by what became of them.", labels=["outcome"]
        )
        for outcome in ("made", "kept", "broken"):
            prom.add_metric([outcome], c[f"promises_{outcome}"])
        yield prom
        roles = t.by_role_rows()
        by_role = CounterMetricFamily(
            "socius_decisions_by_role",
            "Cooperative and defecting acts, by the actor's role.",
            labels=["role", "choice"],
        )
        trust_by_role = GaugeMetricFamily(
            "socius_mean_trust_by_role",
            "Mean trust in the relationships characters of each role remember (last tick).",
            labels=["role"],
        )
        last_roles = self.last.by_role_rows()
        for r, role in enumerate(ROLE_NAMES):
            by_role.add_metric([role, "cooperate"], int(roles["cooperative"][r]))
            by_role.add_metric([role, "defect"], int(roles["defecting"][r]))
            n = int(last_roles["trust_n"][r])
            trust_by_role.add_metric(
                [role], int(last_roles["trust_sum"][r]) / (n * SCALE) if n else 0.0
            )
        yield by_role
        yield trust_by_role
        for key, (name, doc) in COUNTERS.items():
            yield _counter(name, doc, c[key])
        figures = self.last.figures()
        for key, (name, doc) in GAUGES.items():
            yield _gauge(name, doc, figures[key])
        # runtime
        yield _histogram(
            "socius_tick_duration_seconds",
            "Wall-clock time of a whole tick.",
            self.tick_seconds,
            self.tick_seconds_sum,
        )
        yield _histogram(
            "socius_shard_step_seconds",
            "Wall-clock time of one shard's step.",
            t.histogram("shard_step").tolist(),
            c["shard_step_us"] / 1e6,
        )
        yield _counter("socius_checkpoints_total", "Checkpoints written.", self.checkpoints)
        yield _counter("socius_recoveries_total", "Recoveries from failed shards.", self.recoveries)
        # inference
        for key, (name, doc) in LLM_COUNTERS.items():
            yield _counter(name, doc, c[key])
        tok = CounterMetricFamily(
            "socius_llm_tokens", "Tokens sent to and received from the model.", labels=["direction"]
        )
        tok.add_metric(["prompt"], c["llm_tokens_in"])
        tok.add_metric(["completion"], c["llm_tokens_out"])
        yield tok
        yield _histogram(
            "socius_llm_request_duration_seconds",
            "End-to-end latency of a model request.",
            t.histogram(LATENCY).tolist(),
            c[f"{LATENCY}_us"] / 1e6,
        )
        yield _histogram(
            "socius_llm_time_to_first_token_seconds",
            "Time to the first token of a model answer.",
            t.histogram(TTFT).tolist(),
            c[f"{TTFT}_us"] / 1e6,
        )
        yield _counter(
            "socius_llm_prefix_cache_queries_total",
            "Prompt tokens whose prefix-cache use is known.",
            c["llm_prefix_queries"],
        )
        yield _counter(
            "socius_llm_prefix_cache_hits_total",
            "Of those, tokens served from the prefix cache.",
            c["llm_prefix_hits"],
        )
        g = self.gateway
        yield _counter(
            "socius_llm_resent_on_closed_total",
            "Requests sent again because the server closed their kept-alive connection first.",
            g.get("resent_on_closed", 0),
        )
        batches = g.get("batches", 0)
        yield _gauge(
            "socius_llm_batch_size_mean",
            "Mean requests per batch a gateway received.",
            g.get("batch_rows", 0) / batches if batches else 0.0,
        )
        yield _gauge("socius_llm_batch_size_max", "Largest batch.", g.get("batch_max", 0))
        yield _gauge(
            "socius_llm_queue_depth_peak",
            "Most requests waiting for a slot at a gateway at once.",
            g.get("queue_peak", 0),
        )

    def describe(self) -> list[Metric]:
        return []


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name.removesuffix("_total"), doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _histogram(name: str, doc: str, counts: list[int], total: float) -> HistogramMetricFamily:
    cumulative, acc = [], 0
    for bound, n in zip([*map(str, DURATION_BUCKETS), "+Inf"], counts, strict=True):
        acc += int(n)
        cumulative.append((bound, acc))
    return HistogramMetricFamily(name, doc, buckets=cumulative, sum_value=total)


class _Answered:
    """A WSGI answer that says when the server has written it out (wsgiref calls close())."""

    def __init__(self, body: Iterable[bytes], done: Callable[[], None]) -> None:
        self.body = body
        self.done = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.body)

    def close(self) -> None:
        close = getattr(self.body, "close", None)
        if close is not None:
            close()
        self.done()


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
