"""The gRPC `WorldService` (protos/world_service.proto): the door between the hall and the
network, and its guard.

Every request is checked before anything reaches the world: the token (metadata
`authorization: Bearer <token>`: a character's token acts only as that character, the operator's
is needed for control), the token's rate, the request's size and bytes, its fields (unknown
characters, goods the character does not own, options a decision does not have). A refusal is
an INVALID_ARGUMENT, PERMISSION_DENIED, UNAUTHENTICATED, RESOURCE_EXHAUSTED or
FAILED_PRECONDITION with a message, counted in `Guard.counts`; nothing refused is applied.
Standard health checking and server reflection are served beside it.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from actors.served.hall import Hall, Session
from actors.served.tokens import OPERATOR
from protos import world_service_pb2 as wpb
from world.acts import ACTION_NAMES, Action
from world.errors import SociusError, UserError
from world.events import events_state
from world.players import WORDS_LIMIT, Choice, ChoiceError
from world.vocab import ROLE_NAMES

SERVICE = "socius.WorldService"
#: Largest request the world reads (bytes); larger ones are refused as INVALID_ARGUMENT.
MAX_REQUEST = 4096
#: Largest message the transport accepts at all (RESOURCE_EXHAUSTED beyond, from gRPC itself).
MAX_MESSAGE = 1 << 20
#: Perceive streams a token (a character, over its sessions) may hold open at once; more are
#: refused with RESOURCE_EXHAUSTED. Each stream holds a server thread for as long as it is open.
#: Two, so that a client reconnecting overlaps its old stream; two streams of one session share
#: its perceptions (each gets some), they do not both see everything.
STREAMS_PER_CHARACTER = 2
#: Server threads no stream can take: Act, Join and the rest always find one, however many
#: streams the players hold.
CALL_THREADS = 16


def threads_for(playable: int) -> int:
    """The server's threads: every stream the players may hold, and CALL_THREADS besides."""
    return STREAMS_PER_CHARACTER * playable + CALL_THREADS


