"""Players in the tick: what a played character perceives and must decide, and how a player's
answer becomes that character's decision, under the world's rules.

A player is a mind whose answers come from outside. In a tick, after `Shard.prepare`, every
played character's decisions (`waiting_for`) and the envelopes addressed to it (`perceived_by`)
go to its player; a `Choice` that comes back is checked against the decision (`check`: one of
its options, the character's own goods, sane fields) and then laid over the row the character's
own mind already answered (`apply`). Settlement checks legality and funds every payment again,
so nothing a player says can do what the world forbids. No network here (actors/ carries it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Protocol

import numpy as np

from protos import society_pb2 as pb
from world.acts import ACTION_NAMES, COOPERATION, Action, Situation
from world.errors import SociusError
from world.minds.base import DecisionBatch
from world.phrases import render
from world.shard import Decisions, Pending, Shard
from world.situations import PROMISE_DELAY, Plans
from world.vocab import Boundary, Good, Kind
from world.wire import to_envelope

#: Characters a player's free words may have.
WORDS_LIMIT = 280
#: Units one act may name (the wire's amount column is 16 bits).
MAX_AMOUNT = 10_000
#: Actions whose goods (give / want) or gossip a player may set.
TERMS = {
    Action.GIFT: ("give",),
    Action.OFFER_TRADE: ("give", "want"),
    Action.ASK: ("want",),
    Action.GOSSIP: ("gossip",),
}
CLAIMS: dict[int, str] = {
    pb.GOOD: "in good standing",
    pb.BAD: "in bad standing",
    pb.BETRAYED: "a betrayer",
}


class ChoiceError(SociusError):
    """A player's answer the world refuses; `denied`: it acts beyond the character's rights
    (goods it does not own), otherwise it is malformed or not among the options."""

    def __init__(self, message: str, denied: bool = False) -> None:
        super().__init__(message)
        self.denied = denied


def _goods(good: int, amount: int) -> str:
    return f"{amount} {Good(good).name.lower()}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Option:
    action: Action
    does: str
    terms: bool = False  # the player may name its own goods or gossip

    @property
    def cooperative(self) -> bool:
        return bool(COOPERATION[self.action] > 0)

    @property
    def defecting(self) -> bool:
        return bool(COOPERATION[self.action] < 0)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Planned:
    """The terms the world planned for a decision row, where a player may leave them."""

    gift_amount: int
    give_amount: int
    give_good: int
    want_good: int
    gossip_subject: int


@dataclasses.dataclass(frozen=True, kw_only=True)
class Waiting:
    """A decision a played character faces in a tick."""

    id: str
    tick: int
    character: int
    shard: int
    row: int  # in the shard's DecisionBatch
    situation: Situation
    counterpart: int
    options: tuple[Option, ...]
    good: int
    amount: int
    good2: int
    amount2: int
    about: str
    #: what `check` needs to judge an answer away from the shard: the character's goods as it
    #: decides (nothing changes them while it does), what the world planned for the row, and
    #: how many characters there are
    holdings: tuple[int, ...]
    planned: Planned
    population: int

    def option(self, action: Action) -> Option | None:
        return next((o for o in self.options if o.action == action), None)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Choice:
    """A player's answer to a waiting decision; checks its own fields."""

    decision: str
    action: Action
    words: str = ""
    give: tuple[int, int] | None = None  # (good, amount)
    want: tuple[int, int] | None = None
    gossip_subject: int | None = None
    gossip_claim: int = 0

    def __post_init__(self) -> None:
        if len(self.words) > WORDS_LIMIT:
            raise ChoiceError(
                f"words are {len(self.words)} characters; at most {WORDS_LIMIT} are heard"
            )
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in self.words):
            raise ChoiceError("words hold control characters; send plain text")
        for name in ("give", "want"):
            terms = getattr(self, name)
            if terms is None:
                continue
            good, amount = terms
            if good not in tuple(Good):
                raise ChoiceError(f"{name}: good {good} does not exist; allowed: 0..4")
            if not 1 <= amount <= MAX_AMOUNT:
                raise ChoiceError(f"{name}: amount must be 1..{MAX_AMOUNT}, not {amount}")
        if self.give and self.want and self.give[0] == self.want[0]:
            raise ChoiceError("give and want name the same good; a trade swaps two goods")
        if self.gossip_subject is not None and self.gossip_claim not in CLAIMS:
            raise ChoiceError(
                f"gossip_claim must be GOOD, BAD or BETRAYED, not {self.gossip_claim}"
            )
        used = {
            "give": self.give is not None,
            "want": self.want is not None,
            "gossip": self.gossip_subject is not None,
        }
        allowed = TERMS.get(self.action, ())
        extra = sorted(k for k, v in used.items() if v and k not in allowed)
        if extra:
            raise ChoiceError(
                f"{ACTION_NAMES[self.action]} takes no {extra[0]} terms; terms go with gift "
                f"(give), offer_trade (give, want), ask (want) and gossip (subject, claim)"
            )


