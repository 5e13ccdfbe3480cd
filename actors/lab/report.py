"""The report page of a run or a sweep: one HTML file and a folder of PNGs beside it.

A run's page says what happened in a few sentences, then shows cooperation, trust and
betrayals over time, trust and wealth at the end and the trust network at the end; a classic
game's run shows what the game reports instead (report_classic.py). A sweep's
page says what was swept and how each parameter moved the headline figures, then shows every
figure against every parameter with 95% confidence intervals.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from actors.lab import plots
from actors.lab.eval.report import eval_report
from actors.lab.page import Page
from actors.lab.report_classic import classic_report, game_headline
from actors.lab.report_experiment import experiment_report, paired_section
from actors.lab.report_tables import file_name, number, read_rows, with_ci
from actors.lab.report_world import EndState, read_metrics, read_summary
from actors.lab.sweep import shown
from actors.lab.sweep_figures import FIGURES, HEADLINE
from world.errors import RunFolderError
from world.record import load_run_scenario


def write_report(folder: Path, kind: str, out: Path | None = None) -> Path:
    """Write the report of a run, sweep, experiment or evaluation folder; returns the HTML
    file."""
    out = out if out is not None else folder / "report.html"
    if kind == "sweep":
        return sweep_report(folder, out)
    if kind == "experiment":
        return experiment_report(folder, out)
    if kind == "eval":
        return eval_report(folder, out)
    return run_report(folder, out)


# --- a run --------------------------------------------------------------------------------


def headline(summary: dict[str, Any]) -> str:
    """The run in a few sentences, from its summary.json."""
    t, f = summary["totals"], summary["final"]
    return (
        f"{summary['characters']:,} characters lived {summary['ticks']} ticks (seed "
        f"{summary['seed']}). {t['cooperation_rate']:.0%} of their acts were cooperative "
        f"({f['cooperation_rate']:.0%} in the last tick). They made {t['promises_made']:,} "
        f"promises, kept {t['promises_kept']:,} and broke {t['promises_broken']:,}; "
        f"{t['betrayals']:,} betrayals drew {t['apologies']:,} apologies and "
        f"{t['forgiveness']:,} acts of forgiveness. {t['gifts']:,} gifts were given, "
        f"{t['care_gifts']:,} of them to the vulnerable; {t['gossip']:,} pieces of gossip "
        f"passed. At the end mean trust was {f['mean_trust']:.2f}, the wealth Gini "
        f"{f['wealth_gini']:.2f}, and {f['in_need']} were in need, {f['hungry']} hungry, "
        f"{f['sick']} sick."
    )


def run_report(folder: Path, out: Path) -> Path:
    sc = load_run_scenario(folder)
    summary = read_summary(folder)
    metrics = read_metrics(folder)
    page = Page(out, f"Run {sc.name}: {folder.name}")
    if sc.description:
        page.text("p", sc.description)
    if summary is not None:
        words = headline(summary) if sc.classic is None else game_headline(sc, summary)
        page.text("p", words, "headline")
        digest = summary.get("state_digest") or "none (stopped inside a tick)"
        page.text("p", f"State digest: {digest}. Runtime: {summary['runtime']}.")
    else:
        page.text(
            "p",
            "This run has no summary.json: it is still going or was killed; the "
            "figures below are the ticks it recorded.",
            "headline",
        )
    if sc.classic is not None:
        return _classic_page(page, summary, metrics)
    if not metrics:
        page.text("p", "metrics.csv has no ticks yet: nothing to plot.")
        return page.write()
    ticks = metrics["tick"]
    page.text("h2", "Over time")
    plots.over_time(
        page.image("cooperation.png", "Share of acts that were cooperative, each tick."),
        ticks,
        {"cooperation rate": metrics["cooperation_rate"]},
        "Cooperation",
        "share of acts cooperative",
        (0, 1.02),
    )
    plots.over_time(
        page.image(
            "trust.png",
            "Mean trust characters place in those they remember, and the share of their "
            "views of others' standing that are right.",
        ),
        ticks,
        {
            "mean trust": metrics["mean_trust"],
            "reputation accuracy": metrics["reputation_accuracy"],
        },
        "Trust",
        "0 .. 1",
        (0, 1.02),
    )
    plots.over_time(
        page.image("betrayals.png", "Betrayals (broken promises), apologies and forgiveness."),
        ticks,
        {k: metrics[k] for k in ("betrayals", "apologies", "forgiveness")},
        "Betrayals and repair",
        "per tick",
    )
    end = EndState.read(folder)
    if end is None:
        page.text(
            "p",
            "No checkpoint: the end-of-run figures need one (run with --checkpoint-every above 0).",
        )
        return page.write()
    page.text("h2", f"At the end (tick {end.tick}, the last checkpoint)")
    plots.trust_distribution(
        page.image("trust_distribution.png", "Trust in each remembered character."),
        end,
    )
    gini = summary["final"]["wealth_gini"] if summary is not None else None
    plots.wealth_distribution(
        page.image("wealth_distribution.png", "Wealth of each character, by role."), end, gini
    )
    plots.trust_network(
        page.image(
            "network.png",
            "Who trusts whom: characters in a ring of groups, coloured by role; blue lines "
            "are the strongest trust, red the strongest distrust.",
        ),
        end,
    )
    return page.write()


def _classic_page(
    page: Page, summary: dict[str, Any] | None, metrics: dict[str, np.ndarray]
) -> Path:
    """A classic game's page: the tables and plots of what its kind reports."""
    if summary is not None and "results" in summary:
        classic_report(page, summary["results"], metrics)
    else:
        page.text("p", "The game has no results yet: they are written when it ends.")
    return page.write()


