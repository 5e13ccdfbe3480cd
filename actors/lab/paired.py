"""Paired comparisons of a sweep's grid points or an experiment's arms: every point against a
reference point, run for run on the same seeds (repeat r of each is on the same seed, so the
difference of a pair is the change's doing and not the luck of the draw).

    effects.csv   per point and figure: the point's mean, the reference's, the mean paired
                  difference (point - reference), its sd, 95% paired t interval, Cohen's d_z
                  and the paired t test's p (actors.lab.stats.Paired)
    curves.csv    per point, figure and tick: the mean paired difference up to that tick and
                  its 95% band (for a village: each curve ends at the run's figure, so its
                  last tick is the effect in effects.csv)

The curves come from each run's metrics.csv: a count (betrayals, care gifts ...) summed up to
the tick, a level (mean trust, in need, the Gini) as it stood at the tick.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from actors.lab.report_world import read_metrics
from actors.lab.stats import CONFIDENCE, Estimate, Paired, t_quantile
from actors.lab.sweep import Param, Point, shown
from actors.lab.sweep_figures import FIGURES, Figures

#: A village figure's curve: its metrics.csv column, and whether the curve sums it up to the
#: tick (a count; the run's total is the sum) or takes it as it stands (the run's final value
#: is the last tick's). The overall cooperation rate, a ratio of sums, has no curve: the
#: last tick's rate (final_cooperation_rate) has.
CURVES: dict[str, tuple[str, bool]] = {
    name: (key, section == "totals")
    for name, (section, key, _) in FIGURES.items()
    if not (section == "totals" and key == "cooperation_rate")
}


@dataclasses.dataclass(frozen=True)
class Curve:
    """A point's paired difference to the reference over time, for one figure."""

    point: Point
    figure: str
    ticks: np.ndarray
    n: int
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def by_repeat(rows: Sequence[Mapping[str, Any]], point: int, figure: str) -> dict[int, float]:
    """A figure's value in each repeat of a point (a repeat without a value is left out)."""
    return {
        int(r["repeat"]): float(r[figure])
        for r in rows
        if int(r["point"]) == point and r.get(figure) not in (None, "")
    }


def effects(
    rows: Sequence[Mapping[str, Any]],
    figures: Sequence[str],
    grid: Sequence[Point],
    reference: Point,
) -> list[tuple[Point, str, Paired]]:
    """Every point but the reference, against it, for every figure (points with a finished
    run, pairs whose two runs both finished)."""
    ran = {int(r["point"]) for r in rows}
    out = []
    for point in grid:
        if point.index == reference.index or point.index not in ran:
            continue
        for figure in figures:
            treated = by_repeat(rows, point.index, figure)
            control = by_repeat(rows, reference.index, figure)
            out.append((point, figure, Paired.of(treated, control)))
    return out


def curves(
    folder: Path,
    rows: Sequence[Mapping[str, Any]],
    figures: Figures,
    grid: Sequence[Point],
    reference: Point,
) -> list[Curve]:
    """The difference curves of every point against the reference, from the runs'
    metrics.csv (a village's figures only: a classic game's results have no per-tick form)."""
    names = [f for f in CURVES if f in figures.names]
    if not names:
        return []
    series: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    for r in rows:
        metrics = read_metrics(folder / str(r["run"]))
        if metrics:
            series[int(r["point"]), int(r["repeat"])] = metrics
    out = []
    for point in grid:
        if point.index == reference.index:
            continue
        pairs = [
            (series[point.index, rep], series[reference.index, rep])
            for (p, rep) in sorted(series)
            if p == point.index and (reference.index, rep) in series
        ]
        if not pairs:
            continue
        length = min(min(len(a["tick"]), len(b["tick"])) for a, b in pairs)
        ticks = pairs[0][0]["tick"][:length]
        for figure in names:
            column, summed = CURVES[figure]
            if any(column not in a or column not in b for a, b in pairs):
                continue
            diffs = np.array(
                [
                    _curve(a[column][:length], summed) - _curve(b[column][:length], summed)
                    for a, b in pairs
                ]
            )
            out.append(Curve(point, figure, ticks, *band(diffs)))
    return out


def _curve(values: np.ndarray, summed: bool) -> np.ndarray:
    return np.cumsum(values) if summed else values


def band(
    diffs: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of `diffs` (one row per pair): n, the mean and the t interval, as
    `Estimate.of` gives it for one column (NaN bounds with one pair)."""
    n = diffs.shape[0]
    mean = diffs.mean(axis=0)
    if n < 2:
        nan = np.full_like(mean, math.nan)
        return n, mean, nan, nan
    half = t_quantile(n - 1, confidence) * diffs.std(axis=0, ddof=1) / math.sqrt(n)
    return n, mean, mean - half, mean + half


def cell(x: float) -> str:
    """A number as a CSV cell: empty for NaN, else rounded to 9 places."""
    if math.isnan(x):
        return ""
    return repr(x) if math.isinf(x) else repr(round(x, 9))


def estimate_cells(est: Estimate) -> dict[str, Any]:
    return {
        "n": est.n,
        "mean": cell(est.mean),
        "sd": cell(est.sd),
        "ci_low": cell(est.ci_low),
        "ci_high": cell(est.ci_high),
    }


def csv_bytes(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode()


EFFECT_COLUMNS = (
    "figure", "n", "mean", "reference_mean", "diff", "diff_sd", "ci_low", "ci_high", "d_z",
    "p_value",
)  # fmt: skip
CURVE_COLUMNS = ("figure", "tick", "n", "diff", "ci_low", "ci_high")


def point_cells(point: Point, params: Sequence[Param]) -> dict[str, Any]:
    return {
        "point": point.index,
        **{p.name: shown(v) for p, v in zip(params, point.values, strict=True)},
    }


def effects_csv(params: Sequence[Param], found: Sequence[tuple[Point, str, Paired]]) -> bytes:
    """effects.csv: a row per point (not the reference) and figure."""
    rows = [
        {
            **point_cells(point, params),
            "figure": figure,
            "n": pair.diff.n,
            "mean": cell(pair.treated.mean),
            "reference_mean": cell(pair.control.mean),
            "diff": cell(pair.diff.mean),
            "diff_sd": cell(pair.diff.sd),
            "ci_low": cell(pair.diff.ci_low),
            "ci_high": cell(pair.diff.ci_high),
            "d_z": cell(pair.d_z),
            "p_value": cell(pair.p_value),
        }
        for point, figure, pair in found
    ]
    return csv_bytes(["point", *(p.name for p in params), *EFFECT_COLUMNS], rows)


def curves_csv(params: Sequence[Param], found: Sequence[Curve]) -> bytes:
    """curves.csv: a row per point (not the reference), figure and tick."""
    rows = [
        {
            **point_cells(c.point, params),
            "figure": c.figure,
            "tick": int(tick),
            "n": c.n,
            "diff": cell(float(c.mean[i])),
            "ci_low": cell(float(c.low[i])),
            "ci_high": cell(float(c.high[i])),
        }
        for c in found
        for i, tick in enumerate(c.ticks)
    ]
    return csv_bytes(["point", *(p.name for p in params), *CURVE_COLUMNS], rows)
