"""A served world: the in-process runtime with the hall as its decide hook, the WorldService in
front of it, and the clock that starts ticks (on an interval, when every player is done, or
when the operator steps a paused world).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actors.cluster.connect import ActorPlacement, auto_shards, connect
from actors.cluster.coordinator import RayRuntime
from actors.cluster.gateway_actor import Gateways
from actors.drive.driver import Driver
from actors.drive.exporter import RunExporter
from actors.served.hall import Hall
from actors.served.service import Control, Guard, WorldService, start_server, threads_for
from actors.served.tokens import OPERATOR, read_tokens, viewer_token, write_tokens
from actors.served.view.live import LiveView, ViewPlace, open_view
from actors.served.view.server import Keys, Powers
from actors.served.view.watch import Locked
from protos import world_service_pb2 as wpb
from world.errors import UserError
from world.events import events_state
from world.journal_mode import FULL, JournalMode
from world.player_record import PlayerLog
from world.record import RunRecord, check_new_folder
from world.runtime import Decide, LocalRuntime, Runtime
from world.scenario import Scenario
from world.self_view import self_view
from world.shard import Shard
from world.shard_base import home


@dataclasses.dataclass(frozen=True, kw_only=True)
class Serving:
    """How a world is served (the flags of `socius serve`)."""

    host: str = "127.0.0.1"
    port: int = 0
    tick_interval: float = 2.0
    player_wait: float = 30.0
    tokens: Path | None = None  # read if it exists, else written (default: OUT/tokens.json)
    tls: tuple[bytes, bytes] | None = None  # (certificate, key), PEM
    rate_limit: float = 20.0
    checkpoint_every: int = 10
    paused: bool = False
    metrics_port: int | None = None  # serve the run's Prometheus metrics here (0: any port)
    metrics_host: str = "127.0.0.1"
    journal: JournalMode = FULL  # what the run's journal keeps
    view_port: int | None = None  # serve the world's page for browsers here (0: any port)
    view_host: str = "127.0.0.1"
    #: where the shards live: "local" (this process) or "ray" (shard actors, with the hall in
    #: this process; `address` is Ray's, None: a local Ray instance)
    runtime: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        if self.tick_interval < 0 or self.player_wait < 0:
            raise ValueError("tick_interval and player_wait are 0 or more seconds")
        if self.rate_limit <= 0:
            raise ValueError(f"rate_limit must be above 0, not {self.rate_limit}")


class Clock:
    """The serving loop: when ticks start, and the operator's pause, resume and step."""

    def __init__(self, driver: Driver, hall: Hall, interval: float, target: int) -> None:
        self.driver = driver
        self.runtime = driver.runtime
        self.hall = hall
        self.interval = interval
        self.target = target
        self.paused = False
        self.steps = 0  # ticks to run while paused
        self.stop = False
        self.guard: Guard | None = None

    def pause(self) -> None:
        with self.hall.cond:
            self.paused = True
            self.hall.cond.notify_all()

    def resume(self) -> None:
        with self.hall.cond:
            self.paused = False
            self.hall.cond.notify_all()

    def step(self, ticks: int) -> None:
        with self.hall.cond:
            if not self.paused:
                raise RuntimeError("Step runs ticks of a paused world; Pause first")
            self.steps += ticks
            self.hall.cond.notify_all()

    def status(self) -> wpb.WorldStatus:
        with self.hall.cond:
            rt, hall = self.runtime, self.hall
            claimed = hall.claimed()
            return wpb.WorldStatus(
                scenario=rt.scenario.name,
                tick=rt.completed,
                ticks=self.target,
                paused=self.paused,
                ended=hall.ended,
                characters=rt.scenario.population.size,
                seats=[
                    wpb.Seat(
                        character=c,
                        claimed=c in claimed,
                        connected=c in claimed and hall.sessions[c].streams > 0,
                    )
                    for c in sorted(hall.playable)
                ],
                figures={k: float(v) for k, v in rt.figures(rt.last).items()},
                requests=dict(self.guard.counts) if self.guard else {},
            )

    def _may_start(self, since: float) -> bool:
        if self.stop:
            return True
        if self.paused:
            return self.steps > 0
        return time.monotonic() - since >= self.interval or self.hall.all_ready()

    def run(self) -> None:
        """Tick until the target, a stop or Ctrl-C (a tick runs under the hall's world lock)."""
        hall = self.hall
        since = time.monotonic() - self.interval
        while self.runtime.completed < self.target and not self.stop:
            with hall.cond:
                while not self._may_start(since):
                    hall.cond.wait(0.05)
                if self.stop:
                    break
                if self.paused:
                    self.steps -= 1
            since = time.monotonic()
            hall.run_tick(self.driver.step)
            hall.tick_ended(self.runtime.completed)


