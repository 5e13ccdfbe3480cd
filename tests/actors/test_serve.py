"""`socius serve` with real players over gRPC: their acts go through the tick, the journal and
the figures; quiet players never stall the world; the guard refuses what must not pass."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import queue
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from actors.cli.main import build_parser
from actors.cli.serve import loopback
from actors.served.player_client import Operator, Player, channel
from actors.served.tokens import write_tokens
from protos import society_pb2 as pb
from protos import world_service_pb2 as wpb
from tests.commands import ROOT, popen_socius, socius
from world.journal import read_journal
from world.record import journal_path
from world.wire import from_batch

SCENARIO = {
    "name": "hall",
    "seed": 3,
    "ticks": 50,
    "population": {"size": 40},
    "encounters": {"rate": 1.0},
    "players": {"playable": [5, 12, 20]},
}


def _scenario(tmp: Path) -> Path:
    path = tmp / "hall.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    return path


class Served:
    """A `socius serve` process, its port, tokens and run folder."""

    def __init__(self, tmp: Path, *flags: object) -> None:
        self.out = tmp / "run"
        self.proc = popen_socius(
            "serve", _scenario(tmp), "--grpc-port", 0, "--out", self.out, *flags
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        m = re.search(r" on [^ ]+:(\d+)", line)
        assert m, f"no serving line: {line!r} {self.proc.stderr.read() if self.proc.stderr else ''}"
        self.port = int(m.group(1))
        tokens = json.loads((self.out / "tokens.json").read_text())
        self.operator = tokens["operator"]
        self.tokens = {int(c): t for c, t in tokens["characters"].items()}

    def wait(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=120)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


class Stream:
    """A player's perceptions, collected by a thread."""

    def __init__(self, player: Player) -> None:
        self.items: queue.Queue[wpb.Perception] = queue.Queue()
        self.error: grpc.StatusCode | None = None
        self.call = player.perceive()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for p in self.call:
                self.items.put(p)
        except grpc.RpcError as err:
            self.error = err.code()

    def next(self) -> wpb.Perception:
        return self.items.get(timeout=60)

    def poll(self) -> wpb.Perception | None:
        try:
            return self.items.get(timeout=0.05)
        except queue.Empty:
            return None


def _code(fn: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        fn()
    return err.value.code()  # type: ignore[no-any-return]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    s = Served(
        tmp_path, "--paused", "--tick-interval", 0, "--player-wait", 120, "--ticks", 5,
        "--checkpoint-every", 0,
    )  # fmt: skip
    yield s
    s.kill()


