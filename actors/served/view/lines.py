"""The pages connected to a view, each with a bounded queue: the world never waits for a page.

The world's thread hands each tick's message to `Hub.publish` (through the event loop); a page
whose queue is full (it reads slower than the world ticks, or not at all) loses what waits
and gets a fresh snapshot instead when it reads again (`RESYNC`), counted in `Line.resyncs`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

#: Messages waiting for a page at most; a fuller queue drops them for a resync.
QUEUE = 16
#: Stands in a queue for "send a fresh snapshot".
RESYNC = "resync"


@dataclasses.dataclass(frozen=True)
class Pass:
    """What a token lets a page do. `role`: operator, viewer, player or recorded."""

    role: str
    character: int | None = None
    token: str = dataclasses.field(default="", repr=False)

    @property
    def hidden(self) -> bool:
        """Sees every character's hidden feelings."""
        return self.role in ("operator", "recorded")

    @property
    def sees_all(self) -> bool:
        """Sees everyone's goods, health and trust (not a player)."""
        return self.role != "player"


@dataclasses.dataclass(eq=False)
class Line:
    """One connected page."""

    grant: Pass
    queue: asyncio.Queue[str] = dataclasses.field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE)
    )
    resyncs: int = 0
    sent: int = 0
    bytes: int = 0

    def offer(self, message: str) -> None:
        """Queue `message`, or, when the queue is full, drop what waits for a resync."""
        if self.queue.full():
            while not self.queue.empty():
                self.queue.get_nowait()
            self.resyncs += 1
            self.queue.put_nowait(RESYNC)
            return
        self.queue.put_nowait(message)


class Hub:
    """Every page connected, by the event loop's thread only."""

    def __init__(self) -> None:
        self.lines: set[Line] = set()
        self.loop: asyncio.AbstractEventLoop | None = None

    def publish(self, message: Callable[[Pass], str | None]) -> None:
        """From any thread: offer each page its version of a message (None: nothing)."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._offer, message)

    def _offer(self, message: Callable[[Pass], str | None]) -> None:
        cache: dict[Any, str | None] = {}
        for line in list(self.lines):
            key = (line.grant.role, line.grant.character) if not line.grant.sees_all else "all"
            if key not in cache:
                cache[key] = message(line.grant)
            text = cache[key]
            if text is not None:
                line.offer(text)

    def figures(self) -> list[dict[str, Any]]:
        """Each page's counts (for the operator's status)."""
        return [
            {"role": x.grant.role, "sent": x.sent, "bytes": x.bytes, "resyncs": x.resyncs}
            for x in self.lines
        ]
