"""The run folder: what `socius run` leaves behind (docs/architecture.md, "The run record").

    scenario.yaml   the validated scenario as run
    summary.json    final figures and state_digest
    metrics.csv     one row per tick, the figures the Prometheus exporter shows
    journal.json    what the journal keeps (world/journal_mode.py: full, sample:K or off)
    journal/        the envelopes (world/journal.py), one file per shard; none when off
    checkpoints/    tick-NNNNNNNN/: a msgpack snapshot per shard, then manifest.json

Files are written so that a run stopped at any moment loses nothing already written: metrics
rows and journal records are flushed every tick, summaries and manifests are replaced
atomically (write to a temporary file, then rename). A checkpoint counts only once its manifest
exists, and the manifest is written last.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path
from typing import Any, TextIO

import msgpack
import yaml

from world.errors import RunFolderError, UserError
from world.journal import JournalWriter
from world.journal_mode import FULL, JournalMode, Kept, read_kept, write_kept
from world.scenario import Scenario, parse_scenario
from world.store import Store

KEEP_CHECKPOINTS = 2  # older complete checkpoints are removed
#: The file a run writes when it ends (its figures); a folder without it is a run still going,
#: or one stopped before it could write it.
SUMMARY = "summary.json"


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def journal_path(folder: Path, shard: int) -> Path:
    return Path(folder) / "journal" / f"shard-{shard:05d}.sjl"


def checkpoint_path(folder: Path, tick: int) -> Path:
    return Path(folder) / "checkpoints" / f"tick-{tick:08d}"


def shard_snapshot_name(index: int) -> str:
    return f"shard-{index:05d}.msgpack"


def write_shard_snapshot(folder: Path, tick: int, state: dict[str, Any]) -> str:
    """Write one shard's state into the checkpoint of `tick`; returns the file name."""
    where = checkpoint_path(folder, tick)
    where.mkdir(parents=True, exist_ok=True)
    name = shard_snapshot_name(state["index"])
    atomic_write(where / name, msgpack.packb(state, use_bin_type=True))
    return name


def read_shard_snapshot(folder: Path, tick: int, index: int) -> dict[str, Any]:
    path = checkpoint_path(folder, tick) / shard_snapshot_name(index)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise RunFolderError(f"cannot read checkpoint file {str(path)!r}: {err.strerror}") from None
    try:
        return msgpack.unpackb(data, raw=False, strict_map_key=False)
    except Exception as err:  # msgpack raises several kinds
        raise RunFolderError(f"checkpoint file {str(path)!r} is damaged: {err}") from None


def latest_checkpoint(folder: Path) -> dict[str, Any] | None:
    """The manifest of the newest complete checkpoint of a run folder, or None."""
    root = Path(folder) / "checkpoints"
    if not root.is_dir():
        return None
    for where in sorted(root.glob("tick-*"), reverse=True):
        manifest = where / "manifest.json"
        if manifest.is_file():
            try:
                return json.loads(manifest.read_text())
            except (OSError, ValueError):
                continue
    return None


def load_run_scenario(folder: Path) -> Scenario:
    """The scenario a run folder ran (its layout checked first: a newer socius's is refused)."""
    path = Path(folder) / "scenario.yaml"
    if not Path(folder).is_dir():
        raise RunFolderError(f"run folder {str(folder)!r} not found")
    if not path.is_file():
        raise RunFolderError(f"{str(folder)!r} has no scenario.yaml; is it a socius run folder?")
    read_kept(folder)
    return parse_scenario(yaml.safe_load(path.read_text(encoding="utf-8")), source=str(path))


def check_new_folder(folder: Path) -> None:
    """A new run goes into a folder that does not exist yet or is empty."""
    if folder.exists() and not folder.is_dir():
        raise RunFolderError(
            f"run folder {str(folder)!r} is a file, not a folder; choose another --out"
        )
    if folder.exists() and any(folder.iterdir()):
        raise RunFolderError(
            f"run folder {str(folder)!r} already holds files; choose another --out or remove it"
        )


