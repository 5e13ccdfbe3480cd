"""The load generator's own ceiling: requests per second one generator sustains on one core
against a server that answers at once (`inference.loadtest.instant`, on the other core).

    .venv/bin/python bench/loadtest_ceiling.py [--requests 20000] [--concurrency 256]

The generator is the one `socius loadtest --generators 0` uses (socius' gateway, its aiohttp
OpenAI backend streaming each answer, one sample per request), fed a schedule with every offset
at zero, so it sends as fast as it can with `--concurrency` requests in flight. The prompts are
a world's: recorded by a short closed-loop run against the same server first. Target: at least
2,000 requests per second, so that a limit measured against a real server is the server's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.connect import Target  # noqa: E402
from inference.loadtest.drive import Measurement  # noqa: E402
from inference.loadtest.figures import Slo  # noqa: E402
from inference.loadtest.pool import LocalPool  # noqa: E402
from inference.loadtest.workload import Knobs, closed_world, recorded, schedule  # noqa: E402
from inference.vllm_server import free_port  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--concurrency", type=int, default=256)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    cores = sorted(os.sched_getaffinity(0))
    port = free_port()
    server_cmd = [sys.executable, "-m", "inference.loadtest.instant", "--port", str(port)]
    if len(cores) >= 2:
        server_cmd = ["taskset", "-c", str(cores[1]), *server_cmd]
        os.sched_setaffinity(0, {cores[0]})
    server = subprocess.Popen(server_cmd, cwd=ROOT, stdout=subprocess.PIPE)
    assert server.stdout is not None
    server.stdout.readline()  # ready
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            target = Target("openai", (f"http://127.0.0.1:{port}",), concurrency=args.concurrency)
            pool = LocalPool(target, timeout=60.0)
            try:
                m = Measurement(pool, out, Slo())
                m.context_length = pool.start()
                # a world's prompts: a short closed-loop run against the same server
                m.closed(closed_world(200, Knobs(), seed=1, timeout=60.0), ticks=6)
                sc, records = recorded(out / "characters-200")
                plan = schedule(sc, records, rate=1.0, arrivals="poisson", seed=1)
                plan = [(0.0, plan[i % len(plan)][1]) for i in range(args.requests)]
                prompt = sum(len(m["content"]) for m in plan[0][1].messages)
                print(
                    f"one generator, one core ({cores[0]}); instant server on "
                    f"{'core ' + str(cores[1]) if len(cores) > 1 else 'the same core'}; "
                    f"{args.requests:,} requests of a world's prompts (~{prompt:,} characters "
                    f"each), {args.concurrency} in flight"
                )
                rates = []
                for k in range(args.repeats):
                    t0 = time.perf_counter()
                    f = m.open(plan, rate=float("inf"), arrivals="poisson")
                    wall = time.perf_counter() - t0
                    rates.append(f["request_throughput"])
                    print(
                        f"  run {k + 1}: {f['ok']:,} ok, {f['error']} errors, "
                        f"{f['timeout']} timeouts in {f['duration_s']:.2f} s "
                        f"({wall:.2f} s with set-up): {f['request_throughput']:,.0f} req/s; "
                        f"TTFT median {f['ttft_ms']['median']:.1f} ms"
                    )
                rates.sort()
                print(
                    f"generator ceiling: median {rates[len(rates) // 2]:,.0f} req/s "
                    f"(range {rates[0]:,.0f}–{rates[-1]:,.0f}); target ≥ 2,000"
                )
            finally:
                pool.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
