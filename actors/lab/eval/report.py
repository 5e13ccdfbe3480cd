"""The report page of an evaluation folder: each skill per mind with its 95% interval, the
reliability diagram of trust, and the figures as a table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from actors.lab.page import Page
from actors.lab.plots import canvas, save
from world.errors import RunFolderError

#: The figures drawn, each with its section in eval.json, its name there and its axis label.
SKILLS = (
    ("reading", "accuracy", "reading: exact accuracy (higher is better)"),
    ("reading", "within_one", "reading: within one level (higher is better)"),
    ("reading", "macro_f1", "reading: macro-F1 (higher is better)"),
    ("trust", "brier", "trust: Brier score (lower is better)"),
    ("trust", "log_loss", "trust: log loss (lower is better)"),
    ("validity", "valid_share", "share of valid answers"),
)


def read_eval(folder: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((folder / "eval.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise RunFolderError(
            f"{str(folder)!r}: eval.json cannot be read ({err}); run socius eval again"
        ) from None
    return data


def skill_bars(path: Path, minds: dict[str, Any], section: str, name: str, label: str) -> bool:
    """One bar per mind with its interval; False when no mind has the figure."""
    names, values, low, high = [], [], [], []
    for mind, figures in minds.items():
        f = figures[section][name]
        if f["value"] is None:
            continue
        names.append(mind)
        values.append(f["value"])
        low.append(f["value"] - f["low"])
        high.append(f["high"] - f["value"])
    if not names:
        return False
    fig, ax = canvas(6.5, 0.5 + 0.45 * len(names))
    y = np.arange(len(names))
    ax.barh(y, values, xerr=[low, high], color="#3465a4", alpha=0.8, capsize=4)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel(label)
    ax.grid(axis="x", alpha=0.3)
    save(fig, path)
    return True


def reliability(path: Path, minds: dict[str, Any]) -> bool:
    """Observed share kept against the probability given, per bin, per mind."""
    fig, ax = canvas(5.5, 5)
    ax.plot([0, 1], [0, 1], color="#888", linestyle="--", label="perfectly calibrated")
    drawn = False
    for i, (mind, figures) in enumerate(minds.items()):
        rows = figures["trust"]["reliability"]
        if not rows:
            continue
        drawn = True
        x = [r["predicted"] for r in rows]
        y = [r["observed"] for r in rows]
        size = [20 + 200 * r["n"] / max(sum(q["n"] for q in rows), 1) for r in rows]
        ax.plot(x, y, color=f"C{i}", alpha=0.7)
        ax.scatter(x, y, s=size, color=f"C{i}", label=mind, alpha=0.8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("probability the promise is kept, as the mind said")
    ax.set_ylabel("share kept")
    ax.legend(loc="upper left", fontsize=8)
    save(fig, path)
    return drawn


def _cell(f: dict[str, Any]) -> str:
    return "–" if f["value"] is None else f"{f['value']:.3f} [{f['low']:.3f}, {f['high']:.3f}]"


def eval_report(folder: Path, out: Path) -> Path:
    data = read_eval(folder)
    minds: dict[str, Any] = data["minds"]
    page = Page(out, f"Emotional intelligence: {', '.join(minds)}")
    where = (
        f"runs {', '.join(data['runs'])}"
        if "runs" in data
        else f"scenario {data['scenario']}, seeds {', '.join(map(str, data['seeds']))}"
    )
    page.text(
        "p",
        f"{data['items']['reading']} reading items and {data['items']['trust']} trust items "
        f"from {where}. Each figure with its 95% interval (bootstrap over items); the majority "
        f"baseline was fitted to the {data['majority_fitted_on']} items.",
        "headline",
    )
    header = ["mind", "reading accuracy", "within one", "macro-F1", "trust Brier", "log loss",
              "valid"]  # fmt: skip
    rows = [
        [
            name,
            _cell(f["reading"]["accuracy"]),
            _cell(f["reading"]["within_one"]),
            _cell(f["reading"]["macro_f1"]),
            _cell(f["trust"]["brier"]),
            _cell(f["trust"]["log_loss"]),
            _cell(f["validity"]["valid_share"]),
        ]
        for name, f in minds.items()
    ]
    page.table(header, rows, left=1)
    page.text("h2", "Skills")
    for section, name, label in SKILLS:
        path = page.assets / f"{section}-{name}.png"
        if skill_bars(path, minds, section, name, label):
            page.image(path.name, label)
    page.text("h2", "Trust calibration")
    if reliability(page.assets / "reliability.png", minds):
        page.image(
            "reliability.png",
            "reliability diagram: the share of promises kept against the probability each "
            "mind gave (dot size: items)",
        )
    return page.write()
