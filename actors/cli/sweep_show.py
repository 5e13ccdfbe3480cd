"""What a sweep shows on the terminal: a bar of finished runs, then a table of grid points
(and for an experiment, or a sweep with --compare-to, a table of paired effects)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from actors.lab.stats import Estimate, Paired
from actors.lab.sweep import Param, Point, shown


class SweepProgress:
    """A bar of finished runs, naming the last grid point that finished."""

    def __init__(self, total: int, quiet: bool, done: int = 0) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]runs"),
            MofNCompleteColumn(),
            BarColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[last]}"),
            console=Console(stderr=True),
            disable=quiet,
        )
        self._task = self._progress.add_task("sweep", total=total, completed=done, last="")

    def __enter__(self) -> SweepProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def advance(self, label: str) -> None:
        self._progress.update(self._task, advance=1, last=label)


def print_table(
    name: str,
    params: Sequence[Param],
    estimates: Sequence[tuple[Point, dict[str, Estimate]]],
    show: Sequence[str],
) -> None:
    """A row per grid point: its parameter values and each figure's mean ± CI half-width."""
    table = _table(f"{name}: mean ± 95% CI half-width over repeats", params, show)
    for point, figures in estimates:
        cells = [shown(v) for v in point.values]
        cells.append(str(max(figures[f].n for f in show)))
        for figure in show:
            est = figures[figure]
            half = "" if math.isnan(est.half_width) else f" ± {est.half_width:.3g}"
            cells.append(f"{est.mean:.3g}{half}")
        table.add_row(*cells)
    _print(table)


def print_effects(
    params: Sequence[Param],
    reference: Point,
    effects: Sequence[tuple[Point, str, Paired]],
    show: Sequence[str],
) -> None:
    """A row per point and figure: the mean paired difference to the reference, its 95%
    interval and Cohen's d_z."""
    title = f"against {reference.label(params)}, paired by seed: difference [95% CI], d_z"
    table = _table(title, params, show)
    by_point: dict[int, dict[str, Paired]] = {}
    points: dict[int, Point] = {}
    for point, figure, pair in effects:
        by_point.setdefault(point.index, {})[figure] = pair
        points[point.index] = point
    for index, pairs in by_point.items():
        cells = [shown(v) for v in points[index].values]
        cells.append(str(max(pairs[f].diff.n for f in show)))
        cells.extend(_effect(pairs[f]) for f in show)
        table.add_row(*cells)
    _print(table)


def _effect(pair: Paired) -> str:
    d = pair.diff
    if math.isnan(d.mean):
        return "–"
    ci = "" if math.isnan(d.ci_low) else f" [{d.ci_low:+.3g}, {d.ci_high:+.3g}]"
    dz = "" if math.isnan(pair.d_z) else f" d={pair.d_z:+.2f}"
    return f"{d.mean:+.3g}{ci}{dz}"


def _table(title: str, params: Sequence[Param], show: Sequence[str]) -> Any:
    """A rich table with a column per parameter, n and a column per figure shown."""
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for p in params:
        table.add_column(p.name, overflow="fold")
    table.add_column("n", justify="right")
    for figure in show:
        table.add_column(figure, justify="right", overflow="fold")
    return table


def _print(table: Any) -> None:
    from rich.console import Console

    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160).print(table)
