"""A hundred players at once, each on its own connection, streaming and acting in a world of a
thousand characters: every decision put to them is theirs, nothing is refused or lost."""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from pathlib import Path

import grpc
import numpy as np
import pytest

from actors.served.player_client import Bot, Operator, Player, channel
from actors.served.serving import ServedWorld, Serving
from actors.served.tokens import OPERATOR
from world.scenario import parse_scenario
from world.wire import concat, decode

pytestmark = [pytest.mark.slow]


def test_a_hundred_players_in_a_world_of_a_thousand(tmp_path: Path) -> None:
    """100 concurrent clients answer every decision of 5 ticks; the figures count each answer,
    Prometheus sees the run's figures, no client sees an error, and goods are conserved."""
    sc = parse_scenario(
        {
            "name": "crowd",
            "seed": 8,
            "ticks": 5,
            "population": {"size": 1000},
            "players": {"playable": 100},
        }
    )
    how = Serving(
        tick_interval=0,
        player_wait=300,
        paused=True,
        checkpoint_every=0,
        rate_limit=1e6,
        metrics_port=0,
    )
    world = ServedWorld(sc, tmp_path / "run", how)
    rt = world.runtime
    start = sum(s.chars.goods.sum(axis=0).astype(np.int64) for s in rt.shards)
    runner = threading.Thread(target=world.run, daemon=True)
    runner.start()
    address = f"127.0.0.1:{world.port}"
    try:
        bots = [
            Bot(channel(address), token, words="hello").start()
            for token, c in world.tokens.items()
            if c != OPERATOR
        ]
        assert len(bots) == 100
        op = Operator(channel(address), next(t for t, c in world.tokens.items() if c == OPERATOR))
        assert sum(s.claimed for s in op.status().seats) == 100
        op.resume()
        runner.join(timeout=600)
        assert not runner.is_alive()
        with urllib.request.urlopen(f"http://127.0.0.1:{world.exporter.port}/metrics") as r:
            scraped = r.read().decode()
        gifts = int(float(re.search(r"^socius_gifts_total (\S+)$", scraped, re.M).group(1)))
        assert gifts == rt.totals.c["gifts"]
    finally:
        world.stop()
        runner.join(timeout=60)
        summary = world.close()
    for bot in bots:
        assert bot.ended.wait(timeout=60)
        assert not bot.errors, bot.errors
    players = summary["players"]
    assert summary["ticks"] == 5
    assert players["decisions"] == players["answers"] == sum(b.answered for b in bots) > 100
    assert players["defaults"] == 0
    assert not any(k.endswith(":refused") for k in players["requests"])
    held = sum(s.chars.goods.sum(axis=0).astype(np.int64) for s in rt.shards)
    flight = concat(decode(b)[1] for box in rt.in_flight() for b in box).carried().sum(axis=0)
    assert (held + flight).tolist() == (start + rt.totals.produced - rt.totals.consumed).tolist()


def test_one_flooding_player_starves_no_one(tmp_path: Path) -> None:
    """20 players in a world of 200: 19 bots answer every decision, and the twentieth opens
    50 Perceive streams and sends Act as fast as it can (at a decision that does not exist)
    from a thread, with no rate limit to slow it, answering nothing. Its streams beyond two
    are refused with RESOURCE_EXHAUSTED, its flood with INVALID_ARGUMENT, and every bot's
    answers pass: no client error, none of its decisions left to the character's own mind
    (the flooder's are, after --player-wait), every answer counted. (bench/players_latency.py
    --flood prints the bots' act latency beside the quiet case.)"""
    sc = parse_scenario(
        {
            "name": "flooded",
            "seed": 3,
            "ticks": 2,
            "population": {"size": 200},
            "players": {"playable": 20},
        }
    )
    how = Serving(tick_interval=0, player_wait=30, paused=True, checkpoint_every=0, rate_limit=1e6)
    world = ServedWorld(sc, tmp_path / "run", how)
    runner = threading.Thread(target=world.run, daemon=True)
    runner.start()
    address = f"127.0.0.1:{world.port}"
    tokens = [t for t, c in world.tokens.items() if c != OPERATOR]
    stop = threading.Event()
    refused: list[str] = []
    try:
        bots = [Bot(channel(address), t).start() for t in tokens[1:]]
        flooder = Player(channel(address), tokens[0])
        flooder.join()
        streams = [flooder.perceive() for _ in range(50)]
        for _ in range(600):  # the refused ones end at once; the two held stay open
            if sum(call.done() for call in streams) >= 48:
                break
            time.sleep(0.1)
        ended = [call.code() for call in streams if call.done()]

        def flood() -> None:
            while not stop.is_set():
                try:
                    flooder.act("no-such-decision", "give")
                except grpc.RpcError as err:
                    refused.append(err.code().name)

        flooding = threading.Thread(target=flood, daemon=True)
        flooding.start()
        op = Operator(channel(address), next(t for t, c in world.tokens.items() if c == OPERATOR))
        op.resume()
        runner.join(timeout=600)
        assert not runner.is_alive()
    finally:
        stop.set()
        world.stop()
        runner.join(timeout=60)
        summary = world.close()
        for call in streams:
            call.cancel()
    assert ended == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 48
    assert refused and set(refused) == {"INVALID_ARGUMENT"}
    for bot in bots:
        assert bot.ended.wait(timeout=60)
        assert not bot.errors, bot.errors
        assert bot.defaulted == 0
    players = summary["players"]
    assert players["answers"] == sum(b.answered for b in bots) > 0
    assert players["decisions"] == players["answers"] + players["defaults"]
