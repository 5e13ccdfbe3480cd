"""The minds study: the same village with heuristic minds, SmolLM2 minds, and half of each,
on several seeds; what each did to the society, with 95% intervals.

    socius model prepare models/smollm2
    .venv/bin/python examples/studies/minds/compare.py --model models/smollm2 --seeds 1-4

Every world is an ordinary `socius run` (in process, its run folder under --out, so `socius
report` and `socius traces export` read it); the language model is one vLLM server (CPU build)
started here for all of them. It prints one row per arm and figure, and writes minds.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from actors.cli.flags import seeds as seed_list  # noqa: E402
from actors.lab.stats import Estimate  # noqa: E402
from inference.vllm_server import VLLMServer  # noqa: E402

HERE = Path(__file__).resolve().parent
ARMS = ("heuristic", "mix", "smollm2")
#: figure -> (where in the run folder, what it is)
FIGURES = {
    "cooperation_rate": "share of all acts that cooperated",
    "mean_trust": "mean trust at the end",
    "betrayals": "promises broken, over the run",
    "apologies": "apologies, over the run",
    "care_gifts": "gifts to characters in need, over the run",
    "reading_accuracy": "in-world reading of hidden feelings (mean over ticks of 1 - mean error)",
    "llm_valid_share": "decisions the model answered validly (answers / decisions given it)",
}


def figures_of(run: Path) -> dict[str, float]:
    summary = json.loads((run / "summary.json").read_text())
    with open(run / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    read = [float(r["emotion_inference_accuracy"]) for r in rows]
    t = summary["totals"]
    out = {
        "cooperation_rate": t["cooperation_rate"],
        "mean_trust": summary["final"]["mean_trust"],
        "betrayals": t["betrayals"],
        "apologies": t["apologies"],
        "care_gifts": t["care_gifts"],
        "reading_accuracy": sum(read) / len(read) if read else float("nan"),
    }
    llm = summary.get("llm")
    if llm and llm["llm_decisions"]:
        out["llm_valid_share"] = llm["llm_answers"] / llm["llm_decisions"]
    return out


def run_world(arm: str, seed: int, out: Path, url: str | None) -> Path:
    folder = out / f"{arm}-s{seed}"
    if (folder / "summary.json").is_file():
        return folder  # already run (the study can be stopped and started again)
    command = [
        sys.executable, "-m", "actors.cli", "run", str(HERE / f"{arm}.yaml"), "--seed", str(seed),
        "--runtime", "local", "--out", str(folder), "--quiet",
    ]  # fmt: skip
    if arm != "heuristic":
        assert url is not None
        command += ["--llm-endpoint", url]
    t0 = time.perf_counter()
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{arm} seed {seed} failed: {proc.stderr.strip()}")
    print(f"  {arm} seed {seed}: {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return folder


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--model", type=Path, required=True, help="SmolLM2's folder (socius model prepare)"
    )
    p.add_argument("--seeds", type=seed_list("--seeds"), default=[1, 2, 3, 4])
    p.add_argument("--out", type=Path, default=Path("studies/minds"))
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[dict[str, float]]] = {arm: [] for arm in ARMS}
    log = args.out / "vllm.log"
    with VLLMServer(args.model, log=log) as server:
        for seed in args.seeds:
            for arm in ARMS:
                found[arm].append(figures_of(run_world(arm, seed, args.out, server.url)))
    rows: list[dict[str, Any]] = []
    print(f"{'figure':<18} " + " ".join(f"{arm:>26}" for arm in ARMS))
    for name in FIGURES:
        cells = []
        for arm in ARMS:
            values = [f[name] for f in found[arm] if name in f]
            est = Estimate.of(values)
            rows.append({"arm": arm, "figure": name, "n": est.n, "mean": est.mean,
                         "ci_low": est.ci_low, "ci_high": est.ci_high})  # fmt: skip
            cells.append(
                "–" if not values else f"{est.mean:.3f} [{est.ci_low:.3f}, {est.ci_high:.3f}]"
            )
        print(f"{name:<18} " + " ".join(f"{c:>26}" for c in cells))
    with open(args.out / "minds.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"runs and minds.csv in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
