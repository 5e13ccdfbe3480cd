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
from world.wire import (
    Mail,
    canonical,
    concat,
    decode,
    encode,
    from_envelopes,
    inbox_of,
    to_envelopes,
)

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


def same_mail(a: Mail, b: Mail) -> bool:
    """The same envelopes in the same order: every column, and each envelope's free words."""
    n = len(a)
    return (
        n == len(b)
        and all(
            np.array_equal(getattr(a, c)[:n], getattr(b, c)[:n])
            for c in Mail.COLUMNS
            if c != "text"
        )
        and [a.text_of(i) for i in range(n)] == [b.text_of(i) for i in range(n)]
    )


def shares(seed: int, parts: int, size: int) -> list[Mail]:
    """`parts` senders' shares of mail to 40 recipients, each in the inbox order, some with
    free words."""
    rng = np.random.default_rng(seed)
    out = []
    for j in range(parts):
        m = Mail(size)
        m.recipient[:] = rng.integers(0, 40, size)
        m.sender[:] = rng.integers(100 * j, 100 * j + 30, size)
        m.seq[:] = rng.permutation(size)
        m.kind[:] = rng.integers(0, 5, size)
        m.amount[:] = rng.integers(0, 60000, size)
        m.shown[:] = rng.integers(0, 255, (size, m.shown.shape[1]))
        for r in range(0, size, 7):
            m.set_text(r, f"words {j}.{r}")
        out.append(canonical(m) if j != parts - 1 or seed % 2 == 0 else m)
    return out


@pytest.mark.parametrize(
    ("seed", "parts", "size"), [(0, 2, 300), (2, 5, 80), (1, 3, 50), (4, 17, 9)]
)
def test_an_inbox_from_several_shares_is_their_mail_in_canonical_order(
    seed: int, parts: int, size: int
) -> None:
    """inbox_of: the shares merged (each in order), or sorted (one is not; or too many to
    merge), give the envelopes, free words included, that concatenating and sorting them gives,
    in the same order."""
    got = inbox_of(shares(seed, parts, size))
    want = canonical(concat(shares(seed, parts, size)))
    assert same_mail(got, want)


def test_mail_in_recipient_order_is_split_into_views_of_it() -> None:
    """A shard's mail, sealed in inbox order, goes to each destination shard as a read-only
    view of its run of envelopes, not a copy; the shares hold every envelope once, in order."""
    rt = LocalRuntime(
        parse_scenario({"name": "w", "seed": 1, "ticks": 3, "population": {"size": 90}}), 3
    )
    rt.run()
    shard = rt.shards[1]
    split = shard.split(shard.outbox)
    assert len(split) > 1
    for d, share in split.items():
        n = len(share)
        assert (shard.placement.shard(share.recipient[:n]) == d).all()
        assert np.shares_memory(share.recipient, shard.outbox.recipient)
        assert not share.sender.flags.writeable
    together = concat(split[d] for d in sorted(split))
    assert same_mail(together, shard.outbox)


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