# --- a sweep ------------------------------------------------------------------------------


def sweep_report(folder: Path, out: Path) -> Path:
    try:
        spec = json.loads((folder / "sweep.json").read_text(encoding="utf-8"))
        params = {name: [shown(v) for v in values] for name, values in spec["params"].items()}
        meanings: dict[str, str] = dict(spec.get("figures") or _village_meanings())
        headline = list(spec.get("headline") or HEADLINE)  # sweeps before classic figures
    except (ValueError, KeyError, AttributeError):
        raise RunFolderError(f"{str(folder / 'sweep.json')!r} is damaged") from None
    runs = read_rows(folder / "runs.csv")
    stats = read_rows(folder / "stats.csv")
    names = list(params)
    # (values of every parameter) -> figure -> (mean, half width)
    table: dict[tuple[str, ...], dict[str, tuple[float, float]]] = {}
    count: dict[tuple[str, ...], str] = {}
    for row in sorted(stats, key=lambda r: int(r["point"])):  # grid order
        key = tuple(row[n] for n in names)
        mean, low, high = (number(row[k]) for k in ("mean", "ci_low", "ci_high"))
        table.setdefault(key, {})[row["figure"]] = (mean, (high - low) / 2)
        count[key] = row["n"]
    grid = math.prod(len(v) for v in params.values())
    page = Page(out, f"Sweep {spec['scenario']}: {folder.name}")
    page.text(
        "p",
        f"{grid} grid points × {spec['repeats']} repeats = {spec['runs']} runs "
        f"({len(runs)} finished). Seeds: {spec['seed_rule']}. Each run's folder is under "
        f"runs/ (open one with socius report).",
    )
    page.table(["parameter", "values"], [[n, ", ".join(v)] for n, v in params.items()], left=2)
    page.text("p", " ".join(_effects(runs, params, headline[:3])), "headline")
    page.text("h2", "Headline figures per grid point (mean [95% CI])")
    rows = []
    for key, figures in table.items():
        cells: list[Any] = [*key, count[key]]
        for figure in headline:
            mean, half = figures.get(figure, (math.nan, math.nan))
            cells.append(with_ci(mean, mean - half, mean + half))
        rows.append(cells)
    page.table([*names, "n", *headline], rows, left=len(names))
    page.text("h2", "Each figure against each parameter")
    for figure, meaning in meanings.items():
        panels = []
        for p in names:
            others = [n for n in names if n != p]
            lines: dict[str, tuple[list[float], list[float]]] = {}
            for key in table:
                label = ", ".join(f"{n}={key[names.index(n)]}" for n in others)
                means, halves = lines.setdefault(
                    label, ([math.nan] * len(params[p]), [0.0] * len(params[p]))
                )
                at = params[p].index(key[names.index(p)])
                means[at], halves[at] = table[key].get(figure, (math.nan, math.nan))
            panels.append((p, params[p], lines))
        plots.against_params(
            page.image(f"sweep-{file_name(figure)}.png", f"{figure}: {meaning}."),
            figure,
            meaning,
            panels,
        )
    if (folder / "effects.csv").is_file():  # sweeps before paired effects have none
        ref = next((r for r in runs if r["point"] == str(spec.get("reference", 0))), None)
        if ref is not None:

            def point(row: dict[str, str]) -> str:
                return " ".join(f"{n}={row[n]}" for n in names)

            paired_section(page, folder, point(ref), headline, meanings, point, names, headline)
    return page.write()


def _village_meanings() -> dict[str, str]:
    return {name: meaning for name, (_, _, meaning) in FIGURES.items()}


def _effects(
    runs: list[dict[str, str]], params: dict[str, list[str]], figures: list[str]
) -> list[str]:
    """A sentence per parameter: how the headline figures move across its values, averaged
    over every run with that value."""
    out = []
    for p, values in params.items():
        parts = []
        for figure in figures:
            means = []
            for v in values:
                xs = [number(r[figure]) for r in runs if r[p] == v and r.get(figure)]
                means.append(f"{sum(xs) / len(xs):.3g}" if xs else "–")
            parts.append(f"{figure} {' → '.join(means)}")
        out.append(f"As {p} goes {' → '.join(values)}: " + "; ".join(parts) + ".")
    return out
