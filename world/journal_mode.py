"""What a run's journal keeps (`--journal full|sample:K|off`), and where a run folder says so.

- `full` keeps every envelope (the default of `socius run`).
- `sample:K` keeps every envelope sent or received by K characters picked from the scenario's
  seed (the same K for the same scenario and seed, on any layout): each sampled character's
  whole story, and nothing of the others'.
- `off` keeps none: no journal/ folder (the default of sweeps, whose figures come from
  summaries, metrics and checkpoints).

The journal only records: the mode changes no draw and no digest. A run folder says what its
journal kept in `journal.json` (`keep`, and the sampled `characters`); a folder without one is
an older run, which kept everything. Readers that need what a run did not keep refuse it with
one line naming the fix: run the same scenario and seed again with `--journal full`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np

from world.errors import RunFolderError
from world.journal import JournalWriter
from world.rng import Stream, hash64
from world.wire import decode, encode

KEEPS = ("full", "sample", "off")
MODE_FILE = "journal.json"


@dataclasses.dataclass(frozen=True)
class JournalMode:
    """What a journal keeps: `keep` is full, sample or off; `count` the characters sampled."""

    keep: str = "full"
    count: int = 0

    @classmethod
    def parse(cls, text: str) -> JournalMode:
        """`full`, `off` or `sample:K` (K at least 1); ValueError with a one-line reason."""
        keep, colon, count = text.strip().partition(":")
        if keep in ("full", "off") and not colon:
            return cls(keep)
        if keep == "sample" and colon:
            try:
                k = int(count)
            except ValueError:
                k = 0
            if k >= 1:
                return cls("sample", k)
            raise ValueError(
                f"--journal sample:K takes a whole number of characters of at least 1, "
                f"not {count!r}"
            )
        raise ValueError(f"--journal takes full, sample:K or off, not {text!r}")

    def __str__(self) -> str:
        return f"sample:{self.count}" if self.keep == "sample" else self.keep

    def problem(self, characters: int) -> str | None:
        """Why this mode cannot journal a world of `characters` characters, or None."""
        if self.keep == "sample" and self.count > characters:
            return (
                f"--journal {self} samples more characters than the {characters} of the "
                f"scenario; sample fewer, or keep them all with --journal full"
            )
        return None


FULL = JournalMode("full")
OFF = JournalMode("off")


def sampled(seed: int, characters: int, count: int) -> list[int]:
    """The `count` characters a sampled journal keeps: the lowest hashes of (seed, id), in id
    order."""
    ids = np.arange(characters, dtype=np.int64)
    ranks = hash64(seed, Stream.JOURNAL, ids)
    return sorted(int(i) for i in ids[np.argsort(ranks, kind="stable")[:count]])


@dataclasses.dataclass(frozen=True)
class Kept:
    """What a run folder's journal holds: its mode and, when sampled, whose envelopes."""

    mode: JournalMode
    characters: tuple[int, ...] = ()

    @classmethod
    def of(cls, mode: JournalMode, seed: int, population: int) -> Kept:
        chosen = sampled(seed, population, mode.count) if mode.keep == "sample" else []
        return cls(mode, tuple(chosen))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Kept:
        mode = JournalMode.parse(str(data["keep"]))
        return cls(mode, tuple(int(c) for c in data.get("characters", ())))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"keep": str(self.mode)}
        if self.mode.keep == "sample":
            out["characters"] = list(self.characters)
        return out

    def writer(self, path: Path) -> JournalWriter | None:
        """The writer of one shard's journal file (None: nothing is kept)."""
        if self.mode.keep == "off":
            return None
        if self.mode.keep == "sample":
            return SampledWriter(path, self.characters)
        return JournalWriter(path)


class SampledWriter(JournalWriter):
    """A journal writer that keeps only the envelopes from or to some characters."""

    def __init__(self, path: Path, characters: tuple[int, ...]) -> None:
        super().__init__(path)
        self.characters = np.asarray(characters, dtype=np.int64)

    def write(self, payload: bytes) -> None:
        batch, mail = decode(payload)
        n = len(mail)
        keep = np.isin(mail.sender[:n], self.characters) | np.isin(
            mail.recipient[:n], self.characters
        )
        if keep.all():
            super().write(payload)
        elif keep.any():
            part = mail.take(np.flatnonzero(keep))
            super().write(encode(part, batch.tick, batch.source_shard, batch.dest_shard))


#: The layout of a run folder this socius writes and reads (journal.json's `record`): a folder
#: of a later layout, written by a newer socius, is refused in one line rather than misread.
RECORD_FORMAT = 1


def write_kept(folder: Path, kept: Kept) -> None:
    data = {"record": RECORD_FORMAT, **kept.to_json()}
    (Path(folder) / MODE_FILE).write_text(json.dumps(data) + "\n", encoding="utf-8")


def read_kept(folder: Path) -> Kept:
    """What the run in `folder` kept (a folder without journal.json: an older run, full)."""
    path = Path(folder) / MODE_FILE
    if not path.is_file():
        return Kept(FULL)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        layout = int(data.get("record", 1))
        kept = Kept.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise RunFolderError(f"{path} is damaged ({err}); it says what the journal kept") from None
    if layout > RECORD_FORMAT:
        raise RunFolderError(
            f"{folder} was written by a newer socius (run record format {layout}; this one "
            f"reads up to {RECORD_FORMAT}): upgrade socius to read or resume it"
        )
    return kept


def rerun(folder: Path) -> str:
    """The command that makes the run in `folder` again with its whole journal."""
    extra = ""
    if (Path(folder) / "traces").is_dir():
        extra += f" --llm-replay {folder}"
    if (Path(folder) / "players.jsonl").is_file():
        extra += f" --players-replay {folder}"
    return f"socius run {folder}/scenario.yaml --journal full{extra} --out NEW_FOLDER"


def require_journal(folder: Path, what: str, sample_ok: bool = False) -> Kept:
    """What `folder`'s journal kept, if it serves `what` (a command that reads it); else a
    RunFolderError naming the fix."""
    kept = read_kept(folder)
    if kept.mode.keep == "off":
        raise RunFolderError(
            f"{folder} kept no journal (it ran with --journal off), so {what} has nothing to "
            f"read; the same run with its journal: {rerun(folder)}"
        )
    if kept.mode.keep == "sample" and not sample_ok:
        raise RunFolderError(
            f"{folder} kept only the envelopes of {kept.mode.count} sampled characters "
            f"(--journal {kept.mode}) and {what} needs every envelope; the same run with its "
            f"whole journal: {rerun(folder)}"
        )
    return kept


def journal_bytes(folder: Path) -> int:
    """The size of a run folder's journal files on disk."""
    return sum(p.stat().st_size for p in (Path(folder) / "journal").glob("shard-*.sjl"))
