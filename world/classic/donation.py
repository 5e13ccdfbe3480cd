"""The donation game with indirect reciprocity, on the world's shards.

Each tick (a round) every character is a donor once: it draws a recipient among the others
from its own stream and gives (paying `cost`, the recipient gaining `benefit`) or refuses, by
its strategy. A discriminator gives to those it sees in good standing and refuses those it sees
in bad; with probability 1 - q it does not know the recipient's standing and gives. An intended
gift fails with the execution error e1 (`noise.execution`). The gift travels as a GIFT envelope;
what the donor did travels as OBSERVATION envelopes (subject: the recipient) to observers, who
judge it in the next tick under the scenario's norm (world.vocab.NORM_TABLE, the world's own
norms), with the recipient's standing as they saw it when the act was done, and get it wrong
with the assessment error e2 (`noise.assessment`).

- Public reputations: one shared record. Every character observes every act and every copy of
  the record makes the same judgement (one assessment-error draw per act, from the donor's
  stream), so all views stay identical.
- Private reputations: each character observes an act with probability `observation` and
  judges it with its own view and its own error draw; with `gossip` k, each character also tells
  k others, drawn at random, what it thinks of one character drawn at random (GOSSIP envelopes),
  and the listener adopts that view.

Every character starts in good standing in everyone's eyes.

What the results describe: the rounds played, however long the run was. A round's figures are
all counted in its own tick (a gift's benefit to its recipient too, though the recipient holds
it a tick later), so a run cut short by `--ticks` (or stopped) reports the rounds it played,
per round played. The "late" figures are those of the second half of the rounds the run is to
play (the game's rounds, or fewer when the run has fewer ticks): a run of 400 rounds cut to 60
ticks reports rounds 31 to 60 as its second half, and one stopped before its second half began
has none (`played.late_rounds` 0).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from world.classic.base import (
    ClassicShard,
    moves_mail,
    roster,
    rounds_played,
    share,
    transfers,
)
from world.classic.config import DonationGame
from world.classic.strategies import DONATION_STRATEGIES
from world.rng import Stream, below, uniform
from world.stats import SCALE, TickStats, fixed
from world.vocab import NORM_NAMES, NORM_TABLE, Kind
from world.wire import Mail, concat

DISCRIMINATOR, COOPERATOR, DEFECTOR = range(3)
GOOD_CLAIM, BAD_CLAIM = 1, 2  # protos Claim GOOD, BAD


def intends(strategy: np.ndarray, good: np.ndarray, knows: np.ndarray) -> np.ndarray:
    """Whether each donor means to give: a discriminator to a recipient in good standing, or
    whose standing it does not know; a cooperator always; a defector never."""
    return np.where(strategy == DISCRIMINATOR, good | ~knows, strategy == COOPERATOR)


def judged(
    norm: np.ndarray, gave: np.ndarray, standing: np.ndarray, wrong: np.ndarray
) -> np.ndarray:
    """Each donor's new standing (1 good) under `norm` (a row of NORM_TABLE): what it did
    (`gave` 1) to a recipient of `standing`, judged the other way where `wrong`."""
    verdict = norm[gave, standing]
    return np.where(wrong, 1 - verdict, verdict)


class DonationShard(ClassicShard):
    game: DonationGame

    def setup(self) -> None:
        game = self.game
        self.n = game.characters()
        self.strategy_of = roster(game.players, DONATION_STRATEGIES)
        self.strategy = self.strategy_of[self.ids]
        self.norm = NORM_TABLE[NORM_NAMES.index(self.scenario.norm)]
        # the rounds this run is to play: the second half of them is the results' long run
        self.planned = min(game.rounds, self.scenario.ticks)
        self.payoff = np.zeros(len(self.ids), np.float64)
        self.views = np.ones((len(self.ids), self.n), np.uint8)  # 1: good in my eyes
        # who may observe each local donor's act: everyone (public: every copy of the record,
        # the donor's own included, takes each judgement), or everyone but the donor (private)
        public = game.reputation == "public"
        self.watch_donor = np.repeat(np.arange(len(self.ids)), self.n - (0 if public else 1))
        self.watcher = np.array(
            [j for i in self.ids for j in range(self.n) if public or j != i], np.int64
        )

    def play(self, tick: int, inbox: Mail, stats: TickStats) -> Mail:
        self._receive(inbox, stats)
        self._judge(tick, inbox)
        self._count_standing(tick, stats)
        if tick > self.game.rounds:
            return Mail()
        return self._donate(tick, stats)

    def _late(self, tick: int) -> bool:
        """In the second half of the rounds the run is to play: the long run the results
        report."""
        return tick > self.planned // 2

    def _receive(self, inbox: Mail, stats: TickStats) -> None:
        """Last round's gifts reach their recipients (counted in the results when given)."""
        n = len(inbox)
        rows = np.flatnonzero(inbox.kind[:n] == Kind.GIFT)
        local = self.placement.row(inbox.recipient[rows])
        np.add.at(self.payoff, local, self.game.benefit)

    def _judge(self, tick: int, inbox: Mail) -> None:
        """Observers judge last tick's acts with the views they had then; gossip after."""
        n = len(inbox)
        seen = np.flatnonzero(inbox.kind[:n] == Kind.OBSERVATION)
        observer = self.placement.row(inbox.recipient[seen])
        donor = inbox.sender[seen].astype(np.int64)
        recipient = inbox.subject[seen].astype(np.int64)
        gave = (inbox.flag[seen] & 1).astype(np.int64)
        seed, act_tick = self.scenario.seed, tick - 1
        if self.game.reputation == "public":  # one draw per act: the record's judgement
            wrong = uniform(seed, Stream.ASSESSMENT, donor, act_tick)
        else:
            wrong = uniform(seed, Stream.ASSESSMENT, inbox.recipient[seen], act_tick, donor)
        standing = self.views[observer, recipient]
        verdict = judged(self.norm, gave, standing, wrong < self.scenario.noise.assessment)
        self.views[observer, donor] = verdict
        told = np.flatnonzero(inbox.kind[:n] == Kind.GOSSIP)
        listener = self.placement.row(inbox.recipient[told])
        self.views[listener, inbox.subject[told].astype(np.int64)] = inbox.flag[told] == GOOD_CLAIM

    def _count_standing(self, tick: int, stats: TickStats) -> None:
        """Good views of others, by the strategy of the one viewed (second half only)."""
        if not self._late(tick) or tick > self.game.rounds:
            return
        held = self.views.astype(np.int64).sum(axis=0)
        held[self.ids] -= self.views[np.arange(len(self.ids)), self.ids]  # not of oneself
        by = np.bincount(self.strategy_of, weights=held, minlength=len(DONATION_STRATEGIES))
        people = np.bincount(self.strategy_of, minlength=len(DONATION_STRATEGIES))
        for s in range(len(DONATION_STRATEGIES)):
            stats.results[f"late good {s}"] += round(by[s])
            # each local observer views every character of strategy s but itself
            mine = int((self.strategy == s).sum())
            stats.results[f"late views {s}"] += len(self.ids) * int(people[s]) - mine

    def _donate(self, tick: int, stats: TickStats) -> Mail:
        game, seed, ids = self.game, self.scenario.seed, self.ids
        recipient = below(seed, Stream.PARTNER, self.n - 1, ids, tick)
        recipient += recipient >= ids
        knows = uniform(seed, Stream.KNOW, ids, tick) < game.knowledge
        good = self.views[np.arange(len(ids)), recipient] == 1
        intend = intends(self.strategy, good, knows)
        fails = uniform(seed, Stream.EXECUTION, ids, tick) < self.scenario.noise.execution
        gave = intend & ~fails
        self.payoff[gave] -= game.cost
        self._count_acts(tick, gave, recipient[gave], stats)
        parts = [transfers(Kind.GIFT, ids[gave], recipient[gave], 1)]  # one gift of b
        parts.append(self._observations(tick, recipient, gave))
        if game.reputation == "private" and game.gossip:
            parts.append(self._gossip(tick))
        mail = concat(parts)
        n = len(mail)
        order = np.argsort(mail.sender[:n], kind="stable")  # each sender's gift first
        return mail.take(order)

    def _count_acts(
        self, tick: int, gave: np.ndarray, recipient: np.ndarray, stats: TickStats
    ) -> None:
        """The round's acts, and its payoffs: the donors' costs and the recipients' benefits
        (by the recipient's strategy), both in the round's own tick."""
        if self.index == 0 and self._late(tick):
            stats.results["late rounds"] += 1
        gained = np.bincount(self.strategy_of[recipient], minlength=len(DONATION_STRATEGIES))
        for s, k in enumerate(gained.tolist()):
            if k:
                stats.results[f"payoff {s}"] += fixed(np.full(k, self.game.benefit))
        stats.add("decisions", len(gave))
        stats.add("cooperative", int(gave.sum()))
        stats.add("defecting", int((~gave).sum()))
        stats.add("gifts", int(gave.sum()))
        for s in range(len(DONATION_STRATEGIES)):
            mine = self.strategy == s
            k, g = int(mine.sum()), int(gave[mine].sum())
            counts = Counter({f"acts {s}": k, f"gave {s}": g})
            if self._late(tick):
                counts.update({f"late acts {s}": k, f"late gave {s}": g})
            stats.results.update(counts)
            if g:
                stats.results[f"payoff {s}"] -= fixed(np.full(g, self.game.cost))

    def _observations(self, tick: int, recipient: np.ndarray, gave: np.ndarray) -> Mail:
        """What each donor did, to its observers (private: those who happen to see it)."""
        k, observer = self.watch_donor, self.watcher
        donor = self.ids[k]
        if self.game.reputation == "private" and self.game.observation < 1:
            draw = uniform(self.scenario.seed, Stream.OBSERVE, observer, tick, donor)
            sees = draw < self.game.observation
            k, observer, donor = k[sees], observer[sees], donor[sees]
        return moves_mail(donor, observer, gave[k], subject=recipient[k], ref=int(Kind.GIFT))

    def _gossip(self, tick: int) -> Mail:
        ids, seed, k = self.ids, self.scenario.seed, self.game.gossip
        speaker = np.repeat(ids, k)
        nth = np.tile(np.arange(k), len(ids))
        listener = below(seed, Stream.PARTNER, self.n - 1, speaker, tick, nth + 1)
        listener += listener >= speaker
        subject = below(seed, Stream.CHOICE, self.n, speaker, tick, nth)
        mail = Mail(len(speaker))
        mail.sender[:] = speaker
        mail.recipient[:] = listener
        mail.kind[:] = Kind.GOSSIP
        mail.subject[:] = subject
        mail.source[:] = speaker
        view = self.views[np.repeat(np.arange(len(ids)), k), subject]
        mail.flag[:] = np.where(view == 1, GOOD_CLAIM, BAD_CLAIM)
        return mail

    STATE = ("payoff", "views")


