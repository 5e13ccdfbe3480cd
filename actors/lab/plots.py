"""The PNG figures of a report, drawn with matplotlib's Agg backend (no display needed).

Figures are made with matplotlib's object API (`Figure`, no pyplot): no global state, nothing
to close, and PNGs come from the Agg canvas whatever backend the user has configured.

Each function draws one figure into a file and returns nothing; the report page decides which
figures exist and what their captions say.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from actors.lab.report_world import EndState
from world.vocab import ROLE_NAMES

DPI = 100
ROLE_COLOURS = ("#4e9a06", "#555753", "#c4a000", "#3465a4", "#cc0000", "#75507b", "#f57900")
MAX_NODES = 360  # the network shows whole groups up to about this many characters


def canvas(width: float, height: float) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, format="png")


def _smooth(y: np.ndarray, width: int) -> np.ndarray:
    """A centred running mean (the ends average what they have)."""
    if width <= 1 or len(y) < 3:
        return y
    kernel = np.ones(width)
    return np.convolve(y, kernel, "same") / np.convolve(np.ones_like(y), kernel, "same")


def over_time(
    path: Path,
    ticks: np.ndarray,
    series: dict[str, np.ndarray],
    title: str,
    ylabel: str,
    ylim: tuple[float, float] | None = None,
    xlabel: str = "tick",
) -> None:
    """Lines of figures per tick (or round); a faint line per tick and a running mean over it."""
    fig, ax = canvas(8, 3.6)
    width = max(1, len(ticks) // 15)
    for i, (label, y) in enumerate(series.items()):
        colour = f"C{i}"
        if width > 1:
            ax.plot(ticks, y, color=colour, alpha=0.25, linewidth=0.8)
            label = f"{label} ({width}-{xlabel} mean)"
        ax.plot(ticks, _smooth(y, width), color=colour, linewidth=2, label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    save(fig, path)


def trust_distribution(path: Path, end: EndState) -> None:
    """How much characters trust those they remember, at the end."""
    fig, ax = canvas(6, 3.6)
    judged = end.evidence > 0
    ax.hist(end.trust[judged], bins=np.linspace(0, 1, 21).tolist(), color="C0", edgecolor="white")
    ax.axvline(0.5, color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"Trust at tick {end.tick}: {judged.sum():,} relationships with evidence")
    ax.set_xlabel("trust in the other (0 distrust, 0.5 no evidence, 1 full trust)")
    ax.set_ylabel("relationships")
    unjudged = int((~judged).sum())
    ax.text(
        0.02,
        0.95,
        f"{unjudged:,} more remembered with no evidence yet (trust 0.5)",
        transform=ax.transAxes,
        fontsize=8,
        va="top",
    )
    save(fig, path)


def wealth_distribution(path: Path, end: EndState, gini: float | None) -> None:
    """Wealth at the end, stacked by role."""
    fig, ax = canvas(6, 3.6)
    top = max(1, int(np.percentile(end.wealth, 99)))
    bins = np.linspace(0, top, 26).tolist()
    present = [r for r in range(len(ROLE_NAMES)) if (end.role == r).any()]
    ax.hist(
        [np.minimum(end.wealth[end.role == r], top) for r in present],
        bins=bins,
        stacked=True,
        color=[ROLE_COLOURS[r] for r in present],
        label=[ROLE_NAMES[r] for r in present],
        edgecolor="white",
        linewidth=0.3,
    )
    g = f", Gini {gini:.2f}" if gini is not None else ""
    ax.set_title(f"Wealth at tick {end.tick}{g}")
    ax.set_xlabel("wealth (goods at their price; the top 1% shown at the right edge)")
    ax.set_ylabel("characters")
    ax.legend(fontsize=7, ncol=2)
    save(fig, path)


def group_circle(group: np.ndarray) -> np.ndarray:
    """Positions: groups evenly on a circle, each group's members on a small circle around
    its place."""
    groups, slot = np.unique(group, return_inverse=True)
    xy = np.zeros((len(group), 2))
    g = len(groups)
    inner = 0.7 * np.sin(np.pi / g) if g > 1 else 0.8
    for k in range(g):
        members = np.flatnonzero(slot == k)
        centre = np.array([np.cos(2 * np.pi * k / g), np.sin(2 * np.pi * k / g)]) if g > 1 else 0
        angle = 2 * np.pi * np.arange(len(members)) / max(1, len(members))
        xy[members] = centre + inner * np.column_stack([np.cos(angle), np.sin(angle)])
    return xy


def strongest(end: EndState, keep: np.ndarray, count: int, trusting: bool) -> np.ndarray:
    """Indices of the `count` strongest edges among characters in `keep`: the most trusting
    (or the most distrustful), more evidence first among equals."""
    inside = np.isin(end.source, end.cid[keep]) & np.isin(end.target, end.cid[keep])
    side = end.trust > 0.5 if trusting else end.trust < 0.5
    rows = np.flatnonzero(inside & side & (end.evidence > 0))
    lean = end.trust[rows] if trusting else -end.trust[rows]
    order = np.lexsort((-end.evidence[rows], -lean))
    return rows[order[:count]]


def trust_network(path: Path, end: EndState) -> int:
    """The strongest trust (and distrust) between characters at the end, laid out by group
    and coloured by role; returns how many characters it shows."""
    groups = np.unique(end.group)
    sizes = np.array([(end.group == g).sum() for g in groups])
    shown = groups[: max(1, int(np.searchsorted(np.cumsum(sizes), MAX_NODES, side="right")))]
    keep = np.isin(end.group, shown)
    xy = group_circle(end.group[keep])
    where = {int(c): i for i, c in enumerate(end.cid[keep])}
    fig, ax = canvas(8, 8)
    n = int(keep.sum())
    for trusting, colour in ((True, "#3465a4"), (False, "#cc0000")):
        edges = strongest(end, keep, 2 * n if trusting else n // 2, trusting)
        for e in edges:
            a, b = xy[where[int(end.source[e])]], xy[where[int(end.target[e])]]
            strength = abs(end.trust[e] - 0.5) * 2
            ax.plot(
                (a[0], b[0]),
                (a[1], b[1]),
                color=colour,
                alpha=0.15 + 0.5 * strength,
                linewidth=0.4 + 1.2 * strength,
                zorder=1,
            )
    wealth = end.wealth[keep].astype(np.float64)
    size = 12 + 60 * np.sqrt(wealth / max(1.0, wealth.max()))
    for r in range(len(ROLE_NAMES)):
        mine = end.role[keep] == r
        if mine.any():
            ax.scatter(
                xy[mine, 0],
                xy[mine, 1],
                s=size[mine],
                color=ROLE_COLOURS[r],
                label=ROLE_NAMES[r],
                edgecolor="white",
                linewidth=0.5,
                zorder=2,
            )
    ax.plot([], [], color="#3465a4", label="strong trust")
    ax.plot([], [], color="#cc0000", label="strong distrust")
    of = f" (the first {len(shown)} of {len(groups)} groups)" if len(shown) < len(groups) else ""
    ax.set_title(
        f"Trust network at tick {end.tick}: {n} characters{of}\n"
        f"one cluster per group; dot size = wealth; only the strongest ties drawn"
    )
    ax.set_aspect("equal")
    ax.axis("off")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    save(fig, path)
    return n


def against_params(
    path: Path,
    figure: str,
    meaning: str,
    panels: Sequence[tuple[str, list[str], dict[str, tuple[list[float], list[float]]]]],
) -> None:
    """One figure against each parameter: a panel per parameter, x its values, a line per
    combination of the other parameters' values, error bars the 95% CI.

    `panels`: (parameter, its values as labels, {line label: (means, half widths)})."""
    fig = Figure(figsize=(4.6 * len(panels) + 1.2, 3.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False)
    for ax, (param, values, lines) in zip(axes[0], panels, strict=True):
        x = np.arange(len(values))
        spread = 0.06 * (len(lines) - 1)
        for i, (label, (means, halves)) in enumerate(lines.items()):
            dx = -spread / 2 + (spread * i / max(1, len(lines) - 1))
            ax.errorbar(
                x + dx,
                means,
                yerr=np.nan_to_num(np.array(halves, dtype=np.float64)),
                marker="o",
                capsize=4,
                label=label or None,
            )
        ax.set_xticks(x, values)
        ax.set_xlim(-0.5, len(values) - 0.5)
        ax.set_xlabel(param)
        ax.set_ylabel(figure.rsplit(".", 1)[-1])  # by_strategy.Defector.total: total
        ax.grid(alpha=0.3)
        if len(lines) > 1:
            ax.legend(fontsize=7)
    fig.suptitle(f"{figure}: {meaning} (mean and 95% CI over repeats)", fontsize=10)
    save(fig, path)
