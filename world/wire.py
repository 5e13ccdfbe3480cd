"""Mail: envelopes as columns in memory, and their two wire forms.

A shard builds and reads envelopes as a `Mail` table (one numpy column per field). `to_batch`
/ `from_batch` convert to and from the columnar protobuf `Batch` (one copy per column);
`to_envelopes` / `from_envelopes` to and from typed `Envelope` messages, for people and tests.

Column meanings by kind (columns not named are 0):

- PROMISE: good/amount what; ref the request answered; due the due tick; flag 1 a repayment.
- PROMISE_KEPT: good/amount delivered (carried); ref the promise's seq.
- PROMISE_BROKEN: good/amount owed; ref the promise's seq; due its due tick.
- TRADE_OFFER: good/amount given (carried, in escrow); good2/amount2 wanted.
- TRADE_REPLY: good/amount what travels to the recipient (the goods wanted on ACCEPT, the
  escrow back on REJECT or COUNTER); good2/amount2 on COUNTER the goods offered back (carried),
  on ACCEPT what was taken (for the record); ref the offer's seq; flag the ReplyStatus, plus 4
  when it answers a counter-offer.
- GIFT: good/amount (carried); ref the request answered; due repay-by for a loan; flag bits
  1 care, 2 loan.
- GOSSIP: subject; source; flag the Claim.
- APOLOGY, FORGIVENESS: ref the promise's seq.
- UTTERANCE: flag 1 declines the request `ref`.
- REQUEST: good/amount needed; due repay-by (0: a plea).
- CONTRIBUTION: good/amount (carried); ref the round.
- SHARE: good/amount (carried); ref the round; subject contributors; source members.
- EVENT (journal only, from and to the character touched): ref the event's index; flag its
  world.events.EventKind; good/amount goods given or taken; subject a rumour's subject or a
  group.
- OBSERVATION: subject the act's recipient; ref the act's Kind; flag 1 it cooperated.
  In a classic game (world/classic) it carries a move: sent to the opponent itself (ref 0)
  in the prisoner's dilemma, to each observer (ref GIFT) in the donation game.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, cast

import numpy as np

from protos import society_pb2 as pb
from world.arrays import Table, rows_of, side_by_side
from world.kernels import ordering
from world.vocab import N_EMOTIONS, N_GOODS, N_KINDS, Kind, among

#: Batch column name -> numpy dtype (little-endian, as the proto documents).
COLUMN_DTYPES: dict[str, str] = {
    "sender": "<u4",
    "recipient": "<u4",
    "seq": "<u4",
    "kind": "u1",
    "good": "u1",
    "amount": "<u2",
    "good2": "u1",
    "amount2": "<u2",
    "ref": "<u4",
    "due": "<u4",
    "subject": "<u4",
    "source": "<u4",
    "flag": "u1",
    "phrase": "<u2",
}
SHOWN = ("shown", "true_feeling")

CARE, LOAN = 1, 2  # GIFT flag bits
#: Kinds whose good/amount columns are goods in transit.
CARRIES = among(
    N_KINDS,
    Kind.PROMISE_KEPT,
    Kind.TRADE_OFFER,
    Kind.TRADE_REPLY,
    Kind.GIFT,
    Kind.CONTRIBUTION,
    Kind.SHARE,
)
ANSWERS_COUNTER = 4  # TRADE_REPLY flag bit added to the ReplyStatus


class Mail(Table):
    """Envelopes as columns. `text` indexes `texts` (-1: no free words)."""

    COLUMNS: ClassVar[dict[str, tuple[str, tuple[int | str, ...], Any]]] = {
        **{name: (dtype, (), 0) for name, dtype in COLUMN_DTYPES.items()},
        "shown": ("u1", (N_EMOTIONS,), 0),
        "true_feeling": ("u1", (N_EMOTIONS,), 0),
        "true_standing": ("u1", (), 0),
        "text": ("<i4", (), -1),
    }

    def __init__(self, rows: int = 0) -> None:
        super().__init__(rows)
        self.texts: list[str] = []

    @classmethod
    def of(cls, rows: int, columns: dict[str, np.ndarray], texts: list[str]) -> Mail:
        """Mail over these arrays (one per column, `rows` long), not copied."""
        out = cls.__new__(cls)
        out._shape_args = {}
        out._n = rows
        for name, column in columns.items():
            setattr(out, name, column)
        out.texts = texts
        return out

    def read_only(self) -> Mail:
        """The same envelopes over read-only views of these columns (no copy), as a decoded
        batch gives them: mail handed to another shard in one process cannot change its
        sender's outbox."""
        return self.span(0, self._n)

    def span(self, start: int, stop: int) -> Mail:
        """Envelopes `start` .. `stop` - 1 over read-only views of these columns (no copy)."""
        cols = {}
        for name in self.COLUMNS:
            view = getattr(self, name)[start:stop].view()
            view.flags.writeable = False
            cols[name] = view
        return Mail.of(stop - start, cols, list(self.texts))

    def take(self, idx: np.ndarray) -> Mail:
        cols = {name: rows_of(getattr(self, name)[: self._n], idx) for name in self.COLUMNS}
        return Mail.of(len(idx), cols, self.texts)

    def carried(self) -> np.ndarray:
        """Goods carried by each envelope, (rows, N_GOODS): what is in transit."""
        n = self._n
        out = np.zeros((n, N_GOODS), np.int64)
        kind = self.kind[:n]
        first = CARRIES[kind]
        rows = np.flatnonzero(first)
        np.add.at(out, (rows, self.good[:n][rows]), self.amount[:n][rows])
        counter = np.flatnonzero((kind == Kind.TRADE_REPLY) & ((self.flag[:n] & 3) == pb.COUNTER))
        np.add.at(out, (counter, self.good2[:n][counter]), self.amount2[:n][counter])
        return out

    def set_text(self, row: int, text: str) -> None:
        self.text[row] = len(self.texts)
        self.texts.append(text)

    def text_of(self, row: int) -> str:
        i = int(self.text[row])
        return self.texts[i] if i >= 0 else ""