def donation_results(game: DonationGame, norm: str, counts: Counter[str]) -> dict[str, Any]:
    """The results of the rounds played (a round a tick): rates over the acts counted, payoffs
    per round played, the second-half figures over the late rounds played (see the module's
    docstring); `played` says how many of each."""

    def total(name: str) -> int:
        return sum(counts.get(f"{name} {s}", 0) for s in range(len(DONATION_STRATEGIES)))

    played = rounds_played(counts, game.rounds)
    by_strategy = {}
    for s, name in enumerate(DONATION_STRATEGIES):
        players = game.players.get(name, 0)
        if not players:
            continue
        by_strategy[name] = {
            "players": players,
            "payoff_per_round": share(counts.get(f"payoff {s}", 0) / SCALE, players * played),
            "cooperation_rate": share(counts.get(f"gave {s}", 0), counts.get(f"acts {s}", 0)),
            "good_fraction_late": share(
                counts.get(f"late good {s}", 0), counts.get(f"late views {s}", 0)
            ),
        }
    return {
        "kind": "donation",
        "norm": norm,
        "reputation": game.reputation,
        "benefit": game.benefit,
        "cost": game.cost,
        "knowledge": game.knowledge,
        "rounds": game.rounds,
        "cooperation_rate": share(total("gave"), total("acts")),
        "cooperation_rate_late": share(total("late gave"), total("late acts")),
        "good_fraction_late": share(total("late good"), total("late views")),
        "by_strategy": by_strategy,
        "played": {"rounds": played, "late_rounds": counts.get("late rounds", 0)},
    }