class Refused(SociusError):
    """A request the guard turns away, with the gRPC status to answer."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Bucket:
    """A token bucket: `rate` requests a second, bursts of `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self.level = burst
        self.at = clock()

    def take(self) -> bool:
        now = self.clock()
        self.level = min(self.burst, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level >= 1.0:
            self.level -= 1.0
            return True
        return False


@dataclasses.dataclass
class Control:
    """What the operator can do to the serving loop (serve_cli.Clock implements it)."""

    status: Callable[[], wpb.WorldStatus]
    pause: Callable[[], None]
    resume: Callable[[], None]
    step: Callable[[int], None]
    #: set off an event (plain data, as a scenario's events hold it); returns its index in the
    #: run's events and the event as checked
    intervene: Callable[[dict[str, Any]], tuple[int, Any]] | None = None


def token_of(context: grpc.ServicerContext) -> str:
    """The token of a gRPC call (metadata `authorization: Bearer <token>`), or ""."""
    token = ""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            token = value[len("Bearer ") :].strip()
    return token


class Guard:
    """Who may call, how often, and the count of everything refused."""

    def __init__(
        self, tokens: dict[str, int], rate: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.who = {_digest(t): c for t, c in tokens.items()}
        self.rate = rate
        self.clock = clock
        self.buckets: dict[bytes, Bucket] = {}
        self.counts: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def caller(self, context: grpc.ServicerContext) -> int:
        """The character the call's token plays (OPERATOR for the operator's)."""
        return self.admit(token_of(context))

    def admit(self, token: str) -> int:
        """The character `token` plays (OPERATOR for the operator's), within its rate."""
        key = _digest(token)
        if not token or key not in self.who:
            raise Refused(
                grpc.StatusCode.UNAUTHENTICATED,
                "no valid token: send metadata 'authorization: Bearer <token>' with a token "
                "from the operator's tokens file",
            )
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = Bucket(self.rate, max(2 * self.rate, 1), self.clock)
            ok = bucket.take()
        if not ok:
            raise Refused(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                f"too many requests: at most {self.rate:g} a second per token; slow down",
            )
        return self.who[key]

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1


class WorldService:
    """The service's methods; `handler()` serves them with safe request decoding."""

    def __init__(
        self,
        hall: Hall,
        guard: Guard,
        control: Control,
        character_info: Callable[[int], tuple[int, int]],
        view: Callable[[int], wpb.CharacterState],
        size: int,
        ticks: int,
        tick_interval: float,
    ) -> None:
        self.hall = hall
        self.guard = guard
        self.control = control
        self.character_info = character_info  # character -> (role, group)
        self.view = view  # character -> its state as it knows it (the world lock held)
        self.size = size
        self.ticks = ticks
        self.tick_interval = tick_interval
        self.health: health.HealthServicer | None = None  # set when served
        #: Perceive streams open, by character (over its sessions, old ones included)
        self.streams: collections.Counter[int] = collections.Counter()

    def closing(self) -> None:
        """Tell health checkers the service is going away."""
        if self.health is not None:
            self.health.enter_graceful_shutdown()

    # --- the door ---------------------------------------------------------------------------

    def methods(self) -> dict[str, tuple[type[Message], Callable[[Any, int], Message]]]:
        """The unary methods: name -> (request class, what answers it)."""
        return {
            "Join": (wpb.JoinRequest, self.join),
            "Act": (wpb.ActRequest, self.act),
            "Inspect": (wpb.InspectRequest, self.inspect),
            "Status": (wpb.StatusRequest, self.status),
            "Pause": (wpb.ControlRequest, self.pause),
            "Resume": (wpb.ControlRequest, self.resume),
            "Step": (wpb.StepRequest, self.step),
            "Intervene": (wpb.InterveneRequest, self.intervene),
        }

    def handler(self) -> grpc.GenericRpcHandler:
        methods: dict[str, grpc.RpcMethodHandler] = {
            name: grpc.unary_unary_rpc_method_handler(
                self._guarded(name),
                request_deserializer=_lenient(cls),
                response_serializer=_serialize,
            )
            for name, (cls, _) in self.methods().items()
        }
        methods["Perceive"] = grpc.unary_stream_rpc_method_handler(
            self._guarded_stream(),
            request_deserializer=_lenient(wpb.PerceiveRequest),
            response_serializer=_serialize,
        )
        return grpc.method_handlers_generic_handler(SERVICE, methods)

    def _check(self, name: str, request: Any, token: str) -> int:
        if isinstance(request, _Undecodable):
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{name}: the request is not a valid {request.name} message",
            )
        if request.ByteSize() > MAX_REQUEST:
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{name}: the request is {request.ByteSize()} bytes; at most {MAX_REQUEST}",
            )
        return self.guard.admit(token)

    def _refused(self, name: str, err: Refused) -> None:
        self.guard.count(err.code.name.lower())
        self.guard.count(f"{name}:refused")

    def unary(self, name: str, request: Any, token: str) -> Message:
        """Answer one unary call from the holder of `token`: checked, counted, or refused
        (Refused). Every door to the world (gRPC, the browser) calls this."""
        fn = self.methods()[name][1]
        try:
            who = self._check(name, request, token)
            reply = fn(request, who)
        except Refused as err:
            self._refused(name, err)
            raise
        except Exception:
            self.guard.count("internal")  # a bug: counted, and gRPC logs it (UNKNOWN)
            raise
        self.guard.count(f"{name}:ok")
        return reply

    def stream(self, request: Any, token: str, context: Any) -> Iterator[wpb.Perception]:
        """Open a Perceive stream for the holder of `token` (checked and counted, or Refused
        before the first perception). `context` needs is_active() and abort(code, message)."""
        try:
            who = self._check("Perceive", request, token)
            stream = self.perceive(request, who, context)
        except Refused as err:
            self._refused("Perceive", err)
            raise
        self.guard.count("Perceive:ok")
        return stream

    def _guarded(self, name: str) -> Callable[..., Message]:
        def call(request: Any, context: grpc.ServicerContext) -> Message:
            try:
                return self.unary(name, request, token_of(context))
            except Refused as err:
                context.abort(err.code, str(err))
                raise AssertionError("unreachable") from None  # context.abort raised

        return call

    def _guarded_stream(self) -> Callable[..., Iterator[Message]]:
        def call(request: Any, context: grpc.ServicerContext) -> Iterator[Message]:
            try:
                stream = self.stream(request, token_of(context), context)
            except Refused as err:
                context.abort(err.code, str(err))
                return
            yield from stream

        return call

    # --- players ----------------------------------------------------------------------------

    def _player(self, who: int) -> int:
        if who == OPERATOR:
            raise Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                "the operator token plays no character; use a character's token",
            )
        return who

    def _session(self, who: int, session_id: str) -> Session:
        character = self._player(who)
        try:
            return self.hall.session(character, session_id)
        except LookupError as err:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION, str(err)) from None

    def join(self, request: wpb.JoinRequest, who: int) -> wpb.JoinReply:
        character = self._player(who)
        if request.HasField("character") and request.character != character:
            if request.character >= self.size:
                raise Refused(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"character {request.character} does not exist (0..{self.size - 1})",
                )
            raise Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                f"this token plays character {character}, not {request.character}",
            )
        if self.hall.ended:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION, "the world has ended")
        session = self.hall.join(character)
        role, group = self.character_info(character)
        return wpb.JoinReply(
            session=session.id,
            character=character,
            tick=self.hall.tick,
            ticks=self.ticks,
            role=ROLE_NAMES[role],
            group=group,
            player_wait_seconds=self.hall.player_wait,
            tick_interval_seconds=self.tick_interval,
            words_limit=WORDS_LIMIT,
        )

    def perceive(
        self, request: wpb.PerceiveRequest, who: int, context: Any
    ) -> Iterator[wpb.Perception]:
        with self.hall.cond:
            session = self._session(who, request.session)
            held = self.streams[session.character]
            if held >= STREAMS_PER_CHARACTER:
                raise Refused(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"character {session.character} has {held} Perceive streams open, the "
                    f"most a token may; one is enough: close the others first",
                )
            session.streams += 1
            self.streams[session.character] += 1
        return self._stream(session, context)

    def _stream(self, session: Session, context: Any) -> Iterator[wpb.Perception]:
        hall = self.hall
        try:
            while context.is_active():
                items = session.drain(0.25)
                over = session.ended or (hall.ended and not items)
                replaced = session.ended and not hall.ended
                yield from items
                if replaced:
                    context.abort(
                        grpc.StatusCode.ABORTED,
                        f"character {session.character} joined again elsewhere; this session "
                        f"is over",
                    )
                if over:
                    return
        finally:
            with hall.cond:
                session.streams -= 1
                self.streams[session.character] -= 1

    def act(self, request: wpb.ActRequest, who: int) -> wpb.ActReply:
        with self.hall.cond:
            session = self._session(who, request.session)
        if request.HasField("seek"):
            return self._seek(session, request)
        if request.done and not request.decision:
            tick = self.hall.finished(session, request.tick)
            return wpb.ActReply(tick=tick, note=f"done with tick {tick}: the world will not wait")
        try:
            choice = _choice(request)
            tick = self.hall.answer(session, choice)
        except ChoiceError as err:
            code = grpc.StatusCode.PERMISSION_DENIED if err.denied else None
            raise Refused(code or grpc.StatusCode.INVALID_ARGUMENT, str(err)) from None
        if request.done:
            self.hall.finished(session, tick)
        return wpb.ActReply(
            tick=tick, note=f"{request.action} taken for tick {tick}; the world settles it"
        )

    def _seek(self, session: Session, request: wpb.ActRequest) -> wpb.ActReply:
        other = request.seek
        if request.decision or request.action or request.done:
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                "seek goes alone: no decision, action or done in the same request",
            )
        if other >= self.size:
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"seek: character {other} does not exist (0..{self.size - 1})",
            )
        if other == session.character:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "seek: you cannot seek yourself")
        tick = self.hall.seek(session, other)
        return wpb.ActReply(tick=tick, note=f"you will meet {other} in tick {tick}")

    def inspect(self, request: wpb.InspectRequest, who: int) -> wpb.CharacterState:
        with self.hall.cond:
            session = self._session(who, request.session)
        with self.hall.world:  # never half-way through a settlement
            return self.view(session.character)

    # --- the operator -----------------------------------------------------------------------

    def _operator(self, who: int) -> None:
        if who != OPERATOR:
            raise Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                "Status, Pause, Resume, Step and Intervene need the operator's token",
            )

    def status(self, request: wpb.StatusRequest, who: int) -> wpb.WorldStatus:
        self._operator(who)
        return self.control.status()

    def pause(self, request: wpb.ControlRequest, who: int) -> wpb.WorldStatus:
        self._operator(who)
        self.control.pause()
        return self.control.status()

    def resume(self, request: wpb.ControlRequest, who: int) -> wpb.WorldStatus:
        self._operator(who)
        self.control.resume()
        return self.control.status()

    def step(self, request: wpb.StepRequest, who: int) -> wpb.WorldStatus:
        self._operator(who)
        if not 1 <= request.ticks <= 10_000:
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT, f"ticks must be 1..10000, not {request.ticks}"
            )
        try:
            self.control.step(request.ticks)
        except RuntimeError as err:
            raise Refused(grpc.StatusCode.FAILED_PRECONDITION, str(err)) from None
        return self.control.status()

    def intervene(self, request: wpb.InterveneRequest, who: int) -> wpb.InterveneReply:
        self._operator(who)
        if self.control.intervene is None:
            raise Refused(grpc.StatusCode.UNIMPLEMENTED, "this world takes no interventions")
        try:
            data = json.loads(request.event)
        except ValueError as err:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, f"event is not JSON ({err})") from None
        if not isinstance(data, dict):
            raise Refused(
                grpc.StatusCode.INVALID_ARGUMENT,
                'event must be a JSON object, e.g. {"kind": "famine", "ticks": [12, 20]}',
            )
        try:
            index, event = self.control.intervene(data)
        except UserError as err:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, str(err)) from None
        return wpb.InterveneReply(
            index=index,
            first=event.first,
            last=event.last,
            event=json.dumps(events_state([event])[0]),
        )


def _choice(request: wpb.ActRequest) -> Choice:
    names = {n: Action(i) for i, n in enumerate(ACTION_NAMES)}
    if request.action not in names:
        raise ChoiceError(
            f"unknown action {request.action[:40]!r}; actions: {', '.join(ACTION_NAMES)}"
        )
    if not request.decision:
        raise ChoiceError("name the decision you answer (decision), or send done = true")
    return Choice(
        decision=request.decision,
        action=names[request.action],
        words=request.words,
        give=(int(request.give.good), request.give.amount) if request.HasField("give") else None,
        want=(int(request.want.good), request.want.amount) if request.HasField("want") else None,
        gossip_subject=request.gossip_subject if request.HasField("gossip_subject") else None,
        gossip_claim=int(request.gossip_claim),
    )


@dataclasses.dataclass
class _Undecodable:
    name: str


def _lenient(cls: type[Message]) -> Callable[[bytes], Any]:
    """Decode a request, turning bytes that are not one into a value the guard refuses."""

    def decode(data: bytes) -> Any:
        try:
            return cls.FromString(data)
        except (DecodeError, ValueError, RuntimeError):
            return _Undecodable(cls.DESCRIPTOR.name)

    return decode


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def start_server(
    service: WorldService,
    host: str,
    port: int,
    tls: tuple[bytes, bytes] | None = None,
    workers: int = threads_for(8),
) -> tuple[grpc.Server, int]:
    """Serve `service` with health checking and reflection; returns the server and its port."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="world-service"),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=workers * 4,
    )
    server.add_generic_rpc_handlers((service.handler(),))
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    names = (
        SERVICE,
        health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
        reflection.SERVICE_NAME,
    )
    reflection.enable_server_reflection(names, server)
    address = f"{host}:{port}"
    if tls is not None:
        creds = grpc.ssl_server_credentials([(tls[1], tls[0])])  # (key, cert)
        bound = server.add_secure_port(address, creds)
    else:
        bound = server.add_insecure_port(address)
    server.start()
    checker.set(SERVICE, health_pb2.HealthCheckResponse.SERVING)
    checker.set("", health_pb2.HealthCheckResponse.SERVING)
    service.health = checker
    return server, bound
