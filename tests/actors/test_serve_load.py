"""A hundred players at once, each on its own connection, streaming and acting in a world of a
thousand characters: every decision put to them is theirs, nothing is refused or lost."""

from __future__ import annotations

import re
import threading
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from actors.served.player_client import Bot, Operator, channel
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
    flight = concat(decode(b)[1] for box in rt.inboxes for b in box).carried().sum(axis=0)
    assert (held + flight).tolist() == (start + rt.totals.produced - rt.totals.consumed).tolist()
