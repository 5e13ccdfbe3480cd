"""The PNG of paired differences over time: a line per arm (or grid point) and its 95% band."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from actors.lab.plots import canvas, save

#: a difference curve: ticks, mean difference, band low, band high
Band = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def difference_curves(
    path: Path, figure: str, meaning: str, reference: str, lines: Mapping[str, Band]
) -> None:
    """Each line's mean paired difference to `reference` per tick, its band shaded, and the
    zero line (no effect)."""
    fig, ax = canvas(8, 3.6)
    ax.axhline(0, color="grey", linewidth=1, linestyle=":")
    for i, (label, (ticks, mean, low, high)) in enumerate(lines.items()):
        colour = f"C{i}"
        ax.fill_between(ticks, low, high, color=colour, alpha=0.2, linewidth=0)
        ax.plot(ticks, mean, color=colour, linewidth=2, label=label)
    ax.set_title(f"{figure}: {meaning}\nminus {reference}, paired by seed (mean and 95% band)")
    ax.set_xlabel("tick")
    ax.set_ylabel(f"difference in {figure}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    save(fig, path)
