"""Scenarios: a YAML file, validated by pydantic, that says what world to run.

Every section is a small model whose fields are typed, defaulted, bounded and described; unknown
fields are errors. `load_scenario` turns any problem into one `ScenarioError` that names the
field, what was wrong and what is allowed.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from world.classic.config import KINDS as CLASSIC_KINDS
from world.classic.config import Classic
from world.errors import ScenarioError
from world.events import Event, events_state
from world.events import problem as events_problem
from world.minds.registry import MIND_NAMES
from world.seats import Players
from world.vocab import BOUNDARY_NAMES, NORM_NAMES, ROLE_NAMES, TRAIT_NAMES, Good

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Weight = Annotated[float, Field(ge=0.0)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _keys_in(value: dict[str, Any], allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]!r}; allowed: {', '.join(allowed)}")
    return value


class TraitSpread(Section):
    mean: Probability = Field(0.5, description="mean of the trait, in [0, 1]")
    sd: Annotated[float, Field(ge=0.0, le=1.0)] = Field(0.15, description="spread, clipped")


DEFAULT_TRAITS = {
    "honesty": TraitSpread(mean=0.7, sd=0.2),
    "agreeableness": TraitSpread(mean=0.6, sd=0.2),
    "generosity": TraitSpread(mean=0.5, sd=0.2),
    "vengefulness": TraitSpread(mean=0.4, sd=0.2),
    "expressiveness": TraitSpread(mean=0.5, sd=0.25),
    "empathy": TraitSpread(mean=0.5, sd=0.2),
    "sociability": TraitSpread(mean=0.6, sd=0.2),
}
DEFAULT_ROLES = {
    "farmer": 0.34,
    "smith": 0.08,
    "weaver": 0.08,
    "trader": 0.08,
    "healer": 0.06,
    "elder": 0.08,
    "child": 0.28,
}


class Population(Section):
    size: int = Field(300, gt=0, le=10_000_000, description="number of characters")
    roles: dict[str, Weight] = Field(
        default_factory=lambda: dict(DEFAULT_ROLES), description="relative weight of each role"
    )
    group_size: int = Field(25, ge=2, description="members per group (contiguous ids)")
    groups_per_culture: int = Field(4, ge=1, description="neighbouring groups share a culture")
    traits: dict[str, TraitSpread] = Field(
        default_factory=lambda: dict(DEFAULT_TRAITS), description="trait distributions"
    )
    minds: dict[str, Weight] = Field(
        default_factory=lambda: {"heuristic": 1.0}, description="share of each mind"
    )
    boundaries: dict[str, Probability] = Field(
        default_factory=lambda: {
            "never_breaks_promises": 0.15,
            "never_gossips": 0.1,
            "never_deals_with_betrayers": 0.2,
            "never_refuses_a_child": 0.3,
        },
        description="chance that a character holds each boundary",
    )

    @field_validator("roles")
    @classmethod
    def _roles(cls, v: dict[str, float]) -> dict[str, float]:
        _keys_in(v, ROLE_NAMES, "role")
        if sum(v.values()) <= 0:
            raise ValueError(
                f"the role weights must add up to more than 0; allowed roles: "
                f"{', '.join(ROLE_NAMES)}"
            )
        return v

    @field_validator("traits")
    @classmethod
    def _traits(cls, v: dict[str, TraitSpread]) -> dict[str, TraitSpread]:
        _keys_in(v, TRAIT_NAMES, "trait")
        return {**DEFAULT_TRAITS, **v}

    @field_validator("minds")
    @classmethod
    def _minds(cls, v: dict[str, float]) -> dict[str, float]:
        _keys_in(v, MIND_NAMES, "mind")
        if sum(v.values()) <= 0:
            raise ValueError(
                f"the mind shares must add up to more than 0; minds: {', '.join(MIND_NAMES)}"
            )
        return v

    @field_validator("boundaries")
    @classmethod
    def _boundaries(cls, v: dict[str, float]) -> dict[str, float]:
        return _keys_in(v, BOUNDARY_NAMES, "boundary")


class Economy(Section):
    abundance: float = Field(1.0, gt=0.0, le=100.0, description="multiplies all production")
    endowment: float = Field(1.0, ge=0.0, le=100.0, description="multiplies starting goods")
    spoil_above: int = Field(30, ge=1, description="food beyond this spoils, 10% a tick")
    sickness: Probability = Field(0.01, description="chance a tick of falling sick")


class Encounters(Section):
    rate: Probability = Field(0.8, description="chance a tick that a character meets someone")
    known: Weight = Field(0.4, description="weight of meeting someone already known")
    neighbours: Weight = Field(0.3, description="weight of meeting a neighbour")
    group: Weight = Field(0.2, description="weight of meeting a member of one's group")
    market: Weight = Field(0.1, description="weight of meeting anyone at the market")
    radius: int = Field(3, ge=1, description="neighbours live this many ids either side")


class Information(Section):
    gossip: bool = Field(True, description="characters pass on what they think of others")
    observation_rate: Probability = Field(
        0.2, description="chance that an act is seen by a bystander"
    )
    gossip_weight: Probability = Field(0.5, description="how far one piece of gossip moves a view")
    observation_weight: Probability = Field(
        0.5, description="how far one observed act moves a view (1: replace it)"
    )


class Noise(Section):
    execution: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.02, description="chance that an intended cooperative act fails into defection"
    )
    assessment: Annotated[float, Field(ge=0.0, le=0.5)] = Field(
        0.02, description="chance that an observer judges the opposite of its norm"
    )


class PublicGoods(Section):
    enabled: bool = True
    every: int = Field(5, ge=1, description="ticks between collections")
    multiplier: float = Field(1.6, ge=0.0, description="the pot is multiplied by this")
    amount: int = Field(2, ge=1, description="units a contributor gives")
    good: str = Field("food", description="the good collected")

    @field_validator("good")
    @classmethod
    def _good(cls, v: str) -> str:
        names = tuple(g.name.lower() for g in Good)
        if v not in names:
            raise ValueError(f"unknown good {v!r}; allowed: {', '.join(names)}")
        return v


class Memory(Section):
    relationships: int = Field(24, ge=2, le=512, description="characters each one remembers")
    episodes: int = Field(12, ge=2, le=512, description="events each one remembers")
    grudge_ticks: int = Field(60, ge=1, description="ticks a broken promise stays forgivable")


LLM_DECISIONS = ("all", "salient", "fraction")


class Adapter(Section):
    """A LoRA adapter some characters' model answers with: identity carried in weights as well
    as in the prompt. Give exactly one of characters, role, group or everyone."""

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$",
        description="the adapter's name, as the server serves it (--lora-modules NAME=PATH)",
    )
    path: str = Field(
        "",
        description="the adapter's folder (socius train writes one), for vLLM's engine in "
        "process (--llm-engine); a server is started with it instead",
    )
    characters: list[Annotated[int, Field(ge=0)]] | None = None
    role: str | None = None
    group: Annotated[int, Field(ge=0)] | None = None
    everyone: bool | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Adapter:
        kinds = ("characters", "role", "group", "everyone")
        # `is` not `in`: 0 == False, and group 0 is a group
        given = [k for k in kinds if getattr(self, k) is not None and getattr(self, k) is not False]
        if len(given) != 1:
            raise ValueError(
                f"adapter {self.name}: give exactly one of characters, role, group or everyone "
                f"(given: {', '.join(given) or 'none'})"
            )
        if self.role is not None and self.role not in ROLE_NAMES:
            raise ValueError(
                f"adapter {self.name}: unknown role {self.role!r}; allowed: {', '.join(ROLE_NAMES)}"
            )
        return self


class Language(Section):
    """How characters with the `llm` mind use the language model (where it is served is the
    command line's business: --llm-endpoint, --llm-engine or --llm-replay)."""

    decisions: str = Field(
        "salient",
        description="which decisions of llm characters go to the model: all; salient "
        "(answering a betrayal, a large trade, an apology, a request from someone in need, "
        "anything a player says); or fraction (a share of them, drawn per decision)",
    )
    fraction: Probability = Field(0.25, description="share of decisions sent, for 'fraction'")
    large_trade: int = Field(
        12, ge=0, description="a trade worth at least this (in food) is salient"
    )
    token_budget: int = Field(
        200_000,
        ge=0,
        description="tokens (prompt and answer) the model may spend per tick, shared evenly "
        "among shards; decisions beyond it go to the heuristic mind (0: no limit)",
    )
    max_tokens: int = Field(96, ge=16, le=4096, description="tokens an answer may use")
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    memories: int = Field(3, ge=0, le=32, description="episodes recalled into each prompt")
    words: int = Field(120, ge=0, le=1000, description="characters an utterance may have")
    lore: int = Field(
        0,
        ge=0,
        le=20_000,
        description="words of the world's lore added to the rules: a longer prefix that every "
        "prompt shares (load tests)",
    )
    history: int = Field(
        0,
        ge=0,
        le=20_000,
        description="words of each character's history added to who it is: a longer prefix "
        "per character (load tests)",
    )
    timeout: float = Field(60.0, gt=0.0, description="seconds a request may take")
    retries: int = Field(1, ge=0, le=5, description="resends of a request that failed in transit")
    outcome_ticks: int = Field(
        5, ge=1, description="ticks after a decision at which its consequences are recorded"
    )
    adapters: list[Adapter] = Field(
        default_factory=list,
        description="LoRA adapters by characters, role or group (the first that fits a "
        "character is its own; characters no adapter fits answer with the base model)",
    )

    @field_validator("adapters")
    @classmethod
    def _adapter_names(cls, v: list[Adapter]) -> list[Adapter]:
        paths: dict[str, str] = {}
        for a in v:
            if a.path and paths.setdefault(a.name, a.path) != a.path:
                raise ValueError(f"adapter {a.name} is given two paths; one name, one adapter")
        return v

    @field_validator("decisions")
    @classmethod
    def _decisions(cls, v: str) -> str:
        if v not in LLM_DECISIONS:
            raise ValueError(f"unknown choice {v!r}; allowed: {', '.join(LLM_DECISIONS)}")
        return v


def shards_problem(shards: int, characters: int) -> str | None:
    """Why `shards` cannot hold `characters`, or None when it can."""
    if shards > characters:
        return (
            f"{shards} shards for {characters} characters would leave shards empty; use at "
            f"most {characters} shards"
        )
    return None


class Scenario(Section):
    name: str = Field("world", min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    seed: int = Field(0, ge=0, lt=2**63)
    ticks: int = Field(100, ge=1, le=10_000_000)
    shards: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="shards the characters are split into (none: the runtime chooses: one "
        "in process, a few per CPU on Ray)",
    )
    norm: str = Field("stern_judging", description="how observers judge what they see")
    population: Population = Population()
    economy: Economy = Economy()
    encounters: Encounters = Encounters()
    information: Information = Information()
    noise: Noise = Noise()
    public_goods: PublicGoods = PublicGoods()
    memory: Memory = Memory()
    llm: Language = Language()
    classic: Classic | None = Field(
        None,
        description="play a classic game of cooperation science instead of village life "
        "(kind: " + ", ".join(CLASSIC_KINDS) + "); population.size and ticks follow from it",
    )
    players: Players | None = Field(
        None,
        description="characters people or outside programs may play over gRPC (socius serve)",
    )
    events: list[Event] = Field(
        default_factory=list,
        description="what happens to the world at given ticks: famine, plenty, plague, rumour, "
        "cut_ties, exile, newcomers, norm, windfall, tax (world/events.py)",
    )

    @model_validator(mode="before")
    @classmethod
    def _classic_fills(cls, data: Any) -> Any:
        """A classic game sets the number of characters, and the ticks unless given."""
        if not isinstance(data, dict) or not isinstance(data.get("classic"), dict):
            return data
        kind = CLASSIC_KINDS.get(data["classic"].get("kind"))
        if kind is None:
            return data
        try:
            game: Any = kind.model_validate(data["classic"])
        except ValidationError:
            return data  # reported, with its field, when the section itself is validated
        data = dict(data)
        population = data.get("population")
        if population is None or (isinstance(population, dict) and "size" not in population):
            data["population"] = {**(population or {}), "size": game.characters()}
        data.setdefault("ticks", game.ticks_needed())
        return data

    @model_validator(mode="after")
    def _classic_size(self) -> Scenario:
        if self.classic is not None and self.population.size != self.classic.characters():
            raise ValueError(
                f"population.size: a classic {self.classic.kind} game has one character per "
                f"player, {self.classic.characters()}, not {self.population.size}; leave "
                f"population.size (and --characters) out"
            )
        if self.classic is not None and self.thinks_with_model():
            raise ValueError(
                f"population.minds: the players of a classic {self.classic.kind} game decide by "
                f"their strategies; drop the llm share"
            )
        return self

    @field_validator("norm")
    @classmethod
    def _norm(cls, v: str) -> str:
        if v not in NORM_NAMES:
            raise ValueError(f"unknown norm {v!r}; allowed: {', '.join(NORM_NAMES)}")
        return v

    @model_validator(mode="after")
    def _shards_fit(self) -> Scenario:
        if self.shards is not None:
            problem = shards_problem(self.shards, self.population.size)
            if problem:
                raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _seats_fit(self) -> Scenario:
        if self.players is not None:
            problem = self.players.problem(self.population.size)
            if problem:
                raise ValueError(problem)
            if self.classic is not None:
                raise ValueError(
                    f"players: a classic {self.classic.kind} game cannot be played over gRPC "
                    f"yet; drop the players section"
                )
        return self

    @model_validator(mode="after")
    def _events_fit(self) -> Scenario:
        if self.events and self.classic is not None:
            raise ValueError(
                f"events: a classic {self.classic.kind} game has no village for events to "
                f"happen to; drop the events section"
            )
        problem = events_problem(
            self.events, self.population.size, self.population.group_size, self.ticks
        )
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _adapters_fit(self) -> Scenario:
        size = self.population.size
        groups = -(-size // self.population.group_size)
        for a in self.llm.adapters:
            beyond = [c for c in a.characters or () if c >= size]
            if beyond:
                raise ValueError(
                    f"llm.adapters: adapter {a.name} names character {beyond[0]}, but the "
                    f"characters are 0..{size - 1}"
                )
            if a.group is not None and a.group >= groups:
                raise ValueError(
                    f"llm.adapters: adapter {a.name} names group {a.group}, but the groups are "
                    f"0..{groups - 1}"
                )
        return self

    def thinks_with_model(self) -> bool:
        """Some characters have the `llm` mind."""
        return self.population.minds.get("llm", 0.0) > 0

    def with_overrides(self, **changes: Any) -> Scenario:
        """A copy with top-level or dotted ("population.size") fields replaced and re-validated.

        Changing a classic game (`classic.turns`, `classic.players` ...) derives its characters
        again, and its ticks too where they were derived from the game."""
        data = self.model_dump()
        given = {k for k, v in changes.items() if v is not None}
        if self.classic is not None and any(k.split(".")[0] == "classic" for k in given):
            if "population.size" not in given:
                del data["population"]["size"]
            if "ticks" not in given and self.ticks == self.classic.ticks_needed():
                del data["ticks"]
        for key, value in changes.items():
            if value is None:
                continue
            *path, last = key.split(".")
            node = data
            for part in path:
                node = node[part]
            node[last] = value
        return parse_scenario(data, source="overrides")

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(), sort_keys=False)


def _describe(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    # the classic section's kind is a tag pydantic puts in the path: classic.ipd.turns
    shown = [
        p
        for i, p in enumerate(first["loc"])
        if not (i == 1 and first["loc"][0] == "classic" and p in CLASSIC_KINDS)
    ]
    loc = ".".join(str(p) for p in shown)
    msg = first["msg"]
    if first["type"] == "extra_forbidden":
        parent = first["loc"][:-1]
        model: Any = Scenario
        for part in parent:
            fields = getattr(model, "model_fields", None)
            if fields is not None and str(part) in fields:
                model = fields[str(part)].annotation
                optional = [t for t in typing.get_args(model) if t is not type(None)]
                if len(optional) == 1 and hasattr(optional[0], "model_fields"):
                    model = optional[0]  # an optional section (players)
            elif typing.get_origin(model) is dict:
                model = typing.get_args(model)[1]
            elif str(part) in CLASSIC_KINDS:  # the classic section, by its kind
                model = CLASSIC_KINDS[str(part)]
            else:
                model = None
        allowed = sorted(getattr(model, "model_fields", None) or [])
        msg = f"unknown field; allowed here: {', '.join(allowed)}"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif "input" in first and first["type"] not in ("missing",):
        msg = f"{msg} (got {first['input']!r})"
    more = len(err.errors()) - 1
    tail = f" ({more} more problem{'s' if more > 1 else ''} after this one)" if more else ""
    where = f"{loc}: " if loc else ""
    return f"scenario {source}: {where}{msg}{tail}"


def parse_scenario(data: Any, source: str = "<data>") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(
            f"scenario {source}: expected a mapping of fields (name, seed, population ...), "
            f"got {type(data).__name__}"
        )
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_describe(err, source)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; any problem is one ScenarioError naming the field."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(
            f"scenario file {str(p)!r} not found; give the path of a YAML scenario, "
            f"for example examples/village.yaml"
        )
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ScenarioError(f"scenario {p}: not valid YAML{at}: {problem}") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"scenario {p}: not a UTF-8 text file") from None
    return parse_scenario(data, source=str(p))


def live_event(scenario: Scenario, events: list[Any], data: Any, next_tick: int) -> Any:
    """An event set off while the world runs, checked as the scenario's events are (one line
    naming what is wrong): it starts at `next_tick` or later, and no newcomers (their rows
    exist from the start). Returns the event."""
    if isinstance(data, dict) and data.get("kind") == "newcomers":
        raise ScenarioError(
            "intervention: newcomers join only from the scenario's events (their rows exist "
            "from the start); add them to the scenario instead"
        )
    if isinstance(data, dict) and "tick" not in data and "ticks" not in data:
        data = {**data, "tick": next_tick}
    dumped = scenario.model_dump(by_alias=True, exclude_none=True)
    dumped["events"] = [*events_state(events), data]
    try:
        checked = parse_scenario(dumped, source="intervention")
    except ScenarioError as err:
        raise ScenarioError(str(err).replace(f"events[{len(events)}]", "event")) from None
    event = checked.events[-1]
    if event.first < next_tick:
        raise ScenarioError(
            f"intervention: tick {event.first} has already begun or passed; the next tick "
            f"is {next_tick}"
        )
    return event