def test_players_act_through_the_tick_and_the_guard_refuses_what_must_not_pass(
    served: Served,
) -> None:
    """Two players answer every decision; their acts reach the journal and the figures, while
    other characters' decisions, goods not owned, unknown actions, oversize and undecodable
    requests, missing tokens and player tokens at the controls are refused and counted."""
    chan = channel(f"127.0.0.1:{served.port}")
    grpc.channel_ready_future(chan).result(timeout=30)
    # health checking and reflection are on
    health = health_pb2_grpc.HealthStub(chan)
    reply = health.Check(health_pb2.HealthCheckRequest(service="socius.WorldService"), timeout=10)
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    refl = reflection_pb2_grpc.ServerReflectionStub(chan)
    answers = refl.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=10
    )
    names = {s.name for a in answers for s in a.list_services_response.service}
    assert "socius.WorldService" in names and "grpc.health.v1.Health" in names

    op = Operator(chan, served.operator)
    five, twelve = Player(chan, served.tokens[5]), Player(chan, served.tokens[12])
    assert five.join().character == 5
    assert twelve.join(12).role
    s5, s12 = Stream(five), Stream(twelve)
    # who may do what
    assert _code(lambda: Player(chan, "x" * 32).join()) == grpc.StatusCode.UNAUTHENTICATED
    assert (
        _code(lambda: Player(chan, served.tokens[5]).join(12)) == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        _code(lambda: Player(chan, served.tokens[5]).join(999)) == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert (
        _code(lambda: Operator(chan, served.tokens[5]).pause()) == grpc.StatusCode.PERMISSION_DENIED
    )
    assert _code(lambda: Player(chan, served.operator).join()) == grpc.StatusCode.PERMISSION_DENIED
    stranger = Player(chan, served.tokens[20])
    stranger.session = "not-a-session"
    assert _code(stranger.inspect) == grpc.StatusCode.FAILED_PRECONDITION
    raw = chan.unary_unary("/socius.WorldService/Act")
    bad = _code(lambda: raw(b"\xff\xff\xff\xff", metadata=five.metadata, timeout=10))
    assert bad == grpc.StatusCode.INVALID_ARGUMENT
    huge = lambda: five.act("1-5-1", "chat", words="w" * 5000)  # noqa: E731
    assert _code(huge) == grpc.StatusCode.INVALID_ARGUMENT
    seats = {s.character: s for s in op.status().seats}
    assert seats[5].claimed and seats[12].claimed and not seats[20].claimed

    mine = five.inspect()
    assert mine.character == 5 and len(mine.goods) == 5

    chosen: dict[str, str] = {}
    refused = {"other": 0, "not_owned": 0, "unknown": 0, "words": 0}
    for tick in range(1, 6):
        op.step(1)
        ended: set[int] = set()
        for _ in range(2000):  # 100 s at most
            if ended == {5, 12}:
                break
            for who, stream, player in ((5, s5, five), (12, s12, twelve)):
                p = stream.poll()
                if p is None:
                    continue
                kind = p.WhichOneof("what")
                if kind == "tick_ended":
                    assert p.tick_ended.tick == tick
                    ended.add(who)
                elif kind == "envelope":
                    assert p.envelope.recipient == who
                elif kind == "outcome":
                    assert p.outcome.by_player
                    assert p.outcome.action == chosen[p.outcome.decision]
                elif kind == "decision":
                    d = p.decision
                    options = {o.action: o for o in d.options}
                    if who == 12:  # five may not answer twelve's decision
                        attack = lambda d=d: five.act(d.id, d.options[0].action)  # noqa: E731
                        assert _code(attack) == grpc.StatusCode.PERMISSION_DENIED
                        refused["other"] += 1
                        action = next(o.action for o in reversed(d.options) if not o.terms)
                        player.act(d.id, action)
                    else:
                        if "gift" in options and options["gift"].terms:
                            greedy = lambda d=d: five.act(  # noqa: E731
                                d.id, "gift", give=pb.Goods(good=pb.COIN, amount=9999)
                            )
                            assert _code(greedy) == grpc.StatusCode.PERMISSION_DENIED
                            refused["not_owned"] += 1
                        nonsense = lambda d=d: five.act(d.id, "steal")  # noqa: E731
                        assert _code(nonsense) == grpc.StatusCode.INVALID_ARGUMENT
                        refused["unknown"] += 1
                        long = lambda d=d: five.act(d.id, d.options[0].action, "w" * 300)  # noqa: E731
                        assert _code(long) == grpc.StatusCode.INVALID_ARGUMENT
                        refused["words"] += 1
                        action = "chat" if "chat" in options else d.options[0].action
                        player.act(d.id, action, words="hello from five")
                    chosen[d.id] = action
    assert refused["other"] and refused["not_owned"], "both players met someone (seed 3)"
    code, out, err = served.wait()
    assert code == 0, err
    summary = json.loads((served.out / "summary.json").read_text())
    players = summary["players"]
    assert players["decisions"] == players["answers"] == len(chosen) > 0
    assert players["defaults"] == 0
    requests = players["requests"]
    assert requests["permission_denied"] == 3 + refused["other"] + refused["not_owned"]
    assert requests["invalid_argument"] >= 3 + refused["unknown"] + refused["words"]
    assert requests["unauthenticated"] >= 1
    assert requests["Act:ok"] == len(chosen)
    # the players' acts are in the journal, as anyone's
    said = [
        (int(m.sender[i]), m.text_of(i))
        for b in read_journal(journal_path(served.out, 0))
        for m in [from_batch(b)]
        for i in range(len(m))
        if m.text[i] >= 0
    ]
    assert (5, "hello from five") in said
    assert f"{served.out}: 5 ticks" in out


def test_a_quiet_player_never_stalls_the_world_and_tls_serves(tmp_path: Path) -> None:
    """A player who joins and never answers: after --player-wait its character's own mind acts,
    counted as defaults; the world is served over TLS only; a token's rate is limited."""
    cert, key = _self_signed(tmp_path)
    s = Served(
        tmp_path, "--paused", "--tick-interval", 0, "--player-wait", 0.2, "--ticks", 3,
        "--tls-cert", cert, "--tls-key", key, "--rate-limit", 2, "--checkpoint-every", 0,
    )  # fmt: skip
    try:
        plain = grpc.insecure_channel(f"127.0.0.1:{s.port}")
        assert _code(lambda: Operator(plain, s.operator).status()) == grpc.StatusCode.UNAVAILABLE
        chan = channel(f"localhost:{s.port}", ca_cert=cert)
        quiet = Player(chan, s.tokens[5])
        quiet.join()
        stream = Stream(quiet)
        hasty = Player(chan, s.tokens[20])  # never joins: passing the limit, it lacks a session
        codes = {_code(hasty.inspect) for _ in range(12)}
        assert codes == {grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.RESOURCE_EXHAUSTED}
        Operator(chan, s.operator).resume()
        seen = []
        while True:
            p = stream.next()
            seen.append(p)
            if p.WhichOneof("what") == "world_ended":
                break
        code, _, err = s.wait()
    finally:
        s.kill()
    assert code == 0, err
    outcomes = [p.outcome for p in seen if p.WhichOneof("what") == "outcome"]
    decisions = [p.decision for p in seen if p.WhichOneof("what") == "decision"]
    assert outcomes and len(outcomes) == len(decisions)
    assert not any(o.by_player for o in outcomes)
    players = json.loads((s.out / "players.json").read_text())
    assert players["defaults"] == players["decisions"] == len(decisions)
    assert players["answers"] == 0
    assert players["requests"]["resource_exhausted"] >= 1
    rows = (s.out / "metrics.csv").read_text().splitlines()
    header = rows[0].split(",")
    total = sum(int(r.split(",")[header.index("player_defaults")]) for r in rows[1:])
    assert total == len(decisions)


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and its key: made with the cryptography
    package when it is installed, else with openssl."""
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    try:
        import cryptography  # noqa: F401
    except ImportError:
        import subprocess

        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key_path, "-out", cert_path, "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert_path, key_path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_every_written_token_is_taken_by_socius_play(tmp_path: Path) -> None:
    """Tokens are pasted after `socius play --token`: none may read as a flag (a url-safe token
    began with '-' one time in 64, and `socius play` then refused it)."""
    tokens = write_tokens(tmp_path / "tokens.json", list(range(2000)))
    assert len(tokens) == 2001
    for token in tokens:
        argv = ["play", "127.0.0.1:1", "--token", token]
        assert build_parser(argv).parse_args(argv).token == token


def test_bad_serve_input_is_one_line(tmp_path: Path) -> None:
    """No players section, a tokens file others can read, and a port in use: one line each,
    exit 2."""
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump({k: v for k, v in SCENARIO.items() if k != "players"}))
    r = socius("serve", plain, "--out", tmp_path / "a")
    assert r.returncode == 2 and "has no players section" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps({"operator": "o" * 20, "characters": {"5": "p" * 20}}))
    os.chmod(tokens, 0o644)
    r = socius("serve", _scenario(tmp_path), "--tokens", tokens, "--out", tmp_path / "b")
    assert r.returncode == 2 and "chmod 600" in r.stderr and "Traceback" not in r.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = socius("serve", _scenario(tmp_path), "--grpc-port", port, "--out", tmp_path / "c")
    assert r.returncode == 2 and f"--grpc-port {port}" in r.stderr
    assert "Traceback" not in r.stderr
    r = socius("serve", _scenario(tmp_path), "--host", "0.0.0.0", "--out", tmp_path / "d")
    assert r.returncode == 2 and r.stderr.strip() == (
        "socius: --host 0.0.0.0 listens beyond this machine, and without TLS every player's "
        "token would cross the network in the clear: give --tls-cert and --tls-key, or "
        "--insecure if the network is yours"
    )
    assert not (tmp_path / "d").exists()


def test_only_loopback_counts_as_this_machine() -> None:
    """What `serve --host` may listen on without TLS or --insecure."""
    assert all(loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))
    assert not any(loopback(h) for h in ("0.0.0.0", "::", "10.0.0.5", "world.example.org"))


@pytest.mark.parametrize("command", ["run", "serve", "loadtest"])
def test_metrics_listen_on_loopback_unless_told(command: str) -> None:
    """The exporter (and the load test's live figures) listen on this machine only unless
    --metrics-host says otherwise."""
    required = {"run": ["x.yaml"], "serve": ["x.yaml"], "loadtest": ["--endpoint", "h:1"]}
    argv = [command, *required[command]]
    assert build_parser(argv).parse_args(argv).metrics_host == "127.0.0.1"
    argv += ["--metrics-host", "0.0.0.0"]
    told = build_parser(argv).parse_args(argv)
    assert told.metrics_host == "0.0.0.0"


def test_ticks_advance_when_every_player_is_done(tmp_path: Path) -> None:
    """With an hour between ticks and an hour of patience, a world whose only player says it is
    done after each tick and at each decision still runs to its end; Step needs a pause."""
    s = Served(
        tmp_path, "--tick-interval", 3600, "--player-wait", 3600, "--ticks", 3,
        "--checkpoint-every", 0,
    )  # fmt: skip
    try:
        chan = channel(f"127.0.0.1:{s.port}")
        op = Operator(chan, s.operator)
        assert _code(lambda: op.step(1)) == grpc.StatusCode.FAILED_PRECONDITION
        player = Player(chan, s.tokens[12])
        player.join()
        stream = Stream(player)
        player.done()  # the first tick may be over already: nothing to wait for
        ends = []
        while True:
            p = stream.next()
            kind = p.WhichOneof("what")
            if kind in ("decision", "tick_ended"):
                player.done(p.tick)
            if kind == "tick_ended":
                ends.append(p.tick_ended.tick)
            if kind == "world_ended":
                break
        code, out, err = s.wait()
    finally:
        s.kill()
    assert code == 0, err
    assert ends[-1] == 3 and ends == sorted(ends)
    players = json.loads((s.out / "players.json").read_text())
    assert players["answers"] == 0 and players["defaults"] == players["decisions"]
    assert "3 ticks" in out


class Terminal:
    """`socius play` in a pseudo-terminal, read and typed into as a person would."""

    def __init__(self, *args: object) -> None:
        import pty
        import subprocess
        import sys

        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "actors.cli", "play", *(str(a) for a in args)],
            cwd=ROOT,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
        )
        os.close(slave)
        self.screen = ""

    def expect(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        import select
        import time

        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.screen, re.M)
            if m:
                self.screen = self.screen[m.end() :]
                return m
            left = end - time.monotonic()
            assert left > 0, f"{pattern!r} never appeared; the screen: {self.screen[-2000:]!r}"
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                with contextlib.suppress(OSError):
                    self.screen += os.read(self.master, 65536).decode(errors="replace")

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.master)


def test_socius_play_in_a_terminal(served: Served) -> None:
    """A person joins with socius play, asks for help and their state, sees a decision with
    its options as the tick reaches it, answers it, and sees that their answer was taken."""
    term = Terminal(f"127.0.0.1:{served.port}", "--token", served.tokens[5])
    try:
        term.expect(r"you play 5, a \w+, at tick 0 of 5")
        term.type("help")
        term.expect(r"gift N AMOUNT GOOD")
        term.type("me")
        term.expect(r"you are 5, a \w+ of group \d+")
        term.expect(r"goods: \d+ food, \d+ tools")
        term.type("1 keep")
        term.expect(r"no decision 1 is waiting")
        op = Operator(channel(f"127.0.0.1:{served.port}"), served.operator)
        for tick in range(1, 6):
            op.step(1)
            m = term.expect(rf"\[t{tick}\] (decision (\d+): .*|--- tick {tick} ended ---)")
            if m.group(2) and "your group" not in m.group(1):  # the other one, by name
                assert re.search(r"\(\d+ is [A-Z][a-z]+ [A-Z][a-z]+ \([a-z]+\); ", m.group(1))
            if m.group(2):
                option = term.expect(r"^\[t\d+\] {5}(\w+) ").group(1)
                term.type(f"{m.group(2)} {option} hello there")
                # the reply and the outcome (from the stream) may print in either order
                taken, mine = rf"{option} taken for tick {tick}", rf"\[t{tick}\] {option} \(you\)"
                first = term.expect(rf"{taken}|{mine}").group(0)
                term.expect(mine if re.fullmatch(taken, first) else taken)
                break
        else:
            raise AssertionError("character 5 had no decision in 5 ticks")
        term.type("quit")
        assert term.proc.wait(timeout=30) == 0
    finally:
        term.close()


def test_the_outside_agent_example_plays_a_whole_world(served: Served) -> None:
    """examples/outside_agent.py joins, answers every decision its character faces until the
    world ends, and the run counts each of its answers."""
    import subprocess
    import sys
    import time

    agent = subprocess.Popen(
        [
            sys.executable,
            "examples/outside_agent.py",
            f"127.0.0.1:{served.port}",
            served.tokens[12],
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        op = Operator(channel(f"127.0.0.1:{served.port}"), served.operator)
        for _ in range(600):
            if any(s.claimed for s in op.status().seats if s.character == 12):
                break
            time.sleep(0.1)
        op.resume()
        out, err = agent.communicate(timeout=120)
    finally:
        if agent.poll() is None:
            agent.kill()
    assert agent.returncode == 0, err
    assert out.startswith("playing character 12")
    moves = [line for line in out.splitlines() if line.startswith("tick ")]
    assert moves and "the world ended" in out
    code, _, err = served.wait()
    assert code == 0, err
    players = json.loads((served.out / "players.json").read_text())
    assert players["answers"] == players["decisions"] == len(moves)


def test_joining_again_ends_the_earlier_session(served: Served) -> None:
    """A second Join with the same token ends the first session: its stream stops with ABORTED
    and its session can no longer act; the new one can."""
    chan = channel(f"127.0.0.1:{served.port}")
    first = Player(chan, served.tokens[5])
    first.join()
    stream = Stream(first)
    second = Player(chan, served.tokens[5])
    second.join()
    stream.thread.join(timeout=30)
    assert stream.error == grpc.StatusCode.ABORTED
    assert _code(first.inspect) == grpc.StatusCode.FAILED_PRECONDITION
    assert second.inspect().character == 5


def test_a_player_seeks_someone_out(served: Served) -> None:
    """Seeking character 30 gives the player an encounter with 30 in the next tick, whose chat
    and words reach 30 through the journal; seeking oneself or no one is refused."""
    chan = channel(f"127.0.0.1:{served.port}")
    player = Player(chan, served.tokens[5])
    player.join()
    stream = Stream(player)
    assert _code(lambda: player.seek(5)) == grpc.StatusCode.INVALID_ARGUMENT
    assert _code(lambda: player.seek(4000)) == grpc.StatusCode.INVALID_ARGUMENT
    assert player.seek(30).tick == 1
    Operator(chan, served.operator).step(1)
    met = None
    while True:
        p = stream.next()
        kind = p.WhichOneof("what")
        if kind == "decision":
            d = p.decision
            if d.situation == "encounter" and d.counterpart == 30 and met is None:
                met = d
                player.act(d.id, "chat", "I came to see you, 30")
            else:
                player.act(d.id, next(o.action for o in d.options if not o.terms))
        if kind == "tick_ended":
            break
    assert met is not None, "the encounter sought came"
    said = [
        (int(m.sender[i]), int(m.recipient[i]), m.text_of(i))
        for b in read_journal(journal_path(served.out, 0))
        for m in [from_batch(b)]
        for i in range(len(m))
        if m.text[i] >= 0
    ]
    assert (5, 30, "I came to see you, 30") in said


def test_one_token_cannot_hold_more_than_two_streams(served: Served) -> None:
    """A player opening five Perceive streams at once gets two; the other three are refused
    with RESOURCE_EXHAUSTED. Another player joins and acts meanwhile (the server keeps threads
    for calls no stream can take), and once one of the two is closed the token may open
    another."""
    chan = channel(f"127.0.0.1:{served.port}")
    greedy = Player(chan, served.tokens[5])
    greedy.join()
    streams = [Stream(greedy) for _ in range(5)]
    for _ in range(600):
        if sum(s.error is not None for s in streams) == 3:
            break
        time.sleep(0.1)
    refused = [s for s in streams if s.error is not None]
    assert [s.error for s in refused] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 3
    held = [s for s in streams if s.error is None]
    assert len(held) == 2
    other = Player(chan, served.tokens[12])
    assert other.join().character == 12
    op = Operator(chan, served.operator)
    assert op.status().tick == 0
    held[0].call.cancel()
    for _ in range(100):  # until the server has seen the cancelled stream go
        again = Stream(greedy)
        time.sleep(0.5)
        if again.error is None:
            break
        assert again.error == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert again.error is None
