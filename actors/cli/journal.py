"""`socius journal cat|stats RUN`: read the envelopes a run recorded."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from google.protobuf.json_format import MessageToDict

from actors.cli import flags
from protos import society_pb2 as pb
from world.errors import RunFolderError, UserError
from world.journal import Scan, read_journal
from world.journal_mode import read_kept, require_journal
from world.phrases import render
from world.record import SUMMARY
from world.vocab import EMOTION_NAMES, Kind
from world.wire import canonical, concat, from_batch, to_envelope

KIND_NAMES = {k.name.lower(): k for k in Kind}

DESCRIPTION = "Read the envelopes a run recorded."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    cat = sub.add_parser("cat", help="print envelopes, one a line")
    cat.add_argument(
        "run", metavar="RUN", type=flags.fetched_run, help="run folder, or its object store URL"
    )
    cat.add_argument("--tick", type=int, help="only this tick (when sent)")
    cat.add_argument("--character", type=int, help="only envelopes from or to this character")
    cat.add_argument("--kind", help="only this kind (gift, promise, gossip ...)")
    cat.add_argument("--limit", type=flags.positive("--limit"), help="stop after this many")
    cat.add_argument("--json", action="store_true", help="one JSON object a line")
    stats = sub.add_parser("stats", help="count envelopes by kind and tick")
    stats.add_argument(
        "run", metavar="RUN", type=flags.fetched_run, help="run folder, or its object store URL"
    )
    p.set_defaults(func=cmd_journal)


def journal_files(run: Path) -> list[Path]:
    if not run.is_dir():
        raise RunFolderError(
            f"run folder {str(run)!r} not found; give the folder `socius run` "
            f"wrote (it holds summary.json and journal/)"
        )
    require_journal(run, "socius journal", sample_ok=True)
    files = sorted((run / "journal").glob("shard-*.sjl"))
    if not files:
        raise RunFolderError(
            f"{str(run)!r} has no journal/shard-*.sjl files; is it a socius run folder?"
        )
    return files


def batches(run: Path, scans: list[Scan]) -> Iterator[pb.Batch]:
    for path in journal_files(run):
        scan = Scan()
        scans.append(scan)
        yield from read_journal(path, scan)


def by_tick(run: Path, scans: list[Scan]) -> Iterator[tuple[int, list[pb.Batch]]]:
    """Every tick's batches together, ticks in order (files are read once each, in full)."""
    ticks: dict[int, list[pb.Batch]] = {}
    for b in batches(run, scans):
        ticks.setdefault(b.tick, []).append(b)
    for t in sorted(ticks):
        yield t, ticks[t]


def describe(env: pb.Envelope, declining: bool) -> str:
    which = env.WhichOneof("body")
    body = getattr(env, which)
    fields = MessageToDict(
        body, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    fields.pop("shown", None)
    said = env.utterance if which == "utterance" else (env.said if env.HasField("said") else None)
    words = ""
    feel = ""
    if said is not None:
        words = said.text or render(said.phrase, declining)
        s = said.shown
        shown = dict(
            zip(EMOTION_NAMES, (s.joy, s.gratitude, s.anger, s.sadness, s.fear), strict=True)
        )
        top = [
            f"{k} {v / 255:.1f}" for k, v in sorted(shown.items(), key=lambda kv: -kv[1]) if v >= 40
        ][:2]
        feel = f" [shows {', '.join(top)}]" if top else ""
    detail = " ".join(f"{k}={_short(v)}" for k, v in fields.items() if k not in ("phrase", "text"))
    text = f' "{words}"' if words else ""
    return (
        f"t={env.tick:<5} {env.sender:>7} -> {env.recipient:<7} #{env.seq:<5} "
        f"{which:<14} {detail}{text}{feel}"
    )


def _short(v: object) -> str:
    if isinstance(v, dict):
        return "/".join(str(x) for x in v.values())
    return str(v)


def cmd_journal(args: argparse.Namespace) -> int:
    scans: list[Scan] = []
    if args.action == "cat":
        kind = None
        if args.kind is not None:
            kind = KIND_NAMES.get(args.kind.lower())
            if kind is None:
                raise UserError(f"unknown kind {args.kind!r}; allowed: {', '.join(KIND_NAMES)}")
        shown = 0
        _warn_sampled(args.run)
        for tick, bs in by_tick(args.run, scans):
            if args.tick is not None and tick != args.tick:
                continue
            mail = canonical(concat(from_batch(b) for b in bs))
            n = len(mail)
            for i in range(n):
                if kind is not None and mail.kind[i] != kind:
                    continue
                if args.character is not None and args.character not in (
                    int(mail.sender[i]),
                    int(mail.recipient[i]),
                ):
                    continue
                env = to_envelope(mail, i, tick)
                if args.json:
                    print(
                        json.dumps(
                            MessageToDict(
                                env,
                                preserving_proto_field_name=True,
                                always_print_fields_with_no_presence=True,
                            )
                        )
                    )
                else:
                    declining = mail.kind[i] == Kind.UTTERANCE and mail.flag[i] & 1
                    print(describe(env, bool(declining)))
                shown += 1
                if args.limit and shown >= args.limit:
                    return 0
        _warn_torn(scans)
        return 0
    # stats
    kinds: Counter[str] = Counter()
    per_tick: Counter[int] = Counter()
    for b in batches(args.run, scans):
        counts = Counter(bytes(b.kind))
        for k, c in counts.items():
            kinds[Kind(k).name.lower()] += c
        per_tick[b.tick] += b.count
    total = sum(kinds.values())
    records = sum(s.records for s in scans)
    print(
        f"run {args.run}: {total:,} envelopes in {records:,} records over {len(per_tick)} "
        f"ticks, {len(scans)} journal file(s)"
    )
    for name, c in kinds.most_common():
        print(f"  {name:<15} {c:>10,}")
    if per_tick:
        busiest = max(per_tick, key=lambda t: per_tick[t])
        print(
            f"  per tick: mean {total / len(per_tick):,.1f}, busiest tick {busiest} "
            f"({per_tick[busiest]:,})"
        )
    kept = read_kept(args.run)
    summary = args.run / SUMMARY
    if kept.mode.keep == "sample":
        print(
            f"  the journal keeps the envelopes of {kept.mode.count} sampled characters "
            f"({', '.join(map(str, kept.characters))}) (--journal {kept.mode})"
        )
    elif summary.is_file():
        expected = json.loads(summary.read_text())["totals"]["envelopes"]
        verdict = "matches" if expected == total else "DOES NOT match"
        print(f"  summary.json counts {expected:,} envelopes: the journal {verdict}")
    _warn_torn(scans)
    return 0


def _warn_sampled(run: Path) -> None:
    kept = read_kept(run)
    if kept.mode.keep == "sample":
        print(
            f"socius: {run} kept the envelopes of {kept.mode.count} sampled characters only "
            f"({', '.join(map(str, kept.characters))}): --journal {kept.mode}",
            file=sys.stderr,
        )


def _warn_torn(scans: list[Scan]) -> None:
    torn = sum(s.torn_tail for s in scans)
    if torn:
        print(
            f"socius: {torn} journal file(s) end in a torn record (the run was killed while "
            f"writing); everything before it was read",
            file=sys.stderr,
        )
