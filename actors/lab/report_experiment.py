"""The report page of an experiment, and the paired section a sweep's page shares with it.

An experiment's page says what each arm changed, then for each treatment its effects on the
headline figures in words, a table of every figure's paired difference (95% interval, d_z, p),
and a plot per figure of the difference over time with its band. A sweep's page shows the same
table and plots for every grid point against its reference point.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actors.lab.page import Page
from actors.lab.paired import CURVES
from actors.lab.plots_paired import Band, difference_curves
from actors.lab.report_tables import Row, file_name, number, read_rows, with_ci
from actors.lab.sweep_figures import HEADLINE
from world.errors import RunFolderError


def experiment_report(folder: Path, out: Path) -> Path:
    try:
        spec = json.loads((folder / "experiment.json").read_text(encoding="utf-8"))
        arms: dict[str, dict[str, Any]] = dict(spec["arms"])
        meanings: dict[str, str] = dict(spec["figures"])
        headline = list(spec.get("headline") or HEADLINE)
        control = str(spec["control"])
    except (OSError, ValueError, KeyError, TypeError):
        raise RunFolderError(f"{str(folder / 'experiment.json')!r} is damaged") from None
    runs = read_rows(folder / "runs.csv")
    page = Page(out, f"Experiment {spec['scenario']}: {folder.name}")
    page.text(
        "p",
        f"{len(arms)} arms × {spec['repeats']} repeats = {spec['runs']} runs ({len(runs)} "
        f"finished). Seeds: {spec['seed_rule']}, so each treatment run has a control run on "
        f"the same seed and the effects below are differences pair by pair. Each run's folder "
        f"is under runs/ (open one with socius report).",
    )
    page.table(
        ["arm", "file", "changes", "events"],
        [
            [
                name,
                arm.get("file") or "(the scenario as given)",
                ", ".join(f"{k}={v}" for k, v in (arm.get("changes") or {}).items()) or "–",
                _events(arm.get("events") or []),
            ]
            for name, arm in arms.items()
        ],
        left=4,
    )
    effects = read_rows(folder / "effects.csv")
    words = [
        f"{row['arm']} against {control}: "
        + "; ".join(
            f"{r['figure']} {with_ci(*_diff(r), signed=True)}"
            for r in effects
            if r["arm"] == row["arm"] and r["figure"] in headline
        )
        + "."
        for row in effects
        if row["figure"] == headline[0]
    ]
    if words:
        page.text("p", " ".join(words), "headline")
    paired_section(
        page,
        folder,
        control,
        headline,
        meanings,
        lambda r: r["arm"],
        ["arm"],
        spans={name: _spans(arm.get("events") or []) for name, arm in arms.items()},
    )
    return page.write()


def _events(events: Sequence[Any]) -> str:
    kinds = [
        str(e.get("label") or e.get("kind", "?")) if isinstance(e, dict) else "?" for e in events
    ]
    return ", ".join(kinds) if kinds else "–"


def _spans(events: Sequence[Any]) -> list[tuple[int, int]]:
    """The ticks each event of a treatment acts on, as (first, last)."""
    out = []
    for e in events:
        if isinstance(e, dict) and e.get("tick") is not None:
            out.append((int(e["tick"]), int(e["tick"])))
        elif isinstance(e, dict) and isinstance(e.get("ticks"), list) and len(e["ticks"]) == 2:
            out.append((int(e["ticks"][0]), int(e["ticks"][1])))
    return out


def _diff(row: Row) -> tuple[float, float, float]:
    return number(row["diff"]), number(row["ci_low"]), number(row["ci_high"])


def paired_section(
    page: Page,
    folder: Path,
    reference: str,
    headline: Sequence[str],
    meanings: dict[str, str],
    label: Callable[[Row], str],
    columns: Sequence[str],
    figures: Sequence[str] | None = None,
    spans: dict[str, list[tuple[int, int]]] | None = None,
) -> None:
    """The effects table and a difference-over-time plot per figure that has a curve, from
    effects.csv and curves.csv, for `figures` (default every one); `label` names a row's
    point, `columns` are the columns that name it in the table; `spans`: each point's events
    as (first, last) ticks, shaded on the plots."""
    keep = set(figures) if figures is not None else None
    effects = [r for r in read_rows(folder / "effects.csv") if keep is None or r["figure"] in keep]
    curves = [
        r
        for r in (read_rows(folder / "curves.csv") if (folder / "curves.csv").is_file() else [])
        if keep is None or r["figure"] in keep
    ]
    page.text("h2", f"Effects against {reference}, paired by seed")
    page.text(
        "p",
        f"Per figure: the mean of each arm (or grid point) and of {reference} over the "
        f"repeats, the mean "
        f"paired difference with its 95% interval (Student's t on the differences), Cohen's "
        f"d_z (mean difference / sd of the differences) and the paired t test's p. Headline "
        f"figures first." + ("" if keep is None else " (effects.csv has every figure.)"),
    )
    order = {f: i for i, f in enumerate([*headline, *meanings])}
    rows = sorted(effects, key=lambda r: (order.get(r["figure"], len(order)),))
    page.table(
        [*columns, "figure", "n", reference, "mean", "difference [95% CI]", "d_z", "p"],
        [
            [
                *(r[c] for c in columns),
                r["figure"],
                r["n"],
                _g(number(r["reference_mean"])),
                _g(number(r["mean"])),
                with_ci(*_diff(r), signed=True),
                _g(number(r["d_z"]), "+.2f"),
                _g(number(r["p_value"]), ".3f"),
            ]
            for r in rows
        ],
        left=len(columns) + 1,
    )
    if not curves:
        return
    page.text("h2", f"Over time: the difference from {reference}")
    page.text(
        "p",
        "Counts (betrayals, care gifts ...) are summed up to each tick, levels (trust, need, "
        "inequality) as they stand at it, so every curve ends at the effect in the table.",
    )
    for figure in sorted({r["figure"] for r in curves}, key=lambda f: order.get(f, len(order))):
        lines: dict[str, Band] = {}
        for name in dict.fromkeys(label(r) for r in curves if r["figure"] == figure):
            mine = [r for r in curves if r["figure"] == figure and label(r) == name]
            cols = [
                np.array([number(r[k]) for r in mine])
                for k in ("tick", "diff", "ci_low", "ci_high")
            ]
            lines[name] = (cols[0], cols[1], cols[2], cols[3])
        summed = CURVES.get(figure, ("", False))[1]
        how = "summed up to each tick" if summed else "at each tick"
        difference_curves(
            page.image(
                f"difference-{file_name(figure)}.png",
                f"{figure} ({how}): the mean difference from {reference} and its 95% band"
                + ("; shaded, the ticks of each arm's events." if spans else "."),
            ),
            figure,
            meanings.get(figure, figure).replace(" at the end", ""),  # a curve is every tick
            reference,
            lines,
            spans,
        )


def _g(x: float, f: str = ".3g") -> str:
    return "–" if math.isnan(x) else format(x, f)
