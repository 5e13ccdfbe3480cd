"""The view of a live world: a `Watch` of its shards and the `ViewServer` in front of it.

`socius serve` opens one beside its gRPC service (`actors.served.serving`); `socius run` with
`--view-port` opens one on its in-process runtime (`open_run_view`): the run has no players and
no clock, so its page watches (operator: hidden feelings too; viewer: the rest) and the run's
tokens file holds an operator and a viewer token.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actors.served.tokens import OPERATOR, viewer_token, write_tokens
from actors.served.view.server import Keys, Powers, ViewServer
from actors.served.view.watch import BetweenTicks, Door, Watch
from world.errors import UserError
from world.runtime import LocalRuntime, Runtime
from world.scenario import Scenario
from world.shard import Shard
from world.stats import TickStats


@dataclasses.dataclass(frozen=True)
class ViewPlace:
    """Where a view listens (the --view-port and --view-host flags)."""

    port: int
    host: str = "127.0.0.1"
    tls: tuple[bytes, bytes] | None = None


@dataclasses.dataclass
class LiveView:
    """A live world's view: call `watch.ticked` after each tick, `close` at the end."""

    watch: Watch
    server: ViewServer
    token: str  # the operator's, for the printed address

    @property
    def address(self) -> str:
        return self.server.address(self.token)

    def close(self, reason: str) -> None:
        self.watch.end(reason)
        self.server.close()


def open_view(
    sc: Scenario,
    shards: Callable[[], list[Shard]],
    figures: Callable[[TickStats], dict[str, Any]],
    door: Door,
    keys: Keys,
    token: str,
    place: ViewPlace,
    powers: Powers | None = None,
    world: dict[str, Any] | None = None,
    folder: Path | None = None,
) -> LiveView:
    """Start serving the view of `shards` (whose tick 0 it reads now); `folder`: the run's."""
    if sc.classic is not None:
        raise UserError(
            f"scenario {sc.name} plays a classic game; the browser's view shows villages "
            f"(its characters, their goods and trust): drop --view-port"
        )
    watch = Watch(sc, shards, figures, door, world=world, folder=folder)
    watch.look(shards()[0].tick, None)
    server = ViewServer(watch, keys, powers, place.host, place.port, place.tls)
    return LiveView(watch, server, token)


def open_run_view(runtime: Runtime, out: Path, place: ViewPlace) -> LiveView:
    """The view of `socius run`'s runtime: in process, its shards; on Ray, copies of its
    shard actors' states made once per tick (RayRuntime.copies). Writes OUT/tokens.json (an
    operator and a viewer token, mode 0600)."""
    shards: Callable[[], list[Shard]] | None = getattr(runtime, "copies", None)  # Ray's actors
    if isinstance(runtime, LocalRuntime):
        shards = lambda: runtime.villages  # noqa: E731
    elif shards is None:
        raise UserError(f"--view-port cannot watch the {runtime.name} runtime")
    tokens = write_tokens(out / "tokens.json", [])
    operator = next(t for t, c in tokens.items() if c == OPERATOR)
    keys = Keys.of(tokens, viewer_token(out / "tokens.json"))
    return open_view(
        runtime.scenario,
        shards,
        lambda stats: runtime.figures(stats),
        BetweenTicks(),
        keys,
        operator,
        place,
        world={"runtime": runtime.name, "live": True},
        folder=out,
    )


def until_stopped() -> None:
    """Wait (in the main thread) for Ctrl-C or SIGTERM: a view that outlives its world."""
    done = threading.Event()
    kinds = (signal.SIGINT, signal.SIGTERM)
    handlers = {s: signal.signal(s, lambda *_: done.set()) for s in kinds}
    try:
        while not done.wait(0.5):
            pass
    finally:
        for s, h in handlers.items():
            signal.signal(s, h)
