"""An outside agent: a program that plays one character of a served world through the gRPC API.

    socius serve examples/players.yaml --grpc-port 50051 --out runs/p1
    python examples/outside_agent.py localhost:50051 TOKEN     # a token from runs/p1/tokens.json

Its policy is simple on purpose (replace `choose` with your own agent): keep promises, accept
offers, forgive, give when asked, and talk to whoever it meets. It needs only grpcio and the
generated modules in protos/ (`from protos import world_service_pb2`).
"""

from __future__ import annotations

import sys

import grpc

from protos import world_service_pb2 as wpb
from protos import world_service_pb2_grpc as wgrpc

LIKES = ("keep", "accept", "forgive", "apologize", "give", "contribute", "chat")


def choose(decision: wpb.Decision) -> tuple[str, str]:
    """The action to take (one of the decision's options) and the words to say with it."""
    options = [o.action for o in decision.options]
    action = next((a for a in LIKES if a in options), options[0])
    return action, f"(agent) {action}, {decision.counterpart}."


def main(address: str, token: str) -> None:
    stub = wgrpc.WorldServiceStub(grpc.insecure_channel(address))
    auth = (("authorization", f"Bearer {token}"),)
    joined = stub.Join(wpb.JoinRequest(), metadata=auth)
    print(f"playing character {joined.character}, a {joined.role}", flush=True)
    stream = stub.Perceive(wpb.PerceiveRequest(session=joined.session), metadata=auth)
    for p in stream:
        kind = p.WhichOneof("what")
        if kind == "decision":
            action, words = choose(p.decision)
            request = wpb.ActRequest(
                session=joined.session, decision=p.decision.id, action=action, words=words
            )
            stub.Act(request, metadata=auth)
            print(f"tick {p.tick}: {p.decision.about} -> {action}", flush=True)
        elif kind == "tick_ended":  # nothing more to say this tick: the world need not wait
            done = wpb.ActRequest(session=joined.session, done=True, tick=p.tick)
            stub.Act(done, metadata=auth)
        elif kind == "world_ended":
            print(f"the world ended: {p.world_ended.reason}", flush=True)
            return


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python examples/outside_agent.py HOST:PORT TOKEN")
    main(sys.argv[1], sys.argv[2])
