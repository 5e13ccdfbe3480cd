"""How close `socius loadtest`'s latencies come to vLLM's own: the ratio of the tool's mean
TTFT and E2E to the server's histograms (`/metrics`) over the same requests, closed loop and
open loop, as `tests/inference/test_loadtest_vllm.py` runs them.

    .venv/bin/python bench/loadtest_agreement.py [--repeats 2]

A client always sees more than the server's clock: vLLM starts timing once its HTTP front end
has parsed, templated and tokenized a request. The server here is engine-bound (the tiny model
widened to 1024 and 4 layers), as a real deployment is, so the ratio measures what the tool and
the front end add. On a 2-core machine they share cores with the engine, so the ratio grows
with anything else busy: run it on a quiet machine, and compare runs of one sitting.
Prints the CPU and, per run and level, the means and their ratio; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from machine import cpu  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.loadtest.agreement import latencies  # noqa: E402
from inference.tiny_model import make_tiny_model  # noqa: E402
from inference.vllm_server import VLLMServer  # noqa: E402


def level(server: VLLMServer, out: Path, *args: object) -> tuple[str, dict[str, Any]]:
    """One level of `socius loadtest`: a line of the tool's and the server's mean latencies."""
    before = server.metrics()
    cmd = [sys.executable, "-m", "actors.cli", "loadtest", "--endpoint", server.url]
    cmd += [*map(str, args), "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    after = server.metrics()
    if proc.returncode != 0:
        raise SystemExit(f"socius loadtest failed:\n{proc.stderr}")
    (figures,) = json.loads((out / "loadtest.json").read_text())["levels"]
    said = ", ".join(
        f"{lat.name} {lat.ours_ms:.0f} ms vs vLLM {lat.server_ms:.0f} ms ({lat.ratio:.3f})"
        for lat in latencies(figures, before, after)
    )
    return f"{figures['ok']} requests: {said}", figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()
    print(f"CPU: {cpu()}; load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        model = make_tiny_model(root / "wider", hidden=1024, layers=4)
        with VLLMServer(model, log=root / "server.log") as server:
            for k in range(args.repeats):
                closed = root / f"closed-{k}"
                line, _ = level(
                    server,
                    closed,
                    *("--characters", 24, "--ticks", 2),
                    *("--generators", 1, "--generator-cpus", 0),
                )
                print(f"run {k + 1} closed loop, 24 characters, 2 ticks: {line}")
                line, _ = level(
                    server,
                    root / f"open-{k}",
                    *("--replay", closed / "characters-24", "--rates", 8, "--generators", 0),
                )
                print(f"run {k + 1} open loop, the record at 8 requests/s: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
