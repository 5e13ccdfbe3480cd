"""Each social mechanism does what the world promises its users."""

from __future__ import annotations

import numpy as np

from protos import society_pb2 as pb
from tests.conftest import quiet_world
from tests.world.harness import mind_index, sent, slot_of, step, trust
from world import memory, situations
from world.acts import Action, PromiseState, Situation
from world.emotion import shown as emotion_shown
from world.perceive import BETRAYAL
from world.runtime import LocalRuntime
from world.shard import Shard
from world.vocab import Emotion, Good, Kind, Trait

G = pb.Goods


def promise_from(promisor: int, promisee: int, seq: int, due: int) -> pb.Envelope:
    return pb.Envelope(
        sender=promisor,
        recipient=promisee,
        seq=seq,
        promise=pb.Promise(what=G(good=pb.FOOD, amount=2), due_tick=due),
    )


def made_promise(shard: Shard, promisor: int, promisee: int, seq: int, due: int) -> None:
    """Enter a promise in the promisor's ledger, as its own PROMISE act would have."""
    shard.owed.append(
        promisor=[promisor],
        seq=[seq],
        promisee=[promisee],
        good=[Good.FOOD],
        amount=[2],
        due=[due],
        made=[0],
    )
    shard.chars.seq[promisor] = max(int(shard.chars.seq[promisor]), seq)


def betrayal_world() -> tuple[Shard, float, list]:
    """Character 1 promises character 0 food by tick 2, then breaks it; returns the shard,
    0's trust in 1 before the breach, and the tick results."""
    shard = Shard(quiet_world(size=6))
    shard.chars.mind[:] = mind_index("always_defect")
    made_promise(shard, 1, 0, seq=1, due=2)
    r1 = step(shard, promise_from(1, 0, 1, due=2))
    before = trust(shard, 0, 1)
    r2 = step(shard, carry=r1)  # due: 1 breaks it (always defects)
    r3 = step(shard, carry=r2)  # 0 notices the breach
    return shard, before, [r1, r2, r3]


def test_broken_promise_is_a_betrayal_the_promisee_remembers_and_gossips() -> None:
    """A broken promise lowers the promisee's trust, counts as a betrayal, is remembered as
    one, is raised with the promisor, and becomes gossip the promisee can spread."""
    shard, before, (_, r2, r3) = betrayal_world()
    c = shard.chars
    s = slot_of(shard, 0, 1)
    assert sent(r2, Kind.PROMISE_KEPT) == []
    assert trust(shard, 0, 1) < before
    assert c.rel_betrayals[0, s] == 1
    assert c.rel_rep[0, s] < 0
    assert r3.stats.c["betrayals"] == 1
    assert (1, BETRAYAL) in zip(c.ep_who[0].tolist(), c.ep_kind[0].tolist(), strict=True)
    assert c.emotion[0, Emotion.ANGER] > 0 and c.emotion[0, Emotion.SADNESS] > 0
    assert sent(r3, Kind.PROMISE_BROKEN) == [(0, 1, 1)]
    led = shard.owed_to
    assert led.state[: len(led)].tolist() == [PromiseState.BROKEN]
    # meeting someone else, 0 can tell them 1 betrayed it
    calls = situations.Calls()
    calls.add(Situation.ENCOUNTER, np.array([0]), np.array([2]))
    batch, plans = situations.build(c, shard.scenario, 4, calls, np.zeros(len(c), np.int64))
    assert batch.legal[0, Action.GOSSIP]
    assert (plans.gossip_subject[0], plans.gossip_claim[0]) == (1, pb.BETRAYED)


def test_kept_promise_builds_trust() -> None:
    """A promise kept on time delivers the goods and raises the promisee's trust."""
    shard = Shard(quiet_world(size=6))
    shard.chars.mind[:] = mind_index("always_cooperate")
    made_promise(shard, 1, 0, seq=1, due=2)
    r1 = step(shard, promise_from(1, 0, 1, due=2))
    before = trust(shard, 0, 1)
    r2 = step(shard, carry=r1)
    assert sent(r2, Kind.PROMISE_KEPT) == [(1, 0, 1)]
    step(shard, carry=r2)
    assert trust(shard, 0, 1) > before
    assert len(shard.owed_to) == 0 and len(shard.owed) == 0


def test_apology_and_forgiveness_restore_part_of_the_trust() -> None:
    """After a betrayal, an apology that is forgiven restores some trust, not all of it."""
    shard, before, (_, _, r3) = betrayal_world()
    after_betrayal = trust(shard, 0, 1)
    shard.chars.mind[:] = mind_index("always_cooperate")
    r4 = step(shard, carry=r3)  # 1 is accused and apologizes
    assert sent(r4, Kind.APOLOGY) == [(1, 0, 1)]
    r5 = step(shard, carry=r4)  # 0 forgives
    assert sent(r5, Kind.FORGIVENESS) == [(0, 1, 1)]
    assert after_betrayal < trust(shard, 0, 1) < before
    assert len(shard.owed_to) == 0  # forgiven promises leave the ledger


