"""The monitoring stack in deploy/ agrees with the code and with itself: the ports socius and vLLM
serve metrics on, the labels that select them, the dashboards Grafana is given."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml

from actors.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERAY = DEPLOY / "kuberay"


def docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def by_kind(path: Path, kind: str) -> list[dict[str, Any]]:
    return [d for d in docs(path) if d["kind"] == kind]


def llm_job_args() -> Any:
    (job,) = docs(KUBERAY / "rayjob-llm.yaml")
    return build_parser().parse_args(shlex.split(job["spec"]["entrypoint"])[1:]), job


def test_prometheus_scrapes_socius_vllm_and_ray():
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in config["scrape_configs"]}
    assert set(jobs) == {"socius", "socius-loadtest", "vllm", "ray"}
    (loadtest_target,) = jobs["socius-loadtest"]["static_configs"][0]["targets"]
    port = loadtest_target.rsplit(":", 1)[1]
    assert f"--metrics-port {port}" in (DEPLOY.parent / "README.md").read_text()
    (socius_target,) = jobs["socius"]["static_configs"][0]["targets"]
    (vllm_target,) = jobs["vllm"]["static_configs"][0]["targets"]
    args, _ = llm_job_args()
    assert socius_target.endswith(f":{args.metrics_port}")
    assert vllm_target.endswith(":8000")
    assert jobs["ray"]["file_sd_configs"][0]["files"] == [
        "/tmp/ray/prom_metrics_service_discovery.json"  # where Ray's head writes it
    ]


def test_compose_provisions_the_dashboards():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    prom, grafana = compose["services"]["prometheus"], compose["services"]["grafana"]
    assert "./prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prom["volumes"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    assert (DEPLOY / "../dashboards").resolve() == ROOT / "dashboards"
    assert (DEPLOY / "grafana/provisioning").is_dir()
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/socius.yaml").read_text())[
        "providers"
    ][0]
    assert provider["options"]["path"] == mounts["../dashboards"]
    assert list((ROOT / "dashboards").glob("*.json"))
    source = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    )["datasources"][0]
    assert source["url"] == "http://prometheus:9090" and source["type"] == "prometheus"


def test_the_llm_job_points_at_the_vllm_service():
    args, job = llm_job_args()
    (service,) = by_kind(KUBERAY / "vllm.yaml", "Service")
    (deployment,) = by_kind(KUBERAY / "vllm.yaml", "Deployment")
    port = service["spec"]["ports"][0]["port"]
    assert args.llm_endpoint == [f"http://{service['metadata']['name']}:{port}"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert f"--port={port}" in container["args"]
    assert {"--enable-prefix-caching", "--enable-prompt-tokens-details"} <= set(container["args"])
    assert service["spec"]["selector"] == deployment["spec"]["template"]["metadata"]["labels"]
    # the head serves the metrics port the job names
    head = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]
    ports = {p["containerPort"] for p in head["spec"]["containers"][0]["ports"]}
    assert args.metrics_port in ports


def test_the_service_monitors_find_their_targets():
    args, job = llm_job_args()
    head_labels = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["metadata"]["labels"]
    services = {s["metadata"]["name"]: s for s in by_kind(KUBERAY / "monitoring.yaml", "Service")}
    services.update({s["metadata"]["name"]: s for s in by_kind(KUBERAY / "vllm.yaml", "Service")})
    metrics = services["socius-metrics"]
    assert metrics["spec"]["selector"].items() <= head_labels.items()
    assert metrics["spec"]["ports"][0]["targetPort"] == args.metrics_port
    for monitor in by_kind(KUBERAY / "monitoring.yaml", "ServiceMonitor"):
        wanted = monitor["spec"]["selector"]["matchLabels"]
        matched = [
            s for s in services.values() if wanted.items() <= s["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, monitor["metadata"]["name"]
        port_names = {p["name"] for p in matched[0]["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= port_names
