"""A shard: a slice of the world's characters that steps one tick from inbox to outbox.

Characters live in blocks of consecutive ids, placed by world/placement.py (world/shard_base.py:
what every shard shares). In tick t a village shard takes the
envelopes sent to its characters in tick t-1 (in canonical order), lets them perceive, live
(work, eat, fall sick), notice broken promises, decide in batches, and settles the decisions
under the world's rules; it returns one serialized protobuf batch per destination shard and a
few statistics. Nothing a character does reaches another except through an envelope, so the
result is the same however the world is split.

`step` does it all; `prepare` / `decide` / `finish` are the same tick in three parts for a
runtime whose minds answer asynchronously (an LLM gateway).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from world import economy, event_rules, memory, perceive, situations
from world import emotion as emo
from world.acts import PromiseState, Situation
from world.arrays import Grouped, rows_of, rows_where
from world.characters import Characters
from world.events import EventKind, Newcomers, events_from_state, events_state
from world.kernels import fade
from world.ledger import Promises
from world.minds import Mind, ReadingBatch, make_minds
from world.minds.base import DecisionBatch, part
from world.outbox import Outgoing
from world.population import (
    boundaries_of,
    endowment_of,
    groups_of,
    minds_of,
    roles_of,
    traits_of,
)
from world.scenario import Scenario
from world.settle import settle
from world.shard_base import (
    BaseShard,
    StepResult,
    mail_digest_parts,
    outbox_from_state,
    outbox_state,
    row_hashes,
)
from world.stats import SCALE, Tally, TickStats, fixed
from world.vocab import N_EMOTIONS, PRICE, Emotion, Kind, Trait
from world.wire import Mail, encode

STATE_VERSION = 2  # 2: characters placed in blocks of ids (world/placement.py)
#: what a tick's end keeps: of each feeling, of an episode's salience, of wariness
KEEP_FEELING = (1.0 - emo.DECAY).astype(np.float32)
KEEP_SALIENCE = np.float32(0.97)
KEEP_WARINESS = np.float32(0.995)


@dataclasses.dataclass
class Pending:
    """A tick between `prepare` and `finish`."""

    tick: int
    inbox: Mail
    sender_slot: np.ndarray
    batch: DecisionBatch
    plans: situations.Plans
    readings: ReadingBatch
    out: Outgoing
    stats: TickStats
    notes: Mail | None  # the EVENT envelopes of the tick's events, for the journal (None: none)


@dataclasses.dataclass
class Decisions:
    """What the minds answered for a tick: an action per decision row, a guess of the hidden
    feeling per reading, and free words (decision row -> text) said with the resulting act."""

    actions: np.ndarray
    guesses: np.ndarray
    words: dict[int, str] = dataclasses.field(default_factory=dict)


def reading_rows(mail: Mail) -> np.ndarray:
    """The envelopes whose speaker showed a feeling (a phrase or free words) to be read."""
    n = len(mail)
    return rows_where((mail.phrase[:n] > 0) | (mail.text[:n] >= 0))


class Shard(BaseShard):
    """A slice of a village: characters who live, perceive, decide and settle."""

    def __init__(
        self, scenario: Scenario, index: int = 0, n_shards: int = 1, minds: list[Mind] | None = None
    ) -> None:
        if scenario.classic is not None:
            raise ValueError(
                f"scenario {scenario.name} plays a classic game; its shards are "
                f"world.classic's (world.runtime.make_shard picks the right one)"
            )
        super().__init__(scenario, index, n_shards)
        self.minds = minds if minds is not None else make_minds()
        self.chars = self._born(self.ids)
        #: the run's events: the scenario's, then any an operator added live (`add_event`)
        self.events: list[Any] = list(scenario.events)
        #: the scenario as it stands this tick (world/event_rules.py `scenario_at`)
        self.now = scenario
        self.owed = Promises()  # promises my characters made
        self.owed_to = Promises()  # promises made to my characters
        #: Encounters sought from outside (players who seek someone out): called in `prepare`
        #: with (shard, tick, calls) to add ENCOUNTER calls; None: only the world's encounters.
        self.visits: Callable[[Shard, int, situations.Calls], None] | None = None

    def _born(self, ids: np.ndarray) -> Characters:
        """Characters `ids` as they come into the world: self-models and goods."""
        sc = self.scenario
        c = Characters(len(ids), sc.memory.relationships, sc.memory.episodes)
        c.cid[:] = ids
        c.role[:] = roles_of(sc, ids)
        c.group[:] = groups_of(sc, ids)
        c.mind[:] = minds_of(sc, ids)
        c.boundaries[:] = boundaries_of(sc, ids)
        c.traits[:] = traits_of(sc, ids)
        c.goods[:] = endowment_of(sc, ids, c.role.astype(np.int64))
        return c

    def _grow(self, tick: int, notes: event_rules.Notes) -> None:
        """Newcomers of `tick` who live in this shard join it (rows after the last)."""
        for first, e in event_rules.joining(self.scenario, self.events, tick):
            ids = self.placement.newcomers(self.index, first)
            if len(ids) == 0:
                continue
            born = self._born(ids)
            if e.group is not None:
                born.group[:] = e.group
            self.chars.append(**{name: getattr(born, name) for name in Characters.COLUMNS})
            notes.add(born.cid, self.events.index(e), EventKind.NEWCOMERS, subject=born.group)
            self.ids = np.concatenate([self.ids, ids])  # only when someone joins this shard

    def add_event(self, event: Any) -> None:
        """An event an operator set off live (for a tick after this one); it joins the list."""
        if isinstance(event, Newcomers):
            raise ValueError("newcomers join only from the scenario's events, not live")
        self.events.append(event)

    # --- the tick -------------------------------------------------------------------------

    def step(self, inbox: Iterable[bytes | Mail] | Mail = ()) -> StepResult:
        pending = self.prepare(inbox)
        return self.finish(pending, self.decide(pending))

    def prepare(self, inbox: Iterable[bytes | Mail] | Mail = ()) -> Pending:
        tick = self.tick + 1
        mail = self.take_inbox(inbox)
        stats = TickStats()
        notes = event_rules.Notes()
        if self.events:
            self._grow(tick, notes)
            self.now = event_rules.scenario_at(self.scenario, self.events, tick)
            self.living = self.now.population.size
        chars, sc = self.chars, self.now
        event_rules.apply(sc, chars, self.events, tick, stats, notes)
        out = Outgoing()
        calls = situations.Calls()
        slot = perceive.perceive(
            chars, sc, self.placement, tick, mail, self.owed, self.owed_to, out, calls, stats
        )
        factor = event_rules.production(sc, chars, self.events, tick) if self.events else None
        economy.live(chars, sc, tick, stats, factor)
        self._notice_breaches(tick, out, stats)
        self._promises_due(tick, calls)
        self._collection(tick, calls)
        situations.encounters(chars, sc, sc.population.size, tick, calls)
        if self.visits is not None:
            self.visits(self, tick, calls)
        open_out = np.bincount(
            self.placement.row(self.owed.promisor[: len(self.owed)]),
            minlength=len(chars),
        )
        batch, plans = situations.build(chars, sc, tick, calls, open_out)
        readings = self._readings(tick, mail, slot)
        return Pending(tick, mail, slot, batch, plans, readings, out, stats, notes.mail)

    def decide(self, pending: Pending) -> Decisions:
        """Every mind answers its characters' rows: actions, and guesses of hidden feelings."""
        batch, readings = pending.batch, pending.readings
        actions = np.zeros(len(batch), np.int8)
        guesses = np.zeros((len(readings), N_EMOTIONS), np.float32)
        # each mind's rows, in row order (one sort of a few minds' numbers, not a scan a mind)
        deciders = Grouped(self.chars.mind[batch.local], len(self.minds))
        readers = Grouped(self.chars.mind[readings.local], len(self.minds))
        for k, mind in enumerate(self.minds):
            rows = deciders.rows(k)
            if len(rows):
                actions[rows] = mind.decide(part(batch, rows))
            rows = readers.rows(k)
            if len(rows):
                guesses[rows] = mind.read(part(readings, rows))
        return Decisions(actions, guesses)

    def finish(self, pending: Pending, decisions: Decisions) -> StepResult:
        tick, chars, stats, out = pending.tick, self.chars, pending.stats, pending.out
        guesses = decisions.guesses
        # how well did readers see through what was shown?
        truth = emo.unquantize(rows_of(pending.inbox.true_feeling, reading_rows(pending.inbox)))
        if len(truth):
            stats.add("reading_sum", fixed(emo.accuracy(np.asarray(guesses), truth)))
            stats.add("reading_n", len(truth))
        settle(
            chars,
            self.now,
            tick,
            pending.batch,
            decisions.actions,
            pending.plans,
            self.owed,
            self.owed_to,
            out,
            stats,
        )
        mail = out.seal(chars, tick, decisions.words)
        for handle, p in out.promises:
            seqs = out.seqs(handle, mail)
            self.owed.append(
                promisor=chars.cid[p["promisor_local"]],
                seq=seqs,
                promisee=p["promisee"],
                good=p["good"],
                amount=p["amount"],
                due=p["due"],
                made=p["made"],
                repayment=p["repayment"],
            )
        self._end_of_tick(tick, stats)
        stats.add("envelopes", len(mail))
        stats.kinds += np.bincount(mail.kind[: len(mail)], minlength=len(stats.kinds))
        self.outbox = mail
        self.tick = tick
        notes = (
            [] if pending.notes is None else [encode(pending.notes, tick, self.index, self.index)]
        )
        return StepResult(tick, self.index, self.split(mail), stats, notes)

    def _notice_breaches(self, tick: int, out: Outgoing, stats: TickStats) -> None:
        """Promises to my characters that fell due last tick and were not kept are betrayals."""
        led, chars = self.owed_to, self.chars
        n = len(led)
        rows = rows_where((led.state[:n] == int(PromiseState.OPEN)) & (led.due[:n] < tick))
        if len(rows):
            led.move(rows, PromiseState.BROKEN)
            led.broken_at[rows] = tick
            lo = self.placement.row(led.promisee[rows])
            promisor = led.promisor[rows].astype(np.int64)
            sl = memory.ensure(chars, lo, promisor, tick)
            np.add.at(chars.rel_betrayals, (lo, sl), 1)
            np.add.at(chars.rel_open_in, (lo, sl), -1)
            perceive.record_act(
                chars,
                lo,
                sl,
                False,
                self.scenario.information.observation_weight,
                2.0,
            )
            t = chars.traits[lo]
            emo.appraise(chars.emotion, lo, Emotion.ANGER, 0.2 + 0.4 * t[:, Trait.VENGEFULNESS])
            emo.appraise(chars.emotion, lo, Emotion.SADNESS, 0.2 + 0.3 * t[:, Trait.AGREEABLENESS])
            np.add.at(chars.wariness, lo, np.float32(0.15))
            np.minimum(chars.wariness, 1.0, out=chars.wariness)
            memory.remember(chars, lo, perceive.BETRAYAL, promisor, 1.0, -1.0, tick)
            out.add(
                Kind.PROMISE_BROKEN,
                lo,
                promisor,
                good=led.good[rows],
                amount=led.amount[rows],
                ref=led.seq[rows],
                due=led.due[rows],
            )
            stats.add("betrayals", len(rows))
            stats.add("promises_broken", len(rows))

    def _promises_due(self, tick: int, calls: situations.Calls) -> None:
        led = self.owed
        n = len(led)
        rows = rows_where((led.state[:n] == int(PromiseState.OPEN)) & (led.due[:n] == tick))
        calls.add(
            Situation.PROMISE_DUE,
            self.placement.row(led.promisor[rows]),
            led.promisee[rows],
            ref=led.seq[rows],
            good=led.good[rows],
            amount=led.amount[rows],
        )

    def _collection(self, tick: int, calls: situations.Calls) -> None:
        pg = self.scenario.public_goods
        if not pg.enabled or tick % pg.every:
            return
        n = len(self.chars)
        size = self.scenario.population.group_size
        collector = self.chars.group[:n].astype(np.int64) * size
        calls.add(Situation.GROUP_CALL, np.arange(n), collector, ref=tick // pg.every)

    def _readings(self, tick: int, mail: Mail, slot: np.ndarray) -> ReadingBatch:
        rows = reading_rows(mail)
        local = self.placement.row(mail.recipient[rows])
        return ReadingBatch(
            tick=tick,
            local=local,
            reader=mail.recipient[rows].astype(np.int64),
            speaker=mail.sender[rows].astype(np.int64),
            slot=slot[rows] if len(slot) else slot,
            kind=mail.kind[rows].astype(np.int64),
            seq=mail.seq[rows].astype(np.int64),
            shown=emo.unquantize(rows_of(mail.shown, rows)),
            chars=self.chars,
        )

    def _end_of_tick(self, tick: int, stats: TickStats) -> None:
        chars = self.chars
        n = len(chars)
        # feelings decay, episode salience and wariness fade, affinity and attachment stay in
        # range; the trust of every occupied slot is summed, overall and by role
        trust_sum, trust_n = fade.end_of_tick(
            n,
            chars.emotion,
            KEEP_FEELING,
            chars.ep_sal,
            KEEP_SALIENCE,
            chars.wariness,
            KEEP_WARINESS,
            chars.rel_aff,
            chars.rel_att,
            chars.rel_id,
            chars.rel_pos,
            chars.rel_neg,
            chars.role,
            float(SCALE),
            stats.by_role[2],
            stats.by_role[3],
        )
        stats.add("trust_sum", trust_sum)
        stats.add("trust_n", trust_n)
        # settled promises leave the ledger; broken ones stay forgivable for a while
        led = self.owed_to
        m = len(led)
        horizon = tick - self.scenario.memory.grudge_ticks
        stay = (led.state[:m] == int(PromiseState.OPEN)) | (
            (led.state[:m] == int(PromiseState.BROKEN)) & (led.broken_at[:m] >= horizon)
        )
        if not stay.all():
            led.keep(stay)
        stats.add("characters", n)
        wealth = chars.goods[:n].astype(np.int64) @ PRICE
        stats.wealth.merge(Tally.of(wealth))
        stats.add("wealth_total", int(wealth.sum()))

    # --- state ----------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """Everything the shard knows, as msgpack-ready plain data."""
        return {
            "version": STATE_VERSION,
            "index": self.index,
            "n_shards": self.n_shards,
            "tick": self.tick,
            "chars": self.chars.get_state(),
            "owed": self.owed.get_state(),
            "owed_to": self.owed_to.get_state(),
            "outbox": outbox_state(self.outbox),
            "events": events_state(self.events),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"shard state version {state.get('version')} is not "
                f"{STATE_VERSION}, the version this socius reads"
            )
        self.check_placement(state)
        self.tick = int(state["tick"])
        self.chars = Characters.from_state(state["chars"])  # type: ignore[assignment]
        self.owed = Promises.from_state(state["owed"])  # type: ignore[assignment]
        self.owed_to = Promises.from_state(state["owed_to"])  # type: ignore[assignment]
        self.outbox = outbox_from_state(state["outbox"])
        self.events = (
            events_from_state(state["events"]) if "events" in state else list(self.scenario.events)
        )
        self.ids = self.chars.cid[: len(self.chars)].astype(np.int64)
        self.now = event_rules.scenario_at(self.scenario, self.events, self.tick)
        self.living = self.now.population.size

    def digest_parts(self) -> dict[str, Any]:
        """This shard's share of the run's state digest (see world.digest)."""
        chars = self.chars
        n = len(chars)
        hashes = row_hashes(chars.row_bytes())
        promises = np.concatenate(
            [
                np.concatenate([np.zeros((len(led), 1), np.uint8), led.canonical_rows()], axis=1)
                if side == 0
                else np.concatenate(
                    [np.ones((len(led), 1), np.uint8), led.canonical_rows()], axis=1
                )
                for side, led in ((0, self.owed), (1, self.owed_to))
            ]
        )
        return {
            "tick": self.tick,
            "ids": chars.cid[:n].tobytes(),
            "hashes": hashes,
            "promises": [r.tobytes() for r in promises],
            **mail_digest_parts(self.outbox),
        }
