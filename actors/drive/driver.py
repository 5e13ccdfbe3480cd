"""The one path that drives a world: every run, resume, served world and sweep task goes
through a `Driver`.

It steps the runtime (all at once with `run`, or a tick at a time with `step` for a world
served on a clock), writes the run record as it goes (a metrics.csv row per tick with the
language model's figures, checkpoints), keeps the Prometheus exporter and the progress display
up to date, and ends the run with summary.json, its `llm` section included whenever characters
thought with a model. A run stopped inside a tick (`abort`) keeps only its whole ticks.

summary.json's `stopped_early` is true when the run stopped before its last tick (Ctrl-C, a
served world's clock stopped), and also when a classic game did not finish in the ticks the run
had (`--ticks` shorter than the game): its `results` then describe the rounds played and say
so in a note (world/classic/games.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol

from actors.drive.exporter import RunExporter
from inference.figures import llm_section, run_figures
from world.journal_mode import journal_bytes
from world.record import RunRecord
from world.runtime import RunResult, Runtime
from world.stats import TickStats


class Progress(Protocol):
    """What shows a run's progress (a terminal bar, or nothing)."""

    def __enter__(self) -> Any: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> Any: ...

    def tick(self, tick: int, stats: TickStats, seconds: float) -> None: ...


class Silent:
    """No progress shown."""

    def __enter__(self) -> Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def tick(self, tick: int, stats: TickStats, seconds: float) -> None:
        return None


def game_finished(summary: dict[str, Any]) -> bool:
    """A classic game played all its rounds (True for a village: it has no game to finish)."""
    results = summary.get("results")
    return results is None or bool(results["played"]["finished"])


def mark_unfinished(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary, `stopped_early` if its classic game did not finish."""
    if not game_finished(summary):
        summary["stopped_early"] = True
    return summary


class Driver:
    """Drives `runtime` to its end, writing `record`; `exporter` (optional) serves its metrics,
    `progress` (optional) shows it."""

    def __init__(
        self,
        runtime: Runtime,
        record: RunRecord,
        exporter: RunExporter | None = None,
        progress: Progress | None = None,
        watchers: list[Callable[[int, TickStats], None]] | None = None,
    ) -> None:
        """`watchers` are called after every tick with (tick, stats), in the thread that
        drives the world, between ticks (the browser's view)."""
        self.runtime = runtime
        self.record = record
        self.exporter = exporter
        self.progress: Progress = progress or Silent()
        self.watchers = list(watchers or [])
        runtime.figures = run_figures  # metrics.csv: the world's, the model's, the players'
        self.export()

    @property
    def thinks(self) -> bool:
        """Some characters think with a language model."""
        return self.runtime.options.get("llm") is not None

    # --- ticks --------------------------------------------------------------------------------

    def step(self) -> TickStats:
        """One tick (a served world's clock calls this)."""
        t0 = time.perf_counter()
        stats = self.runtime.step()
        self._ticked(self.runtime.completed, stats, time.perf_counter() - t0)
        return stats

    def run(self, should_stop: Callable[[], bool] | None = None) -> RunResult:
        """Every tick to the scenario's end, or until `should_stop` says so; then the last
        checkpoint."""
        with self.progress:
            result = self.runtime.run(on_tick=self._ticked, should_stop=should_stop)
        self.runtime.final_checkpoint()
        self.export()  # the last figures (and the last checkpoint's count)
        return result

    def result(self, stopped: bool, seconds: float = 0.0) -> RunResult:
        """Where the runtime stands now, as a finished run's result."""
        rt = self.runtime
        return RunResult(
            rt.completed,
            rt.digest(),
            rt.totals,
            rt.last,
            seconds,
            stopped,
            rt.recoveries,
            rt.checkpoints,
            rt.figures,
        )

    def _ticked(self, tick: int, stats: TickStats, seconds: float) -> None:
        self.progress.tick(tick, stats, seconds)
        self.export(seconds)
        for watch in self.watchers:
            watch(tick, stats)

    def export(self, seconds: float | None = None) -> None:
        """The exporter's figures, brought up to date (the gateways' with them, if any)."""
        if self.exporter is None:
            return
        rt = self.runtime
        self.exporter.update(
            rt.completed,
            rt.totals,
            rt.last,
            seconds,
            rt.checkpoints,
            rt.recoveries,
            rt.inference_stats() if self.thinks else None,
        )

    # --- the end ------------------------------------------------------------------------------

    def summary(self, result: RunResult, **sections: Any) -> dict[str, Any]:
        """summary.json: the run's figures, the `llm` section if characters thought with a
        model, and any `sections` the caller adds (a served world's players)."""
        rt = self.runtime
        summary = result.summary(rt.scenario, rt.n_shards, rt.name)
        llm = rt.options.get("llm")
        if llm is not None:
            target = f"{llm['kind']} {','.join(llm['where'])}"
            summary["llm"] = llm_section(result.totals, target, rt.inference_stats())
        summary["journal"] = {
            "keep": str(self.record.kept.mode),
            "bytes": journal_bytes(self.record.folder),
        }
        summary.update(sections)
        return mark_unfinished(summary)

    def finish(self, result: RunResult, **sections: Any) -> dict[str, Any]:
        """Write summary.json and close the record and the runtime; returns the summary."""
        try:
            summary = self.summary(result, **sections)
            self.record.summary(summary)
        finally:
            self.record.close()
            self.runtime.close()
        return summary

    def abort(self, interrupted: bool = False) -> None:
        """Stop inside a tick: keep only whole ticks (no checkpoint of the unfinished one), and
        with `interrupted` a summary of them without a digest."""
        self.record.rewind()
        if interrupted:
            rt = self.runtime
            result = RunResult(
                rt.completed, "", rt.totals, rt.last, 0.0, True, rt.recoveries, rt.checkpoints,
                rt.figures,
            )  # fmt: skip
            summary = result.summary(rt.scenario, rt.n_shards, rt.name)
            summary["state_digest"] = None  # the shards stand half-way through a tick
            summary["interrupted"] = "inside a tick"
            self.record.summary(summary)
        self.record.close()
        self.runtime.close()

    def close_exporter(self, linger: float) -> bool:
        """Wait up to `linger` seconds for one more scrape, then stop serving metrics; False
        if no scrape came."""
        if self.exporter is None:
            return True
        try:
            return linger <= 0 or self.exporter.wait_for_scrape(linger)
        finally:
            self.exporter.close()
