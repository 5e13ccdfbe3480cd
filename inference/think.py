"""The LLM mind at work: a shard's decisions, partly answered by a language model.

For one shard's tick, `Thinker.think`:

1. lets every mind decide as usual, so each row already holds the heuristic's answer (the
   fallback for anything the model does not answer well);
2. picks the rows of `llm` characters that go to the model (the scenario's `llm.decisions`:
   all, salient or a fraction), within the tick's token budget and the model's context;
3. renders their prompts and sends them all at once (`ask`: a gateway, local or on Ray);
4. validates each answer against that decision's schema; an invalid one is counted and asked
   again once with the reason, and if it fails again the heuristic's answer stands;
5. takes the valid answers: the action (which the world checks again when it settles), the
   words (said with the act), the reading of the counterpart's feelings (scored by the world);
6. records every request, answer and decision in the run's traces.

Replay (`replay=`) asks the record instead, for exactly the decisions the record holds.
"""

from __future__ import annotations

import collections
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np

from inference.answer import Parsed, answer_schema, legal_names, parse
from inference.backends.base import Answer, Request
from inference.backends.replay import ReplayBackend
from inference.figures import observe_answer
from inference.prompt import Cast, Prompt, Scene, fit, trade_worth
from inference.traces import TraceWriter, key_of
from world.acts import ACTION_NAMES, SITUATION_NAMES, Situation
from world.minds import MODEL_MIND
from world.population import adapter_of
from world.rng import Stream, hash64, uniform
from world.scenario import Scenario
from world.shard import Decisions, Pending, Shard

Ask = Callable[[list[Request]], Awaitable[list[Answer]]]

#: Token estimate per byte of prompt until the backend has reported real counts (a byte-level
#: tokenizer's worst case is 1; real ones average about 0.25-0.35 on English).
START_RATIO = 0.5
SALIENT_SITUATIONS = (Situation.ACCUSED, Situation.APOLOGY)


