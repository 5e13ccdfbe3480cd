"""The journal: every envelope of a run, as checksummed records of protobuf `Batch`es.

A journal file starts with a magic line naming its format; every record after it is
`<u32 length><u32 crc32 of the payload><payload>`.

- Format 2 (`SOCIUS-JOURNAL 2\\n`, what runs write): a record is one zstd-compressed block
  holding every batch one writer wrote in one tick, each as `<u32 length><Batch>`. A block is
  written when the writer flushes, at the end of each tick, so a journal cut back to a size
  recorded at a checkpoint (`truncate_to`) ends on a whole tick.
- Format 1 (`SOCIUS-JOURNAL 1\\n`, older runs): a record's payload is one serialized `Batch`.
  Readers read it as before; a writer reopening such a file (resuming an older run) keeps
  appending in format 1.

Either way a batch is one per source shard, destination and tick, so every envelope kept
appears exactly once. A reader stops cleanly at a torn last record (a run that was killed) and
reports it; a checksum that fails in the middle is corruption and raises JournalError.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import zstandard

from protos import society_pb2 as pb
from world.errors import JournalError

MAGIC_V1 = b"SOCIUS-JOURNAL 1\n"
MAGIC_V2 = b"SOCIUS-JOURNAL 2\n"
MAGIC = MAGIC_V2  # what new journals start with
VERSIONS = {MAGIC_V1: 1, MAGIC_V2: 2}
LEVEL = 3  # zstd level: a few times smaller, fast enough to write every tick
_HEAD = struct.Struct("<II")
_LENGTH = struct.Struct("<I")


def _format_of(path: Path) -> int | None:
    """The format of an existing journal file (None: empty or missing)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    with open(path, "rb") as f:
        head = f.read(len(MAGIC))
    if head not in VERSIONS:
        raise JournalError(f"{path} is not a socius journal; cannot append to it")
    return VERSIONS[head]


class JournalWriter:
    """Appends batches to one journal file. `flush` after every tick writes the tick's block
    and keeps a crash cheap; a file that already holds a journal keeps its format."""

    def __init__(self, path: Path) -> None:
        self.path = path
        found = _format_of(path)
        self.version = found if found is not None else VERSIONS[MAGIC]
        self._f: BinaryIO = open(path, "ab")  # noqa: SIM115 - closed by close()
        self._block: list[bytes] = []
        self._zstd = zstandard.ZstdCompressor(level=LEVEL)
        if found is None:  # on disk at once: a run stopped in its first tick keeps a journal
            self._f.write(MAGIC)
            self._f.flush()

    def write(self, payload: bytes) -> None:
        """One serialized `Batch`."""
        if self.version == 1:
            self._record(payload)
        else:
            self._block.append(payload)

    def _record(self, payload: bytes) -> None:
        self._f.write(_HEAD.pack(len(payload), zlib.crc32(payload)))
        self._f.write(payload)

    def flush(self) -> None:
        if self._block:
            raw = b"".join(_LENGTH.pack(len(p)) + p for p in self._block)
            self._block = []
            self._record(self._zstd.compress(raw))
        self._f.flush()

    def truncate_to(self, size: int) -> None:
        """Cut the file back (resuming a run from a checkpoint discards what came after)."""
        self._block = []
        self._f.flush()
        self._f.truncate(size)
        self._f.seek(size)

    def tell(self) -> int:
        """The file's size once flushed (a checkpoint records it after a flush)."""
        return self._f.tell()

    def close(self) -> None:
        if not self._f.closed:
            self.flush()
            self._f.close()


@dataclasses.dataclass
class Scan:
    records: int = 0  # batches read
    blocks: int = 0  # records read (format 2: compressed blocks; format 1: one per batch)
    torn_tail: bool = False  # the last record was cut short (the run was killed mid-write)
    version: int = 0  # the file's format


def _records(f: BinaryIO, path: Path, scan: Scan) -> Iterator[bytes]:
    """The checked payloads of a journal's records."""
    while True:
        raw = f.read(_HEAD.size)
        if not raw:
            return
        if len(raw) < _HEAD.size:
            scan.torn_tail = True
            return
        length, crc = _HEAD.unpack(raw)
        payload = f.read(length)
        if len(payload) < length:
            scan.torn_tail = True
            return
        if zlib.crc32(payload) != crc:
            raise JournalError(
                f"{path}: record {scan.blocks + 1} fails its checksum; "
                f"the journal is corrupt from there on"
            )
        scan.blocks += 1
        yield payload


def _unpack(block: bytes, path: Path, scan: Scan) -> Iterator[bytes]:
    """The batches of one format-2 block."""
    try:
        raw = zstandard.ZstdDecompressor().decompress(block)
    except zstandard.ZstdError as err:
        raise JournalError(f"{path}: block {scan.blocks} does not decompress: {err}") from None
    at = 0
    while at < len(raw):
        if at + _LENGTH.size > len(raw):
            raise JournalError(f"{path}: block {scan.blocks} ends inside a batch's length")
        (length,) = _LENGTH.unpack_from(raw, at)
        at += _LENGTH.size
        if at + length > len(raw):
            raise JournalError(f"{path}: block {scan.blocks} ends inside a batch")
        yield raw[at : at + length]
        at += length


def _parse(payload: bytes, path: Path, scan: Scan) -> pb.Batch:
    batch = pb.Batch()
    try:
        batch.ParseFromString(payload)
    except Exception as err:  # a protobuf DecodeError
        raise JournalError(f"{path}: record {scan.records + 1} is not a Batch: {err}") from None
    scan.records += 1
    return batch


def read_journal(path: Path, scan: Scan | None = None) -> Iterator[pb.Batch]:
    """The batches of one journal file (either format), in the order they were written."""
    scan = scan if scan is not None else Scan()
    with open(path, "rb") as f:
        head = f.read(len(MAGIC))
        if head not in VERSIONS:
            raise JournalError(
                f"{path} is not a socius journal (it does not start with "
                f"{MAGIC.decode().strip()!r} or {MAGIC_V1.decode().strip()!r})"
            )
        scan.version = VERSIONS[head]
        for payload in _records(f, path, scan):
            if scan.version == 1:
                yield _parse(payload, path, scan)
                continue
            for one in _unpack(payload, path, scan):
                yield _parse(one, path, scan)
