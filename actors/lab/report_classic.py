"""The report of a classic game's run: what the game reports, in words, tables and plots.

The words and numbers are summary.json's `results` (see world/classic/results.py); the plots fit
each kind: a ranking of tournament totals and the payoff matrix for the prisoner's dilemma,
cooperation and standing per strategy for the donation game, contributions per round for the
public goods game, what is sent and returned and what each side earns in the trust game.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from actors.lab import plots, plots_classic
from actors.lab.page import Page
from world.classic.games import describe_game
from world.scenario import Scenario

#: The tables of strategies a game's results hold: key in `results` -> heading.
TABLES = {"by_strategy": "By strategy", "investors": "Investors", "trustees": "Trustees"}


def _payoffs(rows: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{name} {row['payoff_per_round']:.3g}" for name, row in rows.items())


def outcome(results: dict[str, Any]) -> str:
    """What happened in the game, in a few sentences, from its results."""
    r = results
    if r["kind"] == "ipd":
        first, last = r["ranking"][0], r["ranking"][-1]
        s = r["by_strategy"]
        return (
            f"{first} came first with a total of {s[first]['total']:,.6g} "
            f"({s[first]['mean_per_turn']:.3g} a turn), {last} last with "
            f"{s[last]['total']:,.6g} ({s[last]['mean_per_turn']:.3g} a turn); "
            f"{r['cooperation_rate']:.0%} of all moves cooperated."
        )
    if r["kind"] == "donation":
        return (
            f"{r['cooperation_rate']:.0%} of donors gave ({r['cooperation_rate_late']:.0%} in "
            f"the second half); in the second half {r['good_fraction_late']:.0%} of views held "
            f"characters in good standing. Payoff per round: {_payoffs(r['by_strategy'])}."
        )
    if r["kind"] == "public_goods":
        c = r["contributions"]
        punished = f"; punishers dealt {r['punishment_points']:,} points" if r["punishment"] else ""
        return (
            f"Members contributed {c[0]:.0%} of their endowment in the first round and "
            f"{c[-1]:.0%} in the last ({sum(c) / len(c):.0%} on average){punished}. "
            f"Payoff per round: {_payoffs(r['by_strategy'])}."
        )
    if r["kind"] == "evolution":
        over = (
            f"{r['winner']} took over at generation {r['fixation_generation']}"
            if r["winner"] is not None
            else f"no strategy took over in {r['played']['rounds']} generations"
        )
        return f"{over}; {r['cooperation_rate']:.0%} of all moves cooperated."
    return (
        f"Investors sent {r['sent_share']:.0%} of their endowments; trustees returned "
        f"{r['returned_share']:.0%} of what they held. Payoff per round: investors "
        f"{_payoffs(r['investors'])}; trustees {_payoffs(r['trustees'])}."
    )


def game_headline(sc: Scenario, summary: dict[str, Any]) -> str:
    """The game and what happened in it, for the top of the page."""
    results = summary.get("results")
    told = outcome(results) if results else "It has no results: the run did not finish."
    return f"The game: {describe_game(sc)}. {told}"


def classic_report(page: Page, results: dict[str, Any], metrics: dict[str, np.ndarray]) -> None:
    """The game's results on the page: a table of its figures, one per strategy table, and
    the plots of its kind."""
    page.text("h2", "Results")
    scalars = [
        [key.replace("_", " "), f"{value:.6g}" if isinstance(value, float) else value]
        for key, value in results.items()
        if isinstance(value, int | float | str) and not isinstance(value, bool)
    ]
    page.table(["figure", "value"], scalars, left=1)
    for key, heading in TABLES.items():
        rows: dict[str, dict[str, Any]] = results.get(key, {})
        if not rows:
            continue
        page.text("h2", heading)
        order = results.get("ranking", list(rows)) if key == "by_strategy" else list(rows)
        columns = list(next(iter(rows.values())))
        page.table(
            ["strategy", *(c.replace("_", " ") for c in columns)],
            [[name, *(f"{rows[name][c]:.6g}" for c in columns)] for name in order],
            left=1,
        )
    page.text("h2", "Plots")
    PLOTS[results["kind"]](page, results, metrics)


def _cooperation_over_time(
    page: Page, metrics: dict[str, np.ndarray], each: str, last: int
) -> None:
    """Cooperation per tick, a tick a round (or turn) up to the `last`: the tick after it only
    settles the last moves."""
    if not metrics:
        return
    played = metrics["tick"] <= last
    plots.over_time(
        page.image("cooperation.png", f"Share of moves that cooperated, each {each}."),
        metrics["tick"][played],
        {"cooperation rate": metrics["cooperation_rate"][played]},
        "Cooperation",
        "share of moves cooperative",
        (0, 1.02),
        xlabel=each,
    )


def _payoff_bars(page: Page, name: str, rows: dict[str, dict[str, Any]], unit: str) -> None:
    """Each strategy's payoff per round, ranked."""
    plots_classic.ranked_bars(
        page.image(name, "Payoff per round of each strategy's players."),
        {who: row["payoff_per_round"] for who, row in rows.items()},
        "Payoff per round",
        unit,
    )