def played_rows(shard: Shard, pending: Pending, players: Collection[int]) -> np.ndarray:
    """Rows of the tick's decisions that belong to played characters."""
    if not players:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.isin(pending.batch.actor, np.fromiter(players, np.int64)))


def waiting_for(shard: Shard, pending: Pending, players: Collection[int]) -> list[Waiting]:
    """The decisions of played characters in this shard's tick, in canonical row order."""
    b, plans = pending.batch, pending.plans
    out: list[Waiting] = []
    count: dict[int, int] = {}
    for r in played_rows(shard, pending, players).tolist():
        actor = int(b.actor[r])
        k = count[actor] = count.get(actor, 0) + 1
        sit = Situation(int(b.situation[r]))
        cp = int(b.counterpart[r])
        local = int(b.local[r])
        legal = set(np.flatnonzero(b.legal[r]).tolist())
        if sit == Situation.ENCOUNTER:
            legal |= _open_with_terms(shard, pending, r)
        options = tuple(
            Option(
                action=Action(a),
                does=_does(shard, pending, r, Action(a)),
                terms=Action(a) in TERMS and (sit == Situation.ENCOUNTER),
            )
            for a in sorted(legal)
        )
        out.append(
            Waiting(
                id=f"{pending.tick}-{actor}-{k}",
                tick=pending.tick,
                character=actor,
                shard=shard.index,
                row=r,
                situation=sit,
                counterpart=cp,
                options=options,
                good=int(b.good[r]),
                amount=int(b.amount[r]),
                good2=int(b.good2[r]),
                amount2=int(b.amount2[r]),
                about=_about(sit, cp, b, plans, r, local),
                holdings=tuple(int(g) for g in shard.chars.goods[local]),
                planned=Planned(
                    gift_amount=int(plans.gift_amount[r]),
                    give_amount=int(plans.give_amount[r]),
                    give_good=int(plans.give_good[r]),
                    want_good=int(plans.want_good[r]),
                    gossip_subject=int(plans.gossip_subject[r]),
                ),
                population=shard.scenario.population.size,
            )
        )
    return out


def _open_with_terms(shard: Shard, pending: Pending, r: int) -> set[int]:
    """Encounter acts a player may take on its own terms though the world's plan had none:
    a gift or an offer of goods the character owns, gossip when gossip is allowed; never past
    the character's boundaries."""
    b, chars = pending.batch, shard.chars
    local = int(b.local[r])
    bounds = int(chars.boundaries[local])
    betrayed = b.slot[r] >= 0 and chars.rel_betrayals[local, b.slot[r]] > 0
    refuses = bool((bounds >> Boundary.NEVER_DEALS_WITH_BETRAYERS) & 1) and betrayed
    out: set[int] = set()
    if chars.goods[local].sum() > 0 and not refuses:
        out |= {Action.GIFT, Action.OFFER_TRADE}
    if shard.scenario.information.gossip and not (bounds >> Boundary.NEVER_GOSSIPS) & 1:
        out.add(Action.GOSSIP)
    return out


def _about(sit: Situation, cp: int, b: DecisionBatch, plans: Plans, r: int, local: int) -> str:
    g1, g2 = _goods(int(b.good[r]), int(b.amount[r])), _goods(int(b.good2[r]), int(b.amount2[r]))
    return {
        Situation.PROMISE_DUE: f"your promise of {g1} to {cp} falls due now",
        Situation.OFFER: f"{cp} offers you {g1} for {g2}",
        Situation.COUNTER: f"{cp} answers your offer: {g1} for your {g2}",
        Situation.REQUEST: f"{cp} asks you for {g1}"
        + (f", to be repaid by tick {int(plans.due[r])}" if b.loan[r] else ""),
        Situation.ACCUSED: f"{cp} says you broke your promise of {g1}",
        Situation.APOLOGY: f"{cp} apologizes for the promise they broke",
        Situation.GROUP_CALL: "your group collects for its common project",
        Situation.ENCOUNTER: f"you meet {cp}",
    }[sit]


