"""The Ray runtime: coordinator, shard and gateway actors, load generators, placement."""
