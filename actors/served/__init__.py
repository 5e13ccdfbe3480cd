"""A world served to players over gRPC: the service, the hall, tokens and the player's client."""
