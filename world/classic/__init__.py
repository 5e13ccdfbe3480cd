"""Classic experiments of cooperation science on the world engine.

A scenario with a `classic:` section (world/classic/config.py) runs on the same shards,
runtimes, journal, checkpoints and per-character random streams as village life, but its
characters play one classic game: the iterated prisoner's dilemma (ipd.py), the donation
game of indirect reciprocity (donation.py), the public goods game with or without punishment
(public_goods.py), the trust game (trust.py), or the evolution of a population playing the
dilemma (evolution.py: generations of round robins, each followed by a Moran or Fermi update,
dynamics.py; fixation.py repeats runs for fixation probabilities). `games.py` says which shard
plays which game and turns the run's counts into what the literature reports, for
summary.json.
"""
