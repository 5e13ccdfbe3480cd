"""What a real model's answers are worth, measured: figures from a run's LLM traces, and a probe
of whether its answers follow what happened.

    python -m tests.inference.quality figures RUN [RUN ...]
    python -m tests.inference.quality probe MODEL_DIR [--scenario FILE] [--pairs N]

`figures`: of the decisions given to the model, the share answered validly (a legal action, the
schema's shape) on the first try, retries and fallbacks; of the answers' words, how many are
distinct, how many echo the prompt (five words in a row taken from it, or "You are ..."), how
many are a word or less; of the readings, how many give all five feelings the same level, and
the mean level of each feeling by situation.

`probe`: the same decisions (requests, offers, encounters of `llm` characters in a village run by
the heuristic minds) asked twice of the model, once with a betrayal behind them (the other broke
two promises, and that is what the character remembers) and once with kindness (the other kept
two promises and gave two gifts), with the same seed: how often the action is cooperative in
each case (the world's own classification, `world.acts.COOPERATION`), how often the two answers
differ, and the mean reading of anger and gratitude in each. Where the decision answers someone
who showed a feeling, the model's reading is scored as the world scores readings (1 - the mean
absolute difference from the speaker's hidden feelings), beside the heuristic reader's score and
that of reading what was shown as the truth.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import copy
import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from inference.answer import answer_schema, legal_names, parse
from inference.backends.base import Request
from inference.backends.engine import EngineBackend
from inference.gateway import Gateway
from inference.prompt import Cast, Scene
from inference.traces import latest
from world.acts import ACTION_NAMES, COOPERATION, SITUATION_NAMES, Situation
from world.emotion import unquantize
from world.minds import MODEL_MIND
from world.runtime import LocalRuntime
from world.scenario import parse_scenario
from world.shard import reading_rows
from world.vocab import EMOTION_NAMES, Kind

ROOT = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[a-z0-9']+")
LEVELS = {"none": 0.0, "low": 0.25, "some": 0.55, "high": 0.9}


def words_of(text: str) -> list[str]:
    return WORD.findall(text.lower())


def echoes(say: str, prompt: str, run: int = 5) -> bool:
    """Whether `say` repeats the prompt: `run` words in a row taken from it (the rules, the
    examples, who the character is, what the user message says)."""
    w = words_of(say)
    if len(w) < run:
        return False
    p = words_of(prompt)
    grams = {tuple(p[i : i + run]) for i in range(len(p) - run + 1)}
    return any(tuple(w[i : i + run]) in grams for i in range(len(w) - run + 1))


def answer_of(text: str | None) -> dict[str, Any] | None:
    """The answer's JSON object, as `inference.answer.parse` reads it, or None."""
    try:
        data = json.loads(text or "", strict=False)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def reading_figures(readings: list[dict[str, str]]) -> dict[str, float]:
    if not readings:
        return {"flat_readings": 0.0, "levels_per_reading": 0.0, "reading_spread": 0.0}
    values = np.array([[LEVELS[r[e]] for e in EMOTION_NAMES] for r in readings])
    flat = float(np.mean([len(set(r.values())) == 1 for r in readings]))
    return {
        "flat_readings": round(flat, 3),  # all five feelings at the same level
        "levels_per_reading": round(float(np.mean([len(set(r.values())) for r in readings])), 2),
        # how much a feeling's level moves from answer to answer (mean over the five)
        "reading_spread": round(float(values.std(axis=0).mean()), 3),
    }


def figures(run: Path) -> dict[str, Any]:
    """The quality figures of one run's traces."""
    requests = latest(run, "request")
    decisions = latest(run, "decision")
    first = [requests[d["requests"][0]] for d in decisions.values() if d["requests"]]
    n = len(decisions)
    valid_first = sum(bool(r["valid"]) for r in first)
    final = []
    for d in decisions.values():
        asked = [requests[k] for k in d["requests"] if k in requests]
        ok = [r for r in asked if r["valid"]]
        if ok:
            final.append(ok[-1])
    says, echo, short, readings = [], 0, 0, []
    felt: dict[str, list[list[float]]] = collections.defaultdict(list)
    for r in final:
        a = answer_of(r["answer"]) or {}
        say = str(a.get("say", ""))
        says.append(say)
        prompt = "\n".join(m["content"] for m in r["messages"][:2])
        echo += echoes(say, prompt)
        short += len(words_of(say)) <= 1
        if isinstance(a.get("reading"), dict):
            readings.append(a["reading"])
            felt[r["situation"]].append([LEVELS[a["reading"][e]] for e in EMOTION_NAMES])
    by_situation: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for d in decisions.values():
        if d["by_model"]:
            by_situation[d["situation"]][d["action"]] += 1
    return {
        "run": str(run),
        "decisions": n,
        "valid_first_try": round(valid_first / n, 3) if n else 0.0,
        "retries": sum(1 for r in requests.values() if r["attempt"] > 0),
        "fallbacks": sum(1 for d in decisions.values() if not d["by_model"]),
        "answers": len(final),
        "distinct_say": len(set(says)),
        "echo_say": echo,
        "one_word_say": short,
        **reading_figures(readings),
        "reading_by_situation": {
            s: dict(zip(EMOTION_NAMES, np.round(np.mean(v, axis=0), 2).tolist(), strict=True))
            for s, v in sorted(felt.items())
        },
        "actions": {s: dict(c.most_common()) for s, c in sorted(by_situation.items())},
        "examples": says[:12],
    }


