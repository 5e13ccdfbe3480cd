"""LLM throughput of the world's traffic: through socius' gateway against vLLM's own offline
generation of the same prompts, and the prefix-cache hit ratio of that traffic.

    python bench/llm_throughput.py [--model tiny|smollm2|DIR] [--dtype float32|bfloat16]
                                   [--characters N] [--ticks N] [--repeats 3]

`--model tiny` (the default) makes the tiny random-weight model: answers of no meaning, fast
(60 characters, 8 ticks). `--model smollm2` uses the real small model, SmolLM2-135M-Instruct,
prepared once into the cache (`inference.small_model`; 24 characters, 4 ticks: a few minutes
on two cores). `--dtype` is the engine's (socius' engine backend runs float32 on a CPU).

1. An LLM world runs in process against vLLM's engine (every decision of its `llm` characters
   goes to the model) and records its requests: the world's own pace, tick by tick, and the
   prefix-cache hits of its prompts as the engine counts them.
2. The recorded requests (the same prompts, seeds, schemas and lengths) are generated twice, each
   in a fresh process with a fresh engine: by vLLM's offline `LLM.chat`, all at once, and
   through `inference.Gateway` with the engine backend, all at once; both template, tokenize,
   schedule and constrain the same conversations. The ratio of their output tokens per second is
   the gateway's efficiency (target at least 0.9); pairs are alternated to spread the noise.

Prints the CPU and the figures (decisions per second, output tokens per second, the ratio, the
hit ratio); asserts nothing.
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

from machine import cpu  # bench/machine.py

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from inference.answer import answer_schema  # noqa: E402
from inference.backends.base import Request  # noqa: E402
from inference.backends.engine import EngineBackend  # noqa: E402
from inference.connect import InProcessModel  # noqa: E402
from inference.gateway import Gateway  # noqa: E402
from inference.small_model import WHEEL_SHA256, cache_root, prepare  # noqa: E402
from inference.tiny_model import make_tiny_model  # noqa: E402
from inference.traces import read_traces  # noqa: E402
from world.record import RunRecord  # noqa: E402
from world.runtime import LocalRuntime  # noqa: E402
from world.scenario import parse_scenario  # noqa: E402

MAX_MODEL_LEN = 2048
#: Characters and ticks by model, unless given: the tiny model is fast, SmolLM2 is not.
SIZES = {"tiny": (60, 8), "smollm2": (24, 4)}


def model_folder(which: str, tmp: Path) -> str:
    """The model folder: the tiny model made in `tmp`, SmolLM2 prepared in the cache, or DIR."""
    if which == "tiny":
        return str(make_tiny_model(tmp / "tiny"))
    if which == "smollm2":
        return str(prepare(cache_root() / "models" / f"smollm2-{WHEEL_SHA256[:12]}"))
    return which


def world(model: str, folder: Path, characters: int, ticks: int, dtype: str) -> dict:
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
    backend = EngineBackend(
        model,
        max_model_len=MAX_MODEL_LEN,
        max_num_seqs=256,
        dtype=dtype,  # type: ignore[arg-type]
    )
    model_ = InProcessModel(sc, backend, 1, folder, concurrency=256)
    record = RunRecord(folder, sc, 1)
    rt = LocalRuntime(sc, 1, record, decide=model_)
    try:
        first = rt.step()  # warm-up tick: the cache starts cold, as any run's first tick does
        warm = model_.stats()
        warm_decisions = first.c["llm_decisions"]
        warm_requests = first.c["llm_requests"]
        warm_tokens = first.c["llm_tokens_out"]
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
        "decisions": t["llm_decisions"] - warm_decisions,
        "answers": t["llm_answers"],
        "requests": t["llm_requests"] - warm_requests,
        "tokens_out": t["llm_tokens_out"] - warm_tokens,
        "prefix_queries": stats.get("prefix_queries", 0),
        "prefix_hits": stats.get("prefix_hits", 0),
        "warm_queries": stats.get("prefix_queries", 0) - warm.get("prefix_queries", 0),
        "warm_hits": stats.get("prefix_hits", 0) - warm.get("prefix_hits", 0),
    }


def recorded(folder: Path) -> list[dict]:
    return [r for r in read_traces(folder) if r["type"] == "request"]


def offline(model: str, requests: list[dict], dtype: str) -> dict:
    """vLLM's offline `LLM.chat` on the recorded conversations: its own chat templating,
    tokenization, scheduling and structured outputs, all requests at once."""
    from vllm import LLM, SamplingParams
    from vllm.config import StructuredOutputsConfig
    from vllm.sampling_params import StructuredOutputsParams

    llm = LLM(
        model=model,
        dtype=dtype,
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
            structured_outputs=StructuredOutputsParams(
                json=answer_schema(tuple(r["legal"]), 40, 64)
            ),
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


def gateway(model: str, requests: list[dict], dtype: str) -> dict:
    reqs = [
        Request(
            key=r["key"],
            messages=r["messages"],
            schema=answer_schema(tuple(r["legal"]), 40, 64),
            max_tokens=64,
            seed=r["seed"],
            temperature=0.7,
            affinity=r["actor"],
        )
        for r in requests
    ]

    async def go() -> dict:
        backend = EngineBackend(
            model,
            max_model_len=MAX_MODEL_LEN,
            max_num_seqs=256,
            dtype=dtype,  # type: ignore[arg-type]
        )
        # no time-out and no resend: this measures throughput, as offline generation does, not
        # the world's patience (llm.timeout, 60 s by default), which on a slow CPU cuts the
        # tail of an all-at-once queue and resends it (SmolLM2 here: 62 of 86 requests)
        g = Gateway(backend, concurrency=256, timeout=3600.0, retries=0)
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


def in_child(part: str, model: str, folder: Path, args: argparse.Namespace) -> dict:
    """Run one measurement in a fresh process (a fresh engine, no shared cache)."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            *("--part", part, "--model", model, "--folder", str(folder), "--dtype", args.dtype),
            *("--characters", str(args.characters), "--ticks", str(args.ticks)),
        ],
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
    p.add_argument(
        "--model",
        default="tiny",
        help="tiny (made on the spot), smollm2 (the real small model) or a model folder",
    )
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    p.add_argument("--characters", type=int, help="llm characters (default: by model)")
    p.add_argument("--ticks", type=int, help="ticks of the world (default: by model)")
    p.add_argument("--repeats", type=int, default=3, help="offline/gateway pairs to measure")
    p.add_argument("--part", choices=["world", "offline", "gateway"], help=argparse.SUPPRESS)
    p.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args()
    size = SIZES.get(args.model, SIZES["tiny"])
    args.characters = args.characters or size[0]
    args.ticks = args.ticks or size[1]
    if args.part:
        if args.part == "world":
            result = world(args.model, args.folder, args.characters, args.ticks, args.dtype)
        else:
            reqs = recorded(args.folder)
            result = (offline if args.part == "offline" else gateway)(args.model, reqs, args.dtype)
        print("RESULT " + json.dumps(result), flush=True)
        return
    with tempfile.TemporaryDirectory() as tmp:
        model = model_folder(args.model, Path(tmp))
        folder = Path(tmp) / "run"
        w = in_child("world", model, folder, args)
        n = len(recorded(folder))
        pairs = []
        for _ in range(args.repeats):  # alternated, so that the machine's drift hits both
            pairs.append(
                (in_child("offline", model, folder, args), in_child("gateway", model, folder, args))
            )
    ratios = sorted(
        (g["tokens_out"] / g["seconds"]) / (o["tokens_out"] / o["seconds"]) for o, g in pairs
    )
    off, gw = pairs[-1]
    tps = {k: v["tokens_out"] / v["seconds"] for k, v in (("offline", off), ("gateway", gw))}
    print(f"CPU: {cpu()}")
    print(
        f"model {args.model} ({model}), {args.dtype}; {args.characters} llm characters, "
        f"{args.ticks} ticks; {n} requests"
    )
    print(
        f"world, tick by tick (after a warm-up tick): {w['decisions'] / w['seconds']:.2f} "
        f"decisions/s, {w['requests'] / w['seconds']:.2f} req/s, "
        f"{w['tokens_out'] / w['seconds']:.0f} output tok/s ({w['decisions']} decisions in "
        f"{w['seconds']:.1f} s)"
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
