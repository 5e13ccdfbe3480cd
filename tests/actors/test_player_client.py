"""The end of a world for a client that plays through `player_client.play` (the shipped Bot
does): a Done for the last tick that the service refuses as it stops (the world's end crossed
it, as when a served world closes while a slow client is still saying it is done) is no error
when the stream's next word is the world's end; the same refusal with the world going on, or
any other refusal, is one. The player here is scripted (a refusal that crosses the end cannot be
timed on a real server); test_serve_load.py and test_players_replay.py play real ones."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from actors.served.player_client import Bot
from protos import world_service_pb2 as wpb


class Refused(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return "refused here"


class Scripted:
    """A player whose stream says `said` and whose Done is refused with `refusal` (None: it
    is taken)."""

    def __init__(self, said: list[wpb.Perception], refusal: grpc.StatusCode | None) -> None:
        self.said = said
        self.refusal = refusal
        self.done_for: list[int] = []

    def perceive(self) -> Iterator[wpb.Perception]:
        return iter(self.said)

    def done(self, tick: int = 0) -> None:
        self.done_for.append(tick)
        if self.refusal is not None:
            raise Refused(self.refusal)


def ended(tick: int) -> wpb.Perception:
    return wpb.Perception(tick=tick, tick_ended=wpb.TickEnded(tick=tick))


def world_end(tick: int) -> wpb.Perception:
    return wpb.Perception(
        tick=tick, world_ended=wpb.WorldEnded(reason="the world ran all its ticks")
    )


def played(said: list[wpb.Perception], refusal: grpc.StatusCode | None) -> Bot:
    bot = Bot(grpc.insecure_channel("127.0.0.1:9"), "token")  # never dialled: scripted below
    bot.player = Scripted(said, refusal)  # type: ignore[assignment]
    bot.thread.start()
    assert bot.ended.wait(timeout=60)
    return bot


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED])
def test_a_done_the_worlds_end_crossed_is_no_error(code: grpc.StatusCode) -> None:
    bot = played([ended(1), ended(2), world_end(2)], code)
    assert bot.player.done_for == [1, 2]  # type: ignore[attr-defined]
    assert bot.errors == [f"{code.name}: refused here"]  # tick 1's: the world went on
    bot = played([ended(1), world_end(1)], code)
    assert bot.errors == []


def test_a_refused_done_is_an_error_when_no_end_follows() -> None:
    bot = played([ended(1)], grpc.StatusCode.UNAVAILABLE)  # the stream just stops
    assert bot.errors == ["UNAVAILABLE: refused here"]


def test_other_refusals_are_errors_even_at_the_end() -> None:
    bot = played([ended(1), world_end(1)], grpc.StatusCode.INVALID_ARGUMENT)
    assert bot.errors == ["INVALID_ARGUMENT: refused here"]
