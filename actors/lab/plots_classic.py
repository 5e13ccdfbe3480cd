"""The PNG figures of a classic game's report: bars per strategy, a ranking, a payoff matrix.

Drawn as in plots.py (matplotlib's object API on the Agg canvas); each function draws one figure
into a file, and the report decides which figures exist and what their captions say.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from actors.lab.plots import canvas, save


def _amount(value: float) -> str:
    """26,255 for large amounts, 1.57 for small ones."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def ranked_bars(path: Path, values: dict[str, float], title: str, xlabel: str) -> None:
    """One horizontal bar per name, the largest at the top, each labelled with its value."""
    names = sorted(values, key=lambda n: -values[n])
    fig, ax = canvas(8, 1.2 + 0.38 * len(names))
    y = np.arange(len(names))
    bars = ax.barh(y, [values[n] for n in names], color="C0")
    ax.bar_label(bars, labels=[_amount(values[n]) for n in names], padding=3, fontsize=8)
    ax.set_yticks(y, [f"{i + 1}. {n}" for i, n in enumerate(names)])
    ax.invert_yaxis()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.margins(x=0.12)
    ax.grid(axis="x", alpha=0.3)
    save(fig, path)


def grouped_bars(
    path: Path,
    groups: dict[str, dict[str, float]],
    title: str,
    ylabel: str,
    ylim: tuple[float, float] | None = None,
) -> None:
    """A cluster of bars per group (a strategy), one bar per measure, each labelled."""
    measures = list(dict.fromkeys(m for values in groups.values() for m in values))
    fig, ax = canvas(min(10.0, max(6.0, 1.6 + 1.3 * len(groups))), 3.8)
    x = np.arange(len(groups))
    width = 0.8 / max(1, len(measures))
    for i, measure in enumerate(measures):
        heights = [values.get(measure, np.nan) for values in groups.values()]
        bars = ax.bar(x - 0.4 + width * (i + 0.5), heights, width, label=measure, color=f"C{i}")
        ax.bar_label(bars, labels=[f"{h:.3g}" for h in heights], padding=2, fontsize=7)
    if len(groups) > 6:  # many strategies: slanted names
        ax.set_xticks(x, list(groups), fontsize=8, rotation=30, ha="right")
    else:
        ax.set_xticks(x, [name.replace(" ", "\n", 1) for name in groups], fontsize=8)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(axis="y", alpha=0.3)
    if len(measures) > 1:
        ax.legend(fontsize=8, loc="best")
    save(fig, path)


def payoff_matrix(path: Path, labels: Sequence[str], matrix: np.ndarray, title: str) -> None:
    """Each row player's mean payoff per turn against each column player (self-play blank)."""
    n = len(labels)
    shown = np.array(matrix, dtype=np.float64)
    np.fill_diagonal(shown, np.nan)
    size = max(5.0, 2.5 + 0.55 * n)
    fig, ax = canvas(size + 1.5, size)
    image = ax.imshow(shown, cmap="viridis")
    fig.colorbar(image, ax=ax, shrink=0.8, label="mean payoff per turn")
    ax.set_xticks(np.arange(n), labels, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(np.arange(n), labels, fontsize=8)
    ax.set_xlabel("against (column player)")
    ax.set_ylabel("player (row)")
    if n <= 16:
        for i in range(n):
            for j in range(n):
                if i != j:
                    dark = shown[i, j] < np.nanmean(shown)
                    ax.text(j, i, f"{shown[i, j]:.2g}", ha="center", va="center", fontsize=7,
                            color="white" if dark else "black")  # fmt: skip
    ax.set_title(title)
    save(fig, path)
