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


def _said(mail: Mail, i: int) -> str:
    return mail.text_of(i) or render(int(mail.phrase[i]), bool(mail.flag[i] & 1))


def tell(mail: Mail, i: int, names: Sequence[str]) -> tuple[str, str]:
    """Envelope `i` of `mail` in words, and the feed's kind for it."""
    k = Kind(int(mail.kind[i]))
    s, r = names[int(mail.sender[i])], names[int(mail.recipient[i])]
    what = _goods(int(mail.good[i]), int(mail.amount[i]))
    if k == Kind.PROMISE_BROKEN:  # the one wronged tells the one who broke it
        return f"{r} broke a promise to {s}: {what}", "betrayal"
    if k == Kind.APOLOGY:
        return f"{s} apologized to {r}", "apology"
    if k == Kind.FORGIVENESS:
        return f"{s} forgave {r}", "forgiveness"
    if k == Kind.GOSSIP:
        about = names[int(mail.subject[i])] if int(mail.subject[i]) < len(names) else "someone"
        claim = CLAIMS.get(int(mail.flag[i]), "did something")
        return f"{s} told {r} that {about} {claim}", "gossip"
    if k == Kind.GIFT:
        if mail.flag[i] & CARE:
            return f"{s} cared for {r} in need: {what}", "care"
        return f"{s} gave {r} {what}", "gift"
    if k == Kind.UTTERANCE:
        return f'{s} said to {r}: "{_said(mail, i)}"', "words"
    if k == Kind.REQUEST:
        return f"{s} asked {r} for {what}", "request"
    if k == Kind.PROMISE:
        return f"{s} promised {r} {what} by tick {int(mail.due[i])}", "promise"
    return f"{s} kept a promise to {r}: {what}", "kept"


def events_of(
    mail: Mail, tick: int, names: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The tick's events for the feed (at most PER_TICK), and the count of each feed kind."""
    mail = canonical(mail)
    n = len(mail)
    kinds = mail.kind[:n]
    rank = np.full(256, len(TOLD), np.int64)
    rank[[int(k) for k in TOLD]] = np.arange(len(TOLD))
    r = rank[kinds]
    told = np.flatnonzero(r < len(TOLD))
    order = told[np.argsort(r[told], kind="stable")]
    out: list[dict[str, Any]] = []
    for i in order[:PER_TICK].tolist():
        text, kind = tell(mail, i, names)
        out.append(
            {
                "tick": tick,
                "kind": kind,
                "from": int(mail.sender[i]),
                "to": int(mail.recipient[i]),
                "text": text,
            }
        )
    care = (kinds == Kind.GIFT) & ((mail.flag[:n] & CARE) > 0)
    counts = {FEED[k]: int((kinds == k).sum()) for k in TOLD}
    counts["care"], counts["gift"] = int(care.sum()), counts["gift"] - int(care.sum())
    out.sort(key=lambda e: (e["from"], e["to"]))
    return out, counts