class ServedWorld:
    """A world open to players: `open`, then `run` (until its ticks are done or `stop`), then
    `close` (which writes the run folder's summary and players.json)."""

    def __init__(
        self,
        sc: Scenario,
        out: Path,
        how: Serving,
        mind: Decide | None = None,
        model: dict[str, Any] | None = None,
        gateways: Gateways | None = None,
    ) -> None:
        """`mind` decides for every character first (the LLM mind: inference.connect's
        InProcessModel), `model` says where its model is (drive.launch.model_options); without
        a mind, each shard's own minds decide. On Ray the model is asked from the shard actors
        through `gateways` instead (no `mind`)."""
        if sc.players is None:
            raise UserError(
                f"scenario {sc.name} has no players section, so nobody can join; add one, "
                f"e.g. `players: {{playable: 3}}` or `players: {{playable: [0, 12]}}`"
            )
        if sc.thinks_with_model() and mind is None and gateways is None:
            raise UserError(
                f"scenario {sc.name} gives characters the llm mind; say where the model is: "
                f"--llm-endpoint URL[,URL...], --llm-engine MODEL_DIR or --llm-replay RUN"
            )
        self.scenario, self.out, self.how = sc, out, how
        playable = sc.players.ids(sc.population.size)
        check_new_folder(out)
        self.token_file = how.tokens or out / "tokens.json"
        supplied = how.tokens is not None and self.token_file.exists()
        tokens = read_tokens(self.token_file, playable) if supplied else {}
        ray_ = how.runtime == "ray"
        if ray_:
            cpus = connect(how.address).get("CPU", 1)
        n = sc.shards or (auto_shards(sc, cpus, ActorPlacement()) if ray_ else 1)
        self.record = RunRecord(out, sc, n, journal=how.journal, journals=not ray_)
        if not supplied:
            tokens = write_tokens(self.token_file, playable)
        self.tokens = tokens  # token -> character (OPERATOR for the operator's)
        held = set(tokens.values())
        self.hall = Hall(
            sc, [c for c in playable if c in held], how.player_wait, inner=mind, log=PlayerLog(out)
        )
        self.runtime: Runtime
        #: the village's shards as they stand: in this process, or copies of the actors' states
        self.shards: Callable[[], list[Shard]]
        if ray_:
            try:
                ray_runtime = RayRuntime(
                    sc, n, self.record, how.checkpoint_every, llm=gateways, seats=self.hall
                )
            except BaseException:
                self.record.close()
                self.hall.close()
                raise
            self.runtime, self.shards = ray_runtime, ray_runtime.copies
        else:
            local = LocalRuntime(sc, n, self.record, how.checkpoint_every, decide=self.hall)
            for shard in local.villages:
                shard.visits = self.hall.visits  # players who seek someone out
            self.runtime, self.shards = local, lambda: local.villages
        self.runtime.options = {"runtime": how.runtime, "serve": True, "llm": model}
        self.guard = Guard(tokens, how.rate_limit)
        try:
            self.exporter = (
                RunExporter(how.metrics_port, how.metrics_host, how.runtime)
                if how.metrics_port is not None
                else None
            )
        except BaseException:
            self._undo()
            raise
        self.driver = Driver(self.runtime, self.record, self.exporter)
        self.clock = Clock(self.driver, self.hall, how.tick_interval, sc.ticks)
        self.clock.paused = how.paused
        self.clock.guard = self.guard
        self.service = service = WorldService(
            self.hall,
            self.guard,
            Control(
                self.clock.status,
                self.clock.pause,
                self.clock.resume,
                self.clock.step,
                self._intervene,
            ),
            self._info,
            lambda c: self_view(home(self.shards(), c), c),
            sc.population.size,
            sc.ticks,
            how.tick_interval,
        )
        try:
            self.server, self.port = start_server(
                service, how.host, how.port, how.tls, workers=threads_for(len(playable))
            )
        except RuntimeError as err:
            self._undo()
            raise UserError(
                f"--grpc-port {how.port}: cannot listen on {how.host}:{how.port} ({err}); "
                f"choose a free port, or 0 for any"
            ) from None
        self.view: LiveView | None = None
        if how.view_port is not None:
            try:
                self.view = self._open_view(how.view_port)
            except BaseException:
                self.server.stop(grace=0)
                self._undo()
                raise

    def _undo(self) -> None:
        """Release what a start that failed half-way holds: the record, the shard actors (on
        Ray), the hall (with its mind)."""
        self.record.close()
        if isinstance(self.runtime, RayRuntime):
            self.runtime.close()
        self.hall.close()

    def _open_view(self, port: int) -> LiveView:
        """The browser's view beside the service: players play through the service, the
        operator steers the clock."""
        operator = next(t for t, c in self.tokens.items() if c == OPERATOR)
        view = open_view(
            self.scenario,
            self.shards,
            lambda stats: self.runtime.figures(stats),
            Locked(self.hall.world),
            Keys.of(self.tokens, viewer_token(self.token_file)),
            operator,
            ViewPlace(port, self.how.view_host, self.how.tls),
            Powers(service=self.service, interval=self._interval),
            world={"runtime": self.how.runtime, "live": True, "served": True},
            folder=self.out,
        )
        self.driver.watchers.append(view.watch.ticked)
        return view

    def _intervene(self, data: dict[str, Any]) -> tuple[int, Any]:
        """An operator's event, between ticks, recorded for replay."""
        with self.hall.world:
            event = self.runtime.intervene(data)
            if self.hall.log is not None:
                self.hall.log.intervention(self.runtime.completed + 1, events_state([event])[0])
            return len(self.runtime.events) - 1, event

    def _interval(self, seconds: float) -> None:
        with self.hall.cond:
            self.clock.interval = seconds
            self.hall.cond.notify_all()

    def _info(self, character: int) -> tuple[int, int]:
        shard = home(self.shards(), character)
        lo = shard.placement.row_of(character)
        return int(shard.chars.role[lo]), int(shard.chars.group[lo])

    def run(self) -> None:
        if self.how.checkpoint_every:
            self.runtime.checkpoint()
        self.clock.run()
        self.runtime.final_checkpoint()

    def stop(self) -> None:
        """Stop after the current tick, without waiting further for players."""
        self.clock.stop = self.hall.hurry = True

    def close(self) -> dict[str, Any]:
        """End the streams, stop serving, write the summary; returns it."""
        reason = "the world stopped" if self.clock.stop else "the world ran all its ticks"
        self.hall.end(reason)
        if self.view is not None:
            self.view.close(reason)
        self.service.closing()
        time.sleep(0.3)  # let the streams deliver the end
        self.server.stop(grace=1.0).wait()
        self.driver.close_exporter(0)
        rt = self.runtime
        players = {
            "playable": sorted(self.hall.playable),
            "decisions": rt.totals.c["player_decisions"],
            "answers": rt.totals.c["player_answers"],
            "defaults": rt.totals.c["player_defaults"],
            "requests": dict(sorted(self.guard.counts.items())),
        }
        text = json.dumps(players, indent=1) + "\n"
        (self.out / "players.json").write_text(text, encoding="utf-8")
        return self.driver.finish(self.driver.result(stopped=self.clock.stop), players=players)
