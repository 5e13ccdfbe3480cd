"""A world's runtime, built as asked: in this process or on Ray, with its model, its recorded
players and its run record.

What was asked is kept as plain data (`Launch.options`, saved in every checkpoint's manifest)
so that `socius resume` builds the same runtime again unless told otherwise.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from actors.cluster.connect import ActorPlacement, auto_shards, connect
from actors.cluster.coordinator import RayRuntime
from actors.cluster.gateway_actor import Gateways
from inference.backends.base import BackendUnavailable
from inference.connect import InProcessModel, Target, api_keys
from inference.traces import check_traces
from inference.train import check_adapter
from world.errors import UserError
from world.journal_mode import FULL, JournalMode
from world.player_record import RecordedPlayers, read_players
from world.record import RunRecord
from world.runtime import Decide, LocalRuntime, Runtime
from world.scenario import Scenario
from world.store import Store


@dataclasses.dataclass(frozen=True, kw_only=True)
class Launch:
    """How a run is to be started: its runtime, placement, model and recorded players (flags,
    else what the run used before when it is resumed, else the defaults)."""

    runtime: str = "ray"  # "ray" or "local"
    address: str | None = None  # the Ray cluster (None: a local Ray instance)
    placement: str = "pack"
    actor_cpus: float | None = None
    actor_resources: dict[str, float] = dataclasses.field(default_factory=dict)
    tick_timeout: float | None = None  # seconds a tick on Ray may take (None: no limit)
    #: where the model is: {"kind": openai|engine|replay, "where": [...], "model",
    #: "replicas", "concurrency"}, or None
    llm: dict[str, Any] | None = None
    players_replay: str | None = None  # a served run whose players act again
    #: what a new run's journal keeps (a resumed run keeps what its folder says it kept)
    journal: JournalMode = FULL

    def __post_init__(self) -> None:
        if self.runtime not in ("ray", "local"):
            raise UserError(f"runtime {self.runtime!r} is not ray or local")

    @property
    def options(self) -> dict[str, Any]:
        """As saved in a checkpoint's manifest (the address is not: a resumed run may be
        somewhere else)."""
        return {
            "llm": self.llm,
            "players_replay": self.players_replay,
            "runtime": self.runtime,
            "placement": self.placement,
            "actor_cpus": self.actor_cpus,
            "actor_resources": dict(self.actor_resources),
            "tick_timeout": self.tick_timeout,
        }

    def model_target(self, sc: Scenario) -> Target | None:
        """Where the model is, checked against the scenario (None: no model)."""
        return llm_target(sc, self.llm)


def model_options(
    endpoint: list[str] | None,
    engine: Path | None,
    replay: Path | None,
    model: str | None,
    replicas: int | None,
    concurrency: int | None,
    key_env: list[str] | None = None,
) -> dict[str, Any] | None:
    """Where the model is, as --llm-endpoint, --llm-engine or --llm-replay say (paths resolved
    where `socius` runs), or None. For endpoints, `key_env` names the variables holding their
    API keys (--llm-api-key-env): the names are kept with the run, the keys never."""
    if endpoint:
        where = {"kind": "openai", "where": list(endpoint), "key_env": key_env}
    elif engine is not None:
        where = {"kind": "engine", "where": [str(engine.resolve())]}
    elif replay is not None:
        where = {"kind": "replay", "where": [str(replay.resolve())]}
    else:
        return None
    return {**where, "model": model, "replicas": replicas, "concurrency": concurrency or 64}


def endpoint_keys(names: list[str] | None, endpoints: int, flag: str) -> tuple[str, ...]:
    """The endpoints' API keys from the environment variables `names` (`flag` says them),
    as `inference.connect.api_keys` reads them; a missing one is the user's error."""
    try:
        return api_keys(names, endpoints, flag)
    except BackendUnavailable as err:
        raise UserError(str(err)) from None


