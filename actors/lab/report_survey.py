"""The report page of a survey (actors/lab/survey.py): each Likert item's answers by group and by
role, beside the truth the world holds where it has one, and a table of self-report against
truth; a few answers to each free question."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from actors.lab.page import Page
from actors.lab.plots import canvas, save
from actors.lab.survey import COLUMNS
from world.errors import UserError

#: Answers of a free question the page quotes.
QUOTED = 8


def is_survey(path: Path) -> bool:
    """Whether `path` is a survey's CSV (its header is the survey's columns)."""
    if path.suffix != ".csv" or not path.is_file():
        return False
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f), None) == list(COLUMNS)


def surveys_in(where: Path) -> list[Path]:
    """The survey CSVs at `where`: the file itself, or those a folder holds."""
    if where.is_dir():
        return sorted(p for p in where.glob("*.csv") if is_survey(p))
    return [where] if is_survey(where) else []


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _mean(values: Sequence[str]) -> float:
    numbers = [float(v) for v in values if v != ""]
    return float(np.mean(numbers)) if numbers else float("nan")


def by_key(rows: Sequence[dict[str, str]], key: str) -> dict[str, tuple[float, float, int]]:
    """Per value of `key` (group, role): mean answer, mean truth and how many answered."""
    parts: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        parts[r[key]].append(r)
    order = sorted(parts, key=lambda k: (len(k), k))
    return {
        k: (
            _mean([r["answer"] for r in parts[k]]),
            _mean([r["truth"] for r in parts[k]]),
            sum(1 for r in parts[k] if r["answer"] != ""),
        )
        for k in order
    }


def answers_by(path: Path, rows: Sequence[dict[str, str]], title: str) -> None:
    """Bars of the mean answer by group and by role, the mean truth beside them."""
    fig, _ = canvas(10, 3.4)
    fig.clear()
    panels = fig.subplots(1, 2)
    for ax, key in zip(panels, ("group", "role"), strict=True):
        means = by_key(rows, key)
        x = np.arange(len(means))
        said = [m[0] for m in means.values()]
        truth = [m[1] for m in means.values()]
        ax.bar(x - 0.2, said, 0.4, label="said", color="#3465a4")
        if not all(np.isnan(truth)):
            ax.bar(x + 0.2, truth, 0.4, label="truth", color="#f57900", alpha=0.8)
        ax.set_xticks(x, list(means), rotation=45 if key == "role" else 0)
        ax.set_ylim(1, 5)
        ax.set_xlabel(key)
        ax.set_ylabel("mean answer (1-5)")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    save(fig, path)


def survey_report(where: Path, out: Path | None = None) -> Path:
    """The page of the survey CSV at `where` (or of every survey CSV a folder holds)."""
    files = surveys_in(where)
    if not files:
        raise UserError(
            f"{str(where)!r} holds no survey CSV (`socius survey` writes one); give its path"
        )
    if out is None:
        out = where / "report.html" if where.is_dir() else where.with_suffix(".html")
    page = Page(out, f"Survey: {where.name}")
    for n, path in enumerate(files):
        rows = read_rows(path)
        first = rows[0] if rows else {}
        people = len({r["character"] for r in rows})
        page.text("h2", path.name)
        page.text(
            "p",
            f"{people} characters of run {first.get('run', '?')} at tick {first.get('tick', '?')}; "
            f"answers 1 (strongly disagree) .. 5 (strongly agree). Where the world knows the "
            f"truth (trust, feelings) it is drawn beside the answers, on the same scale.",
        )
        table = []
        items: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in rows:
            items[r["item"]].append(r)
        for k, (item, its) in enumerate(items.items()):
            text = its[0]["text"]
            if its[0]["type"] == "free":
                page.text("h3", f"{item}: {text}")
                quoted = [[r["name"], r["role"], r["answer"]] for r in its[:QUOTED] if r["answer"]]
                page.table(["who", "role", "answer"], quoted, left=3)
                continue
            answers_by(page.image(f"survey-{n}-{k}.png", f"{item}: {text}"), its, f"{item}: {text}")
            gaps = [float(r["gap"]) for r in its if r["gap"] != ""]
            table.append(
                [
                    item,
                    its[0]["type"],
                    sum(1 for r in its if r["answer"] != ""),
                    f"{_mean([r['answer'] for r in its]):.2f}",
                    f"{_mean([r['truth'] for r in its]):.2f}",
                    f"{np.mean(gaps):+.2f}" if gaps else "–",
                    f"{np.mean(np.abs(gaps)):.2f}" if gaps else "–",
                ]
            )
        if table:
            page.text("h3", "self-report against truth")
            page.table(
                ["item", "type", "answers", "mean said", "mean truth", "mean gap", "mean |gap|"],
                table,
                left=2,
            )
    return page.write()