def _dilemma(page: Page, r: dict[str, Any], metrics: Any) -> None:
    plots_classic.ranked_bars(
        page.image(
            "ipd_totals.png",
            "Tournament totals per strategy (self-play excluded), ranked: the figure axelrod's "
            "tournaments rank by.",
        ),
        {name: s["total"] for name, s in r["by_strategy"].items()},
        "Tournament totals",
        "total payoff against all other players",
    )
    labels = [f"{p['strategy']}" for p in r["players"]]
    if len(set(labels)) < len(labels):
        labels = [f"{p['player']}: {p['strategy']}" for p in r["players"]]
    plots_classic.payoff_matrix(
        page.image(
            "ipd_payoff_matrix.png",
            "Payoff matrix: the row player's mean payoff per turn against the column player.",
        ),
        labels,
        np.array(r["payoff_matrix"]),
        "Mean payoff per turn, row against column",
    )
    plots_classic.grouped_bars(
        page.image("ipd_cooperation.png", "Share of each strategy's moves that cooperated."),
        {name: {"cooperation rate": s["cooperation_rate"]} for name, s in r["by_strategy"].items()},
        "Cooperation per strategy",
        "share of moves cooperative",
        (0, 1.1),
    )
    _cooperation_over_time(page, metrics, "turn", r["turns"])


def _donation(page: Page, r: dict[str, Any], metrics: Any) -> None:
    plots_classic.grouped_bars(
        page.image(
            "donation_by_strategy.png",
            "Per strategy: the share of its donor acts that gave, and the share of views that "
            "held its players in good standing over the second half.",
        ),
        {
            name: {
                "cooperation rate": s["cooperation_rate"],
                "good standing (second half)": s["good_fraction_late"],
            }
            for name, s in r["by_strategy"].items()
        },
        "Cooperation and good standing per strategy",
        "share",
        (0, 1.15),
    )
    _payoff_bars(
        page,
        "donation_payoffs.png",
        r["by_strategy"],
        f"benefit received minus cost paid (b={r['benefit']:g}, c={r['cost']:g})",
    )
    _cooperation_over_time(page, metrics, "round", r["rounds"])


def _public_goods(page: Page, r: dict[str, Any], metrics: Any) -> None:
    c = np.array(r["contributions"], dtype=np.float64)
    plots.over_time(
        page.image(
            "contributions.png", "Mean contribution each round, as a share of the endowment."
        ),
        np.arange(1, len(c) + 1),
        {"contribution": c},
        "Contributions per round" + (" (with punishment)" if r["punishment"] else ""),
        "share of endowment contributed",
        (0, 1.02),
        xlabel="round",
    )
    plots_classic.grouped_bars(
        page.image(
            "public_goods_by_strategy.png", "Per strategy: share of the endowment contributed."
        ),
        {name: {"contribution": s["contribution"]} for name, s in r["by_strategy"].items()},
        "Contribution per strategy",
        "share of endowment contributed",
        (0, 1.1),
    )
    _payoff_bars(
        page,
        "public_goods_payoffs.png",
        r["by_strategy"],
        f"units a round (endowment {r['endowment']})",
    )


def _trust(page: Page, r: dict[str, Any], metrics: Any) -> None:
    plots_classic.grouped_bars(
        page.image(
            "trust_shares.png",
            "What investors sent (share of their endowments) and what trustees returned (share "
            "of what they held).",
        ),
        {
            "sent by investors": {"share": r["sent_share"]},
            "returned by trustees": {"share": r["returned_share"]},
        },
        "Sent and returned",
        "share",
        (0, 1.1),
    )
    payoffs = {f"investor: {n}": s["payoff_per_round"] for n, s in r["investors"].items()}
    payoffs |= {f"trustee: {n}": s["payoff_per_round"] for n, s in r["trustees"].items()}
    plots_classic.ranked_bars(
        page.image("trust_payoffs.png", "Payoff per round of each strategy, on each side."),
        payoffs,
        "Payoff per round",
        f"units a round (endowment {r['endowment']}, multiplier {r['multiplier']})",
    )


def _evolution(page: Page, r: dict[str, Any], metrics: Any) -> None:
    shares = r["per_generation"]["shares"]
    reached = len(next(iter(shares.values())))
    plots.over_time(
        page.image(
            "evolution_shares.png", "Each strategy's share of the population, each generation."
        ),
        np.arange(reached),
        {name: np.array(series, dtype=np.float64) for name, series in shares.items()},
        "Shares over generations",
        "share of the population",
        (0, 1.02),
        xlabel="generation",
    )
    cooperation = np.array(r["per_generation"]["cooperation"], dtype=np.float64)
    if len(cooperation):
        plots.over_time(
            page.image(
                "evolution_cooperation.png", "Share of moves that cooperated, each generation."
            ),
            np.arange(len(cooperation)),
            {"cooperation rate": cooperation},
            "Cooperation",
            "share of moves cooperative",
            (0, 1.02),
            xlabel="generation",
        )


PLOTS: dict[str, Callable[[Page, dict[str, Any], Any], None]] = {
    "evolution": _evolution,
    "ipd": _dilemma,
    "donation": _donation,
    "public_goods": _public_goods,
    "trust": _trust,
}
