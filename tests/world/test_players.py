"""A player's answer becomes its character's decision only within the world's rules."""

from __future__ import annotations

import numpy as np
import pytest

from protos import society_pb2 as pb
from world.acts import Action, Situation
from world.players import Choice, ChoiceError, apply, check, perceived_by, waiting_for
from world.population import known_as, self_model
from world.scenario import parse_scenario
from world.self_view import self_view
from world.shard import Shard
from world.vocab import Good, Kind
from world.wire import decode


def _scenario():
    return parse_scenario(
        {
            "name": "p",
            "seed": 5,
            "ticks": 20,
            "population": {"size": 60},
            "noise": {"execution": 0.0},
            "players": {"playable": 60},
        }
    )


def _encounter(shard, pending, everyone):
    """An encounter of a character that has no other decision this tick."""
    waiting = waiting_for(shard, pending, everyone)
    rows = {}
    for w in waiting:
        rows[w.character] = rows.get(w.character, 0) + 1
    return next(w for w in waiting if w.situation == Situation.ENCOUNTER and rows[w.character] == 1)


def test_a_gift_on_the_players_terms_moves_exactly_those_goods() -> None:
    """A gift of goods the player names leaves its holdings and travels as one GIFT envelope."""
    sc = _scenario()
    shard = Shard(sc)
    everyone = set(range(60))
    pending = shard.prepare()
    w = _encounter(shard, pending, everyone)
    lo = int(pending.batch.local[w.row])
    good = int(np.argmax(shard.chars.goods[lo]))
    before = shard.chars.goods[lo].copy()
    choice = Choice(decision=w.id, action=Action.GIFT, words="for you", give=(good, 1))
    check(choice, w)
    decisions = shard.decide(pending)
    # only this row is the player's: everyone else keeps its own mind's answer
    others = decisions.actions.copy()
    apply(pending, decisions, [(w, choice)])
    assert decisions.actions[w.row] == Action.GIFT
    assert np.array_equal(np.delete(decisions.actions, w.row), np.delete(others, w.row))
    result = shard.finish(pending, decisions)
    mail = [m for _, m in (decode(b) for b in result.batches.values())]
    gifts = [
        (int(m.good[i]), int(m.amount[i]), m.text_of(i))
        for m in mail
        for i in range(len(m))
        if m.sender[i] == w.character and m.kind[i] == Kind.GIFT and m.recipient[i] == w.counterpart
    ]
    assert gifts == [(good, 1, "for you")]
    spent = before - shard.chars.goods[lo]
    assert spent.tolist() == [1 if g == good else 0 for g in range(5)]
    state = self_view(shard, w.character)
    assert state.character == w.character
    assert [g.amount for g in state.goods] == shard.chars.goods[lo].tolist()


def test_goods_not_owned_options_not_offered_and_bad_fields_are_refused() -> None:
    """Goods beyond the holdings are denied; an action outside the options, terms on an act
    that takes none, a gossip about the listener and oversized words are refused."""
    sc = _scenario()
    shard = Shard(sc)
    pending = shard.prepare()
    w = _encounter(shard, pending, set(range(60)))
    lo = int(pending.batch.local[w.row])
    have = int(shard.chars.goods[lo, Good.COIN])
    with pytest.raises(ChoiceError) as err:
        check(Choice(decision=w.id, action=Action.GIFT, give=(Good.COIN, have + 1)), w)
    assert err.value.denied and f"not {have + 1}" in str(err.value)
    with pytest.raises(ChoiceError, match="not an option"):
        check(Choice(decision=w.id, action=Action.FORGIVE), w)
    with pytest.raises(ChoiceError, match="takes no give terms"):
        Choice(decision=w.id, action=Action.CHAT, give=(Good.FOOD, 1))
    with pytest.raises(ChoiceError, match="third character"):
        check(
            Choice(
                decision=w.id,
                action=Action.GOSSIP,
                gossip_subject=w.counterpart,
                gossip_claim=pb.BAD,
            ),
            w,
        )
    with pytest.raises(ChoiceError, match="at most 280"):
        Choice(decision=w.id, action=Action.CHAT, words="x" * 281)
    with pytest.raises(ChoiceError, match="does not exist"):
        Choice(decision=w.id, action=Action.GIFT, give=(9, 1))


def test_players_perceive_only_what_is_addressed_to_them() -> None:
    """Every envelope a played character perceives is addressed to it, without hidden truth."""
    sc = _scenario()
    shard = Shard(sc)
    shard.step()
    pending = shard.prepare(list(shard.route(shard.outbox, shard.tick).values()))
    seen = perceived_by(pending, {3, 7})
    inbox = pending.inbox
    addressed = int(np.isin(inbox.recipient[: len(inbox)], [3, 7]).sum())
    assert addressed > 0, "someone wrote to 3 or 7 in the first tick"
    assert len(seen) == addressed
    for c, env, words in seen:
        assert c in (3, 7) and env.recipient == c
        assert env.tick == pending.tick - 1
        assert isinstance(words, str)


def test_players_see_the_others_by_the_names_the_prompts_use() -> None:
    """`known_as` (what a player is shown of another character) is the name and role of that
    character's self-model, which LLM characters are told; the group is "your group"."""
    sc = parse_scenario({"name": "names", "seed": 9, "population": {"size": 300}})
    for cid in range(0, 300, 7):
        me = self_model(sc, cid)
        assert known_as(sc, cid) == f"{me.name} ({me.role})"
    assert known_as(sc, -1) == "your group"
    assert len({known_as(sc, c) for c in range(300)}) > 200  # names tell characters apart
