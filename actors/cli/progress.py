"""What a run shows on the terminal: a progress bar while it runs, a table when it ends."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from world.journal_mode import journal_bytes, read_kept
from world.runtime import RunResult
from world.stats import TickStats


class RunProgress:
    def __init__(self, ticks: int, quiet: bool = False, start: int = 0) -> None:
        self.ticks = ticks
        self.quiet = quiet
        self.console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]tick {task.completed}/{task.total}"),
            BarColumn(),
            TextColumn("{task.fields[tps]:.1f} ticks/s"),
            TextColumn("{task.fields[eps]:,.0f} envelopes/s"),
            TextColumn("coop {task.fields[coop]:.2f}"),
            TimeRemainingColumn(),
            console=self.console,
            disable=quiet,
            transient=False,
        )
        self._task = self._progress.add_task(
            "run", total=ticks, completed=start, tps=0.0, eps=0.0, coop=0.0
        )
        self._seconds = 0.0
        self._envelopes = 0
        self._ticks = 0

    def __enter__(self) -> RunProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.__exit__(*exc)

    def tick(self, tick: int, stats: TickStats, seconds: float) -> None:
        self._seconds += seconds
        self._envelopes += stats.c["envelopes"]
        self._ticks += 1
        rate = self._ticks / self._seconds if self._seconds else 0.0
        eps = self._envelopes / self._seconds if self._seconds else 0.0
        self._progress.update(
            self._task, completed=tick, tps=rate, eps=eps, coop=stats.figures()["cooperation_rate"]
        )


def print_figures(result: RunResult, folder: Path, shown: str | None = None) -> None:
    figures = result.last.figures()
    totals = result.totals.c
    table = Table(title=f"after {result.ticks} ticks", show_header=True, header_style="bold")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = [
        ("characters", f"{figures['characters']:,}"),
        ("envelopes (all ticks)", f"{totals['envelopes']:,}"),
        ("cooperation rate (last tick)", f"{figures['cooperation_rate']:.3f}"),
        (
            "promises made / kept / broken",
            f"{totals['promises_made']:,} / "
            f"{totals['promises_kept']:,} / "
            f"{totals['promises_broken']:,}",
        ),
        ("apologies / forgiven", f"{totals['apologies']:,} / {totals['forgiveness']:,}"),
        ("trades (volume)", f"{totals['trades']:,} ({totals['trade_volume']:,})"),
        ("gifts (care)", f"{totals['gifts']:,} ({totals['care_gifts']:,})"),
        ("gossip", f"{totals['gossip']:,}"),
        (
            "group contributions / free rides",
            f"{totals['contributions']:,} / {totals['free_rides']:,}",
        ),
        ("mean trust", f"{figures['mean_trust']:.3f}"),
        ("reputation accuracy", f"{figures['reputation_accuracy']:.3f}"),
        ("emotion-inference accuracy", f"{figures['emotion_inference_accuracy']:.3f}"),
        ("wealth Gini", f"{figures['wealth_gini']:.3f}"),
        (
            "in need / hungry / sick",
            f"{figures['in_need']} / {figures['hungry']} / {figures['sick']}",
        ),
        journal_row(folder, totals["envelopes"]),
        ("seconds", f"{result.seconds:.2f}"),
        ("state digest", result.state_digest[:16] + "…"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console = Console(file=sys.stdout)
    console.print(table)
    console.print(f"run folder: {shown or folder}")


def size(n: int) -> str:
    """Bytes as a person reads them: 812 B, 31.4 kB, 190.2 MB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def journal_row(folder: Path, envelopes: int) -> tuple[str, str]:
    """The closing table's row for the journal: its size on disk and what it keeps."""
    mode = read_kept(folder).mode
    if mode.keep == "off":
        return "journal on disk", "none (--journal off)"
    n = journal_bytes(folder)
    per = f", {n / envelopes:.1f} B per envelope" if mode.keep == "full" and envelopes else ""
    return "journal on disk", f"{size(n)} ({mode}{per})"
