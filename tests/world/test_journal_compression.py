"""The compressed journal (format 2): the same batches as an uncompressed journal of the same
run, older format-1 journals still read, a torn last block is reported, and resuming from a
checkpoint leaves the journal an unbroken run leaves."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from world.errors import JournalError
from world.journal import MAGIC_V1, MAGIC_V2, JournalWriter, Scan, read_journal
from world.record import RunRecord, journal_path, latest_checkpoint
from world.runtime import LocalRuntime
from world.scenario import Scenario, parse_scenario

SHARDS = 2


def village(ticks: int = 12) -> Scenario:
    return parse_scenario(
        {"name": "small", "seed": 5, "ticks": ticks, "population": {"size": 30, "group_size": 10}}
    )


def recorded(folder: Path, sc: Scenario, every: int = 0) -> str:
    """Run `sc` into a run folder (journal kept in full, format 2); returns the digest."""
    record = RunRecord(folder, sc, SHARDS)
    runtime = LocalRuntime(sc, SHARDS, record, every)
    result = runtime.run()
    record.close()
    return result.state_digest


def write_v1(path: Path, payloads: list[bytes]) -> None:
    """A format-1 journal, written by hand as older socius wrote it."""
    with open(path, "wb") as f:
        f.write(MAGIC_V1)
        for p in payloads:
            f.write(struct.pack("<II", len(p), zlib.crc32(p)) + p)


def unrecorded(sc: Scenario) -> tuple[str, list[bytes]]:
    """The same run without a record: its digest and every batch sent, as sent."""
    runtime = LocalRuntime(sc, SHARDS)
    sent: list[bytes] = []
    while runtime.completed < sc.ticks:
        runtime.step()
        sent.extend(p for inbox in runtime.in_flight() for p in inbox)
    return runtime.digest(), sent


def batches(folder: Path) -> list[bytes]:
    return [
        b.SerializeToString() for s in range(SHARDS) for b in read_journal(journal_path(folder, s))
    ]


def test_compressed_journal_holds_the_batches_of_the_same_run(tmp_path: Path) -> None:
    """A run's compressed journal reads back exactly the batches the run sent (the batches an
    uncompressed journal holds), and recording it changes no digest."""
    sc = village()
    digest = recorded(tmp_path / "run", sc)
    plain_digest, sent = unrecorded(sc)
    assert digest == plain_digest
    for s in range(SHARDS):
        assert journal_path(tmp_path / "run", s).read_bytes().startswith(MAGIC_V2)
    write_v1(tmp_path / "v1.sjl", sent)
    v1 = [b.SerializeToString() for b in read_journal(tmp_path / "v1.sjl")]
    assert sorted(batches(tmp_path / "run")) == sorted(v1) == sorted(sent)
    compressed = sum(journal_path(tmp_path / "run", s).stat().st_size for s in range(SHARDS))
    assert compressed < (tmp_path / "v1.sjl").stat().st_size


def test_a_format_1_journal_still_reads(tmp_path: Path) -> None:
    """A journal in the old format (one uncompressed Batch per record) reads as it did."""
    _, sent = unrecorded(village(4))
    write_v1(tmp_path / "old.sjl", sent)
    scan = Scan()
    read = list(read_journal(tmp_path / "old.sjl", scan))
    assert [b.SerializeToString() for b in read] == sent
    assert scan.version == 1 and scan.records == scan.blocks == len(sent)
    assert not scan.torn_tail


def test_a_writer_keeps_appending_to_a_format_1_journal(tmp_path: Path) -> None:
    """Resuming an older run appends format-1 records to its format-1 journal."""
    _, sent = unrecorded(village(4))
    write_v1(tmp_path / "old.sjl", sent[:3])
    writer = JournalWriter(tmp_path / "old.sjl")
    for p in sent[3:]:
        writer.write(p)
    writer.close()
    assert [b.SerializeToString() for b in read_journal(tmp_path / "old.sjl")] == sent


def test_one_block_per_tick_and_writer(tmp_path: Path) -> None:
    """Each writer writes one compressed block per tick that sent mail."""
    sc = village(6)
    recorded(tmp_path / "run", sc)
    for s in range(SHARDS):
        scan = Scan()
        ticks = {b.tick for b in read_journal(journal_path(tmp_path / "run", s), scan)}
        assert scan.version == 2 and scan.blocks == len(ticks) and scan.records >= scan.blocks


def test_a_torn_last_block_is_reported_not_an_error(tmp_path: Path) -> None:
    """A journal cut inside its last block (a killed run) reads every whole block before it,
    and says it was torn; so does one that ends inside a record's head."""
    recorded(tmp_path / "run", village(6))
    path = journal_path(tmp_path / "run", 0)
    whole = Scan()
    every = list(read_journal(path, whole))
    data = path.read_bytes()

    path.write_bytes(data[:-3])  # the last block cut short
    scan = Scan()
    read = list(read_journal(path, scan))
    assert scan.torn_tail and scan.blocks == whole.blocks - 1
    assert read == [b for b in every if b.tick != every[-1].tick]

    path.write_bytes(data + struct.pack("<I", 1000)[:3])  # a head cut short
    scan = Scan()
    assert list(read_journal(path, scan)) == every
    assert scan.torn_tail


def test_a_damaged_block_in_the_middle_is_an_error(tmp_path: Path) -> None:
    """A flipped byte inside a block fails its checksum: JournalError, not a silent stop."""
    recorded(tmp_path / "run", village(6))
    path = journal_path(tmp_path / "run", 0)
    data = bytearray(path.read_bytes())
    length, _ = struct.unpack_from("<II", data, len(MAGIC_V2))
    data[len(MAGIC_V2) + 8 + length // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(JournalError, match="checksum"):
        list(read_journal(path))


def test_resume_from_a_checkpoint_gives_the_unbroken_journal(tmp_path: Path) -> None:
    """A run stopped after tick 13 and resumed from its checkpoint of tick 10 ends with the
    digest and the journal files, byte for byte, of the run that was never stopped."""
    sc = village(20)
    digest = recorded(tmp_path / "whole", sc, every=5)

    record = RunRecord(tmp_path / "broken", sc, SHARDS)
    first = LocalRuntime(sc, SHARDS, record, 5)
    first.run(ticks=13)
    record.close()  # stopped: the journal holds 13 ticks, the last checkpoint is of tick 10

    manifest = latest_checkpoint(tmp_path / "broken")
    assert manifest is not None and manifest["tick"] == 10
    record = RunRecord(tmp_path / "broken", sc, SHARDS, resume=True)
    again = LocalRuntime(sc, SHARDS, record, 5)
    again.restore(manifest)
    for s in range(SHARDS):
        assert max(b.tick for b in read_journal(journal_path(tmp_path / "broken", s))) == 10
    result = again.run()
    record.close()
    assert result.state_digest == digest
    for s in range(SHARDS):
        whole = journal_path(tmp_path / "whole", s).read_bytes()
        assert journal_path(tmp_path / "broken", s).read_bytes() == whole
    assert batches(tmp_path / "broken") == batches(tmp_path / "whole")
