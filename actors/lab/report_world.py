"""What a report reads from a run folder: its figures per tick and the world at its end.

The end is the run's last complete checkpoint: every shard's snapshot, decoded with the
world's own `Characters` table, gives each character's role, group, wealth and the trust it
places in the characters it remembers (trust = (good + 1) / (good + bad + 2), the same as the
run's mean_trust figure).
"""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from world.characters import Characters
from world.errors import RunFolderError
from world.record import SUMMARY, latest_checkpoint, read_shard_snapshot
from world.vocab import PRICE


def read_metrics(folder: Path) -> dict[str, np.ndarray]:
    """metrics.csv as one float array per column (empty arrays for a run with no ticks)."""
    path = folder / "metrics.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return {}
    try:
        return {k: np.array([float(r[k]) for r in rows]) for k in rows[0]}
    except (TypeError, ValueError):
        raise RunFolderError(f"{str(path)!r} has a row that is not numbers") from None


def read_summary(folder: Path) -> dict[str, Any] | None:
    """summary.json, or None for a run that never wrote one (still going, or killed)."""
    path = folder / SUMMARY
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise RunFolderError(f"{str(path)!r} is not JSON; the run folder is damaged") from None
    return data if isinstance(data, dict) else None


@dataclasses.dataclass(frozen=True)
class EndState:
    """Every character at the last checkpoint, and each trust it holds (one edge a slot)."""

    tick: int
    cid: np.ndarray
    role: np.ndarray
    group: np.ndarray
    wealth: np.ndarray
    source: np.ndarray  # edges: who trusts ...
    target: np.ndarray  # ... whom ...
    trust: np.ndarray  # ... how much, 0..1
    evidence: np.ndarray  # acts behind that trust

    @classmethod
    def read(cls, folder: Path) -> EndState | None:
        """The world at the run's last complete checkpoint, or None if it has none."""
        manifest = latest_checkpoint(folder)
        if manifest is None:
            return None
        tick = int(manifest["tick"])
        parts: dict[str, list[np.ndarray]] = {k: [] for k in _FIELDS}
        for index in range(int(manifest["n_shards"])):
            state = read_shard_snapshot(folder, tick, index)
            chars = Characters.from_state(state["chars"])
            n = len(chars)
            known = chars.rel_id[:n] >= 0
            pos = chars.rel_pos[:n][known].astype(np.float64)
            neg = chars.rel_neg[:n][known].astype(np.float64)
            who = np.broadcast_to(chars.cid[:n, None], known.shape)[known]
            parts["cid"].append(chars.cid[:n].astype(np.int64))
            parts["role"].append(chars.role[:n].astype(np.int64))
            parts["group"].append(chars.group[:n].astype(np.int64))
            parts["wealth"].append(chars.goods[:n].astype(np.int64) @ PRICE)
            parts["source"].append(who.astype(np.int64))
            parts["target"].append(chars.rel_id[:n][known].astype(np.int64))
            parts["trust"].append((pos + 1.0) / (pos + neg + 2.0))
            parts["evidence"].append(pos + neg)
        arrays = {k: np.concatenate(v) for k, v in parts.items()}
        order = np.argsort(arrays["cid"], kind="stable")
        for k in ("cid", "role", "group", "wealth"):
            arrays[k] = arrays[k][order]
        return cls(tick=tick, **arrays)


_FIELDS = ("cid", "role", "group", "wealth", "source", "target", "trust", "evidence")
