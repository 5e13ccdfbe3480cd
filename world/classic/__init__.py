"""Classic experiments of cooperation science on the world engine.

A scenario with a `classic:` section (world/classic/config.py) runs on the same shards,
runtimes, journal, checkpoints and per-character random streams as village life, but its
characters play one classic game: the iterated prisoner's dilemma (ipd.py), the donation
game of indirect reciprocity (donation.py), the public goods game with or without punishment
(public_goods.py) or the trust game (trust.py). `games.py` says which shard plays which game and
turns the run's counts into what the literature reports, for summary.json.
"""