def concat(parts: Iterable[Mail]) -> Mail:
    parts = [p for p in parts if len(p)]
    out = Mail()
    if not parts:
        return out
    texts, offsets = _texts_of(parts)
    for name in Mail.COLUMNS:
        cols = [getattr(p, name)[: len(p)] for p in parts]
        if name == "text":
            cols = [_shifted(col, by) for col, by in zip(cols, offsets, strict=True)]
        setattr(out, name, np.concatenate(cols))
    out._n = sum(len(p) for p in parts)
    out.texts = texts
    return out


def _texts_of(parts: list[Mail]) -> tuple[list[str], list[int]]:
    """The parts' free words in turn, and where each part's words begin in that list."""
    texts: list[str] = []
    offsets = []
    for p in parts:
        offsets.append(len(texts))
        texts.extend(p.texts)
    return texts, offsets


def _shifted(text: np.ndarray, by: int) -> np.ndarray:
    """A `text` column pointing `by` further into the list of free words."""
    return np.where(text >= 0, text + by, -1).astype(text.dtype) if by else text


#: The columns of the inbox order, in turn
MAIL_ORDER = ("recipient", "sender", "seq")


#: Most shares an inbox is merged from (a merge compares every share's head for each row);
#: more are concatenated and sorted
MERGED_MOST = 16


