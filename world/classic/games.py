"""Which shard plays which classic game, and what each game's run reports (summary.json's
`results`, from the counts its shards returned).

A run's results describe the rounds it played (world/classic/results.py says how): each
game's results hold `played.rounds`, and `results_of` adds to `played` the game's length
(`of`), the ticks played and whether the game `finished` (every round of it in the counts).
A game that did not finish, because the run had fewer ticks than it needs (`--ticks`) or was
stopped, also gets a `note` saying so in one line; the driver then marks the summary
`stopped_early` (actors/drive/driver.py).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from world.classic.base import ClassicShard, ticks_played
from world.classic.config import (
    DonationGame,
    Evolution,
    IteratedDilemma,
    PublicGoodsGame,
    TrustGame,
)
from world.classic.donation import DonationShard, donation_results
from world.classic.evolution import EvolutionShard
from world.classic.evolution_results import evolution_results
from world.classic.ipd import DilemmaShard
from world.classic.public_goods import PublicGoodsShard, public_goods_results
from world.classic.results import dilemma_results
from world.classic.trust import TrustShard, trust_results
from world.scenario import Scenario

SHARDS: dict[type, type[ClassicShard]] = {
    IteratedDilemma: DilemmaShard,
    DonationGame: DonationShard,
    PublicGoodsGame: PublicGoodsShard,
    TrustGame: TrustShard,
    Evolution: EvolutionShard,
}


def shard_class(game: Any) -> type[ClassicShard]:
    """The shard that plays `game` (a section of world/classic/config.py)."""
    return SHARDS[type(game)]


def results_of(scenario: Scenario, counts: Counter[str]) -> dict[str, Any]:
    """The results of the scenario's classic game, from the counts its shards returned: those
    of the rounds played, with how far the game went (`played`) and, if it did not finish, a
    note."""
    game = scenario.classic
    if isinstance(game, IteratedDilemma):
        results = dilemma_results(game, counts)
    elif isinstance(game, DonationGame):
        results = donation_results(game, scenario.norm, counts)
    elif isinstance(game, PublicGoodsGame):
        results = public_goods_results(game, counts)
    elif isinstance(game, Evolution):
        results = evolution_results(scenario, counts)
    else:
        assert isinstance(game, TrustGame)
        results = trust_results(game, counts)
    return played(game, counts, results)


def played(game: Any, counts: Counter[str], results: dict[str, Any]) -> dict[str, Any]:
    """`results` with `played` completed (the game's length, the ticks played, whether every
    round is in) and, for a game that did not finish, a `note` saying what they describe."""
    rounds, unit = _length(game)
    done = int(results["played"]["rounds"])
    ticks = ticks_played(counts)
    # an evolution that fixated is over, however many generations it was allowed
    finished = done >= rounds or results.get("fixation_generation") is not None
    results["played"] = {
        **results["played"],
        "of": rounds,
        "ticks": ticks,
        "finished": finished,
    }
    if not finished:
        results["note"] = (
            f"the game stopped after {done} of its {rounds} {unit} (tick {ticks} of the "
            f"{game.ticks_needed()} it needs): these results describe the {done} {unit} played"
        )
    return results


def _length(game: Any) -> tuple[int, str]:
    """How long the game is, and in what."""
    if isinstance(game, IteratedDilemma):
        return game.turns, "turns"
    if isinstance(game, Evolution):
        return game.generations, "generations"
    return game.rounds, "rounds"


def _players(players: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in players.items() if count)


def describe_game(sc: Scenario) -> str:
    """The scenario's classic game in one line: its kind, players and length."""
    game = sc.classic
    if isinstance(game, IteratedDilemma):
        w = f", continuation w {game.continuation:g}" if game.continuation is not None else ""
        noise = f", noise {game.noise:g}" if game.noise else ""
        return (
            f"iterated prisoner's dilemma (ipd), {len(game.players)} players "
            f"({', '.join(game.players)}), {game.repetitions} matches of {game.turns} "
            f"turns per pair{w}{noise}"
        )
    if isinstance(game, DonationGame):
        return (
            f"donation game, {game.characters()} players ({_players(game.players)}), "
            f"{game.rounds} rounds, b {game.benefit:g}, c {game.cost:g}, norm {sc.norm}, "
            f"{game.reputation} reputation, q {game.knowledge:g}"
        )
    if isinstance(game, Evolution):
        mu = f", mutation {game.mutation:g}" if game.mutation else ""
        noise = f", noise {game.noise:g}" if game.noise else ""
        return (
            f"evolution of the iterated prisoner's dilemma, {game.process} process, "
            f"{game.characters()} players ({_players(game.players)}), at most "
            f"{game.generations} generations, a round robin of {game.turns}-turn matches "
            f"each, selection {game.selection:g}{mu}{noise}"
        )
    if isinstance(game, PublicGoodsGame):
        punish = "with" if game.punishment is not None else "without"
        return (
            f"public goods game, {game.groups} groups of {game.group_size()} "
            f"({_players(game.group)}), {game.rounds} rounds, endowment {game.endowment}, "
            f"multiplier {game.multiplier:g}, {punish} punishment"
        )
    assert isinstance(game, TrustGame)
    pairs = sum(game.investors.values())
    return (
        f"trust game, {pairs} investors ({_players(game.investors)}) and {pairs} trustees "
        f"({_players(game.trustees)}), {game.rounds} rounds, endowment {game.endowment}, "
        f"multiplier {game.multiplier}"
    )