def llm_target(sc: Scenario, llm: dict[str, Any] | None) -> Target | None:
    """Where the model is (an `inference.connect.Target`), checked against the scenario."""
    if llm is None:
        if sc.thinks_with_model():
            raise UserError(
                f"scenario {sc.name} gives characters the llm mind; say where the model is: "
                f"--llm-endpoint URL[,URL...], --llm-engine MODEL_DIR or --llm-replay RUN"
            )
        return None
    if not sc.thinks_with_model():
        raise UserError(
            f"no character of scenario {sc.name} thinks with a model (population.minds has no "
            f"llm share); drop the --llm-... flag or give the llm mind a share"
        )
    if llm["kind"] == "replay":
        check_traces(Path(llm["where"][0]))
    if llm["kind"] == "engine":
        for a in sc.llm.adapters:
            if not a.path:
                raise UserError(
                    f"llm.adapters: adapter {a.name} has no path; with --llm-engine the engine "
                    f"loads each adapter from its folder (socius train writes one)"
                )
            check_adapter(Path(llm["where"][0]), Path(a.path))
    keys: tuple[str, ...] = ()
    if llm["kind"] == "openai":
        keys = endpoint_keys(llm.get("key_env"), len(llm["where"]), "--llm-api-key-env")
    return Target(
        llm["kind"],
        tuple(llm["where"]),
        model=llm.get("model"),
        concurrency=llm["concurrency"],
        adapters=tuple(dict((a.name, a.path) for a in sc.llm.adapters).items()),
        api_keys=keys,
    )


def in_process_minds(
    sc: Scenario,
    target: Target | None,
    players: Path | None,
    played: Any,
    n_shards: int,
    folder: Path | None,
) -> tuple[Decide | None, RecordedPlayers | None]:
    """What decides for the characters of an in-process world besides their own minds: the
    model (`target`), and over it the recorded players of a served run (`players`, whose
    record `played` is already read); the second is the players, whose `visits` each shard
    needs. `folder` receives the model's traces (None: none kept)."""
    model = InProcessModel.of(sc, target, n_shards, folder) if target is not None else None
    if players is None:
        return model, None
    recorded = RecordedPlayers(players, inner=model, ticks=played)
    return recorded, recorded


def recorded_minds(run: Path, sc: Scenario, n_shards: int) -> Decide | None:
    """What decided in a recorded run besides the characters' own minds, answering again as
    it did: its model's recorded answers (traces/) and its players (players.jsonl)."""
    target = None
    if sc.thinks_with_model():
        llm = model_options(None, None, run, None, None, None)
        target = llm_target(sc, llm)
    players = run / "players.jsonl"
    if not players.is_file():
        return in_process_minds(sc, target, None, None, n_shards, None)[0]
    return in_process_minds(sc, target, players, read_players(players), n_shards, None)[0]


def build_runtime(
    launch: Launch,
    sc: Scenario,
    folder: Path,
    shards: int | None,
    checkpoint_every: int,
    resume: bool,
    store: Store | None = None,
) -> tuple[Runtime, RunRecord]:
    """The runtime `launch` asks for, with its run record (created, or reopened to resume).
    Everything that can refuse (a model that cannot start, a damaged record of players) is
    tried before the run folder is made."""
    target = launch.model_target(sc)
    players = Path(launch.players_replay) if launch.players_replay else None
    played = read_players(players) if players is not None else None
    runtime: Runtime
    if launch.runtime == "local":
        n = shards or sc.shards or 1
        decide, recorded = in_process_minds(sc, target, players, played, n, folder)
        record = RunRecord(folder, sc, n, resume=resume, journal=launch.journal, store=store)
        local = LocalRuntime(sc, n, record, checkpoint_every, decide=decide)
        if recorded is not None:
            for shard in local.villages:
                shard.visits = recorded.visits
            for event in recorded.events:
                local.intervene(event)
        runtime = local
    else:
        placement = ActorPlacement(
            strategy=launch.placement.upper(),
            cpus=launch.actor_cpus,
            resources=launch.actor_resources,
            tick_timeout=launch.tick_timeout,
        )
        resources = connect(launch.address)
        n = shards or sc.shards or auto_shards(sc, resources.get("CPU", 1), placement)
        gateways = None
        if target is not None:
            assert launch.llm is not None
            gateways = Gateways.start(sc, target, launch.llm.get("replicas"))
        record = RunRecord(
            folder, sc, n, resume=resume, journals=False, journal=launch.journal, store=store
        )
        try:
            runtime = RayRuntime(
                sc, n, record, checkpoint_every, placement, llm=gateways, players=players
            )
        except BaseException:
            record.close()
            if gateways is not None:
                gateways.stop()
            raise
    runtime.options = launch.options
    return runtime, record
