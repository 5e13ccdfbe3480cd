"""Runtimes step a world's shards in lockstep; the in-process one is the reference.

`Runtime` holds what every runtime shares: the tick loop, the figures, the run record and
checkpoints (every K ticks, and at tick 0, so a run can always be resumed). `LocalRuntime`
steps every shard in this process, moving mail between them as serialized batches exactly as
it would move between processes; the Ray runtime (actors/) is held to its digests.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from world.classic.games import results_of, shard_class
from world.digest import state_digest
from world.errors import ScenarioError, UserError
from world.record import (
    RunRecord,
    read_shard_snapshot,
    shard_snapshot_name,
    write_shard_snapshot,
)
from world.scenario import Scenario, live_event, shards_problem
from world.shard import Decisions, Pending, Shard
from world.shard_base import BaseShard
from world.stats import Figures, TickStats
from world.wire import Mail, encode


@dataclasses.dataclass
class RunResult:
    ticks: int  # ticks completed
    state_digest: str
    totals: TickStats  # summed over every tick (but the wealth distribution, a tick's alone)
    last: TickStats  # the final tick
    seconds: float
    stopped_early: bool = False
    recoveries: int = 0
    checkpoints: int = 0
    figures: Figures = TickStats.figures  # what the record shows of a tick

    def summary(self, scenario: Scenario, n_shards: int, runtime: str) -> dict[str, Any]:
        t = self.totals.c
        acts = t["cooperative"] + t["defecting"]
        return {
            "scenario": scenario.name,
            "seed": scenario.seed,
            "characters": scenario.population.size,
            "shards": n_shards,
            "runtime": runtime,
            "ticks": self.ticks,
            "stopped_early": self.stopped_early,
            "state_digest": self.state_digest,
            "seconds": round(self.seconds, 3),
            "recoveries": self.recoveries,
            "checkpoints": self.checkpoints,
            "totals": {
                "envelopes": t["envelopes"],
                "cooperation_rate": round(t["cooperative"] / acts, 6) if acts else 0.0,
                **{
                    k: t[k]
                    for k in (
                        "promises_made",
                        "promises_kept",
                        "promises_broken",
                        "betrayals",
                        "apologies",
                        "forgiveness",
                        "trades",
                        "trade_volume",
                        "gifts",
                        "care_gifts",
                        "requests",
                        "loans",
                        "gossip",
                        "contributions",
                        "free_rides",
                        "observations",
                        "invalid_actions",
                    )
                },
                "produced": self.totals.produced.tolist(),
                "consumed": self.totals.consumed.tolist(),
            },
            "final": self.figures(self.last),
            **self._results(scenario),
        }

    def _results(self, scenario: Scenario) -> dict[str, Any]:
        """A classic game's results (world/classic/results.py); nothing for village life."""
        if scenario.classic is None:
            return {}
        return {"results": results_of(scenario, self.totals.results)}


def make_shard(scenario: Scenario, index: int = 0, n_shards: int = 1) -> BaseShard:
    """Shard `index` of `n_shards` of the scenario's world: a village's, or the shard that plays
    its classic game."""
    if scenario.classic is not None:
        return shard_class(scenario.classic)(scenario, index, n_shards)
    return Shard(scenario, index, n_shards)


TickHook = Callable[[int, TickStats, float], None]
#: Decides a tick for several shards at once (an LLM gateway batches their requests together);
#: without one, each shard's own minds decide.
Decide = Callable[[list[tuple[Shard, Pending]]], list[Decisions]]


