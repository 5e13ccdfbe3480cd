"""Writes the Grafana dashboards (society.json, inference.json, runtime.json, loadtest.json)
from one list of panels each, so that every panel follows the same layout and datasource.
Regenerate with

    python dashboards/build.py

tests/dashboards checks the JSON is what this writes, and runs every panel's query against a
real Prometheus after a run.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
Q = "[1m]"

Panel = tuple[str, str, list[tuple[str, str]]]  # title, unit, [(expr, legend)]

SOCIETY: list[Panel] = [
    ("Cooperation rate", "percentunit", [("socius_cooperation_rate", "last tick")]),
    (
        "Decisions by what they were",
        "ops",
        [(f"sum by (choice) (rate(socius_decisions_total{Q}))", "{{choice}}")],
    ),
    ("Mean trust", "none", [("socius_mean_trust", "mean trust")]),
    (
        "Cooperation by role",
        "percentunit",
        [
            (
                f'sum by (role) (rate(socius_decisions_by_role_total{{choice="cooperate"}}{Q})) '
                f"/ sum by (role) (rate(socius_decisions_by_role_total{Q}))",
                "{{role}}",
            )
        ],
    ),
    ("Trust by role", "none", [("socius_mean_trust_by_role", "{{role}}")]),
    (
        "Betrayals and repairs",
        "ops",
        [
            (f"rate(socius_betrayals_total{Q})", "betrayals"),
            (f"rate(socius_apologies_total{Q})", "apologies"),
            (f"rate(socius_forgiveness_total{Q})", "forgiveness"),
        ],
    ),
    (
        "Promises",
        "ops",
        [(f"sum by (outcome) (rate(socius_promises_total{Q}))", "{{outcome}}")],
    ),
    (
        "Trades",
        "ops",
        [
            (f"rate(socius_trades_total{Q})", "trades"),
            (f"rate(socius_trade_volume_total{Q})", "volume (coin)"),
        ],
    ),
    ("Wealth inequality (Gini)", "none", [("socius_wealth_gini", "gini")]),
    (
        "Reading hidden feelings and reputations",
        "percentunit",
        [
            ("socius_emotion_inference_accuracy", "emotion inference accuracy"),
            ("socius_reputation_accuracy", "reputation accuracy"),
        ],
    ),
    (
        "Characters in need",
        "none",
        [
            ("socius_characters_in_need", "in need"),
            ("socius_characters_hungry", "hungry"),
            ("socius_characters_sick", "sick"),
        ],
    ),
    (
        "Acts by kind",
        "ops",
        [(f"sum by (kind) (rate(socius_envelopes_total{Q}))", "{{kind}}")],
    ),
    (
        "Gifts, care and gossip",
        "ops",
        [
            (f"rate(socius_gifts_total{Q})", "gifts"),
            (f"rate(socius_care_gifts_total{Q})", "care"),
            (f"rate(socius_gossip_total{Q})", "gossip"),
        ],
    ),
]


def _quantiles(metric: str) -> list[tuple[str, str]]:
    return [
        (f"histogram_quantile({q}, sum by (le) (rate({metric}_bucket{Q})))", f"p{int(q * 100)}")
        for q in (0.5, 0.9, 0.99)
    ]


INFERENCE: list[Panel] = [
    ("Request latency", "s", _quantiles("socius_llm_request_duration_seconds")),
    ("Time to first token", "s", _quantiles("socius_llm_time_to_first_token_seconds")),
    (
        "Tokens per second",
        "ops",
        [(f"sum by (direction) (rate(socius_llm_tokens_total{Q}))", "{{direction}}")],
    ),
    (
        "Requests, invalid answers and fallbacks",
        "ops",
        [
            (f"rate(socius_llm_requests_total{Q})", "requests"),
            (f"rate(socius_llm_invalid_answers_total{Q})", "invalid"),
            (f"rate(socius_llm_fallbacks_total{Q})", "fallbacks"),
            (f"rate(socius_llm_resent_on_closed_total{Q})", "resent on a closed connection"),
        ],
    ),
    (
        "Batch size and queue",
        "none",
        [
            ("socius_llm_batch_size_mean", "mean batch"),
            ("socius_llm_batch_size_max", "largest batch"),
            ("socius_llm_queue_depth_peak", "queue peak"),
        ],
    ),
    (
        "Prefix-cache hit ratio (socius' requests)",
        "percentunit",
        [
            (
                "socius_llm_prefix_cache_hits_total / socius_llm_prefix_cache_queries_total",
                "socius",
            )
        ],
    ),
    (
        "vLLM: prefix-cache hit ratio",
        "percentunit",
        [
            (
                f"sum(rate(vllm:prefix_cache_hits_total{Q})) / "
                f"sum(rate(vllm:prefix_cache_queries_total{Q}))",
                "vllm",
            )
        ],
    ),
    ("vLLM: time to first token", "s", _quantiles("vllm:time_to_first_token_seconds")),
    (
        "vLLM: requests running and waiting",
        "none",
        [
            ("sum(vllm:num_requests_running)", "running"),
            ("sum(vllm:num_requests_waiting)", "waiting"),
        ],
    ),
]

RUNTIME: list[Panel] = [
    ("Tick duration", "s", _quantiles("socius_tick_duration_seconds")),
    ("Shard step time", "s", _quantiles("socius_shard_step_seconds")),
    ("Ticks per second", "ops", [(f"rate(socius_ticks_total{Q})", "ticks/s")]),
    (
        "Envelopes per second",
        "ops",
        [(f"sum(rate(socius_envelopes_total{Q}))", "envelopes/s")],
    ),
    (
        "Checkpoints and recoveries",
        "none",
        [
            ("socius_checkpoints_total", "checkpoints"),
            ("socius_recoveries_total", "recoveries"),
        ],
    ),
]


# `socius loadtest --metrics-port P`: the load test's own figures, beside vLLM's
LOADTEST: list[Panel] = [
    (
        "Requests by outcome",
        "reqps",
        [(f"sum by (outcome) (rate(socius_loadtest_requests_total{Q}))", "{{outcome}}")],
    ),
    (
        "Tokens per second",
        "ops",
        [(f"sum by (kind) (rate(socius_loadtest_tokens_total{Q}))", "{{kind}}")],
    ),
    ("Time to first token", "s", _quantiles("socius_loadtest_ttft_seconds")),
    ("Time per output token", "s", _quantiles("socius_loadtest_tpot_seconds")),
    ("Inter-token latency", "s", _quantiles("socius_loadtest_itl_seconds")),
    ("End-to-end latency", "s", _quantiles("socius_loadtest_e2e_seconds")),
    (
        "Load level and goodput",
        "none",
        [
            ("socius_loadtest_level", "level (req/s or characters)"),
            ("socius_loadtest_goodput", "goodput of the last level (req/s)"),
        ],
    ),
    (
        "Prefix-cache hit ratio (as the server reports it)",
        "percentunit",
        [
            (
                f"sum(rate(socius_loadtest_prefix_cache_hits_total{Q})) / "
                f'sum(rate(socius_loadtest_tokens_total{{kind="input"}}{Q}))',
                "hits / prompt tokens",
            )
        ],
    ),
]


def dashboard(uid: str, title: str, panels: list[Panel]) -> dict:
    out = []
    for i, (name, unit, targets) in enumerate(panels):
        out.append(
            {
                "id": i + 1,
                "type": "timeseries",
                "title": name,
                "datasource": DATASOURCE,
                "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [
                    {
                        "refId": chr(ord("A") + k),
                        "datasource": DATASOURCE,
                        "expr": expr,
                        "legendFormat": legend,
                    }
                    for k, (expr, legend) in enumerate(targets)
                ],
            }
        )
    return {
        "uid": uid,
        "title": title,
        "tags": ["socius"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "5s",
        "time": {"from": "now-30m", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Prometheus",
                }
            ]
        },
        "panels": out,
    }


DASHBOARDS = {
    "society.json": dashboard("socius-society", "socius: Society", SOCIETY),
    "inference.json": dashboard("socius-inference", "socius: Inference", INFERENCE),
    "runtime.json": dashboard("socius-runtime", "socius: Runtime", RUNTIME),
    "loadtest.json": dashboard("socius-loadtest", "socius: Load test", LOADTEST),
}


def render(d: dict) -> str:
    return json.dumps(d, indent=2) + "\n"


if __name__ == "__main__":
    for name, d in DASHBOARDS.items():
        (HERE / name).write_text(render(d))
        print(HERE / name)
