"""The run folder: what `socius run` leaves behind (ARCHITECTURE.md, "The run record").

    scenario.yaml   the validated scenario as run
    summary.json    final figures and state_digest
    metrics.csv     one row per tick, the figures the Prometheus exporter shows
    journal/        every envelope (world/journal.py)
    checkpoints/    msgpack snapshots per shard plus a manifest

Files are written so that a run stopped at any moment loses nothing already written: metrics
rows and journal records are flushed every tick, summaries and manifests are replaced
atomically (write to a temporary file, then rename).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any, TextIO

import msgpack

from world.errors import RunFolderError
from world.journal import JournalWriter
from world.scenario import Scenario


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunRecord:
    def __init__(
        self, folder: Path, scenario: Scenario, n_shards: int, resume: bool = False
    ) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise RunFolderError(
                f"run folder {str(self.folder)!r} is a file, not a folder; choose another --out"
            )
        if not resume and self.folder.exists() and any(self.folder.iterdir()):
            raise RunFolderError(
                f"run folder {str(self.folder)!r} already holds files; choose another --out or "
                f"remove it"
            )
        try:
            (self.folder / "journal").mkdir(parents=True, exist_ok=True)
            (self.folder / "checkpoints").mkdir(exist_ok=True)
        except OSError as err:
            raise RunFolderError(
                f"cannot create run folder {str(self.folder)!r}: {err.strerror}"
            ) from None
        if not resume:
            (self.folder / "scenario.yaml").write_text(scenario.to_yaml(), encoding="utf-8")
        self.journals = [
            JournalWriter(self.folder / "journal" / f"shard-{i:05d}.sjl") for i in range(n_shards)
        ]
        self._metrics_path = self.folder / "metrics.csv"
        self._metrics: TextIO | None = None
        self._writer: Any = None
        self._marks: dict[Path, int] = {}
        self._mark()

    def journal(self, shard: int, payload: bytes) -> None:
        self.journals[shard].write(payload)

    def metrics_row(self, row: dict[str, Any]) -> None:
        if self._writer is None:
            fresh = not self._metrics_path.exists() or self._metrics_path.stat().st_size == 0
            self._metrics = open(self._metrics_path, "a", newline="", encoding="utf-8")  # noqa: SIM115
            self._writer = csv.DictWriter(self._metrics, fieldnames=list(row))
            if fresh:
                self._writer.writeheader()
        self._writer.writerow(row)

    def flush(self) -> None:
        """Make everything written so far durable; it becomes the point `rewind` returns to."""
        for j in self.journals:
            j.flush()
        if self._metrics is not None:
            self._metrics.flush()
        self._mark()

    def _mark(self) -> None:
        paths = [j.path for j in self.journals] + [self._metrics_path]
        self._marks = {p: p.stat().st_size if p.exists() else 0 for p in paths}

    def rewind(self) -> None:
        """Drop whatever was written after the last flush (an unfinished tick), so the folder
        holds whole ticks only."""
        for j in self.journals:
            j.flush()
        if self._metrics is not None:
            self._metrics.flush()
        for path, size in self._marks.items():
            if path.exists() and path.stat().st_size > size:
                os.truncate(path, size)

    def snapshot(self, tick: int, states: list[dict[str, Any]], extra: dict[str, Any]) -> Path:
        """Write every shard's state, then the manifest that makes the checkpoint whole."""
        folder = self.folder / "checkpoints" / f"tick-{tick:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for state in states:
            name = f"shard-{state['index']:05d}.msgpack"
            atomic_write(folder / name, msgpack.packb(state, use_bin_type=True))
            files.append(name)
        manifest = {"tick": tick, "shards": files, **extra}
        atomic_write(folder / "manifest.json", json.dumps(manifest, indent=2).encode())
        return folder

    def summary(self, summary: dict[str, Any]) -> None:
        atomic_write(
            self.folder / "summary.json", json.dumps(summary, indent=2, sort_keys=False).encode()
        )

    def close(self) -> None:
        self.flush()
        for j in self.journals:
            j.close()
        if self._metrics is not None:
            self._metrics.close()


def load_snapshot(folder: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A checkpoint's manifest and shard states; RunFolderError if it is not whole."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise RunFolderError(f"checkpoint {str(folder)!r} has no manifest; it is incomplete")
    manifest = json.loads(manifest_path.read_text())
    states = []
    for name in manifest["shards"]:
        path = folder / name
        if not path.is_file():
            raise RunFolderError(f"checkpoint {str(folder)!r} lacks {name}")
        states.append(msgpack.unpackb(path.read_bytes(), raw=False, strict_map_key=False))
    return manifest, states