def inbox_of(parts: list[Mail]) -> Mail:
    """One inbox in canonical order from the shares several senders sent. Shares each in that
    order (a shard seals its mail so) are merged: where each envelope goes is found in one
    pass, and each column is written once, straight into its place; otherwise they are
    concatenated and sorted (`canonical`). Either way the same envelopes in the same order,
    `texts` the shares' in turn."""
    parts = [p for p in parts if len(p)]
    if len(parts) <= 1:
        return canonical(parts[0]) if parts else Mail()
    ordered = all(
        ordering.in_order(p.recipient[: len(p)], p.sender[: len(p)], p.seq[: len(p)]) for p in parts
    )
    if len(parts) > MERGED_MOST or not ordered:
        return canonical(concat(parts))
    bounds = np.zeros(len(parts) + 1, np.int64)
    np.cumsum([len(p) for p in parts], out=bounds[1:])
    first, second, third = (
        np.concatenate([getattr(p, k)[: len(p)] for p in parts]) for k in MAIL_ORDER
    )
    places = ordering.merged_places(first, second, third, bounds)
    texts, offsets = _texts_of(parts)
    n = int(bounds[-1])
    cols = {}
    for name, (dtype, trail, _) in Mail.COLUMNS.items():
        col = np.empty((n, *cast(tuple[int, ...], trail)), dtype)
        for j, p in enumerate(parts):
            src = getattr(p, name)[: len(p)]
            if name == "text":
                src = _shifted(src, offsets[j])
            ordering.place_rows(
                col.reshape(n, -1), places[bounds[j] : bounds[j + 1]], src.reshape(len(p), -1)
            )
        cols[name] = col
    return Mail.of(n, cols, texts)


def canonical(mail: Mail) -> Mail:
    """The inbox order every shard uses: by recipient, then sender, then sequence number. Mail
    already in that order (a shard seals its mail so) is returned as it is, not copied."""
    n = len(mail)
    if ordering.in_order(mail.recipient[:n], mail.sender[:n], mail.seq[:n]):
        return mail
    rest = side_by_side(mail.sender[:n], mail.seq[:n])
    return mail.take(ordering.lexical(mail.recipient[:n], rest))


def to_batch(mail: Mail, tick: int, source_shard: int = 0, dest_shard: int = 0) -> pb.Batch:
    n = len(mail)
    b = pb.Batch(tick=tick, source_shard=source_shard, dest_shard=dest_shard, count=n)
    for name, dtype in COLUMN_DTYPES.items():
        setattr(b, name, np.ascontiguousarray(getattr(mail, name)[:n], dtype=dtype).tobytes())
    for name in SHOWN:
        setattr(b, name, np.ascontiguousarray(getattr(mail, name)[:n]).tobytes())
    b.true_standing = np.ascontiguousarray(mail.true_standing[:n]).tobytes()
    rows = np.flatnonzero(mail.text[:n] >= 0)
    if len(rows):
        b.text_row.extend(int(r) for r in rows)
        b.text.extend(mail.text_of(int(r)) for r in rows)
    return b


def from_batch(b: pb.Batch) -> Mail:
    """The batch's envelopes as Mail whose columns are read-only views of the batch's bytes
    (no copy; `concat` and `Mail.take` give writable ones); only `text` is the Mail's own."""
    n = b.count
    cols: dict[str, np.ndarray] = {}
    for name, dtype in COLUMN_DTYPES.items():
        raw = getattr(b, name)
        if len(raw) != n * np.dtype(dtype).itemsize:
            raise ValueError(
                f"batch column {name!r} holds {len(raw)} bytes, expected "
                f"{n * np.dtype(dtype).itemsize} for {n} envelopes"
            )
        cols[name] = np.frombuffer(raw, dtype=dtype)
    for name in (*SHOWN, "true_standing"):
        raw = getattr(b, name)
        width = N_EMOTIONS if name in SHOWN else 1
        if len(raw) != n * width:
            raise ValueError(f"batch column {name!r} holds {len(raw)} bytes, expected {n * width}")
        view = np.frombuffer(raw, np.uint8)
        cols[name] = view.reshape(n, width) if name in SHOWN else view
    cols["text"] = np.full(n, -1, np.int32)
    mail = Mail.of(n, cols, [])
    for row, text in zip(b.text_row, b.text, strict=True):
        if row >= n:
            raise ValueError(f"batch text row {row} is past its {n} envelopes")
        mail.set_text(row, text)
    return mail


