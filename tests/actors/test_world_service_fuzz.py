"""Whatever arrives at the WorldService, random bytes or random requests aimed at a live
decision, the server answers with a status and a message, never crashes, and the world's goods
stay conserved."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors.served.player_client import Player, channel
from actors.served.serving import ServedWorld, Serving
from protos import society_pb2 as pb
from protos import world_service_pb2 as wpb
from world.acts import ACTION_NAMES
from world.scenario import parse_scenario
from world.wire import concat, decode

METHODS = ("Join", "Perceive", "Act", "Inspect", "Status", "Pause", "Resume", "Step")
#: What a refusal may be; anything else (UNKNOWN, INTERNAL) would be a crash in a handler.
REFUSALS = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
}


class Live:
    """A served world, paused in the middle of a tick with decisions waiting for player 5."""

    def __init__(self, out: Path) -> None:
        sc = parse_scenario(
            {
                "name": "fuzz",
                "seed": 11,
                "ticks": 40,
                "population": {"size": 30},
                "encounters": {"rate": 1.0},
                "players": {"playable": [5, 12]},
            }
        )
        how = Serving(
            tick_interval=0, player_wait=600, paused=True, checkpoint_every=0, rate_limit=1e9
        )
        self.world = ServedWorld(sc, out, how)
        self.start = self.goods()
        self.thread = threading.Thread(target=self.world.run, daemon=True)
        self.thread.start()
        self.chan = channel(f"127.0.0.1:{self.world.port}")
        tokens = {c: t for t, c in self.world.tokens.items()}
        self.player = Player(self.chan, tokens[5])
        self.other = Player(self.chan, tokens[12])  # random bytes may join it, over and over
        self.player.join()
        self.items: queue.Queue[wpb.Perception] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.decisions: list[wpb.Decision] = []
        while not self.decisions:  # step until a tick waits for character 5
            self.world.clock.step(1)
            while True:
                p = self.items.get(timeout=60)
                if p.WhichOneof("what") == "decision":
                    self.decisions.append(p.decision)
                    break
                if p.WhichOneof("what") == "tick_ended":
                    break

    def _read(self) -> None:
        try:
            for p in self.player.perceive():
                self.items.put(p)
        except grpc.RpcError:
            pass

    def goods(self) -> np.ndarray:
        rt = self.world.runtime
        held = sum(s.chars.goods.sum(axis=0).astype(np.int64) for s in rt.shards)
        mail = concat(decode(b)[1] for box in rt.in_flight() for b in box)
        return held + mail.carried().sum(axis=0)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    w = Live(tmp_path_factory.mktemp("fuzz") / "run")
    yield w
    w.world.stop()
    w.thread.join(timeout=60)
    w.world.close()


def _status(fn) -> grpc.StatusCode:  # type: ignore[no-untyped-def]
    try:
        r = fn()
        if hasattr(r, "__iter__") and not isinstance(r, bytes):
            for _ in r:
                break
        return grpc.StatusCode.OK
    except grpc.RpcError as err:
        assert err.details(), "every refusal says why"
        return err.code()  # type: ignore[no-any-return]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(method=st.sampled_from(METHODS), data=st.binary(max_size=600), authed=st.booleans())
def test_random_bytes_are_refused_with_a_reason(
    live: Live, method: str, data: bytes, authed: bool
) -> None:
    """Random bytes to any method get a refusal (or a harmless answer), never a crash."""
    path = f"/socius.WorldService/{method}"
    meta = live.other.metadata if authed else ()
    if method == "Perceive":
        call = live.chan.unary_stream(path)
        code = _status(lambda: call(data, metadata=meta, timeout=5))
    else:
        call = live.chan.unary_unary(path)
        code = _status(lambda: call(data, metadata=meta, timeout=5))
    assert code in REFUSALS | {grpc.StatusCode.OK, grpc.StatusCode.DEADLINE_EXCEEDED}


goods = st.builds(
    lambda g, a: pb.Goods(good=g, amount=a), st.integers(0, 9), st.integers(0, 2**32 - 1)
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pick=st.integers(0, 3),
    action=st.sampled_from([*ACTION_NAMES, "", "steal", "GIFT", "gift\x00"]),
    words=st.text(st.characters(exclude_categories=("Cs",)), max_size=320),
    give=st.none() | goods,
    want=st.none() | goods,
    subject=st.none() | st.integers(0, 2**32 - 1),
    claim=st.integers(0, 5),
)
def test_random_acts_on_a_live_decision_are_checked(
    live: Live, pick, action, words, give, want, subject, claim
) -> None:
    """Acts with any fields, aimed at a decision that is waiting, pass the checks or are
    refused with a reason; never an internal error."""
    ids = [d.id for d in live.decisions] + ["", "0-0-0"]
    decision = ids[pick % len(ids)]
    terms: dict[str, object] = {"gossip_claim": claim}
    if give is not None:
        terms["give"] = give
    if want is not None:
        terms["want"] = want
    if subject is not None:
        terms["gossip_subject"] = subject
    code = _status(lambda: live.player.act(decision, action, words, **terms))
    assert code in REFUSALS | {grpc.StatusCode.OK}


def test_after_the_attack_the_world_goes_on_with_its_goods_conserved(live: Live) -> None:
    """Once the player is done, the tick settles and the next runs; holdings plus goods in
    flight equal what was endowed, made and used up."""
    live.other.join()  # random bytes may have joined it: it must not hold the world up either
    for player in (live.player, live.other):
        player.done(10**6)  # nothing more from either, for the rest of the world
    live.world.clock.step(2)
    ended = 0
    while ended < 3:  # this tick and two more
        if live.items.get(timeout=60).WhichOneof("what") == "tick_ended":
            ended += 1
    with live.world.hall.world:
        totals = live.world.runtime.totals
        expected = live.start + totals.produced - totals.consumed
        assert live.goods().tolist() == expected.tolist()
        assert all((s.chars.goods >= 0).all() for s in live.world.runtime.shards)
        assert totals.c["player_decisions"] >= len(live.decisions)