def _does(shard: Shard, pending: Pending, r: int, a: Action) -> str:
    b, p = pending.batch, pending.plans
    cp = int(b.counterpart[r])
    g1 = _goods(int(b.good[r]), int(b.amount[r]))
    pg = shard.scenario.public_goods
    if a == Action.GIFT:
        if p.gift_amount[r] > 0:
            return f"give {_goods(int(p.gift_good[r]), int(p.gift_amount[r]))} to {cp}"
        return f"give {cp} goods of yours (name them)"
    if a == Action.OFFER_TRADE:
        if p.give_amount[r] > 0:
            give = _goods(int(p.give_good[r]), int(p.give_amount[r]))
            return f"offer {cp} {give} for {_goods(int(p.want_good[r]), int(p.want_amount[r]))}"
        return f"offer {cp} a trade (name what you give and want)"
    if a == Action.GOSSIP:
        if p.gossip_subject[r] >= 0:
            claim = CLAIMS.get(int(p.gossip_claim[r]), "")
            return f"tell {cp} that {int(p.gossip_subject[r])} is {claim}"
        return f"tell {cp} about someone (name whom, and what)"
    text = {
        Action.KEEP: f"give {cp} the {g1} you promised",
        Action.BREAK: f"break your promise to {cp}",
        Action.ACCEPT: f"take the deal: give {_goods(int(b.good2[r]), int(b.amount2[r]))}",
        Action.REJECT: "turn the offer down (your goods stay yours)",
        Action.COUNTER: f"offer {int(p.counter_amount[r])} instead",
        Action.GIVE: f"give {cp} {g1}",
        Action.PROMISE: f"promise {cp} {g1} by tick {pending.tick + PROMISE_DELAY}",
        Action.DECLINE: "say no",
        Action.APOLOGIZE: f"apologize to {cp}",
        Action.IGNORE: "say nothing",
        Action.FORGIVE: f"forgive {cp}",
        Action.REFUSE: "do not forgive",
        Action.CONTRIBUTE: f"give {pg.amount} {pg.good} to the common project",
        Action.FREE_RIDE: "give nothing (and still take a share)",
        Action.IDLE: "let the moment pass",
        Action.CHAT: f"talk with {cp}",
        Action.ASK: f"ask {cp} for {_goods(int(p.ask_good[r]), int(p.ask_amount[r]))}",
    }
    return text.get(a, ACTION_NAMES[a])


def check(choice: Choice, waiting: Waiting) -> None:
    """Raise ChoiceError unless `choice` is a legal answer to `waiting` for this character now
    (judged from the decision alone: it can be checked away from the shard that owns it)."""
    option = waiting.option(choice.action)
    if option is None:
        raise ChoiceError(
            f"{ACTION_NAMES[choice.action]} is not an option of decision {waiting.id}; "
            f"options: {', '.join(ACTION_NAMES[o.action] for o in waiting.options)}"
        )
    named = choice.give or choice.want or choice.gossip_subject is not None
    if named and not option.terms:
        raise ChoiceError(f"{ACTION_NAMES[choice.action]} takes no terms in this decision")
    if choice.give is not None:
        good, amount = choice.give
        have = waiting.holdings[good]
        if amount > have:
            raise ChoiceError(
                f"give: {waiting.character} owns {_goods(good, have)}, not {amount}",
                denied=True,
            )
    p = waiting.planned
    if choice.action in (Action.GIFT, Action.OFFER_TRADE) and choice.give is None:
        if p.gift_amount <= 0 and choice.action == Action.GIFT:
            raise ChoiceError("gift: name the goods to give (give)")
        if p.give_amount <= 0 and choice.action == Action.OFFER_TRADE:
            raise ChoiceError("offer_trade: name the goods to give (give) and want (want)")
    if choice.action == Action.OFFER_TRADE:
        give = choice.give[0] if choice.give else p.give_good
        want = choice.want[0] if choice.want else p.want_good
        if give == want:
            raise ChoiceError("offer_trade: give and want name the same good")
    if choice.action == Action.GOSSIP:
        subject = choice.gossip_subject
        if subject is None and p.gossip_subject < 0:
            raise ChoiceError("gossip: name whom it is about (gossip_subject) and the claim")
        if subject is not None:
            size = waiting.population
            if subject >= size:
                raise ChoiceError(f"gossip: character {subject} does not exist (0..{size - 1})")
            if subject in (waiting.character, waiting.counterpart):
                raise ChoiceError("gossip is about a third character, not the listener or you")


