"""A page that stops reading never slows the world: its queue drops to a resync while the
world runs its ticks and a page that reads gets every one."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import aiohttp
import pytest

from tests.actors.test_serve import Served
from tests.browser.pages import served_view

pytestmark = [pytest.mark.browser]

TICKS = 150


def stalled_page(url: str) -> socket.socket:
    """A WebSocket client that says hello with its token, then never reads (a tiny receive
    buffer, so the server's sends back up within a few ticks)."""
    u = urlparse(url)
    token = u.fragment.split("=", 1)[1]
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect((u.hostname, u.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: {u.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n")[0], head
    payload = json.dumps({"op": "hello", "token": token}).encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)
    assert len(payload) < 126
    return sock


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Served, str]]:
    s, url = served_view(
        tmp_path, "--paused", "--tick-interval", 0, "--ticks", TICKS + 10, "--checkpoint-every", 0
    )
    yield s, url
    s.kill()


def test_a_stalled_page_does_not_hold_the_world(served: tuple[Served, str]) -> None:
    """With a page that never reads connected, the operator's page steps the world TICKS
    ticks and sees them to the last; the stalled page was dropped to a resync (the server
    says so)."""
    _, url = served
    stalled = stalled_page(url)

    async def operate() -> tuple[list[int], list[dict[str, object]]]:
        ticks: list[int] = []
        u = urlparse(url)
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(f"ws://{u.netloc}/ws")
            await ws.send_json({"op": "hello", "token": u.fragment.split("=", 1)[1]})
            await ws.send_json({"op": "control", "what": "step", "ticks": TICKS})
            pages: list[dict[str, object]] = []
            async for msg in ws:
                m = json.loads(msg.data)
                if m["type"] == "tick":
                    ticks.append(m["tick"])
                    if m["tick"] == TICKS:
                        await ws.send_json({"op": "status"})
                elif m["type"] == "snapshot" and m["tick"] == TICKS:
                    ticks.append(m["tick"])  # a slow reader resyncs too
                    await ws.send_json({"op": "status"})
                elif m["type"] == "status" and m["tick"] == TICKS:
                    pages = m["pages"]
                    break
            await ws.close()
            return ticks, pages

    ticks, pages = asyncio.run(operate())
    assert ticks[-1] == TICKS
    stalled_lines = [p for p in pages if p["resyncs"]]
    assert stalled_lines, f"no page was dropped to a resync: {pages}"
    stalled.close()
