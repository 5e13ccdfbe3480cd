"""A finished (or stopped) run's view, from its record (`socius view RUN`).

Scrubbing to tick T shows T's figures (metrics.csv), T's events (the journal's mail sent in T)
and the characters as the nearest checkpoint at or before T left them (`checkpoints/`; the
scenario's start, tick 0, when no kept checkpoint is that early): the page says which. Hidden
feelings are shown: a record is read by whoever holds the run folder.
"""

from __future__ import annotations

import csv
import json
import threading
from pathlib import Path
from typing import Any

from actors.served.view.events import events_of
from actors.served.view.watch import Locked, Watch
from world.errors import RunFolderError, UserError
from world.journal import Scan, read_journal
from world.journal_mode import read_kept
from world.record import checkpoint_path, journal_path, load_run_scenario, read_shard_snapshot
from world.runtime import make_shard
from world.shard import Shard
from world.wire import Mail, canonical, concat, from_batch

#: Ticks before the one shown whose events fill the feed and the characters' timelines.
EARLIER = 20


def _number(text: str) -> float | int:
    try:
        return int(text)
    except ValueError:
        return float(text)


class Recorded:
    """A run folder, scrubbable: `watch` shows the tick last asked for (`scrub`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        sc = load_run_scenario(self.folder)
        if sc.classic is not None:
            raise UserError(
                f"{folder} ran the classic game {sc.classic.kind}; socius view shows villages "
                f"(use socius report {folder} for a game's results)"
            )
        self.scenario = sc
        self.rows = self._metrics()
        self.last = max(self.rows) if self.rows else 0
        self.checkpoints = self._checkpoints()
        manifests = list(self.checkpoints.values())
        self.n = int(manifests[0]["n_shards"]) if manifests else (sc.shards or 1)
        self.keep = read_kept(self.folder).mode.keep
        self.mail = self._journal()
        self.lock = threading.Lock()
        self.at: int | None = None  # the checkpoint the shards hold
        self.shards: list[Shard] = []
        self.watch = Watch(
            sc,
            lambda: self.shards,
            lambda stats: {},
            Locked(self.lock),
            world={"recorded": True, "last": self.last, "journal": self.keep},
            folder=self.folder,
        )
        self.scrub(self.last)

    def _metrics(self) -> dict[int, dict[str, Any]]:
        path = self.folder / "metrics.csv"
        if not path.is_file():
            raise RunFolderError(f"{self.folder} has no metrics.csv; is it a socius run folder?")
        with open(path, newline="", encoding="utf-8") as f:
            return {
                int(r["tick"]): {k: _number(v) for k, v in r.items() if k != "tick" and v != ""}
                for r in csv.DictReader(f)
            }

    def _checkpoints(self) -> dict[int, dict[str, Any]]:
        out = {}
        for where in sorted((self.folder / "checkpoints").glob("tick-*")):
            manifest = where / "manifest.json"
            if manifest.is_file():
                data = json.loads(manifest.read_text(encoding="utf-8"))
                out[int(data["tick"])] = data
        return out

    def _journal(self) -> dict[tuple[int, int], Mail]:
        """The mail each shard sent in each tick (nothing if the journal is off)."""
        parts: dict[tuple[int, int], list[Mail]] = {}
        if self.keep == "off":
            return {}
        for index in range(self.n):
            path = journal_path(self.folder, index)
            if not path.is_file():
                continue
            for b in read_journal(path, Scan()):
                parts.setdefault((int(b.tick), index), []).append(from_batch(b))
        return {k: canonical(concat(v)) for k, v in parts.items()}

    def _load(self, tick: int) -> None:
        """The shards as the checkpoint of `tick` (0: the start) left them."""
        if self.at == tick:
            return
        shards = []
        for i in range(self.n):
            shard = make_shard(self.scenario, i, self.n)
            assert isinstance(shard, Shard)
            if tick in self.checkpoints:
                shard.set_state(read_shard_snapshot(self.folder, tick, i))
            shards.append(shard)
        self.shards, self.at = shards, tick

    def scrub(self, tick: int) -> None:
        """Show tick `tick` (clamped to the run's ticks)."""
        t = max(0, min(int(tick), self.last))
        base = max((c for c in self.checkpoints if c <= t), default=0)
        with self.lock:
            self._load(base)
            for shard in self.shards:
                shard.outbox = self.mail.get((t, shard.index), Mail())
            w = self.watch
            with w.lock:
                w.history.clear()
                w.history.extend({"tick": k, **self.rows[k]} for k in sorted(self.rows) if k <= t)
                w.feed.clear()
                for k in range(max(1, t - EARLIER), t):  # the feed and timelines before t
                    sent = concat(self.mail.get((k, i), Mail()) for i in range(self.n))
                    w.feed.extend(events_of(sent, k, w.roster.names)[0])
            w.world.update(
                {
                    "shown_tick": t,
                    "checkpoint": base,
                    "from_start": base not in self.checkpoints,
                    "checkpoint_dir": str(checkpoint_path(self.folder, base).name),
                }
            )
            w.frame = None
            w.look(t, None)