def encode(mail: Mail, tick: int, source_shard: int = 0, dest_shard: int = 0) -> bytes:
    return to_batch(mail, tick, source_shard, dest_shard).SerializeToString()


def decode(data: bytes) -> tuple[pb.Batch, Mail]:
    b = pb.Batch()
    b.ParseFromString(data)
    return b, from_batch(b)


# --- typed envelopes -------------------------------------------------------------------------


def _goods(good: int, amount: int) -> pb.Goods:
    return pb.Goods(good=cast(Any, good), amount=amount)


def _signal(shown: np.ndarray) -> pb.Signal:
    return pb.Signal(
        **{
            f: int(v)
            for f, v in zip(("joy", "gratitude", "anger", "sadness", "fear"), shown, strict=True)
        }
    )


def to_envelope(mail: Mail, i: int, tick: int) -> pb.Envelope:
    """Envelope i of the mail as a typed message."""
    c = {name: int(getattr(mail, name)[i]) for name in COLUMN_DTYPES}
    env = pb.Envelope(sender=c["sender"], recipient=c["recipient"], tick=tick, seq=c["seq"])
    k, flag = c["kind"], c["flag"]
    g1, g2 = _goods(c["good"], c["amount"]), _goods(c["good2"], c["amount2"])
    if k == Kind.PROMISE:
        env.promise.CopyFrom(
            pb.Promise(what=g1, due_tick=c["due"], in_reply_to=c["ref"], repayment=bool(flag & 1))
        )
    elif k == Kind.PROMISE_KEPT:
        env.promise_kept.CopyFrom(pb.PromiseKept(promise_seq=c["ref"], delivered=g1))
    elif k == Kind.PROMISE_BROKEN:
        env.promise_broken.CopyFrom(
            pb.PromiseBroken(promise_seq=c["ref"], owed=g1, due_tick=c["due"])
        )
    elif k == Kind.TRADE_OFFER:
        env.trade_offer.CopyFrom(pb.TradeOffer(give=g1, want=g2))
    elif k == Kind.TRADE_REPLY:
        env.trade_reply.CopyFrom(
            pb.TradeReply(
                offer_seq=c["ref"],
                status=cast(Any, flag & 3),
                goods=g1,
                counter_give=g2 if (flag & 3) == pb.COUNTER else None,
                taken=g2 if (flag & 3) == pb.ACCEPT else None,
                answers_counter=bool(flag & ANSWERS_COUNTER),
            )
        )
    elif k == Kind.GIFT:
        env.gift.CopyFrom(
            pb.Gift(
                goods=g1,
                care=bool(flag & CARE),
                loan=bool(flag & LOAN),
                in_reply_to=c["ref"],
                repay_by=c["due"],
            )
        )
    elif k == Kind.GOSSIP:
        env.gossip.CopyFrom(
            pb.Gossip(subject=c["subject"], claim=cast(Any, flag), source=c["source"])
        )
    elif k == Kind.APOLOGY:
        env.apology.CopyFrom(pb.Apology(promise_seq=c["ref"]))
    elif k == Kind.FORGIVENESS:
        env.forgiveness.CopyFrom(pb.Forgiveness(promise_seq=c["ref"]))
    elif k == Kind.UTTERANCE:
        env.utterance.CopyFrom(
            pb.Utterance(phrase=c["phrase"], text=mail.text_of(i), shown=_signal(mail.shown[i]))
        )
    elif k == Kind.REQUEST:
        env.request.CopyFrom(pb.Request(need=g1, repay_by=c["due"]))
    elif k == Kind.CONTRIBUTION:
        env.contribution.CopyFrom(pb.Contribution(goods=g1, round=c["ref"]))
    elif k == Kind.SHARE:
        env.share.CopyFrom(
            pb.Share(goods=g1, round=c["ref"], contributors=c["subject"], members=c["source"])
        )
    elif k == Kind.OBSERVATION:
        env.observation.CopyFrom(
            pb.Observation(
                recipient=c["subject"], act=cast(Any, c["ref"]), cooperated=bool(flag & 1)
            )
        )
    elif k == Kind.EVENT:
        env.event.CopyFrom(pb.Event(index=c["ref"], kind=flag, goods=g1, subject=c["subject"]))
    else:
        raise ValueError(f"envelope {i} has unknown kind {k}")
    if k != Kind.UTTERANCE and (c["phrase"] or mail.text[i] >= 0):
        env.said.CopyFrom(
            pb.Utterance(phrase=c["phrase"], text=mail.text_of(i), shown=_signal(mail.shown[i]))
        )
    return env


