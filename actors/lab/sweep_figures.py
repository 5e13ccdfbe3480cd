"""Which figures a sweep keeps from each run's summary.json: one answer for any scenario.

A village keeps the world's own figures (`FIGURES`: cooperation, trust, betrayals, care ...).
A classic game keeps its results (summary.json's `results`), each named by its path there:
every number at the top (`good_fraction_late`), every number of each strategy's row
(`by_strategy.Discriminator.payoff_per_round`, `investors.Full Trust.payoff_per_round`), and of
a series per round its first, last and mean value (`contributions_first` ...). Numbers that
only repeat the game's rules (`benefit`, `rounds`, a strategy's count of `players`) and sums
that repeat a row (`totals`) are not figures.

`figures_for` is the one place that says which figures a scenario's runs have; the sweep's
rows and statistics, its closing table and the report all take them from it (or from
sweep.json, where a sweep writes them).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

from world.classic.base import TICKS
from world.classic.games import results_of
from world.errors import UserError
from world.scenario import Scenario

#: The figures a village sweep row keeps from a run's summary.json: name -> (section, key,
#: meaning). "totals" are summed over every tick; "final" is the last tick's.
FIGURES: dict[str, tuple[str, str, str]] = {
    "cooperation_rate": ("totals", "cooperation_rate", "share of acts that were cooperative"),
    "final_cooperation_rate": ("final", "cooperation_rate", "cooperation in the last tick"),
    "mean_trust": ("final", "mean_trust", "mean trust at the end"),
    "reputation_accuracy": ("final", "reputation_accuracy", "views of standing that are right"),
    "wealth_gini": ("final", "wealth_gini", "wealth inequality at the end (Gini)"),
    "promises_made": ("totals", "promises_made", "promises made"),
    "promises_kept": ("totals", "promises_kept", "promises kept"),
    "promises_broken": ("totals", "promises_broken", "promises broken"),
    "betrayals": ("totals", "betrayals", "betrayals"),
    "apologies": ("totals", "apologies", "apologies"),
    "forgiveness": ("totals", "forgiveness", "acts of forgiveness"),
    "trades": ("totals", "trades", "trades"),
    "gifts": ("totals", "gifts", "gifts"),
    "care_gifts": ("totals", "care_gifts", "gifts to the vulnerable"),
    "gossip": ("totals", "gossip", "pieces of gossip"),
    "contributions": ("totals", "contributions", "contributions to the group"),
    "free_rides": ("totals", "free_rides", "free rides"),
    "in_need": ("final", "in_need", "characters in need at the end"),
    "hungry": ("final", "hungry", "hungry characters at the end"),
}

#: Figures a village sweep's closing table and report headline show (runs.csv has them all).
HEADLINE = ("cooperation_rate", "mean_trust", "betrayals", "forgiveness", "care_gifts")

#: At most this many headline figures: a classic game's top figures, then each strategy's first.
HEADLINE_SIZE = 6

#: What a key of a classic game's results means (a row's figure adds whose it is).
MEANINGS = {
    "cooperation_rate": "share of moves that cooperated",
    "cooperation_rate_late": "share of moves that cooperated, second half",
    "good_fraction_late": "share in good standing, second half",
    "payoff_per_round": "payoff per round",
    "total": "tournament total payoff, self-play excluded",
    "mean_per_turn": "mean payoff per turn",
    "contribution": "share of the endowment contributed",
    "contributions": "share of the endowment contributed",
    "punishment_points": "punishment points dealt",
    "sent_share": "share of endowments investors sent",
    "returned_share": "share of what trustees held that came back",
    "fixation_generation": "generation one strategy took over (runs that fixated)",
    "fixated": "took over (1) or not (0): the mean over runs is the fixation probability",
    "final_share": "share of the population at the end",
    "mean_share": "share of the population, mean over generations",
}

#: Numbers of a classic game's results that some runs have and others not (None there): an
#: evolution's generation of fixation, which a game played to its end by nobody lacks.
SOMETIMES = frozenset({"fixation_generation"})

#: The values of a per-round series a figure can take, and what each is.
SERIES = {"first": "first round", "last": "last round", "mean": "mean over rounds"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Figure:
    """One number a sweep keeps from each run: where it is in summary.json, and what it means."""

    name: str
    meaning: str
    path: tuple[str, ...]
    series: str | None = None  # of a per-round list: its first, last or mean value

    def __post_init__(self) -> None:
        if not self.path:
            raise ValueError(f"figure {self.name!r} has no path into summary.json")
        if self.series is not None and self.series not in SERIES:
            raise ValueError(
                f"figure {self.name!r}: series {self.series!r} is not one of {', '.join(SERIES)}"
            )

    def read(self, summary: dict[str, Any]) -> float | None:
        """Its value in a run's summary, or None where that run has no such number (a strategy
        no one played at this grid point)."""
        node: Any = summary
        for key in self.path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        if self.series is not None:
            if not isinstance(node, list) or not node:
                return None
            node = {"first": node[0], "last": node[-1], "mean": math.fsum(node) / len(node)}[
                self.series
            ]
        return float(node) if _number(node) else None


@dataclasses.dataclass(frozen=True)
class Figures:
    """The figures of a scenario's runs, in order, and the few that tables show first."""

    figures: tuple[Figure, ...]
    headline: tuple[str, ...]

    def __post_init__(self) -> None:
        missing = [h for h in self.headline if h not in self.names]
        if missing:
            raise ValueError(f"headline figures {missing} are not among the figures")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.figures)

    @property
    def meanings(self) -> dict[str, str]:
        return {f.name: f.meaning for f in self.figures}

    def of(self, summary: dict[str, Any]) -> dict[str, float]:
        """A run's figures, read from its summary.json (those it has)."""
        values = {f.name: f.read(summary) for f in self.figures}
        return {name: v for name, v in values.items() if v is not None}

    def chosen(self, text: str | None) -> tuple[str, ...]:
        """The figures `--show a,b` names (each checked), or the headline ones."""
        if text is None:
            return self.headline
        names = tuple(n.strip() for n in text.split(",") if n.strip())
        for name in names:
            if name not in self.names:
                raise UserError(f"--show: no figure {name!r}; figures: {', '.join(self.names)}")
        return names or self.headline