# --- the probe ------------------------------------------------------------------------------

PROFILES = {
    # the other broke two promises to this character, who remembers it and thinks ill of them
    "betrayed": {
        "rel_pos": 0.5,
        "rel_neg": 3.0,
        "rel_kept": 0,
        "rel_betrayals": 2,
        "rel_gifts": 0,
        "rel_rep": -0.6,
        "episode": "PROMISE_BROKEN",
        "valence": -1.0,
    },
    # the other kept two promises and gave two gifts, and is remembered for the last gift
    "thanked": {
        "rel_pos": 4.0,
        "rel_neg": 0.0,
        "rel_kept": 2,
        "rel_betrayals": 0,
        "rel_gifts": 2,
        "rel_rep": 0.6,
        "episode": "GIFT",
        "valence": 1.0,
    },
}
PROBED = ("REQUEST", "OFFER", "ENCOUNTER")


def capture(scenario: Any, ticks: int, per_situation: int) -> list[tuple[Any, Any, int, Any]]:
    """Decisions of `llm` characters about someone they know, from a run of the heuristic
    minds: (the shard's characters, the tick's pending decisions, the row, the heuristic's
    decisions), copies."""
    wanted = {int(Situation[s]) for s in PROBED}
    taken: collections.Counter[int] = collections.Counter()
    cases: list[tuple[Any, Any, int, Any]] = []

    def decide(work: list[tuple[Any, Any]], skip: Any = None) -> list[Any]:
        out = []
        for shard, pending in work:
            decided = shard.decide(pending)
            out.append(decided)
            b = pending.batch
            rows = [
                r
                for r in range(len(b))
                if shard.chars.mind[b.local[r]] == MODEL_MIND
                and b.slot[r] >= 0
                and int(b.situation[r]) in wanted
                and taken[int(b.situation[r])] < per_situation
            ]
            if rows:
                chars, held, guessed = copy.deepcopy((shard.chars, pending, decided))
                for r in rows:
                    taken[int(b.situation[r])] += 1
                    cases.append((chars, held, r, guessed))
        return out

    rt = LocalRuntime(scenario, 1, None, decide=decide)
    try:
        for _ in range(ticks):
            rt.step()
    finally:
        rt.close()
    return cases


def _reading_of(pending: Any, row: int, decided: Any) -> tuple[Any, Any, Any] | None:
    """For a decision that answers someone who showed a feeling: their hidden feelings, the
    heuristic reader's guess and what they showed (0..1 each); None for any other decision."""
    b, rd = pending.batch, pending.readings
    key = (int(b.local[row]), int(b.counterpart[row]), int(b.ref[row]))
    hits = [
        i
        for i, k in enumerate(zip(rd.local, rd.speaker, rd.seq, strict=True))
        if tuple(int(x) for x in k) == key
    ]
    if not hits:
        return None
    i = hits[0]
    truth = unquantize(pending.inbox.true_feeling[reading_rows(pending.inbox)[i]])
    return truth, np.asarray(decided.guesses[i]), np.asarray(rd.shown[i])


def _with_profile(chars: Any, pending: Any, row: int, profile: dict[str, Any]) -> Any:
    c = copy.deepcopy(chars)
    b = pending.batch
    lo, slot, other = int(b.local[row]), int(b.slot[row]), int(b.counterpart[row])
    for column in ("rel_pos", "rel_neg", "rel_kept", "rel_betrayals", "rel_gifts", "rel_rep"):
        getattr(c, column)[lo, slot] = profile[column]
    e = int(np.argmin(np.where(c.ep_kind[lo] >= 0, c.ep_sal[lo], -np.inf)))
    c.ep_kind[lo, e] = int(Kind[profile["episode"]])
    c.ep_who[lo, e] = other
    c.ep_tick[lo, e] = max(pending.tick - 1, 0)
    c.ep_sal[lo, e] = 10.0
    c.ep_val[lo, e] = profile["valence"]
    return c