def test_gossip_from_a_trusted_source_weighs_more() -> None:
    """The same claim moves a listener's view further when it trusts the teller."""
    shard = Shard(quiet_world(size=8))
    c = shard.chars
    trusted = memory.ensure(c, np.array([0]), np.array([1]), 0)[0]
    distrusted = memory.ensure(c, np.array([0]), np.array([2]), 0)[0]
    c.rel_pos[0, trusted] = 10.0
    c.rel_neg[0, distrusted] = 10.0
    step(
        shard,
        pb.Envelope(
            sender=1, recipient=0, seq=1, gossip=pb.Gossip(subject=5, claim=pb.BAD, source=1)
        ),
        pb.Envelope(
            sender=2, recipient=0, seq=1, gossip=pb.Gossip(subject=6, claim=pb.BAD, source=2)
        ),
    )
    view5 = c.rel_rep[0, slot_of(shard, 0, 5)]
    view6 = c.rel_rep[0, slot_of(shard, 0, 6)]
    assert view5 < view6 < 0
    assert c.rel_rep_src[0, slot_of(shard, 0, 5)] == 1


def trade_worlds(*, has_medicine: bool) -> tuple[Shard, Shard, list]:
    """Two identical worlds; in one, character 0 offers character 1 three cloth for one
    medicine (the cloth travels with the offer). Returns both and the trade world's results."""
    worlds = []
    for _ in range(2):
        shard = Shard(quiet_world(size=4))
        shard.chars.mind[:] = mind_index("always_cooperate")
        shard.chars.goods[:] = 20
        shard.chars.goods[1, Good.MEDICINE] = 1 if has_medicine else 0
        worlds.append(shard)
    trade, control = worlds
    trade.chars.goods[0, Good.CLOTH] -= 3  # paid into the offer
    offer = pb.Envelope(
        sender=0,
        recipient=1,
        seq=1,
        trade_offer=pb.TradeOffer(
            give=G(good=pb.CLOTH, amount=3), want=G(good=pb.MEDICINE, amount=1)
        ),
    )
    r1 = step(trade, offer)
    r2 = step(trade, carry=r1)
    c1 = step(control)
    step(control, carry=c1)
    return trade, control, [r1, r2]


def test_accepted_trade_settles_atomically() -> None:
    """An accepted trade moves exactly the goods agreed, both ways, and nothing else."""
    trade, control, (r1, _) = trade_worlds(has_medicine=True)
    delta = trade.chars.goods.astype(int) - control.chars.goods.astype(int)
    assert delta[0].tolist() == [0, 0, -3, 1, 0]
    assert delta[1].tolist() == [0, 0, 3, -1, 0]
    assert r1.stats.c["trades"] == 1


def test_rejected_trade_returns_the_escrow() -> None:
    """A trade the recipient cannot pay for is rejected and the offered goods come back."""
    trade, control, (r1, _) = trade_worlds(has_medicine=False)
    assert sent(r1, Kind.TRADE_REPLY) == [(1, 0, 1)]
    delta = trade.chars.goods.astype(int) - control.chars.goods.astype(int)
    assert delta.tolist() == [[0] * 5] * 4
    assert r1.stats.c["trades"] == 0


def test_care_for_a_child_builds_attachment() -> None:
    """A gift of care to someone vulnerable attaches the recipient to the giver."""
    shard = Shard(quiet_world(size=6))
    before = shard.chars.emotion[0, Emotion.GRATITUDE]
    step(
        shard,
        pb.Envelope(
            sender=3, recipient=0, seq=1, gift=pb.Gift(goods=G(good=pb.FOOD, amount=2), care=True)
        ),
    )
    s = slot_of(shard, 0, 3)
    assert shard.chars.rel_att[0, s] > 0
    assert shard.chars.rel_gifts[0, s] == 1
    # gratitude rose (and has already started to fade at the end of the tick)
    assert shard.chars.emotion[0, Emotion.GRATITUDE] > before


def test_hunger_hurts() -> None:
    """A character with no food goes hungry, loses health and grows afraid."""
    shard = Shard(quiet_world(size=4, economy={"abundance": 0.0001}))
    c = shard.chars
    c.goods[:, Good.FOOD] = 0
    c.goods[1, Good.FOOD] = 10
    r = step(shard)
    assert c.hunger[0] == 1 and c.hunger[1] == 0
    assert c.health[0] < c.health[1]
    assert c.emotion[0, Emotion.FEAR] > c.emotion[1, Emotion.FEAR]
    assert r.stats.c["hungry"] == 3