VILLAGE = Figures(
    tuple(Figure(name=n, meaning=m, path=(s, k)) for n, (s, k, m) in FIGURES.items()),
    HEADLINE,
)


def figures_of(summary: dict[str, Any]) -> dict[str, float]:
    """A village run's sweep figures, read from its summary.json."""
    return VILLAGE.of(summary)


def figures_for(scenarios: Iterable[Scenario]) -> Figures:
    """The figures the runs of these scenarios have: the village's, or a classic game's
    results (all the figures any of them has, in order of first appearance)."""
    found: dict[str, Figure] = {}
    headline: list[str] = []
    for sc in scenarios:
        one = _classic(sc) if sc.classic is not None else VILLAGE
        found.update((f.name, f) for f in one.figures if f.name not in found)
        headline.extend(h for h in one.headline if h not in headline)
    if not found:
        return VILLAGE
    return Figures(tuple(found.values()), tuple(headline[:HEADLINE_SIZE]))


def _classic(scenario: Scenario) -> Figures:
    """A classic game's figures: the numbers of its results, found by computing the results
    of a game played to its end in which nobody did anything (same keys, same strategies,
    every round's entry)."""
    assert scenario.classic is not None
    rules = set(type(scenario.classic).model_fields) | {"players"}
    results = results_of(scenario, Counter({TICKS: scenario.classic.ticks_needed()}))
    top: list[Figure] = []
    rows: list[Figure] = []
    firsts: list[str] = []
    for key, value in results.items():
        if key in rules and not isinstance(value, dict):  # a rule, not a result
            continue
        if _number(value) or key in SOMETIMES:
            top.append(Figure(name=key, meaning=_meaning(key), path=("results", key)))
        elif isinstance(value, list) and value and all(_number(v) for v in value):
            top.extend(
                Figure(
                    name=f"{key}_{s}",
                    meaning=f"{_meaning(key)}, {SERIES[s]}",
                    path=("results", key),
                    series=s,
                )
                for s in SERIES
            )
        elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            for who, row in value.items():
                mine = [
                    Figure(
                        name=f"{key}.{who}.{k}",
                        meaning=f"{_meaning(k)}: {_whose(key, who)}",
                        path=("results", key, who, k),
                    )
                    for k, v in row.items()
                    if k not in rules and _number(v)
                ]
                rows.extend(mine)
                firsts.extend(f.name for f in mine[:1])
    names = [f.name for f in top] + firsts
    return Figures(tuple(top + rows), tuple(names[:HEADLINE_SIZE]))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _meaning(key: str) -> str:
    return MEANINGS.get(key, key.replace("_", " "))


def _whose(table: str, who: str) -> str:
    if table == "by_strategy":
        return f"{who} players"
    return f"{table} playing {who}"  # investors playing Full Trust
