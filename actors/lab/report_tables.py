"""What report pages read from a sweep's or an experiment's CSV files, and how they name files."""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

from world.errors import RunFolderError

Row = dict[str, str]


def read_rows(path: Path) -> list[Row]:
    """A CSV file's rows; a missing file is a damaged folder."""
    if not path.is_file():
        raise RunFolderError(f"{str(path)!r} is missing; the folder is incomplete")
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def number(text: str | None) -> float:
    """A CSV cell as a number (an empty cell is NaN)."""
    return float(text) if text not in ("", None) else math.nan


def file_name(figure: str) -> str:
    """A figure's name as part of a file name: `by_strategy.Tit For Tat.total` ->
    `by_strategy.Tit_For_Tat.total`."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", figure)


def with_ci(mean: float, low: float, high: float, signed: bool = False) -> str:
    """`mean [low, high]` in 3 significant digits (with a sign, for differences)."""
    if math.isnan(mean):
        return "–"
    f = "+.3g" if signed else ".3g"
    if math.isnan(low):
        return format(mean, f)
    return f"{format(mean, f)} [{format(low, f)}, {format(high, f)}]"
