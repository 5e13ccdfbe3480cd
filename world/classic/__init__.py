"""Classic experiments of cooperation science on the world engine.

A scenario with a `classic:` section (world/classic/config.py) runs on the same shards,
runtimes, journal, checkpoints and per-character random streams as village life, but its
characters play one classic game: the iterated prisoner's dilemma (ipd.py), the donation
game of indirect reciprocity (donation.py), the public goods game with or without punishment
(public_goods.py) or the trust game (trust.py). `results.py` turns the run's counts into what the
literature reports, for summary.json.
"""

from __future__ import annotations

from typing import Any


def shard_class(game: Any) -> type:
    """The Shard subclass that plays `game` (a section of world/classic/config.py)."""
    if game.kind == "ipd":
        from world.classic.ipd import DilemmaShard

        return DilemmaShard
    if game.kind == "donation":
        from world.classic.donation import DonationShard

        return DonationShard
    if game.kind == "public_goods":
        from world.classic.public_goods import PublicGoodsShard

        return PublicGoodsShard
    from world.classic.trust import TrustShard

    return TrustShard
