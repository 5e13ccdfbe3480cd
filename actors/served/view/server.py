"""The view's web server (aiohttp, in a thread of its own): the page, and one WebSocket per page.

A page first sends `{"op": "hello", "token": T}`; a bad or missing token gets one `refused`
message and the socket closes (code 4001). Then the page gets a snapshot, and the ticks as they
come (`watch.Watch`, through its bounded queue: `lines.Line`). It may ask for a character's
panel, and, with the right token:

- a player plays its character through the served world's `WorldService` (`join`, `act`,
  `inspect` and the Perceive stream): the same checks, rate limits and refusals as gRPC;
- the operator pauses, resumes and steps a served world (the service's Pause, Resume, Step),
  sets its tick interval, and sets events off (the service's Intervene: recorded for replay);
- a recorded run's page scrubs to a tick (`scrub`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import socket
import ssl
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from aiohttp import WSMsgType, web
from google.protobuf.json_format import MessageToDict

from actors.served.service import Refused, WorldService
from actors.served.tokens import OPERATOR
from actors.served.view.lines import RESYNC, Hub, Line, Pass
from actors.served.view.panel import panel
from actors.served.view.watch import Watch, dumps
from protos import society_pb2 as pb
from protos import world_service_pb2 as wpb
from world.errors import UserError
from world.self_view import self_view
from world.shard_base import home

STATIC = Path(__file__).with_name("static")
#: A page's kernel send buffer: a page that stops reading fills it within a few ticks, and its
#: queue then drops to a resync.
SEND_BUFFER = 1 << 17
#: Largest message a page may send.
MAX_MESSAGE = 1 << 14


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class Keys:
    """The tokens a view accepts, and what each lets a page do."""

    def __init__(self) -> None:
        self.grants: dict[bytes, Pass] = {}

    @classmethod
    def of(cls, tokens: dict[str, int], viewer: str | None = None) -> Keys:
        """A served world's tokens (token -> character, OPERATOR for the operator's) and its
        read-only viewer token."""
        keys = cls()
        for token, who in tokens.items():
            if who == OPERATOR:
                keys.add(Pass("operator", None, token))
            else:
                keys.add(Pass("player", who, token))
        if viewer:
            keys.add(Pass("viewer", None, viewer))
        return keys

    def add(self, grant: Pass) -> None:
        self.grants[_digest(grant.token)] = grant

    def admit(self, token: object) -> Pass | None:
        if not isinstance(token, str) or not token:
            return None
        return self.grants.get(_digest(token))


@dataclasses.dataclass
class Powers:
    """What the world behind a view can do beyond being watched (None: not this world)."""

    service: WorldService | None = None  # a served world: players and the operator's controls
    interval: Callable[[float], None] | None = None  # set a served world's tick interval
    scrub: Callable[[int], None] | None = None  # a recorded run: show tick T
    paused: Callable[[], bool] | None = None


class PageContext:
    """What a Perceive stream needs of its caller (as a gRPC context gives it): is the page
    still there, and how to end the stream with a status."""

    def __init__(self) -> None:
        self.active = True

    def is_active(self) -> bool:
        return self.active

    def abort(self, code: grpc.StatusCode, message: str) -> None:
        raise Refused(code, message)


def tls_context(tls: tuple[bytes, bytes] | None) -> ssl.SSLContext | None:
    """An SSL context from PEM (certificate, key), as `serve --tls-cert/--tls-key` read them."""
    if tls is None:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as d:
        cert, key = Path(d, "cert.pem"), Path(d, "key.pem")
        cert.write_bytes(tls[0])
        key.write_bytes(tls[1])
        key.chmod(0o600)
        ctx.load_cert_chain(cert, key)
    return ctx


class ViewServer:
    """Serves `watch` on host:port in a thread; `address` is where, `close` stops it."""

    def __init__(
        self,
        watch: Watch,
        keys: Keys,
        powers: Powers | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.watch, self.keys, self.powers = watch, keys, powers or Powers()
        self.hub: Hub = watch.hub
        self.host, self.scheme = host, "https" if tls else "http"
        self.ssl = tls_context(tls)
        self.loop = asyncio.new_event_loop()
        self.hub.loop = self.loop
        self.runner: web.AppRunner | None = None
        self.port = 0
        started = threading.Event()
        failed: list[BaseException] = []
        self.thread = threading.Thread(
            target=self._serve, args=(port, started, failed), name="view", daemon=True
        )
        self.thread.start()
        started.wait()
        if failed:
            raise UserError(
                f"--view-port {port}: cannot listen on {host}:{port} ({failed[0]}); choose a "
                f"free port, or 0 for any"
            )

    def address(self, token: str) -> str:
        """The page's address, opening straight into the world with `token`."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"{self.scheme}://{host}:{self.port}/#token={token}"

    # --- the server's thread --------------------------------------------------------------

    def _serve(self, port: int, started: threading.Event, failed: list[BaseException]) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            app = web.Application(client_max_size=MAX_MESSAGE)
            app.router.add_get("/", self._index)
            app.router.add_get("/ws", self._socket)
            app.router.add_static("/static/", STATIC, show_index=False)
            self.runner = web.AppRunner(app, access_log=None, handle_signals=False)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, self.host, port, ssl_context=self.ssl)
            self.loop.run_until_complete(site.start())
            self.port = int(self.runner.addresses[0][1])
        except BaseException as err:
            failed.append(err)
            started.set()
            return
        started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def close(self, linger: float = 2.0) -> None:
        """Stop serving, once the pages got what waits for them (at most `linger` seconds)."""
        if self.thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._drain(linger), self.loop)
            self.thread.join(timeout=linger + 10)

    async def _drain(self, linger: float) -> None:
        for _ in range(int(linger / 0.05)):
            if all(line.queue.empty() for line in self.hub.lines):
                break
            await asyncio.sleep(0.05)
        self.loop.stop()

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    # --- one page -------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=MAX_MESSAGE, heartbeat=30)
        await ws.prepare(request)
        sock = request.transport.get_extra_info("socket") if request.transport else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        try:
            first = await ws.receive(timeout=30)
        except TimeoutError:
            await ws.close(code=4001, message=b"no token")
            return ws
        hello = _json(first.data) if first.type == WSMsgType.TEXT else None
        grant = self.keys.admit(hello.get("token")) if isinstance(hello, dict) else None
        if grant is None:
            await ws.send_str(
                dumps(
                    {
                        "type": "refused",
                        "message": "no valid token: open the address the command printed "
                        "(it ends in #token=...), or ask the operator for yours",
                    }
                )
            )
            await ws.close(code=4001, message=b"no valid token")
            return ws
        page = Page(self, ws, grant)
        await page.run()
        return ws


