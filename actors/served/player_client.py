"""The player's end of the WorldService: a channel with its token, for `socius play`, tests,
benchmarks and programs that play a character."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import grpc

from protos import world_service_pb2 as wpb
from protos import world_service_pb2_grpc as wgrpc


def channel(address: str, ca_cert: Path | None = None) -> grpc.Channel:
    """A channel to `address` (HOST:PORT): TLS trusting `ca_cert` when given, else plain."""
    if ca_cert is not None:
        creds = grpc.ssl_channel_credentials(root_certificates=ca_cert.read_bytes())
        return grpc.secure_channel(address, creds)
    return grpc.insecure_channel(address)


class Player:
    """One character played through the service (join first)."""

    def __init__(self, chan: grpc.Channel, token: str, timeout: float = 30.0) -> None:
        self.stub = wgrpc.WorldServiceStub(chan)
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.timeout = timeout
        self.session = ""
        self.joined: wpb.JoinReply | None = None

    def join(self, character: int | None = None) -> wpb.JoinReply:
        request = wpb.JoinRequest() if character is None else wpb.JoinRequest(character=character)
        self.joined = self.stub.Join(request, metadata=self.metadata, timeout=self.timeout)
        self.session = self.joined.session
        return self.joined

    def perceive(self) -> Iterator[wpb.Perception]:
        """What the character perceives, until the session or the world ends (cancel() stops
        it early)."""
        return self.stub.Perceive(  # type: ignore[no-any-return]
            wpb.PerceiveRequest(session=self.session), metadata=self.metadata
        )

    def act(self, decision: str, action: str, words: str = "", **terms: Any) -> wpb.ActReply:
        """Answer `decision` with `action`; terms: give, want (Goods), gossip_subject,
        gossip_claim, done."""
        request = wpb.ActRequest(
            session=self.session, decision=decision, action=action, words=words, **terms
        )
        return self.stub.Act(request, metadata=self.metadata, timeout=self.timeout)  # type: ignore[no-any-return]

    def done(self, tick: int = 0) -> wpb.ActReply:
        """Nothing more from me up to `tick` (the tick of the perception reacted to)."""
        request = wpb.ActRequest(session=self.session, done=True, tick=tick)
        return self.stub.Act(request, metadata=self.metadata, timeout=self.timeout)  # type: ignore[no-any-return]

    def seek(self, other: int) -> wpb.ActReply:
        """Meet `other` in the next tick."""
        request = wpb.ActRequest(session=self.session, seek=other)
        return self.stub.Act(request, metadata=self.metadata, timeout=self.timeout)  # type: ignore[no-any-return]

    def inspect(self) -> wpb.CharacterState:
        return self.stub.Inspect(  # type: ignore[no-any-return]
            wpb.InspectRequest(session=self.session), metadata=self.metadata, timeout=self.timeout
        )


class Operator:
    """The operator's controls."""

    def __init__(self, chan: grpc.Channel, token: str, timeout: float = 30.0) -> None:
        self.stub = wgrpc.WorldServiceStub(chan)
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.timeout = timeout

    def status(self) -> wpb.WorldStatus:
        return self.stub.Status(wpb.StatusRequest(), metadata=self.metadata, timeout=self.timeout)  # type: ignore[no-any-return]

    def pause(self) -> wpb.WorldStatus:
        return self.stub.Pause(wpb.ControlRequest(), metadata=self.metadata, timeout=self.timeout)  # type: ignore[no-any-return]

    def resume(self) -> wpb.WorldStatus:
        return self.stub.Resume(wpb.ControlRequest(), metadata=self.metadata, timeout=self.timeout)  # type: ignore[no-any-return]

    def step(self, ticks: int = 1) -> wpb.WorldStatus:
        return self.stub.Step(  # type: ignore[no-any-return]
            wpb.StepRequest(ticks=ticks), metadata=self.metadata, timeout=self.timeout
        )

    def intervene(self, event: dict[str, Any]) -> wpb.InterveneReply:
        """Set off an event (as a scenario's events list holds it) from the next tick on."""
        return self.stub.Intervene(  # type: ignore[no-any-return]
            wpb.InterveneRequest(event=json.dumps(event)),
            metadata=self.metadata,
            timeout=self.timeout,
        )


#: What a call gets from a service that is stopping.
GOING_AWAY = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)


def said(err: grpc.RpcError) -> str:
    """A refused call, in one line: its status and the service's words."""
    return f"{err.code().name}: {err.details()}"


def play(player: Player, react: Callable[[wpb.Perception], None]) -> list[str]:
    """Read what `player` perceives until the world ends: `react` to each perception but the
    ends of ticks, after which it says it is done. Returns the refusals that ended the play or
    its Dones, each in one line.

    A Done the service refused as it stopped (UNAVAILABLE, CANCELLED) is no error when the
    world's end is what the stream says next: the end crossed it, as when a served world
    closes while a slow client is still saying it is done with the last tick."""
    errors: list[str] = []
    crossed: str | None = None
    try:
        for p in player.perceive():
            kind = p.WhichOneof("what")
            if kind == "world_ended":
                crossed = None
                break
            if crossed is not None:  # the world went on: the refusal was one
                errors.append(crossed)
                crossed = None
            if kind != "tick_ended":
                react(p)
                continue
            try:
                player.done(p.tick)
            except grpc.RpcError as err:
                if err.code() not in GOING_AWAY:
                    raise
                crossed = said(err)
    except grpc.RpcError as err:
        errors.append(said(err))
    if crossed is not None:
        errors.append(crossed)
    return errors


class Bot:
    """A player that answers every decision with its first option that needs no terms and says
    it is done after each tick, on its own thread; it times each Act from sending to the
    world's acknowledgement (for load tests and benchmarks)."""

    def __init__(self, chan: grpc.Channel, token: str, words: str = "") -> None:
        self.player = Player(chan, token)
        self.words = words
        self.latencies: list[float] = []  # seconds, Act sent -> ActReply
        self.answered = 0
        self.defaulted = 0  # decisions the character's own mind took, no answer having come
        self.errors: list[str] = []
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._play, daemon=True)

    def start(self) -> Bot:
        self.player.join()
        self.thread.start()
        return self

    def _play(self) -> None:
        try:
            self.errors.extend(play(self.player, self._react))
        finally:
            self.ended.set()

    def _react(self, p: wpb.Perception) -> None:
        kind = p.WhichOneof("what")
        if kind == "decision":
            d = p.decision
            action = next(o.action for o in d.options if not o.terms)
            t0 = time.perf_counter()
            self.player.act(d.id, action, self.words)
            self.latencies.append(time.perf_counter() - t0)
            self.answered += 1
        elif kind == "outcome" and not p.outcome.by_player:
            self.defaulted += 1
