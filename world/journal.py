"""The journal: every envelope of a run, as length-prefixed protobuf records with checksums.

A journal file starts with the magic line `SOCIUS-JOURNAL 1\\n`; each record is
`<u32 length><u32 crc32 of the payload><payload>`, the payload a serialized `Batch` (one per
shard, destination and tick, so every envelope appears exactly once). A reader stops cleanly at
a torn last record (a run that was killed) and reports it; a checksum that fails in the middle
is corruption and raises JournalError.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from protos import society_pb2 as pb
from world.errors import JournalError

MAGIC = b"SOCIUS-JOURNAL 1\n"
_HEAD = struct.Struct("<II")


class JournalWriter:
    """Appends records to one journal file; `flush` after every tick keeps a crash cheap."""

    def __init__(self, path: Path) -> None:
        self.path = path
        fresh = not path.exists() or path.stat().st_size == 0
        self._f: BinaryIO = open(path, "ab")  # noqa: SIM115 - closed by close()
        if fresh:  # on disk at once: a run stopped in its first tick keeps a valid journal
            self._f.write(MAGIC)
            self._f.flush()

    def write(self, payload: bytes) -> None:
        self._f.write(_HEAD.pack(len(payload), zlib.crc32(payload)))
        self._f.write(payload)

    def flush(self) -> None:
        self._f.flush()

    def truncate_to(self, size: int) -> None:
        """Cut the file back (resuming a run from a checkpoint discards what came after)."""
        self._f.flush()
        self._f.truncate(size)
        self._f.seek(size)

    def tell(self) -> int:
        return self._f.tell()

    def close(self) -> None:
        self._f.close()


@dataclasses.dataclass
class Scan:
    records: int = 0
    torn_tail: bool = False  # the last record was cut short (the run was killed mid-write)


def read_journal(path: Path, scan: Scan | None = None) -> Iterator[pb.Batch]:
    """The batches of one journal file, in the order they were written."""
    scan = scan if scan is not None else Scan()
    with open(path, "rb") as f:
        head = f.read(len(MAGIC))
        if head != MAGIC:
            raise JournalError(
                f"{path} is not a socius journal (it does not start with "
                f"{MAGIC.decode().strip()!r})"
            )
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
                    f"{path}: record {scan.records + 1} fails its checksum; "
                    f"the journal is corrupt from there on"
                )
            batch = pb.Batch()
            try:
                batch.ParseFromString(payload)
            except Exception as err:  # a protobuf DecodeError
                raise JournalError(
                    f"{path}: record {scan.records + 1} is not a Batch: {err}"
                ) from None
            scan.records += 1
            yield batch