def to_envelopes(mail: Mail, tick: int) -> list[pb.Envelope]:
    return [to_envelope(mail, i, tick) for i in range(len(mail))]


def from_envelopes(envelopes: list[pb.Envelope]) -> Mail:
    """Typed envelopes as mail (the world's hidden-truth columns are left at zero)."""
    mail = Mail(len(envelopes))
    for i, env in enumerate(envelopes):
        which = env.WhichOneof("body")
        if which is None:
            raise ValueError(f"envelope {i} from {env.sender} has no body")
        body = getattr(env, which)
        row = {"sender": env.sender, "recipient": env.recipient, "seq": env.seq}
        kind = Kind[which.upper()]
        row["kind"] = kind
        said = env.said if env.HasField("said") else None
        if which == "promise":
            row |= _g1(body.what) | {
                "due": body.due_tick,
                "ref": body.in_reply_to,
                "flag": int(body.repayment),
            }
        elif which == "promise_kept":
            row |= _g1(body.delivered) | {"ref": body.promise_seq}
        elif which == "promise_broken":
            row |= _g1(body.owed) | {"ref": body.promise_seq, "due": body.due_tick}
        elif which == "trade_offer":
            row |= _g1(body.give) | _g2(body.want)
        elif which == "trade_reply":
            row |= (
                _g1(body.goods)
                | _g2(body.counter_give if body.status == pb.COUNTER else body.taken)
                | {
                    "ref": body.offer_seq,
                    "flag": body.status | (ANSWERS_COUNTER if body.answers_counter else 0),
                }
            )
        elif which == "gift":
            row |= _g1(body.goods) | {
                "ref": body.in_reply_to,
                "due": body.repay_by,
                "flag": (CARE if body.care else 0) | (LOAN if body.loan else 0),
            }
        elif which == "gossip":
            row |= {"subject": body.subject, "source": body.source, "flag": body.claim}
        elif which in ("apology", "forgiveness"):
            row |= {"ref": body.promise_seq}
        elif which == "utterance":
            said = body
        elif which == "request":
            row |= _g1(body.need) | {"due": body.repay_by}
        elif which == "contribution":
            row |= _g1(body.goods) | {"ref": body.round}
        elif which == "share":
            row |= _g1(body.goods) | {
                "ref": body.round,
                "subject": body.contributors,
                "source": body.members,
            }
        elif which == "observation":
            row |= {"subject": body.recipient, "ref": body.act, "flag": int(body.cooperated)}
        elif which == "event":
            row |= _g1(body.goods) | {"ref": body.index, "flag": body.kind, "subject": body.subject}
        for name, value in row.items():
            getattr(mail, name)[i] = value
        if said is not None:
            mail.phrase[i] = said.phrase
            s = said.shown
            mail.shown[i] = (s.joy, s.gratitude, s.anger, s.sadness, s.fear)
            if said.text:
                mail.set_text(i, said.text)
    return mail


def _g1(g: pb.Goods) -> dict[str, int]:
    return {"good": g.good, "amount": g.amount}


def _g2(g: pb.Goods) -> dict[str, int]:
    return {"good2": g.good, "amount2": g.amount}
