"""What a sweep shows on the terminal: a bar of finished runs, then a table of grid points."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

from actors.lab.stats import Estimate
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
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{name}: mean ± 95% CI half-width over repeats",
        header_style="bold",
    )
    for p in params:
        table.add_column(p.name, overflow="fold")
    table.add_column("n", justify="right")
    for figure in show:
        table.add_column(figure, justify="right", overflow="fold")
    for point, figures in estimates:
        cells = [shown(v) for v in point.values]
        cells.append(str(max(figures[f].n for f in show)))
        for figure in show:
            est = figures[figure]
            half = "" if math.isnan(est.half_width) else f" ± {est.half_width:.3g}"
            cells.append(f"{est.mean:.3g}{half}")
        table.add_row(*cells)
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 160).print(table)