def probe(model: str, scenario_file: Path, pairs: int, ticks: int, dtype: str) -> dict[str, Any]:
    import yaml

    sc = parse_scenario(yaml.safe_load(scenario_file.read_text()))
    llm = sc.llm

    def schema(legal: tuple[str, ...]) -> dict[str, Any]:
        try:  # as the thinker asks, words bounded by the token limit
            return answer_schema(legal, llm.words, llm.max_tokens)  # type: ignore[call-arg]
        except TypeError:  # an older tree, for a before/after comparison
            return answer_schema(legal, llm.words)

    cases = capture(sc, ticks, max(1, pairs // len(PROBED)))
    cast = Cast(sc)
    requests, meta = [], []
    truths: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for i, (chars, pending, row, decided) in enumerate(cases):
        legal = legal_names(pending.batch.legal[row])
        seen = _reading_of(pending, row, decided)
        if seen is not None:
            truths[i] = seen
        for name, profile in PROFILES.items():
            c = _with_profile(chars, pending, row, profile)
            scene = Scene(cast, c, pending.batch, pending.plans, pending.inbox, pending.tick)
            prompt = scene.render(row, legal, llm.memories)
            requests.append(
                Request(
                    key=f"probe:{i}:{name}",
                    messages=prompt.messages(),
                    schema=schema(legal),
                    max_tokens=llm.max_tokens,
                    seed=1000 + i,
                    temperature=llm.temperature,
                    affinity=int(pending.batch.actor[row]),
                )
            )
            meta.append((i, name, legal, SITUATION_NAMES[int(pending.batch.situation[row])]))

    async def ask() -> list[Any]:
        # no time-out that matters: the probe measures answers, not speed
        backend = EngineBackend(model, dtype=dtype)  # type: ignore[arg-type]
        g = Gateway(backend, concurrency=64, timeout=3600.0)
        await g.start()
        try:
            return await g.ask(requests)
        finally:
            await g.close()

    answers = asyncio.run(ask())
    by: dict[str, dict[str, Any]] = {
        name: {"asked": 0, "valid": 0, "coop": 0, "defect": 0, "anger": [], "gratitude": []}
        for name in PROFILES
    }
    actions: dict[int, dict[str, str]] = collections.defaultdict(dict)
    table: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    samples, says, echo, short, readings = [], [], 0, 0, []
    scores: dict[str, list[float]] = {"model": [], "heuristic": [], "shown": []}
    for req, ans, (i, name, legal, sit) in zip(requests, answers, meta, strict=True):
        f = by[name]
        f["asked"] += 1
        result = parse(ans.text, legal, llm.words)
        if isinstance(result, str):
            continue
        f["valid"] += 1
        a = answer_of(ans.text) or {}
        says.append(result.say)
        echo += echoes(result.say, "\n".join(m["content"] for m in req.messages))
        short += len(words_of(result.say)) <= 1
        readings.append(a["reading"])
        action = ACTION_NAMES[result.action]
        actions[i][name] = action
        table[f"{sit} {name}"][action] += 1
        f["coop"] += int(COOPERATION[result.action] > 0)
        f["defect"] += int(COOPERATION[result.action] < 0)
        if i in truths:
            truth, heuristic, shown = truths[i]
            for who, guess in (("model", np.array(result.reading)), ("heuristic", heuristic)):
                scores[who].append(float(1 - np.abs(guess - truth).mean()))
            scores["shown"].append(float(1 - np.abs(shown - truth).mean()))
        f["anger"].append(result.reading[EMOTION_NAMES.index("anger")])
        f["gratitude"].append(result.reading[EMOTION_NAMES.index("gratitude")])
        if len(samples) < 12:
            samples.append(f"{sit} {name}: {ans.text}")
    both = [a for a in actions.values() if len(a) == 2]
    out: dict[str, Any] = {"pairs": len(cases), "answered_both": len(both)}
    for name, f in by.items():
        n = max(f["valid"], 1)
        out[name] = {
            "valid": f"{f['valid']}/{f['asked']}",
            "cooperative": round(f["coop"] / n, 3),
            "defecting": round(f["defect"] / n, 3),
            "anger": round(float(np.mean(f["anger"])) if f["anger"] else 0.0, 3),
            "gratitude": round(float(np.mean(f["gratitude"])) if f["gratitude"] else 0.0, 3),
        }
    out["distinct_say"] = f"{len(set(says))}/{len(says)}"
    out["echo_say"] = echo
    out["one_word_say"] = short
    out.update(reading_figures(readings))
    out["reading_accuracy"] = {
        who: round(float(np.mean(v)), 3) if v else None for who, v in scores.items()
    }
    out["readings_scored"] = len(scores["model"])
    out["different_action"] = round(
        sum(a["betrayed"] != a["thanked"] for a in both) / max(len(both), 1), 3
    )
    out["actions"] = {k: dict(v.most_common()) for k, v in sorted(table.items())}
    out["samples"] = samples
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.inference.quality", description=__doc__)
    sub = p.add_subparsers(dest="what", required=True)
    f = sub.add_parser("figures", help="quality figures of runs' LLM traces")
    f.add_argument("runs", type=Path, nargs="+")
    q = sub.add_parser("probe", help="the same decisions after a betrayal and after kindness")
    q.add_argument("model")
    q.add_argument("--scenario", type=Path, default=ROOT / "examples" / "village-llm.yaml")
    q.add_argument("--pairs", type=int, default=36)
    q.add_argument("--ticks", type=int, default=12)
    q.add_argument("--dtype", default="float32")
    args = p.parse_args(argv)
    if args.what == "figures":
        for run in args.runs:
            print(json.dumps(figures(run), indent=1, ensure_ascii=False))
    else:
        result = probe(args.model, args.scenario, args.pairs, args.ticks, args.dtype)
        print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
