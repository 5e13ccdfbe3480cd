"""The `classic:` section of a scenario: which classic game the world plays, and its rules.

One small validated section per kind, told apart by `kind`. Each says how many characters it
needs (`characters`) and how many ticks a whole game takes (`ticks_needed`); the scenario fills
`population.size` and `ticks` from them when they are not given.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from world.classic.memory_one import AXELROD_PAYOFFS, RSTP, MemoryOne
from world.classic.strategies import (
    DONATION_STRATEGIES,
    INVESTOR_STRATEGIES,
    PUBLIC_GOODS_STRATEGIES,
    STRATEGY_NAMES,
    TRUSTEE_STRATEGIES,
    resolve,
)

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Payoffs(_Section):
    """A round of the prisoner's dilemma, row player's payoff (Axelrod's values by default)."""

    R: float = Field(3.0, description="reward: both cooperate")
    S: float = Field(0.0, description="sucker's payoff: I cooperate, the other defects")
    T: float = Field(5.0, description="temptation: I defect, the other cooperates")
    P: float = Field(1.0, description="punishment: both defect")

    def rstp(self) -> RSTP:
        return RSTP(R=self.R, S=self.S, T=self.T, P=self.P)

    @model_validator(mode="after")
    def _dilemma(self) -> Payoffs:
        if not self.T > self.R > self.P > self.S:
            raise ValueError(
                f"a prisoner's dilemma needs T > R > P > S; got T={self.T:g}, R={self.R:g}, "
                f"P={self.P:g}, S={self.S:g}"
            )
        if not 2 * self.R > self.T + self.S:
            raise ValueError(
                f"a prisoner's dilemma needs 2R > T + S (mutual cooperation beats taking "
                f"turns); got 2R={2 * self.R:g}, T + S={self.T + self.S:g}"
            )
        return self


class IteratedDilemma(_Section):
    """A round robin of iterated prisoner's dilemmas: every player meets every other player
    `repetitions` times (never itself); each tick is one turn of every match at once.

    A player is its strategy's name in axelrod, with axelrod's parameters where it has any
    (world/classic/memory_one.py): "Tit For Tat", "GTFT", "GTFT(0.1)", "Random(p=0.3)",
    "ZD-Extort-2(phi=1/9, s=0.5)", or any memory-one strategy as "Memory One(CC, CD, DC, DD)",
    the chances of cooperating after each outcome of the last turn (its own move first), with
    "start=..." the chance of cooperating first (1 unless given)."""

    kind: Literal["ipd"]
    # before the players: the vectors of GTFT and the zero-determinant strategies use them
    payoffs: Payoffs = Payoffs()
    players: list[str] = Field(
        min_length=2,
        description="one character per entry, named by its strategy: "
        + ", ".join(STRATEGY_NAMES)
        + "; with parameters in parentheses, by position or key=value (axelrod's, e.g. "
        "'GTFT(p=0.1)', 'Random(0.3)', 'ZD-Extort-2(phi=1/9, s=0.5)'); any memory-one "
        "strategy as 'Memory One(CC, CD, DC, DD, start=1)': the chances of cooperating after "
        "each outcome of the last turn, own move first, and on the first move",
    )
    turns: int = Field(200, ge=1, le=1_000_000, description="turns a match lasts (at most)")
    repetitions: int = Field(1, ge=1, le=100_000, description="matches per pair of players")
    continuation: Probability | None = Field(
        None,
        description="w: after each turn the match goes on with this probability (capped at "
        "`turns`); none: every match lasts exactly `turns`",
    )
    noise: Probability = Field(0.0, description="chance that each intended move is flipped")

    @field_validator("players")
    @classmethod
    def _players(cls, v: list[str], info: ValidationInfo) -> list[str]:
        payoffs = info.data.get("payoffs")  # absent when they were refused
        rstp = payoffs.rstp() if isinstance(payoffs, Payoffs) else AXELROD_PAYOFFS
        for spec in v:
            resolve(spec, rstp)
        return v

    def strategies(self) -> list[tuple[int, MemoryOne | None]]:
        """Each player's strategy: its index in STRATEGY_NAMES and, for a memory-one
        strategy, its vector."""
        return [resolve(spec, self.payoffs.rstp()) for spec in self.players]

    def characters(self) -> int:
        return len(self.players)

    def ticks_needed(self) -> int:
        return self.turns + 1  # the last turn's moves arrive, and settle, a tick later


def _roster(v: dict[str, int], allowed: tuple[str, ...], at_least: int) -> dict[str, int]:
    """A count of players per strategy: known strategies, counts not negative, enough."""
    for name, count in v.items():
        if name not in allowed:
            raise ValueError(f"unknown strategy {name!r}; allowed: {', '.join(allowed)}")
        if count < 0:
            raise ValueError(f"{name!r}: a count of players cannot be negative ({count})")
    if sum(v.values()) < at_least:
        raise ValueError(f"the game needs at least {at_least} players; got {sum(v.values())}")
    return v


def _gift_is_worth_its_cost(benefit: float, cost: float) -> None:
    if not benefit > cost:
        raise ValueError(
            f"a donation game needs benefit > cost; got benefit={benefit:g}, cost={cost:g}"
        )


class DonationGame(_Section):
    """Indirect reciprocity: each tick every character is a donor once, to a recipient drawn
    at random; giving costs it `cost` and brings the recipient `benefit`. Observers judge the
    donor under the scenario's `norm`; errors are the scenario's `noise.execution` (e1) and
    `noise.assessment` (e2)."""

    kind: Literal["donation"]
    players: dict[str, int] = Field(
        description="how many characters follow each strategy: " + ", ".join(DONATION_STRATEGIES)
    )
    benefit: float = Field(3.0, gt=0.0, description="b: what the recipient gains")
    cost: float = Field(1.0, gt=0.0, description="c: what the donor pays")
    rounds: int = Field(200, ge=1, le=1_000_000, description="donation rounds (one a tick)")
    reputation: Literal["public", "private"] = Field(
        "public",
        description="public: one shared record everyone reads; private: each observer judges "
        "what it sees, with its own views",
    )
    knowledge: Probability = Field(
        1.0, description="q: chance that a donor knows the recipient's reputation"
    )
    observation: Probability = Field(
        1.0, description="chance that a character observes a given donation (private only)"
    )
    gossip: int = Field(
        0, ge=0, le=64, description="judgements each character tells a random other, a round"
    )

    @field_validator("players")
    @classmethod
    def _players(cls, v: dict[str, int]) -> dict[str, int]:
        return _roster(v, DONATION_STRATEGIES, at_least=2)

    @model_validator(mode="after")
    def _dilemma(self) -> DonationGame:
        _gift_is_worth_its_cost(self.benefit, self.cost)
        return self

    def characters(self) -> int:
        return sum(self.players.values())

    def ticks_needed(self) -> int:
        return self.rounds + 1


class Punishment(_Section):
    """Costly punishment after each round (Fehr and Gächter 2000): a punisher gives a member
    one point per unit that member contributed below the punisher, up to `points`."""

    cost: float = Field(1.0, gt=0.0, description="what a point costs the punisher")
    fine: float = Field(3.0, gt=0.0, description="what a point takes from the punished")
    points: int = Field(10, ge=1, le=1000, description="most points for one member a round")


class PublicGoodsGame(_Section):
    """`groups` groups of the same make-up (`group`: members per strategy, ids contiguous);
    each round every member puts part of its endowment into its group's pot, the pot is
    multiplied by `multiplier` and shared equally among the members."""

    kind: Literal["public_goods"]
    group: dict[str, int] = Field(
        description="members of each group per strategy: " + ", ".join(PUBLIC_GOODS_STRATEGIES)
    )
    groups: int = Field(1, ge=1, le=1_000_000, description="how many groups play")
    endowment: int = Field(20, ge=1, le=1000, description="units each member has a round")
    multiplier: float = Field(1.6, gt=1.0, description="r: the pot is multiplied by this")
    rounds: int = Field(10, ge=1, le=10_000, description="rounds (one a tick)")
    punishment: Punishment | None = Field(None, description="none: no punishment stage")

    @field_validator("group")
    @classmethod
    def _group(cls, v: dict[str, int]) -> dict[str, int]:
        return _roster(v, PUBLIC_GOODS_STRATEGIES, at_least=2)

    @model_validator(mode="after")
    def _dilemma(self) -> PublicGoodsGame:
        if not self.multiplier < self.group_size():
            raise ValueError(
                f"a public goods dilemma needs 1 < multiplier < group size; got multiplier="
                f"{self.multiplier:g} for groups of {self.group_size()}"
            )
        return self

    def group_size(self) -> int:
        return sum(self.group.values())

    def characters(self) -> int:
        return self.groups * self.group_size()

    def ticks_needed(self) -> int:
        # the last round settles a tick later (fines included); its notices arrive one more
        return self.rounds + 2


class TrustGame(_Section):
    """Investor i meets trustee i (ids: the investors first, then the trustees) every round:
    the investor sends part of its endowment, it arrives multiplied, and the trustee returns
    a part of what it holds. A round takes two ticks (send, then return)."""

    kind: Literal["trust"]
    investors: dict[str, int] = Field(
        description="investors per strategy: " + ", ".join(INVESTOR_STRATEGIES)
    )
    trustees: dict[str, int] = Field(
        description="trustees per strategy: " + ", ".join(TRUSTEE_STRATEGIES)
    )
    endowment: int = Field(10, ge=1, le=10_000, description="units an investor has a round")
    multiplier: int = Field(3, ge=1, le=100, description="what the amount sent is multiplied by")
    rounds: int = Field(10, ge=1, le=1_000_000, description="rounds (two ticks each)")

    @field_validator("investors")
    @classmethod
    def _investors(cls, v: dict[str, int]) -> dict[str, int]:
        return _roster(v, INVESTOR_STRATEGIES, at_least=1)

    @field_validator("trustees")
    @classmethod
    def _trustees(cls, v: dict[str, int]) -> dict[str, int]:
        return _roster(v, TRUSTEE_STRATEGIES, at_least=1)

    @model_validator(mode="after")
    def _pairs(self) -> TrustGame:
        if sum(self.investors.values()) != sum(self.trustees.values()):
            raise ValueError(
                f"every investor meets one trustee: {sum(self.investors.values())} investors "
                f"and {sum(self.trustees.values())} trustees"
            )
        return self

    def characters(self) -> int:
        return 2 * sum(self.investors.values())

    def ticks_needed(self) -> int:
        return 2 * self.rounds + 1


class DonationRounds(_Section):
    """A generation of the donation game inside an evolution (`game: donation`): `rounds`
    rounds in which every player is a donor once, to a recipient drawn at random, under one
    public record judged by the scenario's `norm`, with its errors `noise.execution` (e1) and
    `noise.assessment` (e2). Everyone starts each generation in good standing."""

    benefit: float = Field(3.0, gt=0.0, description="b: what the recipient gains")
    cost: float = Field(1.0, gt=0.0, description="c: what the donor pays")
    rounds: int = Field(20, ge=1, le=100_000, description="donation rounds a generation")
    knowledge: Probability = Field(
        1.0, description="q: chance that a donor knows the recipient's reputation"
    )

    @model_validator(mode="after")
    def _dilemma(self) -> DonationRounds:
        _gift_is_worth_its_cost(self.benefit, self.cost)
        return self


#: the fields of an evolution that only its game uses
_DILEMMA_ONLY = ("payoffs", "turns", "continuation", "noise", "payoff")


class Evolution(_Section):
    """Evolutionary dynamics of a classic game (world/classic/evolution.py): a population
    whose strategies change between generations. With `game: dilemma`, each generation every
    pair of players plays one iterated prisoner's dilemma (a round robin, never against
    itself), and a player's payoff is the mean over its matches of its payoff per turn
    (`payoff: per_turn`) or per match (`per_match`); with `game: donation`, the population
    plays the `donation` rounds (indirect reciprocity, public reputations) and a player's
    payoff is its mean per round. Fitness is exp(selection x payoff). Then one player's
    strategy changes:
    `moran` (birth-death: one player reproduces with probability proportional to fitness and
    its offspring replaces a player drawn uniformly, itself included) or `fermi` (a random
    player compares itself with a random other and imitates it with probability
    1 / (1 + exp(-selection x (payoff_other - payoff_self)))). With probability `mutation`
    the newborn (the imitator) takes instead a strategy drawn uniformly from those listed."""

    kind: Literal["evolution"]
    # before the players, which are the strategies of this game
    game: Literal["dilemma", "donation"] = Field(
        "dilemma",
        description="the game each generation plays: dilemma (the iterated prisoner's "
        "dilemma, a round robin) or donation (indirect reciprocity, its `donation` rounds)",
    )
    # before the players: the vectors of GTFT and the zero-determinant strategies use them
    payoffs: Payoffs = Payoffs()
    players: dict[str, int] = Field(
        description="how many players start with each strategy (0: only by mutation); with "
        "game dilemma any strategy of the iterated prisoner's dilemma, with parameters as in "
        "kind ipd: "
        + ", ".join(STRATEGY_NAMES)
        + "; with game donation: "
        + ", ".join(DONATION_STRATEGIES)
    )
    donation: DonationRounds = Field(
        DonationRounds(), description="the rounds of a generation, with game donation"
    )
    process: Literal["moran", "fermi"] = Field(
        "moran",
        description="moran: birth-death, fitness-proportional birth, uniform death; fermi: "
        "pairwise comparison, a random player imitates a random other",
    )
    selection: float = Field(
        1.0, ge=0.0, le=1000.0, description="beta, the intensity of selection (0: neutral)"
    )
    mutation: Probability = Field(
        0.0, description="mu: chance that a newborn takes a random strategy of those listed"
    )
    generations: int = Field(
        1000,
        ge=1,
        le=1_000_000,
        description="generations at most (one a tick); without mutation the run stops "
        "playing once a strategy has taken over",
    )
    turns: int = Field(20, ge=1, le=100_000, description="turns a match lasts (at most)")
    continuation: Probability | None = Field(
        None,
        description="w: after each turn the match goes on with this probability (capped at "
        "`turns`); none: every match lasts exactly `turns`",
    )
    noise: Probability = Field(0.0, description="chance that each intended move is flipped")
    payoff: Literal["per_turn", "per_match"] = Field(
        "per_turn",
        description="a player's payoff: the mean over its matches of its payoff per turn, "
        "or of its match total",
    )

    @field_validator("players")
    @classmethod
    def _players(cls, v: dict[str, int], info: ValidationInfo) -> dict[str, int]:
        payoffs = info.data.get("payoffs")
        rstp = payoffs.rstp() if isinstance(payoffs, Payoffs) else AXELROD_PAYOFFS
        donation = info.data.get("game") == "donation"
        for spec, count in v.items():
            if donation and spec not in DONATION_STRATEGIES:
                raise ValueError(
                    f"unknown strategy {spec!r} of the donation game; allowed: "
                    + ", ".join(DONATION_STRATEGIES)
                )
            if not donation:
                resolve(spec, rstp)
            if count < 0:
                raise ValueError(f"{spec!r}: a count of players cannot be negative ({count})")
        if sum(v.values()) < 2:
            raise ValueError(f"a population needs at least 2 players; got {sum(v.values())}")
        if len(v) > 100:
            raise ValueError(f"at most 100 strategies; got {len(v)}")
        return v

    @model_validator(mode="after")
    def _one_game(self) -> Evolution:
        """Settings of the other game are refused, not ignored (a setting at its default is
        no setting: a scenario written out holds every field)."""

        def changed(field: str) -> bool:
            return bool(getattr(self, field) != type(self).model_fields[field].default)

        if self.game == "donation":
            given = [f for f in _DILEMMA_ONLY if changed(f)]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: settings of game dilemma; with game donation the "
                    "rounds are set under `donation:` and the errors by the scenario's `noise`"
                )
        elif changed("donation"):
            raise ValueError("donation: settings of game donation; add `game: donation`")
        return self

    def names(self) -> tuple[str, ...]:
        """The strategies, in the order listed (a player's strategy is an index of it)."""
        return tuple(self.players)

    def strategies(self) -> list[tuple[int, MemoryOne | None]]:
        """Each listed strategy: its index in STRATEGY_NAMES and its memory-one vector."""
        return [resolve(spec, self.payoffs.rstp()) for spec in self.players]

    def characters(self) -> int:
        return sum(self.players.values())

    def ticks_needed(self) -> int:
        return self.generations + 1  # the last generation's update lands a tick later


Classic = Annotated[
    IteratedDilemma | DonationGame | PublicGoodsGame | TrustGame | Evolution,
    Field(discriminator="kind"),
]
KINDS: dict[str, type[_Section]] = {
    "ipd": IteratedDilemma,
    "donation": DonationGame,
    "public_goods": PublicGoodsGame,
    "trust": TrustGame,
    "evolution": Evolution,
}
