"""The PNG of paired differences over time: a line per arm (or grid point) and its 95% band."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from actors.lab.plots import canvas, save

#: a difference curve: ticks, mean difference, band low, band high
Band = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def difference_curves(
    path: Path,
    figure: str,
    meaning: str,
    reference: str,
    lines: Mapping[str, Band],
    spans: Mapping[str, Sequence[tuple[int, int]]] | None = None,
) -> None:
    """Each line's mean paired difference to `reference` per tick, its band shaded, and the
    zero line (no effect); `spans`: a line's events, as (first, last) ticks, shaded faintly."""
    fig, ax = canvas(8, 3.6)
    ax.axhline(0, color="grey", linewidth=1, linestyle=":")
    for i, (label, (ticks, mean, low, high)) in enumerate(lines.items()):
        colour = f"C{i}"
        for first, last in (spans or {}).get(label, ()):
            ax.axvspan(first - 0.5, last + 0.5, color=colour, alpha=0.07, linewidth=0)
        ax.fill_between(ticks, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.plot(ticks, mean, color=colour, linewidth=2, label=label)
    ax.set_title(f"{figure}: {meaning}\nminus {reference}, paired by seed (mean and 95% band)")
    ax.set_xlabel("tick")
    ax.set_ylabel(f"difference in {figure}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    save(fig, path)