class Thinker:
    def __init__(
        self,
        scenario: Scenario,
        ask: Ask,
        *,
        context_length: int,
        n_shards: int,
        folder: Path | None = None,
        replay: ReplayBackend | None = None,
    ) -> None:
        self.scenario = scenario
        self._adapters: dict[int, str | None] = {}  # character -> its LoRA adapter, if any
        self.llm = scenario.llm
        self.ask = ask
        self.context_length = context_length
        self.n_shards = n_shards
        self.folder = folder
        self.replay = replay
        self.cast = Cast(scenario)
        self.ratio = START_RATIO  # tokens per byte of prompt: the largest seen so far
        self._observed = 0
        self._writers: dict[int, TraceWriter] = {}
        # decisions waiting for their outcome record: tick -> [(shard, key, local, other)]
        self._outcomes: dict[int, list[tuple[int, str, int, int]]] = collections.defaultdict(list)
        self._budget: dict[int, int | None] = {}  # shard -> tokens left in its tick (None: no cap)

    # --- selection ------------------------------------------------------------------------

    def candidates(self, shard: Shard, pending: Pending) -> np.ndarray:
        """Rows of `llm` characters that the scenario sends to the model (before the budget)."""
        b = pending.batch
        rows = np.flatnonzero(shard.chars.mind[b.local] == MODEL_MIND)
        if self.replay is not None:
            keep = [self.replay.recorded(self._key(pending, r, None)) for r in rows]
            return rows[np.array(keep, bool)] if len(rows) else rows
        mode = self.llm.decisions
        if mode == "all" or not len(rows):
            return rows
        if mode == "fraction":
            u = uniform(
                self.scenario.seed,
                Stream.LLM,
                b.actor[rows],
                b.tick,
                b.situation[rows],
                b.counterpart[rows],
                b.ref[rows],
            )
            return rows[u < self.llm.fraction]
        return rows[self.salient(shard, pending, rows)]

    def salient(self, shard: Shard, pending: Pending, rows: np.ndarray) -> np.ndarray:
        """Answering a betrayal or an apology, a large trade, dealing with a betrayer, a plea
        from someone vulnerable, or anything said in free words (a player, another LLM)."""
        b, c = pending.batch, shard.chars
        sit = b.situation[rows]
        out = np.isin(sit, SALIENT_SITUATIONS)
        trades = np.isin(sit, (Situation.OFFER, Situation.COUNTER))
        out |= trades & (trade_worth(b, rows) >= self.llm.large_trade)
        out |= (sit == Situation.REQUEST) & b.vulnerable[rows].astype(bool)
        known = b.slot[rows] >= 0
        betrayed = np.zeros(len(rows), bool)
        betrayed[known] = c.rel_betrayals[b.local[rows][known], b.slot[rows][known]] > 0
        out |= betrayed
        inbox = pending.inbox
        n = len(inbox)
        spoke = {
            (int(s), int(q))
            for s, q, t in zip(inbox.sender[:n], inbox.seq[:n], inbox.text[:n], strict=True)
            if t >= 0
        }
        if spoke:
            out |= np.array([(int(b.counterpart[r]), int(b.ref[r])) in spoke for r in rows], bool)
        return out

    # --- the tick -------------------------------------------------------------------------

    def _key(self, pending: Pending, row: int, attempt: int | None) -> str:
        b = pending.batch
        k = key_of(
            pending.tick,
            int(b.actor[row]),
            int(b.situation[row]),
            int(b.counterpart[row]),
            int(b.ref[row]),
            attempt if attempt is not None else 0,
        )
        return k if attempt is not None else k.rsplit(":", 1)[0]

    def _seed(self, pending: Pending, row: int, attempt: int) -> int:
        b = pending.batch
        h = hash64(
            self.scenario.seed,
            Stream.LLM,
            b.actor[row],
            pending.tick,
            b.situation[row],
            b.counterpart[row],
            b.ref[row],
            attempt + 1,
        )
        return int(h[0] >> np.uint64(33))

    async def think(
        self, shard: Shard, pending: Pending, skip: np.ndarray | None = None
    ) -> Decisions:
        """The tick's decisions: each mind's, then the model's for the rows it is sent, except
        `skip` (rows someone else answers first: players; `again` asks for those they leave)."""
        decided = shard.decide(pending)
        self._record_outcomes(shard, pending.tick)
        rows = self.candidates(shard, pending)
        if skip is not None and len(skip):
            rows = rows[~np.isin(rows, skip)]
        self._budget[shard.index] = (
            self.llm.token_budget // self.n_shards if self.llm.token_budget else None
        )
        await self._model(shard, pending, decided, rows)
        return decided

    async def again(
        self, shard: Shard, pending: Pending, decided: Decisions, want: np.ndarray
    ) -> None:
        """The model decides the rows of `want` it would have been sent, over `decided`,
        within what is left of the tick's budget: rows `think` skipped that still need it."""
        rows = self.candidates(shard, pending)
        await self._model(shard, pending, decided, rows[np.isin(rows, want)])

    async def _model(
        self, shard: Shard, pending: Pending, decided: Decisions, rows: np.ndarray
    ) -> None:
        """Ask the model for `rows` and lay its valid answers over `decided`."""
        if not len(rows):
            return
        b, stats = pending.batch, pending.stats
        scene = Scene(self.cast, shard.chars, b, pending.plans, pending.inbox, pending.tick)
        budget = self._budget.get(shard.index)
        room = self.context_length - self.llm.max_tokens - 8
        jobs: list[dict[str, Any]] = []
        for r in rows.tolist():
            legal = legal_names(b.legal[r])
            prompt: Prompt | None = scene.render(r, legal, self.llm.memories)
            if self.replay is None:  # a replay asks what the record asked, whatever it costs
                prompt = fit(prompt, int(room / self.ratio))  # type: ignore[arg-type]
                cost = (prompt.size() * self.ratio if prompt else 0) + self.llm.max_tokens
                if prompt is None or (budget is not None and cost > budget):
                    stats.add("llm_skipped", 1)
                    continue
                if budget is not None:
                    budget -= int(cost)
            jobs.append({"row": r, "legal": legal, "prompt": prompt, "asked": []})
        self._budget[shard.index] = budget
        stats.add("llm_decisions", len(jobs))
        pending_jobs = jobs
        for attempt in (0, 1):
            if not pending_jobs:
                break
            requests = [self._request(pending, j, attempt) for j in pending_jobs]
            answers = await self.ask(requests)
            retry = []
            for job, req, ans in zip(pending_jobs, requests, answers, strict=True):
                result = parse(ans.text, job["legal"], self.llm.words)
                self._count(stats, ans, result, attempt)
                job["asked"].append(req.key)
                job["result"] = result
                self._trace(shard, pending, job, req, ans, result, attempt)
                if isinstance(result, str) and ans.text is not None and attempt == 0:
                    job["bad"] = (ans.text, result)
                    retry.append(job)
            pending_jobs = retry
        self._apply(shard, pending, jobs, decided)
        self._flush(shard)

    def _request(self, pending: Pending, job: dict[str, Any], attempt: int) -> Request:
        r = job["row"]
        messages = job["prompt"].messages()
        if attempt:
            text, reason = job["bad"]
            messages = [
                *messages,
                {"role": "assistant", "content": text[:2000]},
                {
                    "role": "user",
                    "content": f"That answer is not valid: {reason}. Answer again with one "
                    f"JSON object as described, choosing one of: {', '.join(job['legal'])}.",
                },
            ]
        return Request(
            key=self._key(pending, r, attempt),
            messages=messages,
            schema=answer_schema(job["legal"], self.llm.words, self.llm.max_tokens),
            max_tokens=self.llm.max_tokens,
            seed=self._seed(pending, r, attempt),
            temperature=self.llm.temperature,
            affinity=int(pending.batch.actor[r]),
            adapter=self._adapter(int(pending.batch.actor[r])),
        )

    def _adapter(self, actor: int) -> str | None:
        if actor not in self._adapters:
            self._adapters[actor] = adapter_of(self.scenario, actor)
        return self._adapters[actor]

    def _count(self, stats: Any, ans: Answer, result: Parsed | str, attempt: int) -> None:
        stats.add("llm_requests", 1)
        if attempt:
            stats.add("llm_retries", 1)
        if ans.text is None:
            stats.add("llm_errors", 1)
        else:
            observe_answer(stats, ans.latency, ans.ttft)
            if isinstance(result, str):
                stats.add("llm_invalid", 1)
        stats.add("llm_tokens_in", ans.prompt_tokens)
        stats.add("llm_tokens_out", ans.completion_tokens)
        if ans.cached_tokens is not None:
            stats.add("llm_prefix_queries", ans.prompt_tokens)
            stats.add("llm_prefix_hits", ans.cached_tokens)

    def _apply(
        self, shard: Shard, pending: Pending, jobs: list[dict[str, Any]], decided: Decisions
    ) -> None:
        b, readings, stats = pending.batch, pending.readings, pending.stats
        reading_row = {
            (int(lo), int(s), int(q)): i
            for i, (lo, s, q) in enumerate(
                zip(readings.local, readings.speaker, readings.seq, strict=True)
            )
        }
        for job in jobs:
            r, result = job["row"], job["result"]
            by_model = not isinstance(result, str)
            if isinstance(result, Parsed):
                stats.add("llm_answers", 1)
                decided.actions[r] = result.action
                if result.say:
                    decided.words[r] = result.say
                i = reading_row.get((int(b.local[r]), int(b.counterpart[r]), int(b.ref[r])))
                if i is not None:
                    decided.guesses[i] = np.asarray(result.reading, np.float32)
            else:
                stats.add("llm_fallbacks", 1)
            key0 = self._key(pending, r, None)
            trust = self._trust(shard, int(b.local[r]), int(b.counterpart[r]))
            self._writer(shard).write(
                {
                    "type": "decision",
                    "key": key0,
                    "tick": pending.tick,
                    "actor": int(b.actor[r]),
                    "counterpart": int(b.counterpart[r]),
                    "situation": SITUATION_NAMES[int(b.situation[r])],
                    "action": ACTION_NAMES[int(decided.actions[r])],
                    "by_model": by_model,
                    "trust": trust,
                    "requests": job["asked"],
                }
            )
            self._outcomes[pending.tick + self.llm.outcome_ticks].append(
                (shard.index, key0, int(b.local[r]), int(b.counterpart[r]))
            )

    # --- records --------------------------------------------------------------------------

    def _trust(self, shard: Shard, local: int, other: int) -> float:
        c = shard.chars
        if other < 0:
            return 0.5
        hit = np.flatnonzero(c.rel_id[local] == other)
        if not len(hit):
            return 0.5
        s = int(hit[0])
        pos, neg = float(c.rel_pos[local, s]), float(c.rel_neg[local, s])
        return round((pos + 1.0) / (pos + neg + 2.0), 6)

    def _record_outcomes(self, shard: Shard, tick: int) -> None:
        due = self._outcomes.get(tick)
        if not due:
            return
        mine = [d for d in due if d[0] == shard.index]
        self._outcomes[tick] = [d for d in due if d[0] != shard.index]
        if not self._outcomes[tick]:
            del self._outcomes[tick]
        for _, key0, local, other in mine:
            self._writer(shard).write(
                {
                    "type": "outcome",
                    "key": key0,
                    "tick": tick,
                    "trust": self._trust(shard, local, other),
                }
            )

    def _trace(
        self,
        shard: Shard,
        pending: Pending,
        job: dict[str, Any],
        req: Request,
        ans: Answer,
        result: Parsed | str,
        attempt: int,
    ) -> None:
        if ans.prompt_tokens and req.messages:
            size = sum(len(m["content"].encode()) for m in req.messages)
            seen = ans.prompt_tokens / max(size, 1)
            self.ratio = seen if self._observed == 0 else max(self.ratio, seen)
            self._observed += 1
        b = pending.batch
        r = job["row"]
        self._writer(shard).write(
            {
                "type": "request",
                "key": req.key,
                "tick": pending.tick,
                "shard": shard.index,
                "actor": int(b.actor[r]),
                "counterpart": int(b.counterpart[r]),
                "situation": SITUATION_NAMES[int(b.situation[r])],
                "attempt": attempt,
                "legal": list(job["legal"]),
                "messages": req.messages,
                "seed": req.seed,
                "adapter": req.adapter,
                "answer": ans.text,
                "error": ans.error,
                "refused": ans.refused,
                "valid": not isinstance(result, str),
                "problem": result if isinstance(result, str) else None,
                "prompt_tokens": ans.prompt_tokens,
                "completion_tokens": ans.completion_tokens,
                "cached_tokens": ans.cached_tokens,
                "latency": round(ans.latency, 6),
                "ttft": round(ans.ttft, 6),
            }
        )

    def _writer(self, shard: Shard) -> TraceWriter | _NoTrace:
        if self.folder is None:
            return _NO_TRACE
        w = self._writers.get(shard.index)
        if w is None:
            w = self._writers[shard.index] = TraceWriter(self.folder, shard.index)
        return w

    def _flush(self, shard: Shard) -> None:
        w = self._writers.get(shard.index)
        if w is not None:
            w.flush()

    def restored(self, shard: Shard) -> None:
        """`shard` was put back to a checkpoint: what its traces hold after it is void."""
        self._outcomes = collections.defaultdict(
            list,
            {t: [d for d in due if d[0] != shard.index] for t, due in self._outcomes.items()},
        )
        self._writer(shard).write({"type": "restore", "tick": shard.tick})
        self._flush(shard)

    def flush(self) -> None:
        """Make every trace written so far durable (before a checkpoint's upload)."""
        for w in self._writers.values():
            w.flush()

    def close(self) -> None:
        for w in self._writers.values():
            w.close()
        self._writers.clear()


class _NoTrace:
    def write(self, record: dict[str, Any]) -> None:
        pass


_NO_TRACE = _NoTrace()