class Runtime:
    """The tick loop, figures, record and checkpoints; subclasses move the shards."""

    name = "runtime"

    def __init__(
        self,
        scenario: Scenario,
        n_shards: int,
        record: RunRecord | None = None,
        checkpoint_every: int = 0,
        figures: Figures = TickStats.figures,
    ) -> None:
        """`figures`: a tick's row of metrics.csv (and the summary's `final`): the world's
        figures, or more (a layer above adds its own: inference/figures.py)."""
        problem = shards_problem(n_shards, scenario.population.size)
        if problem:
            raise ScenarioError(problem)
        self.scenario = scenario
        self.n_shards = n_shards
        self.record = record
        self.checkpoint_every = checkpoint_every
        self.figures = figures
        self.totals = TickStats()
        self.last = TickStats()
        self.completed = 0  # ticks every shard has finished (and the record holds)
        self.recoveries = 0
        self.checkpoints = 0
        self.last_checkpoint: dict[str, Any] | None = None
        self.options: dict[str, Any] = {}  # how the run was started, kept for resume
        #: the run's events: the scenario's, then the live interventions (`intervene`)
        self.events: list[Any] = list(scenario.events)

    # --- what a runtime implements ----------------------------------------------------------

    def _step_shards(self, tick: int) -> list[TickStats]:
        raise NotImplementedError

    def _save_shards(self, tick: int) -> list[int]:
        """Write every shard's snapshot for `tick`; returns the journal sizes to record."""
        raise NotImplementedError

    def _load_shards(self, manifest: dict[str, Any]) -> None:
        raise NotImplementedError

    def digest(self) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the runtime holds (processes, actors)."""

    def inference_stats(self) -> dict[str, float]:
        """The LLM gateway's own figures (batches, queue peak, prefix cache), if one ran."""
        return {}

    def _add_event(self, event: Any) -> None:
        raise UserError(
            f"the {self.name} runtime takes no events once running; live interventions need "
            f"the in-process runtime (socius serve)"
        )

    def intervene(self, data: Any) -> Any:
        """An event set off live (an operator's intervention, or one replayed from a served
        run's record), checked like the scenario's own: it must start after the last tick
        completed. Returns the event; it joins the end of the run's list of events."""
        event = live_event(self.scenario, self.events, data, self.completed + 1)
        self._add_event(event)
        self.events.append(event)
        return event

    # --- the loop ---------------------------------------------------------------------------

    @property
    def tick(self) -> int:
        return self.completed

    def step(self) -> TickStats:
        """One tick of every shard, recorded, and checkpointed when one is due."""
        tick = self.completed + 1
        merged = TickStats.summed(self._step_shards(tick))
        self.completed = tick
        self.totals.merge(merged, wealth=False)
        self.last = merged
        if self.record is not None:
            self.record.metrics_row({"tick": tick, **self.figures(merged)})
            self.record.flush()
        if self.checkpoint_every and tick % self.checkpoint_every == 0:
            self.checkpoint()
        return merged

    def run(
        self,
        ticks: int | None = None,
        on_tick: TickHook | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> RunResult:
        """Run `ticks` more ticks (default: up to the scenario's length)."""
        target = self.scenario.ticks if ticks is None else self.completed + ticks
        start = time.perf_counter()
        stopped = False
        if self.checkpoint_every and self.record is not None and self.last_checkpoint is None:
            self.checkpoint()  # tick 0 (or the resumed tick): any fault is recoverable
        while self.completed < target:
            if should_stop is not None and should_stop():
                stopped = True
                break
            t0 = time.perf_counter()
            stats = self.step()
            if on_tick is not None:
                on_tick(self.completed, stats, time.perf_counter() - t0)
        return RunResult(
            self.completed,
            self.digest(),
            self.totals,
            self.last,
            time.perf_counter() - start,
            stopped,
            self.recoveries,
            self.checkpoints,
            self.figures,
        )

    # --- checkpoints ------------------------------------------------------------------------

    def checkpoint(self) -> dict[str, Any] | None:
        """Snapshot every shard, then write the manifest that makes the checkpoint whole."""
        if self.record is None:
            return None
        tick = self.completed
        sizes = self._save_shards(tick)
        manifest = {
            "tick": tick,
            "n_shards": self.n_shards,
            "runtime": self.name,
            "checkpoint_every": self.checkpoint_every,
            "options": self.options,
            "shards": [shard_snapshot_name(i) for i in range(self.n_shards)],
            "journal_sizes": sizes,
            "totals": self.totals.to_dict(),
            "last": self.last.to_dict(),
            "recoveries": self.recoveries,
        }
        self.record.write_manifest(tick, manifest)
        self.checkpoints += 1
        self.last_checkpoint = manifest
        return manifest

    def final_checkpoint(self) -> None:
        """The snapshot a finished (or stopped) run leaves, unless one exists for this tick."""
        if self.last_checkpoint is None or self.last_checkpoint["tick"] != self.completed:
            self.checkpoint()

    def restore(self, manifest: dict[str, Any]) -> None:
        """Put the world back as it was at a checkpoint (resume, or recovery from a fault)."""
        if int(manifest["n_shards"]) != self.n_shards:
            raise ValueError(
                f"checkpoint of {manifest['n_shards']} shards cannot restore a runtime of "
                f"{self.n_shards}"
            )
        self._load_shards(manifest)
        if self.record is not None:
            self.record.rewind_to(manifest)
        self.completed = int(manifest["tick"])
        self.totals = TickStats.from_dict(manifest["totals"])
        self.last = TickStats.from_dict(manifest["last"])
        self.recoveries = max(self.recoveries, int(manifest.get("recoveries", 0)))
        self.last_checkpoint = manifest


class LocalRuntime(Runtime):
    """Every shard in this process. `record` (optional) receives the run folder's journal,
    metrics and checkpoints."""

    name = "local"

    def __init__(
        self,
        scenario: Scenario,
        shards: int | None = None,
        record: RunRecord | None = None,
        checkpoint_every: int = 0,
        decide: Decide | None = None,
    ) -> None:
        n = shards if shards is not None else (scenario.shards or 1)
        super().__init__(scenario, n, record, checkpoint_every)
        if decide is not None and scenario.classic is not None:
            raise ScenarioError(
                f"scenario {scenario.name} plays a classic game: its characters decide by their "
                f"strategies, so nothing else decides for them (no model, no players)"
            )
        self.shards: list[BaseShard] = [make_shard(scenario, i, n) for i in range(n)]
        self.inboxes: list[list[bytes | Mail]] = [[] for _ in range(n)]
        self.decide = decide

    @property
    def villages(self) -> list[Shard]:
        """The shards, as the village shards they are (not for a classic game)."""
        villages = [s for s in self.shards if isinstance(s, Shard)]
        if len(villages) != len(self.shards):
            raise TypeError(f"scenario {self.scenario.name} plays a classic game, not a village")
        return villages

    def in_flight(self) -> list[list[bytes]]:
        """Each shard's inbox for the next tick as the batches another process would be sent:
        mail handed on in this process is serialized here (source, destination and tick as a
        shard's `route` gives them), batches are as they came."""
        placement = self.shards[0].placement
        return [
            [
                p
                if isinstance(p, bytes)
                else encode(p, self.completed, placement.shard_of(int(p.sender[0])), dest)
                for p in box
            ]
            for dest, box in enumerate(self.inboxes)
        ]

    def _step_shards(self, tick: int) -> list[TickStats]:
        nxt: list[list[bytes | Mail]] = [[] for _ in range(self.n_shards)]
        if self.decide is None:
            results = []
            for shard in self.shards:
                t0 = time.perf_counter()
                results.append(shard.step(self.inboxes[shard.index]))
                results[-1].stats.observe_step(time.perf_counter() - t0)
        else:  # shards decide together; a shard's step time is then its share of the tick
            t0 = time.perf_counter()
            work = [(shard, shard.prepare(self.inboxes[shard.index])) for shard in self.villages]
            decided = self.decide(work)
            results = [s.finish(p, d) for (s, p), d in zip(work, decided, strict=True)]
            share = (time.perf_counter() - t0) / len(results)
            for r in results:
                r.stats.observe_step(share)
        for shard, result in zip(self.shards, results, strict=True):
            for dest, mail in result.mail.items():  # (handed on as it is: no encoding)
                nxt[dest].append(mail)
            if self.record is not None:
                for payload in result.journaled():
                    self.record.journal(shard.index, payload)
        self.inboxes = nxt
        return [r.stats for r in results]

    def _add_event(self, event: Any) -> None:
        for shard in self.villages:
            shard.add_event(event)

    def inference_stats(self) -> dict[str, float]:
        stats = getattr(self.decide, "stats", None)
        return stats() if stats is not None else {}

    def close(self) -> None:
        close = getattr(self.decide, "close", None)
        if close is not None:
            close()
            self.decide = None

    def _save_shards(self, tick: int) -> list[int]:
        assert self.record is not None
        for shard in self.shards:
            write_shard_snapshot(self.record.folder, tick, shard.get_state())
        return self.record.journal_sizes()

    def _load_shards(self, manifest: dict[str, Any]) -> None:
        assert self.record is not None
        tick = int(manifest["tick"])
        self.inboxes = [[] for _ in range(self.n_shards)]
        for shard in self.shards:
            shard.set_state(read_shard_snapshot(self.record.folder, tick, shard.index))
        if self.scenario.classic is None:
            self.events = list(self.villages[0].events)  # with the live ones until then
        restored = getattr(self.decide, "restored", None)
        if restored is not None:
            for village in self.villages:
                restored(village)
        for shard in self.shards:
            for dest, payload in shard.pending_mail().items():
                self.inboxes[dest].append(payload)

    def digest(self) -> str:
        return state_digest(s.digest_parts() for s in self.shards)