def test_twice_betrayed_characters_stop_helping_the_betrayer() -> None:
    """Characters betrayed twice by a partner help that partner far less than characters
    whom the same kind of partner never betrayed."""
    n = 120
    shard = Shard(quiet_world(size=n))
    # 0..29 are betrayed twice by 60..89; 30..59 never met 90..119
    victims = np.arange(30)
    for k, seq in ((0, 1), (1, 2)):
        shard.owed_to.append(
            promisor=victims + 60,
            seq=np.full(30, seq),
            promisee=victims,
            good=np.zeros(30),
            amount=np.full(30, 2),
            due=np.full(30, 0),
            made=np.zeros(30),
        )
        del k
    step(shard)  # both breaches noticed
    assert (shard.chars.rel_betrayals[victims].max(axis=1) == 2).all()
    asks = [
        pb.Envelope(
            sender=int(i) + 60,
            recipient=int(i),
            seq=10,
            request=pb.Request(need=G(good=pb.FOOD, amount=1)),
        )
        for i in range(60)
    ]
    shard.chars.goods[:60, Good.FOOD] = 10
    r = step(shard, *asks)
    helped = {s for s, _, _ in sent(r, Kind.GIFT)} | {s for s, _, _ in sent(r, Kind.PROMISE)}
    betrayed_helped = len(helped & set(range(30)))
    fresh_helped = len(helped & set(range(30, 60)))
    assert betrayed_helped < fresh_helped / 2, (betrayed_helped, fresh_helped)


def test_masked_feelings_are_harder_to_read() -> None:
    """Readers guess hidden feelings better in a world of open faces than of masks."""
    accuracy = {}
    for name, shown in (("open", 0.95), ("masked", 0.05)):
        sc = quiet_world(
            size=150,
            encounters={"rate": 0.8},
            population={
                "size": 150,
                "boundaries": {},
                "traits": {"expressiveness": {"mean": shown, "sd": 0.0}},
            },
        )
        result = LocalRuntime(sc).run(20)
        c = result.totals.c
        accuracy[name] = c["reading_sum"] / c["reading_n"]
        assert c["reading_n"] > 500
    assert accuracy["open"] > accuracy["masked"] + 0.02, accuracy


def test_masking_hides_negative_feelings_behind_a_polite_face() -> None:
    """A shy speaker shows less of its anger than an open one, more to a stranger than a friend."""
    true = np.array([[0.0, 0.0, 0.9, 0.8, 0.0]] * 2, np.float32)
    traits = np.zeros((2, len(Trait)), np.float32)
    traits[:, Trait.EXPRESSIVENESS] = [1.0, 0.1]
    shown = emotion_shown(true, traits, np.zeros(2, np.float32))
    assert np.allclose(shown[0], true[0])
    assert shown[1, Emotion.ANGER] < 0.2 and shown[1, Emotion.JOY] > 0.2
    close = emotion_shown(true[1:], traits[1:], np.ones(1, np.float32))
    assert close[0, Emotion.ANGER] > shown[1, Emotion.ANGER]


def test_memory_is_bounded_and_keeps_open_promises() -> None:
    """A character meeting more people than it can remember forgets the least salient, but
    never someone it has an open promise with."""
    sc = quiet_world(size=60, memory={"relationships": 4, "episodes": 4})
    shard = Shard(sc)
    c = shard.chars
    keeper = memory.ensure(c, np.array([0]), np.array([50]), 0)[0]
    c.rel_open_in[0, keeper] = 1
    for t, other in enumerate(range(1, 40)):
        memory.ensure(c, np.array([0]), np.array([other]), t + 1)
        assert (c.rel_id[0] >= 0).sum() <= 4
    assert 50 in c.rel_id[0].tolist()
    assert 39 in c.rel_id[0].tolist()  # the newest acquaintance is there


def test_recall_prefers_what_concerns_the_counterpart() -> None:
    """Episodes about the counterpart come first when memories are recalled for it."""
    shard = Shard(quiet_world(size=10))
    c = shard.chars
    memory.remember(
        c,
        np.array([0, 0, 0]),
        np.array([Kind.GIFT, Kind.GIFT, BETRAYAL]),
        np.array([3, 4, 5]),
        np.array([0.5, 0.5, 0.9]),
        1.0,
        1,
    )
    assert memory.recall(c, 0, counterpart=4, tick=2, k=1)[0]["who"] == 4
    assert memory.recall(c, 0, counterpart=9, tick=2, k=1)[0]["who"] == 5


def test_world_carries_on_living() -> None:
    """The demo-like world produces every kind of social act within a short run."""
    sc = quiet_world(
        size=200,
        encounters={"rate": 0.8},
        public_goods={"enabled": True},
        information={"observation_rate": 0.3},
        noise={"execution": 0.02, "assessment": 0.02},
        population={"size": 200, "minds": {"heuristic": 1.0}},
    )
    result = LocalRuntime(sc).run(40)
    kinds = result.totals.kinds
    for kind in Kind:
        if kind != Kind.EVENT:  # what the world does to characters, not a social act
            assert kinds[kind] > 0, kind.name
    f = result.last.figures()
    assert 0 < f["cooperation_rate"] < 1
    assert 0 < f["mean_trust"] < 1