def apply(pending: Pending, decisions: Decisions, answered: list[tuple[Waiting, Choice]]) -> None:
    """Lay the players' checked answers over their rows: the action, its words, its terms."""
    b, p = pending.batch, pending.plans
    for waiting, choice in answered:
        r = waiting.row
        a = choice.action
        if choice.give is not None:
            if a == Action.GIFT:
                p.gift_good[r], p.gift_amount[r] = choice.give
            else:
                p.give_good[r], p.give_amount[r] = choice.give
        if choice.want is not None:
            if a == Action.ASK:
                p.ask_good[r], p.ask_amount[r] = choice.want
            else:
                p.want_good[r], p.want_amount[r] = choice.want
        if choice.gossip_subject is not None:
            p.gossip_subject[r] = choice.gossip_subject
            p.gossip_claim[r] = choice.gossip_claim
            p.gossip_source[r] = waiting.character
        b.legal[r, a] = True  # checked: one of the options (with its terms)
        decisions.actions[r] = a
        if choice.words:
            decisions.words[r] = choice.words
        else:
            decisions.words.pop(r, None)


def perceived_by(pending: Pending, players: Collection[int]) -> list[tuple[int, pb.Envelope, str]]:
    """Each envelope a played character receives this tick: (character, envelope, words),
    with only what the character sees (the shown feeling, never the hidden one)."""
    mail = pending.inbox
    n = len(mail)
    if not players or n == 0:
        return []
    rows = np.flatnonzero(np.isin(mail.recipient[:n], np.fromiter(players, np.int64)))
    out = []
    for i in rows.tolist():
        env = to_envelope(mail, i, pending.tick - 1)
        if mail.text[i] >= 0:
            words = mail.text_of(i)
        else:
            declining = int(mail.kind[i]) == Kind.UTTERANCE and bool(mail.flag[i] & 1)
            words = render(int(mail.phrase[i]), declining)
        out.append((int(mail.recipient[i]), env, words))
    return out


@dataclasses.dataclass
class Opened:
    """One shard's side of a tick for its players, once its minds have decided: what the
    played characters perceive, the decisions waiting for them, and the encounters they sought
    that the tick added. Plain data: it crosses processes (a Ray shard actor sends it to the
    hall)."""

    shard: int
    perceptions: list[tuple[int, bytes, str]]  # (character, serialized Envelope, words)
    waiting: list[Waiting]
    seeks: list[tuple[int, int]] = dataclasses.field(default_factory=list)


def open_for(shard: Shard, pending: Pending, players: Collection[int]) -> Opened:
    """What this shard's played characters perceive and must decide in the pending tick."""
    seen = [(c, env.SerializeToString(), w) for c, env, w in perceived_by(pending, players)]
    return Opened(shard.index, seen, waiting_for(shard, pending, players))


def lay_answers(
    pending: Pending,
    decisions: Decisions,
    waiting: list[Waiting],
    answers: Mapping[str, Choice],
) -> list[Choice]:
    """The players' (checked) answers to this shard's `waiting` decisions laid over the minds'
    and counted; returns the answers laid, in row order."""
    answered = [(w, answers[w.id]) for w in waiting if w.id in answers]
    apply(pending, decisions, answered)
    pending.stats.add("player_decisions", len(waiting))
    pending.stats.add("player_answers", len(answered))
    pending.stats.add("player_defaults", len(waiting) - len(answered))
    return [c for _, c in answered]


class Seats(Protocol):
    """The players of a served world whose shards live elsewhere (a Ray runtime's actors):
    before a tick, who plays and whom they seek out; in it, their answers to what the shards
    opened; after it, what each waiting decision became."""

    def seating(self) -> tuple[list[int], list[tuple[int, int]]]:
        """The characters played in the tick about to start, and the encounters they seek."""
        ...

    def play(self, tick: int, opened: list[Opened]) -> dict[str, Choice]:
        """Publish the shards' decisions to the players and wait for them; their answers, each
        checked, by decision id."""
        ...

    def played(self, tick: int, opened: list[Opened], actions: dict[str, int] | None) -> None:
        """The tick settled: `actions` is what each waiting decision became (None: the tick
        failed, and its decisions are withdrawn)."""
        ...

    def rewound(self, tick: int) -> None:
        """The world went back to its checkpoint of `tick` (a recovery): what the players did
        after it is undone, and will be done again as the ticks are played again."""
        ...