def _json(data: object) -> Any:
    try:
        return json.loads(data) if isinstance(data, str) else None
    except ValueError:
        return None


class Page:
    """One connected page: its line, its socket, and what it asks."""

    def __init__(self, server: ViewServer, ws: web.WebSocketResponse, grant: Pass) -> None:
        self.server, self.ws, self.grant = server, ws, grant
        self.watch = server.watch
        self.powers = server.powers
        self.line = Line(grant)
        self.session = ""
        self.context: PageContext | None = None
        self.loop = asyncio.get_running_loop()

    async def send(self, message: dict[str, Any] | str) -> None:
        text = message if isinstance(message, str) else dumps(message)
        self.line.sent += 1
        self.line.bytes += len(text)
        await self.ws.send_str(text)

    async def run(self) -> None:
        g = self.grant
        service = self.powers.service
        await self.send(
            {
                "type": "hello",
                "role": g.role,
                "character": g.character,
                "world": self.watch.world,
                "controls": g.role == "operator" and service is not None,
                "play": g.role == "player" and service is not None,
                "recorded": self.powers.scrub is not None,
            }
        )
        await self.send(await self._off(self.watch.snapshot, g))
        self.server.hub.lines.add(self.line)
        sender = asyncio.create_task(self._sender())
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                ask = _json(msg.data)
                if not isinstance(ask, dict):
                    await self.send({"type": "error", "message": "send JSON objects"})
                    continue
                await self._answer(ask)
        finally:
            self.server.hub.lines.discard(self.line)
            sender.cancel()
            if self.context is not None:
                self.context.active = False

    async def _sender(self) -> None:
        while True:
            item = await self.line.queue.get()
            if item == RESYNC:
                item = await self._off(self.watch.snapshot, self.grant)
            try:
                await self.send(item)
            except (ConnectionError, RuntimeError):
                return

    async def _off(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn` on a worker thread (it may wait for the world)."""
        return await self.loop.run_in_executor(None, fn, *args)

    async def _answer(self, ask: dict[str, Any]) -> None:
        op = str(ask.get("op", ""))
        handler = {
            "panel": self._panel,
            "join": self._join,
            "act": self._act,
            "control": self._control,
            "status": self._status,
            "scrub": self._scrub,
        }.get(op)
        if handler is None:
            await self.send({"type": "error", "op": op, "message": f"unknown op {op[:40]!r}"})
            return
        try:
            reply = await handler(ask)
        except Refused as err:
            reply = {"type": "error", "op": op, "code": err.code.name, "message": str(err)}
        except (ValueError, TypeError, KeyError) as err:
            reply = {"type": "error", "op": op, "message": f"{op}: {err}"}
        if reply is not None:
            await self.send(reply)

    # --- watching -------------------------------------------------------------------------

    async def _panel(self, ask: dict[str, Any]) -> dict[str, Any]:
        who = int(ask["id"])
        size = self.watch.roster.size
        if not 0 <= who < size:
            raise ValueError(f"character {who} does not exist (0..{size - 1})")
        g = self.grant
        if not g.sees_all and who != g.character:
            raise Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                f"a player sees inside its own character only (character {g.character})",
            )
        names = self.watch.roster.names
        shards = self.watch.shards

        def read(state: wpb.CharacterState | None) -> dict[str, Any]:
            shard = home(shards(), who)
            if state is None:
                state = self_view(shard, who)
            mine = who == g.character
            return panel(shard, state, names, g.hidden or mine, self.watch.folder)

        if g.role == "player":  # its own character, as the service's Inspect gives it
            state = await self._service("Inspect", wpb.InspectRequest(session=self.session))
            assert isinstance(state, wpb.CharacterState)
            out = await self._off(self.watch.door.read, lambda: read(state))
        else:
            out = await self._off(self.watch.door.read, lambda: read(None))
        out["timeline"] = self.watch.timeline(who)
        return {"type": "panel", "panel": out}

    async def _scrub(self, ask: dict[str, Any]) -> dict[str, Any] | str:
        if self.powers.scrub is None:
            raise ValueError("only a recorded run's view (socius view) scrubs")
        await self._off(self.powers.scrub, int(ask["tick"]))
        return await self._off(self.watch.snapshot, self.grant)

    # --- playing (a served world's service) -----------------------------------------------

    async def _service(self, name: str, request: Any) -> Any:
        service = self.powers.service
        if service is None:
            raise ValueError(f"{name}: this world is not served (socius serve), so no one plays")
        if name in ("Act", "Inspect") and not self.session:
            raise ValueError(f"{name}: join first")
        return await self._off(service.unary, name, request, self.grant.token)

    async def _join(self, ask: dict[str, Any]) -> dict[str, Any]:
        reply = await self._service("Join", wpb.JoinRequest())
        self.session = reply.session
        if self.context is not None:
            self.context.active = False
        self.context = context = PageContext()
        service = self.powers.service
        assert service is not None
        stream = await self._off(
            service.stream, wpb.PerceiveRequest(session=self.session), self.grant.token, context
        )
        threading.Thread(
            target=self._perceive, args=(stream, context), name="view-perceive", daemon=True
        ).start()
        return {"type": "joined", **_dict(reply)}

    def _perceive(self, stream: Any, context: PageContext) -> None:
        """The Perceive stream's thread: each perception to the page, in order (a page that
        reads slowly holds back only its own stream, as a gRPC player's would)."""
        try:
            for p in stream:
                if not context.active:
                    break
                message = {"type": "perception", **_dict(p)}
                asyncio.run_coroutine_threadsafe(self.send(message), self.loop).result(60)
        except Refused as err:
            gone = {"type": "error", "op": "perceive", "code": err.code.name, "message": str(err)}
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.send(gone), self.loop).result(60)
        except Exception:
            context.active = False
        finally:
            with contextlib.suppress(Exception):
                stream.close()

    async def _act(self, ask: dict[str, Any]) -> dict[str, Any]:
        req = wpb.ActRequest(session=self.session)
        if "seek" in ask:
            req.seek = int(ask["seek"])
        else:
            req.decision = str(ask.get("decision", ""))
            req.action = str(ask.get("action", ""))
            req.words = str(ask.get("words", ""))[:1000]
            req.done = bool(ask.get("done", False))
            req.tick = int(ask.get("tick", 0))
            for field in ("give", "want"):
                if isinstance(ask.get(field), dict):
                    g = ask[field]
                    getattr(req, field).CopyFrom(
                        pb.Goods(good=int(g["good"]), amount=int(g["amount"]))  # type: ignore[arg-type]
                    )
        reply = await self._service("Act", req)
        return {"type": "acted", **_dict(reply)}

    # --- the operator ---------------------------------------------------------------------

    async def _control(self, ask: dict[str, Any]) -> dict[str, Any]:
        what = str(ask.get("what", ""))
        self._operator()
        if what == "interval":
            if self.powers.interval is None:
                raise ValueError("only a served world (socius serve) has a tick interval")
            seconds = float(ask["seconds"])
            if not 0 <= seconds <= 3600:
                raise ValueError(f"the tick interval is 0..3600 seconds, not {seconds:g}")
            self.powers.interval(seconds)
            return await self._status({})
        if what == "intervene":  # an event set off live, as the gRPC Intervene does it
            event = ask.get("event")
            text = event if isinstance(event, str) else json.dumps(event)
            reply = await self._service("Intervene", wpb.InterveneRequest(event=text))
            return {"type": "intervened", **_dict(reply)}
        calls = {
            "pause": ("Pause", wpb.ControlRequest()),
            "resume": ("Resume", wpb.ControlRequest()),
            "step": ("Step", wpb.StepRequest(ticks=int(ask.get("ticks", 1)))),
        }
        if what not in calls:
            raise ValueError(
                f"unknown control {what[:20]!r}; pause, resume, step, interval or intervene"
            )
        name, request = calls[what]
        status = await self._service(name, request)
        return {"type": "status", **_dict(status), "pages": self.server.hub.figures()}

    def _operator(self) -> None:
        if self.grant.role != "operator":
            raise Refused(
                grpc.StatusCode.PERMISSION_DENIED,
                "pause, resume, step, the tick interval and the status need the operator's token",
            )

    async def _status(self, ask: dict[str, Any]) -> dict[str, Any]:
        self._operator()
        status = await self._service("Status", wpb.StatusRequest())
        return {"type": "status", **_dict(status), "pages": self.server.hub.figures()}


def _dict(message: Any) -> dict[str, Any]:
    d: dict[str, Any] = MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return d
