"""`socius play HOST:PORT --token T`: play a character of a served world from a terminal.

What the character perceives is printed as it happens (who did and said what, with the feeling
they showed; decisions waiting, with their options and how long they wait); short commands
answer them. `help` lists the commands.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

import grpc

from actors.served.player_client import Player, channel
from protos import society_pb2 as pb
from protos import world_service_pb2 as wpb
from world.errors import UserError

HELP = """commands (N is a decision's number, as printed):
  N OPTION [WORDS...]          answer decision N, e.g. `1 chat good morning` or `2 keep`
  gift N AMOUNT GOOD [WORDS]   give your own goods, e.g. `gift 1 2 food for the children`
  offer N AMOUNT GOOD FOR AMOUNT GOOD [WORDS]
                               offer a trade, e.g. `offer 1 3 coin for 1 tools`
  ask N AMOUNT GOOD [WORDS]    ask for goods, e.g. `ask 1 2 food`
  gossip N ID good|bad|betrayed [WORDS]
                               tell about character ID, e.g. `gossip 1 17 betrayed`
  seek ID                      meet character ID in the next tick
  decisions                    the decisions waiting for you
  me                           your goods, needs, promises and relationships
  done                         nothing more from you this tick (the world need not wait)
  help                         this list
  quit                         leave (your character's own mind goes on)
goods: food, tools, cloth, medicine, coin"""

GOODS = {g.lower(): v for g, v in pb.Good.items()}
CLAIMS = {"good": pb.GOOD, "bad": pb.BAD, "betrayed": pb.BETRAYED}


DESCRIPTION = (
    "Join a served world as the character your token plays, see what it perceives as it "
    "happens, and act with short commands (type help)."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("address", metavar="HOST:PORT", help="where `socius serve` listens")
    p.add_argument("--token", required=True, help="your character's token (from the operator)")
    p.add_argument(
        "--ca-cert",
        type=Path,
        metavar="PEM",
        help="connect with TLS, trusting this certificate (the server's, or its CA's)",
    )
    p.set_defaults(func=cmd_play)


def goods(g: pb.Goods) -> str:
    return f"{g.amount} {pb.Good.Name(g.good).lower()}"


def shown(s: pb.Signal) -> str:
    feelings = {"joy": s.joy, "gratitude": s.gratitude, "anger": s.anger}
    feelings.update(sadness=s.sadness, fear=s.fear)
    strong = [f for f, v in sorted(feelings.items(), key=lambda kv: -kv[1]) if v >= 90]
    return f" (shows {', '.join(strong[:2])})" if strong else ""


def envelope_line(env: pb.Envelope, words: str, who: str = "") -> str:
    body = env.WhichOneof("body") or "act"
    what = body.replace("_", " ")
    if body == "gift":
        what = f"gives you {goods(env.gift.goods)}" + (" (a loan)" if env.gift.loan else "")
    elif body == "trade_offer":
        what = f"offers {goods(env.trade_offer.give)} for {goods(env.trade_offer.want)}"
    elif body == "trade_reply":
        status = pb.ReplyStatus.Name(env.trade_reply.status).lower()
        what = f"answers your offer: {status}"
    elif body == "request":
        what = f"asks you for {goods(env.request.need)}"
    elif body == "promise":
        what = f"promises you {goods(env.promise.what)} by tick {env.promise.due_tick}"
    elif body == "promise_kept":
        what = f"keeps a promise: {goods(env.promise_kept.delivered)}"
    elif body == "promise_broken":
        what = f"says you broke your promise of {goods(env.promise_broken.owed)}"
    elif body == "gossip":
        claim = pb.Claim.Name(env.gossip.claim).lower()
        what = f"tells you {env.gossip.subject} is {claim} (heard from {env.gossip.source})"
    elif body == "observation":
        o = env.observation
        did = "helped" if o.cooperated else "let down"
        what = f"saw someone act: {did} {o.recipient} ({pb.Kind.Name(o.act).lower()})"
    elif body == "utterance":
        what = "says"
    signal = env.utterance.shown if body == "utterance" else pb.Signal()
    feeling = shown(env.said.shown if env.HasField("said") else signal)
    said = f' "{words}"' if words else ""
    sender = f"{who} [{env.sender}]" if who else str(env.sender)
    return f"{sender} {what}{said}{feeling}"


class Table:
    """The decisions waiting for the player this tick, numbered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.waiting: dict[int, wpb.Decision] = {}
        self.next = 1
        self.tick = 0  # the tick of the last perception shown

    def add(self, d: wpb.Decision) -> int:
        with self.lock:
            n = self.next
            self.waiting[n] = d
            self.next += 1
            return n

    def clear(self) -> None:
        with self.lock:
            self.waiting.clear()

    def get(self, n: int) -> wpb.Decision:
        with self.lock:
            if n not in self.waiting:
                raise ValueError(f"no decision {n} is waiting; type decisions to see them")
            return self.waiting[n]


def decision_lines(n: int, d: wpb.Decision, who: str = "") -> list[str]:
    named = f"{d.counterpart} is {who}; " if who and d.counterpart >= 0 else ""
    lines = [f"decision {n}: {d.about} ({named}{d.seconds_left:g} s to answer)"]
    for o in d.options:
        lines.append(f"    {o.action:<12} {o.does}")
    return lines


def show(p: wpb.Perception, table: Table, out: TextIO) -> bool:
    """Print one perception; False when the world has ended."""
    kind = p.WhichOneof("what")
    table.tick = max(table.tick, p.tick)
    lines: list[str] = []
    if kind == "envelope":
        lines.append(envelope_line(p.envelope, p.words, p.who))
    elif kind == "decision":
        lines += decision_lines(table.add(p.decision), p.decision, p.who)
    elif kind == "outcome":
        o = p.outcome
        who = "you" if o.by_player else "your character's own mind (no answer in time)"
        lines.append(f"{o.action} ({who})")
    elif kind == "tick_ended":
        table.clear()
        lines.append(f"--- tick {p.tick_ended.tick} ended ---")
    elif kind == "world_ended":
        lines.append(f"the world has ended: {p.world_ended.reason}")
    for line in lines:
        print(f"[t{p.tick}] {line}", file=out, flush=True)
    return kind != "world_ended"


def me_lines(s: wpb.CharacterState) -> list[str]:
    lines = [
        f"you are {s.character}, a {s.role} of group {s.group}, at tick {s.tick}",
        "goods: " + ", ".join(goods(g) for g in s.goods),
        f"need {s.need:.2f}, hunger {s.hunger}, health {s.health:.2f}"
        + (" (sick)" if s.sick else "")
        + shown(s.feeling).replace("shows", "you feel"),
    ]
    for p in s.owes:
        lines.append(f"you owe {p.promisee} {goods(p.what)} by tick {p.due_tick} ({p.state})")
    for p in s.owed:
        lines.append(f"{p.promisor} owes you {goods(p.what)} by tick {p.due_tick} ({p.state})")
    for r in sorted(s.relationships, key=lambda r: -r.trust)[:12]:
        lines.append(
            f"  {r.character:>6}: trust {r.trust:.2f}, standing {r.reputation:+.2f}, "
            f"{r.betrayals} betrayals, {r.kept} kept, {r.trades} trades, met {r.meetings}x"
        )
    return lines


def command(line: str, player: Player, table: Table) -> str | None:
    """Carry out one command; returns what to print (None: quit)."""
    words = line.split()
    if not words:
        return ""
    head = words[0].lower()
    if head in ("quit", "exit"):
        return None
    if head in ("help", "?"):
        return HELP
    if head == "me":
        return "\n".join(me_lines(player.inspect()))
    if head == "done":
        return player.done(table.tick).note
    if head == "seek" and len(words) == 2 and words[1].isdigit():
        return player.seek(int(words[1])).note
    if head == "decisions":
        with table.lock:
            items = sorted(table.waiting.items())
        return "\n".join(line for n, d in items for line in decision_lines(n, d)) or "none"
    if head in ("gift", "offer", "ask", "gossip"):
        return _terms(head, words[1:], player, table)
    if head.isdigit() and len(words) >= 2:
        d = table.get(int(head))
        reply = player.act(d.id, words[1].lower(), " ".join(words[2:]))
        return reply.note
    raise ValueError(f"unknown command {line.strip()!r}; type help")


def _good(word: str) -> int:
    if word.lower() not in GOODS:
        raise ValueError(f"unknown good {word!r}; goods: {', '.join(GOODS)}")
    return GOODS[word.lower()]


def _terms(head: str, args: list[str], player: Player, table: Table) -> str:
    try:
        d = table.get(int(args[0]))
        if head == "gift":
            give = pb.Goods(good=_good(args[2]), amount=int(args[1]))  # type: ignore[arg-type]
            return player.act(d.id, "gift", " ".join(args[3:]), give=give).note
        if head == "offer":
            if args[3].lower() != "for":
                raise IndexError
            give = pb.Goods(good=_good(args[2]), amount=int(args[1]))  # type: ignore[arg-type]
            want = pb.Goods(good=_good(args[5]), amount=int(args[4]))  # type: ignore[arg-type]
            return player.act(d.id, "offer_trade", " ".join(args[6:]), give=give, want=want).note
        if head == "ask":
            want = pb.Goods(good=_good(args[2]), amount=int(args[1]))  # type: ignore[arg-type]
            return player.act(d.id, "ask", " ".join(args[3:]), want=want).note
        claim = CLAIMS.get(args[2].lower())
        if claim is None:
            raise ValueError(f"a claim is good, bad or betrayed, not {args[2]!r}")
        return player.act(
            d.id, "gossip", " ".join(args[3:]), gossip_subject=int(args[1]), gossip_claim=claim
        ).note
    except (IndexError, TypeError):
        raise ValueError(f"{head}: not understood; type help for the form") from None


def cmd_play(args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    if args.ca_cert is not None and not args.ca_cert.is_file():
        raise UserError(f"--ca-cert {args.ca_cert}: file not found")
    chan = channel(args.address, args.ca_cert)
    player = Player(chan, args.token)
    try:
        joined = player.join()
    except grpc.RpcError as err:
        raise UserError(f"{args.address}: {err.details() or err.code().name}") from None
    print(
        f"you play {joined.character}, a {joined.role}, at tick {joined.tick} of {joined.ticks}; "
        f"decisions wait {joined.player_wait_seconds:g} s for you. Type help.",
        file=out,
        flush=True,
    )
    table = Table()
    stream: Any = player.perceive()  # a gRPC call: iterate it, cancel it
    ended = threading.Event()

    def listen() -> None:
        try:
            for p in stream:
                if not show(p, table, out):
                    break
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.CANCELLED:
                print(f"the stream stopped: {err.details()}", file=out, flush=True)
        ended.set()

    threading.Thread(target=listen, daemon=True).start()
    for line in stdin:
        if ended.is_set():
            break
        try:
            said = command(line, player, table)
        except ValueError as err:
            said = str(err)
        except grpc.RpcError as err:
            said = f"refused: {err.details()}"
        if said is None:
            break
        if said:
            print(said, file=out, flush=True)
    stream.cancel()
    chan.close()
    return 0
