"""The wire vocabulary: every act survives Envelope -> Mail -> Batch bytes -> Mail -> Envelope."""

from __future__ import annotations

import numpy as np
import pytest

from protos import society_pb2 as pb
from world import LocalRuntime
from world.delivery import Delivery
from world.outbox import Outgoing
from world.scenario import parse_scenario
from world.situations import Calls
from world.stats import TickStats
from world.vocab import Kind
from world.wire import Mail, canonical, concat, decode, encode, from_envelopes, to_envelopes

G = pb.Goods


def every_act() -> list[pb.Envelope]:
    shown = pb.Signal(joy=10, gratitude=20, anger=30, sadness=40, fear=50)
    said = pb.Utterance(phrase=7, shown=shown)
    e = pb.Envelope
    return [
        e(
            sender=1,
            recipient=2,
            seq=1,
            promise=pb.Promise(
                what=G(good=pb.FOOD, amount=2), due_tick=9, in_reply_to=4, repayment=True
            ),
            said=said,
        ),
        e(
            sender=1,
            recipient=2,
            seq=2,
            promise_kept=pb.PromiseKept(promise_seq=1, delivered=G(good=pb.FOOD, amount=2)),
        ),
        e(
            sender=2,
            recipient=1,
            seq=3,
            promise_broken=pb.PromiseBroken(
                promise_seq=1, owed=G(good=pb.TOOLS, amount=1), due_tick=9
            ),
            said=said,
        ),
        e(
            sender=3,
            recipient=4,
            seq=1,
            trade_offer=pb.TradeOffer(
                give=G(good=pb.CLOTH, amount=3), want=G(good=pb.MEDICINE, amount=1)
            ),
        ),
        e(
            sender=4,
            recipient=3,
            seq=1,
            trade_reply=pb.TradeReply(
                offer_seq=1,
                status=pb.COUNTER,
                goods=G(good=pb.CLOTH, amount=3),
                counter_give=G(good=pb.MEDICINE, amount=1),
            ),
        ),
        e(
            sender=3,
            recipient=4,
            seq=2,
            trade_reply=pb.TradeReply(
                offer_seq=1,
                status=pb.ACCEPT,
                goods=G(good=pb.CLOTH, amount=3),
                taken=G(good=pb.MEDICINE, amount=1),
                answers_counter=True,
            ),
        ),
        e(
            sender=5,
            recipient=6,
            seq=1,
            gift=pb.Gift(goods=G(good=pb.FOOD, amount=2), care=True, in_reply_to=3),
        ),
        e(
            sender=5,
            recipient=6,
            seq=2,
            gift=pb.Gift(goods=G(good=pb.COIN, amount=5), loan=True, repay_by=20),
        ),
        e(sender=6, recipient=7, seq=1, gossip=pb.Gossip(subject=1, claim=pb.BETRAYED, source=2)),
        e(sender=1, recipient=2, seq=4, apology=pb.Apology(promise_seq=1)),
        e(sender=2, recipient=1, seq=5, forgiveness=pb.Forgiveness(promise_seq=1)),
        e(sender=7, recipient=8, seq=1, utterance=pb.Utterance(text="Hello there", shown=shown)),
        e(
            sender=8,
            recipient=9,
            seq=1,
            request=pb.Request(need=G(good=pb.MEDICINE, amount=1), repay_by=12),
        ),
        e(
            sender=9,
            recipient=0,
            seq=1,
            contribution=pb.Contribution(goods=G(good=pb.FOOD, amount=2), round=3),
        ),
        e(
            sender=0,
            recipient=9,
            seq=1,
            share=pb.Share(goods=G(good=pb.FOOD, amount=3), round=3, contributors=7, members=25),
        ),
        e(
            sender=5,
            recipient=8,
            seq=3,
            observation=pb.Observation(recipient=6, act=pb.GIFT, cooperated=True),
        ),
        e(
            sender=4,
            recipient=4,
            event=pb.Event(index=2, kind=10, goods=G(good=pb.COIN, amount=7), subject=0),
        ),
    ]


def test_every_kind_is_covered() -> None:
    """The test list holds one envelope of every kind of act."""
    kinds = {Kind[env.WhichOneof("body").upper()] for env in every_act()}
    assert kinds == set(Kind)


def test_round_trip_through_batch_bytes() -> None:
    """Every act comes back identical after the columnar Batch encoding."""
    envs = every_act()
    data = encode(from_envelopes(envs), tick=4, source_shard=1, dest_shard=2)
    batch, mail = decode(data)
    assert (batch.tick, batch.source_shard, batch.dest_shard, batch.count) == (4, 1, 2, len(envs))
    back = to_envelopes(mail, tick=4)
    for original, copy in zip(envs, back, strict=True):
        original.tick = 4
        assert copy == original


def test_free_words_survive_concatenation_and_sorting() -> None:
    """Text columns follow their envelopes when mail is merged and put in canonical order."""
    a = from_envelopes(
        [pb.Envelope(sender=3, recipient=1, seq=1, utterance=pb.Utterance(text="from three"))]
    )
    b = from_envelopes(
        [pb.Envelope(sender=2, recipient=1, seq=1, utterance=pb.Utterance(text="from two"))]
    )
    mail = canonical(concat([a, b]))
    assert [mail.text_of(i) for i in range(len(mail))] == ["from two", "from three"]


def test_carried_goods() -> None:
    """Goods in transit are counted once: offers, gifts, replies and counters."""
    mail = from_envelopes(every_act())
    carried = mail.carried()
    offer = 3
    assert carried[offer].tolist() == [0, 0, 3, 0, 0]
    counter = 4  # escrow back plus the goods offered back
    assert carried[counter].tolist() == [0, 0, 3, 1, 0]
    gossip = 8
    assert carried[gossip].sum() == 0


def test_malformed_batch_is_refused() -> None:
    """A batch whose column lengths disagree with its count is an error, not garbage."""
    batch, _ = decode(encode(from_envelopes(every_act()), tick=1))
    batch.count += 1
    with pytest.raises(ValueError, match="expected"):
        decode(batch.SerializeToString())


def test_empty_mail() -> None:
    """An empty batch encodes and decodes to empty mail."""
    _, mail = decode(encode(Mail(), tick=3))
    assert len(mail) == 0 and np.asarray(mail.sender).size == 0


def test_a_deliverys_rows_of_a_kind_are_those_of_its_envelopes() -> None:
    """Delivery.rows(kind): the rows of the inbox holding envelopes of that kind, in row order,
    for every kind (none for those not sent), on a living world's inbox and on one with a kind
    no envelope may have (its rows belong to no kind)."""
    sc = parse_scenario(
        {"name": "d", "seed": 4, "ticks": 9, "population": {"size": 200}}, source="d"
    )
    rt = LocalRuntime(sc)
    rt.run(8)
    shard = rt.villages[0]
    inbox = shard.take_inbox(rt.inboxes[0])
    stray = inbox.take(np.arange(len(inbox)))
    stray.kind[::7] = 250
    for mail in (inbox, stray):
        d = Delivery.of(
            shard.chars, sc, shard.placement, 9, mail, shard.owed_to, Outgoing(), Calls(),
            TickStats(),
        )  # fmt: skip
        kinds = mail.kind[: len(mail)]
        assert len(np.unique(kinds)) > 5
        for kind in Kind:
            np.testing.assert_array_equal(d.rows(kind), np.flatnonzero(kinds == kind))
