"""A tick's notable events in words, from the mail the tick sent: broken promises, apologies,
forgiveness, care to the vulnerable, gossip, words said, promises made and kept, pleas.

"Penel Birch broke a promise to Tomas Reed: 2 food". At most `PER_TICK` events a tick reach the
feed (in the mail's canonical order, rarer kinds first); `counts` says how many there were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from protos import society_pb2 as pb
from world.phrases import render
from world.vocab import Good, Kind
from world.wire import CARE, Mail, canonical

#: Events a tick sends to the feed at most.
PER_TICK = 150
#: The kinds the feed tells, rarest (most telling) first.
TOLD = (
    Kind.PROMISE_BROKEN,
    Kind.APOLOGY,
    Kind.FORGIVENESS,
    Kind.GOSSIP,
    Kind.GIFT,
    Kind.UTTERANCE,
    Kind.REQUEST,
    Kind.PROMISE,
    Kind.PROMISE_KEPT,
)
#: The feed's kind of each kind told (a gift to someone in need is "care").
FEED = {
    Kind.PROMISE_BROKEN: "betrayal",
    Kind.APOLOGY: "apology",
    Kind.FORGIVENESS: "forgiveness",
    Kind.GOSSIP: "gossip",
    Kind.GIFT: "gift",
    Kind.UTTERANCE: "words",
    Kind.REQUEST: "request",
    Kind.PROMISE: "promise",
    Kind.PROMISE_KEPT: "kept",
}
CLAIMS: dict[int, str] = {
    pb.GOOD: "is in good standing",
    pb.BAD: "is in bad standing",
    pb.BETRAYED: "betrayed them",
}


def _goods(good: int, amount: int) -> str:
    return f"{amount} {Good(good).name.lower()}"


def _said(mail: Mail, e: dict[str, int], i: int) -> str:
    return mail.text_of(i) or render(e["phrase"], bool(e["flag"] & 1))


#: The columns the feed's words read.
COLUMNS = ("kind", "sender", "recipient", "good", "amount", "flag", "subject", "due", "phrase")


def tell(mail: Mail, e: dict[str, int], i: int, names: Sequence[str]) -> tuple[str, str]:
    """Envelope `i` of `mail` (whose COLUMNS are `e`) in words, and the feed's kind for it."""
    k = e["kind"]
    s, r = names[e["sender"]], names[e["recipient"]]
    what = _goods(e["good"], e["amount"])
    if k == Kind.PROMISE_BROKEN:  # the one wronged tells the one who broke it
        return f"{r} broke a promise to {s}: {what}", "betrayal"
    if k == Kind.APOLOGY:
        return f"{s} apologized to {r}", "apology"
    if k == Kind.FORGIVENESS:
        return f"{s} forgave {r}", "forgiveness"
    if k == Kind.GOSSIP:
        about = names[e["subject"]] if e["subject"] < len(names) else "someone"
        claim = CLAIMS.get(e["flag"], "did something")
        return f"{s} told {r} that {about} {claim}", "gossip"
    if k == Kind.GIFT:
        if e["flag"] & CARE:
            return f"{s} cared for {r} in need: {what}", "care"
        return f"{s} gave {r} {what}", "gift"
    if k == Kind.UTTERANCE:
        return f'{s} said to {r}: "{_said(mail, e, i)}"', "words"
    if k == Kind.REQUEST:
        return f"{s} asked {r} for {what}", "request"
    if k == Kind.PROMISE:
        return f"{s} promised {r} {what} by tick {e['due']}", "promise"
    return f"{s} kept a promise to {r}: {what}", "kept"


def events_of(
    mail: Mail, tick: int, names: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The tick's events for the feed (at most PER_TICK), and the count of each feed kind."""
    n = len(mail)
    kinds = mail.kind[:n]
    rank = np.full(256, len(TOLD), np.int64)
    rank[[int(k) for k in TOLD]] = np.arange(len(TOLD))
    told = canonical(mail.take(np.flatnonzero(rank[kinds] < len(TOLD))))
    r = rank[told.kind[: len(told)]]
    picked = np.argsort(r, kind="stable")[:PER_TICK]
    cols = {c: getattr(told, c)[: len(told)][picked].tolist() for c in COLUMNS}
    out: list[dict[str, Any]] = []
    for j, i in enumerate(picked.tolist()):
        e = {c: v[j] for c, v in cols.items()}
        text, kind = tell(told, e, i, names)
        out.append(
            {"tick": tick, "kind": kind, "from": e["sender"], "to": e["recipient"], "text": text}
        )
    care = (kinds == Kind.GIFT) & ((mail.flag[:n] & CARE) > 0)
    counts = {FEED[k]: int((kinds == k).sum()) for k in TOLD}
    counts["care"], counts["gift"] = int(care.sum()), counts["gift"] - int(care.sum())
    out.sort(key=lambda e: (e["from"], e["to"]))
    return out, counts
