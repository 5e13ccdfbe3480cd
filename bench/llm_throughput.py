"""LLM throughput of the world's traffic: through socius' gateway against vLLM's own offline
generation of the same prompts, and the prefix-cache hit ratio of that traffic.

    python bench/llm_throughput.py [--model DIR] [--characters 60] [--ticks 8]

1. An LLM world runs in process against vLLM's engine (every decision of its `llm` characters
   goes to the model) and records its requests: the world's own pace, tick by tick, and the
   prefix-cache hits of its prompts as the engine counts them.
2. The recorded requests (the same prompts, seeds, schemas and lengths) are generated twice, each
   in a fresh process with a fresh engine: by vLLM's offline `LLM.chat`, all at once, and
   through `inference.Gateway` with the engine backend, all at once; both template, tokenize,
   schedule and constrain the same conversations. The ratio of their output tokens per second is
   the gateway's efficiency (target at least 0.9); pairs are alternated to spread the noise.

Prints figures; asserts nothing. Without --model it makes the tiny random-weight model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MAX_MODEL_LEN = 2048


def world(model: str, folder: Path, characters: int, ticks: int) -> dict:
    from inference.backends.engine import EngineBackend
    from inference.connect import InProcessModel
    from world.record import RunRecord
    from world.runtime import LocalRuntime
    from world.scenario import parse_scenario

    sc = parse_scenario(
        {
            "name": "llmbench",
            "seed": 3,
            "ticks": ticks,
            "population": {
                "size": characters,
                "group_size": 20,
                "minds": {"llm": 1.0},
            },
            "llm": {"decisions": "all", "words": 40, "max_tokens": 64, "token_budget": 0},
        }
    )
    backend = EngineBackend(model, max_model_len=MAX_MODEL_LEN, max_num_seqs=256)
    model_ = InProcessModel(sc, backend, 1, folder, concurrency=256)
    record = RunRecord(folder, sc, 1)
    rt = LocalRuntime(sc, 1, record, decide=model_)
    try:
        rt.step()  # warm-up tick: the cache starts cold, as any run's first tick does
        warm = model_.stats()
        t0 = time.perf_counter()
        for _ in range(ticks - 1):
            rt.step()
        seconds = time.perf_counter() - t0
        stats = model_.stats()
    finally:
        rt.close()
        record.close()
    t = rt.totals.c
    return {
        "seconds": seconds,
        "requests": t["llm_requests"],
        "tokens_out": t["llm_tokens_out"],
        "prefix_queries": stats.get("prefix_queries", 0),
        "prefix_hits": stats.get("prefix_hits", 0),
        "warm_queries": stats.get("prefix_queries", 0) - warm.get("prefix_queries", 0),
        "warm_hits": stats.get("prefix_hits", 0) - warm.get("prefix_hits", 0),
    }


def recorded(folder: Path) -> list[dict]:
    from inference.traces import read_traces

    return [r for r in read_traces(folder) if r["type"] == "request"]


def offline(model: str, requests: list[dict]) -> dict:
    """vLLM's offline `LLM.chat` on the recorded conversations: its own chat templating,
    tokenization, scheduling and structured outputs, all requests at once."""
    from vllm import LLM, SamplingParams
    from vllm.config import StructuredOutputsConfig
    from vllm.sampling_params import StructuredOutputsParams

    from inference.answer import answer_schema

    llm = LLM(
        model=model,
        dtype="float32",
        max_model_len=MAX_MODEL_LEN,
        max_num_seqs=256,
        enforce_eager=True,
        enable_prefix_caching=True,
        enable_chunked_prefill=False,  # as the engine backend (vLLM CPU seeds and chunks)
        kv_cache_memory_bytes=1 << 30,
        structured_outputs_config=StructuredOutputsConfig(
            backend="xgrammar", disable_any_whitespace=True
        ),
    )
    conversations = [r["messages"] for r in requests]
    params = [
        SamplingParams(
            max_tokens=64,
            temperature=0.7,
            seed=r["seed"],
            structured_outputs=StructuredOutputsParams(json=answer_schema(tuple(r["legal"]), 40)),
        )
        for r in requests
    ]
    llm.chat(conversations[:4], params[:4], use_tqdm=False)  # warm-up, as the gateway's
    t0 = time.perf_counter()
    outs = llm.chat(conversations, params, use_tqdm=False)
    seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "requests": len(outs),
        "tokens_out": sum(len(o.outputs[0].token_ids) for o in outs),
    }


def gateway(model: str, requests: list[dict]) -> dict:
    from inference.answer import answer_schema
    from inference.backends.base import Request
    from inference.backends.engine import EngineBackend
    from inference.gateway import Gateway

    reqs = [
        Request(
            key=r["key"],
            messages=r["messages"],
            schema=answer_schema(tuple(r["legal"]), 40),
            max_tokens=64,
            seed=r["seed"],
            temperature=0.7,
            affinity=r["actor"],
        )
        for r in requests
    ]

    async def go() -> dict:
        g = Gateway(
            EngineBackend(model, max_model_len=MAX_MODEL_LEN, max_num_seqs=256), concurrency=256
        )
        await g.start()
        await g.ask(reqs[:4])  # warm-up
        t0 = time.perf_counter()
        answers = await g.ask(reqs)
        seconds = time.perf_counter() - t0
        await g.close()
        return {
            "seconds": seconds,
            "requests": len(answers),
            "tokens_out": sum(a.completion_tokens for a in answers),
            "failed": sum(a.text is None for a in answers),
        }

    return asyncio.run(go())


def in_child(part: str, model: str, folder: Path) -> dict:
    """Run one measurement in a fresh process (a fresh engine, no shared cache)."""
    out = subprocess.run(
        [sys.executable, __file__, "--part", part, "--model", model, "--folder", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{part} failed:\n{out.stderr[-3000:]}")
    lines = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--model", help="model folder (default: make the tiny model)")
    p.add_argument("--characters", type=int, default=60)
    p.add_argument("--ticks", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3, help="offline/gateway pairs to measure")
    p.add_argument("--part", choices=["world", "offline", "gateway"], help=argparse.SUPPRESS)
    p.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.part:
        if args.part == "world":
            result = world(args.model, args.folder, args.characters, args.ticks)
        else:
            reqs = recorded(args.folder)
            result = (offline if args.part == "offline" else gateway)(args.model, reqs)
        print("RESULT " + json.dumps(result), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if model is None:
            from inference.tiny_model import make_tiny_model

            model = str(make_tiny_model(Path(tmp) / "tiny"))
        folder = Path(tmp) / "run"
        w = in_child("world", model, folder)
        n = len(recorded(folder))
        pairs = []
        for _ in range(args.repeats):  # alternated, so that the machine's drift hits both
            pairs.append((in_child("offline", model, folder), in_child("gateway", model, folder)))
    ratios = sorted(
        (g["tokens_out"] / g["seconds"]) / (o["tokens_out"] / o["seconds"]) for o, g in pairs
    )
    off, gw = pairs[-1]
    tps = {k: v["tokens_out"] / v["seconds"] for k, v in (("offline", off), ("gateway", gw))}
    print(f"model {model}; {args.characters} llm characters, {args.ticks} ticks; {n} requests")
    print(
        f"world, tick by tick (after a warm-up tick): {w['requests'] / w['seconds']:.1f} req/s, "
        f"{w['tokens_out'] / w['seconds']:.0f} output tok/s"
    )
    print(
        f"offline LLM.chat, all at once: {off['requests'] / off['seconds']:.1f} req/s, "
        f"{tps['offline']:.0f} output tok/s ({off['tokens_out']} tokens in {off['seconds']:.1f} s)"
    )
    print(
        f"gateway (engine backend), all at once: {gw['requests'] / gw['seconds']:.1f} req/s, "
        f"{tps['gateway']:.0f} output tok/s ({gw['tokens_out']} tokens in {gw['seconds']:.1f} s, "
        f"{gw['failed']} failed)"
    )
    print(
        f"gateway / offline throughput: median {ratios[len(ratios) // 2]:.2f} of "
        f"{len(ratios)} alternated pairs ({', '.join(f'{r:.2f}' for r in ratios)}; the figures "
        f"above are the last pair's) (target >= 0.9)"
    )
    q, h = w["prefix_queries"], w["prefix_hits"]
    ratio = h / q if q else 0.0
    print(
        f"prefix-cache hit ratio of the world's prompts: {ratio:.3f} of {q:.0f} tokens, the cold "
        f"first tick included; {w['warm_hits'] / max(w['warm_queries'], 1):.3f} after it "
        f"(target >= 0.8)"
    )


if __name__ == "__main__":
    main()
