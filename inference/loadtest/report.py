"""What a load test leaves: a table on the terminal, `loadtest.json`, and for a sweep a plot of
latency against load (`latency.png`) with the level of best goodput, the saturation point of
that deployment for this traffic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def saturation(levels: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The level with the best goodput (the lower level, on a tie)."""
    if not levels:
        return None
    best = max(levels, key=lambda f: (f["goodput"], -f["level"]))
    return {"level": best["level"], "goodput": best["goodput"], "mode": best["mode"]}


def write_json(out: Path, settings: dict[str, Any], levels: list[dict[str, Any]]) -> Path:
    path = out / "loadtest.json"
    data = {"settings": settings, "levels": levels, "saturation": saturation(levels)}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def _ms(stats: dict[str, float | None], key: str) -> str:
    v = stats.get(key)
    return "—" if v is None else f"{v:,.1f}"


def table(levels: list[dict[str, Any]]) -> Table:
    unit = "req/s" if levels and levels[0]["mode"] == "open" else "characters"
    t = Table(title="load test (times in ms)", header_style="bold")
    t.add_column("figure")
    for f in levels:
        t.add_column(f"{f['level']:g} {unit}", justify="right")

    def row(name: str, cell: Any) -> None:
        t.add_row(name, *(cell(f) for f in levels))

    row("requests: ok / error / timeout", lambda f: f"{f['ok']} / {f['error']} / {f['timeout']}")
    row("resent on a closed connection", lambda f: str(f.get("resent_on_closed", 0)))
    row("duration (s)", lambda f: f"{f['duration_s']:.1f}")
    row("request throughput (req/s)", lambda f: f"{f['request_throughput']:.2f}")
    row("input tokens/s", lambda f: f"{f['input_throughput']:,.0f}")
    row("output tokens/s", lambda f: f"{f['output_throughput']:,.0f}")
    for metric, label in (("ttft_ms", "TTFT"), ("tpot_ms", "TPOT"), ("itl_ms", "ITL")):
        for stat in ("mean", "median", "p99"):
            row(f"{label} {stat}", lambda f, m=metric, s=stat: _ms(f[m], s))
    for stat in ("mean", "median", "p90", "p99"):
        row(f"E2E {stat}", lambda f, s=stat: _ms(f["e2e_ms"], s))

    def ratio(f: dict[str, Any]) -> str:
        r = f["prefix_cache_hit_ratio"]
        return "—" if r is None else f"{r:.3f}"

    row("prefix-cache hit ratio", ratio)
    slo = levels[0]["slo_ms"] if levels else {}
    what = ", ".join(f"{k}≤{v:g}" for k, v in slo.items()) or "no SLO given"
    row(f"goodput (req/s; {what})", lambda f: f"{f['goodput']:.2f}")
    return t


def print_table(levels: list[dict[str, Any]], out: Path) -> None:
    console = Console()
    console.print(table(levels))
    best = saturation(levels)
    if best is not None and len(levels) > 1:
        console.print(f"best goodput {best['goodput']:.2f} req/s at level {best['level']:g}")
    console.print(f"figures: {out / 'loadtest.json'}")
    if (out / "latency.png").is_file():
        console.print(f"plot: {out / 'latency.png'}")


def plot(out: Path, levels: list[dict[str, Any]]) -> Path:
    """Latency percentiles and goodput against the load level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mode = levels[0]["mode"]
    xs = [f["level"] for f in levels]
    xlabel = "offered load (requests/s)" if mode == "open" else "characters in the world"
    fig, (lat, good) = plt.subplots(1, 2, figsize=(11, 4.2))
    for metric, label, color in (("ttft_ms", "TTFT", "tab:blue"), ("e2e_ms", "E2E", "tab:red")):
        for stat, style in (("median", "-"), ("p99", "--")):
            ys = [f[metric][stat] for f in levels]
            lat.plot(xs, ys, style, marker="o", color=color, label=f"{label} {stat}")
    lat.set_yscale("log")
    lat.set_xlabel(xlabel)
    lat.set_ylabel("ms (log scale)")
    lat.set_title("latency against load")
    lat.grid(True, which="both", alpha=0.3)
    lat.legend(fontsize=8)
    good.plot(xs, [f["request_throughput"] for f in levels], marker="o", label="throughput")
    good.plot(xs, [f["goodput"] for f in levels], marker="s", label="goodput")
    best = saturation(levels)
    if best is not None:
        good.axvline(best["level"], color="grey", linestyle=":", label="best goodput")
    good.set_xlabel(xlabel)
    good.set_ylabel("requests/s")
    slo = levels[0]["slo_ms"]
    good.set_title("goodput" + (f" (SLO {slo})" if slo else " (no SLO: every answer counts)"))
    good.grid(True, alpha=0.3)
    good.legend(fontsize=8)
    fig.tight_layout()
    path = out / "latency.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