class RunRecord:
    """Writes a run folder. `journals=False` when the shards write their own journals
    (the Ray runtime); `resume=True` to continue an existing folder (whose journal keeps what
    it kept: `journal` is then ignored); `journal`: what the journal keeps (default full)."""

    def __init__(
        self,
        folder: Path,
        scenario: Scenario,
        n_shards: int,
        resume: bool = False,
        journals: bool = True,
        journal: JournalMode = FULL,
        store: Store | None = None,
    ) -> None:
        """`store`: the object store `folder` stages for (world/store.py), which gets what
        changed at each checkpoint and at the end."""
        self.folder = Path(folder)
        self.store = store if store is not None and store.remote else None
        if not resume:
            check_new_folder(self.folder)
            problem = journal.problem(scenario.population.size)
            if problem:
                raise UserError(problem)
        self.kept = (
            read_kept(self.folder)
            if resume
            else Kept.of(journal, scenario.seed, scenario.population.size)
        )
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            if self.kept.mode.keep != "off":
                (self.folder / "journal").mkdir(exist_ok=True)
            (self.folder / "checkpoints").mkdir(exist_ok=True)
        except OSError as err:
            raise RunFolderError(
                f"cannot create run folder {str(self.folder)!r}: {err.strerror}"
            ) from None
        if not resume:
            (self.folder / "scenario.yaml").write_text(scenario.to_yaml(), encoding="utf-8")
            write_kept(self.folder, self.kept)
        self.journals: list[JournalWriter] = []
        if journals:  # else the shards write their own (the Ray runtime)
            writers = [self.kept.writer(journal_path(self.folder, i)) for i in range(n_shards)]
            self.journals = [w for w in writers if w is not None]
        self._metrics_path = self.folder / "metrics.csv"
        self._metrics: TextIO | None = None
        self._writer: Any = None
        self._marks: dict[Path, int] = {}
        self._mark()

    # --- every tick -------------------------------------------------------------------------

    def journal(self, shard: int, payload: bytes) -> None:
        if self.journals:  # none when the journal is off (or the shards write their own)
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

    # --- checkpoints ------------------------------------------------------------------------

    def journal_sizes(self) -> list[int]:
        for j in self.journals:
            j.flush()
        return [j.tell() for j in self.journals]

    def write_manifest(self, tick: int, manifest: dict[str, Any]) -> Path:
        """Complete the checkpoint of `tick` (its shard files must be written) and prune old
        ones."""
        where = checkpoint_path(self.folder, tick)
        where.mkdir(parents=True, exist_ok=True)
        atomic_write(where / "manifest.json", json.dumps({"tick": tick, **manifest}).encode())
        complete = sorted(
            p.parent for p in (self.folder / "checkpoints").glob("tick-*/manifest.json")
        )
        for old in complete[:-KEEP_CHECKPOINTS]:
            shutil.rmtree(old, ignore_errors=True)
        if self.store is not None:
            self.flush()
            self.store.push(prune=True)
        return where

    def rewind_to(self, manifest: dict[str, Any]) -> None:
        """Cut the journals and metrics back to a checkpoint (resume and recovery)."""
        for j, size in zip(self.journals, manifest.get("journal_sizes", []), strict=False):
            j.truncate_to(int(size))
        tick = int(manifest["tick"])
        if self._metrics is not None:
            self._metrics.close()
            self._metrics, self._writer = None, None
        if self._metrics_path.exists():
            text = self._metrics_path.read_text(encoding="utf-8")
            rows = list(csv.DictReader(io.StringIO(text)))
            keep = [r for r in rows if int(r["tick"]) <= tick]
            out = io.StringIO()
            if rows:
                writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
                writer.writeheader()
                writer.writerows(keep)
            atomic_write(self._metrics_path, out.getvalue().encode())
        self._mark()

    def summary(self, summary: dict[str, Any]) -> None:
        atomic_write(self.folder / SUMMARY, json.dumps(summary, indent=2, sort_keys=False).encode())
        if self.store is not None:
            self.flush()
            self.store.push(prune=True)

    @property
    def where(self) -> str:
        """Where the run is, for people and for shard actors on other machines: the store's
        URL, or the folder's absolute path."""
        return self.store.url if self.store is not None else str(self.folder.resolve())

    def close(self) -> None:
        self.flush()
        for j in self.journals:
            j.close()
        self.journals = []
        if self._metrics is not None:
            self._metrics.close()
        if self.store is not None:
            self.store.push(prune=True)
