"""`kernels/utilities.py` chooses exactly what the numpy heuristic it replaced chose: the same
action for every decision of a living world's ticks, and of the same decisions with the
characters' traits, feelings and memories drawn at random, extremes included (no relationship
at all, every memory full, rows with one legal action, an empty batch). The reference is the
replaced numpy mind, the utilities written as the formulas they were, kept here only as a
reference. Likewise `kernels/reading.py` guesses, bit for bit, the hidden feelings the numpy
reader it replaced guessed.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from world import LocalRuntime
from world.acts import ACTIONS, Action, Situation
from world.characters import Characters
from world.emotion import EXPECTED, accuracy
from world.kernels import mixing, slots
from world.minds.base import DecisionBatch, ReadingBatch, read_feelings, trust_of
from world.minds.heuristic import NOISE, UTILITY, HeuristicMind, decision_keys
from world.scenario import parse_scenario
from world.vocab import Emotion, Trait


class Features:
    def __init__(self, batch: DecisionBatch, rows: np.ndarray) -> None:
        self.b, self.rows = batch, rows
        self.chars = batch.chars
        self.local = batch.local[rows]
        self.slot = batch.slot[rows]

    def _trait(self, t: Trait) -> np.ndarray:
        return self.chars.traits[self.local, t].astype(np.float64)

    def _feeling(self, e: Emotion) -> np.ndarray:
        return self.chars.emotion[self.local, e].astype(np.float64)

    def _row(self, column: str) -> np.ndarray:
        return getattr(self.b, column)[self.rows]

    def _flag(self, column: str) -> np.ndarray:
        return self._row(column).astype(np.float64)

    def _relation(self, column: str) -> np.ndarray:
        return slots.gather(getattr(self.chars, column), self.local, self.slot, 0.0)

    honest = functools.cached_property(lambda self: self._trait(Trait.HONESTY))
    agree = functools.cached_property(lambda self: self._trait(Trait.AGREEABLENESS))
    gener = functools.cached_property(lambda self: self._trait(Trait.GENEROSITY))
    venge = functools.cached_property(lambda self: self._trait(Trait.VENGEFULNESS))
    empathy = functools.cached_property(lambda self: self._trait(Trait.EMPATHY))
    social = functools.cached_property(lambda self: self._trait(Trait.SOCIABILITY))
    anger = functools.cached_property(lambda self: self._feeling(Emotion.ANGER))
    gratitude = functools.cached_property(lambda self: self._feeling(Emotion.GRATITUDE))
    wary = functools.cached_property(
        lambda self: self.chars.wariness[self.local].astype(np.float64)
    )
    pg = functools.cached_property(lambda self: self.chars.pg_expect[self.local].astype(np.float64))
    need = functools.cached_property(lambda self: self._row("need"))
    gain = functools.cached_property(lambda self: self._row("gain"))
    news = functools.cached_property(lambda self: self._flag("news"))
    produces = functools.cached_property(lambda self: self._flag("produces"))
    loan = functools.cached_property(lambda self: self._flag("loan"))
    vuln = functools.cached_property(lambda self: self._flag("vulnerable"))
    trust = functools.cached_property(
        lambda self: trust_of(self._relation("rel_pos"), self._relation("rel_neg"))
    )
    aff = functools.cached_property(lambda self: self._relation("rel_aff"))
    att = functools.cached_property(lambda self: self._relation("rel_att"))
    betrayed = functools.cached_property(lambda self: self._relation("rel_betrayals"))
    rep = functools.cached_property(lambda self: self._relation("rel_rep"))
    owe = functools.cached_property(
        lambda self: (self._relation("rel_balance") < 0).astype(np.float64)
    )
    grudge = functools.cached_property(lambda self: self.betrayed * self.venge)
    kindness = functools.cached_property(lambda self: 0.5 * self.gener + 0.5 * self.empathy)


REF_UTILITY = {
    Action.KEEP: lambda f: 0.2 + 0.9 * f.honest + 0.25 * f.att + 0.1 * f.aff - 0.35 * f.need,
    Action.BREAK: lambda f: 0.55 + 0.2 * f.wary + 0.15 * f.grudge,
    Action.ACCEPT: lambda f: 0.25 + f.gain + 0.2 * f.trust + 0.1 * f.aff - 0.3 * f.grudge,
    Action.COUNTER: lambda f: 0.1 + 0.2 * f.trust + 0.2 * f.honest - 0.3 * f.grudge,
    Action.REJECT: lambda f: 0.3 + 0.2 * f.wary,
    Action.GIVE: lambda f: (
        0.05
        + 0.55 * f.gener
        + 0.25 * f.agree
        + 0.45 * f.att
        + 0.25 * f.trust
        + 0.3 * f.owe
        + 0.45 * f.vuln * f.kindness
        + 0.2 * f.loan * f.trust
        + 0.15 * f.rep
        + 0.2 * f.gratitude
        - 0.8 * f.need
        - 0.45 * f.grudge
        - 0.3 * f.wary * f.loan
    ),
    Action.PROMISE: lambda f: (
        0.15 + 0.3 * (1 - f.honest) + 0.15 * f.agree + 0.35 * f.honest * f.produces - 0.3 * f.grudge
    ),
    Action.DECLINE: lambda f: 0.55 + 0.25 * f.need + 0.1 * f.wary,
    Action.APOLOGIZE: lambda f: 0.15 + 0.45 * f.honest + 0.35 * f.agree + 0.2 * f.aff + 0.2 * f.att,
    Action.IGNORE: lambda f: 0.55 + 0.2 * (1 - f.agree),
    Action.FORGIVE: lambda f: (
        0.2
        + 0.45 * f.agree
        + 0.4 * (1 - f.venge)
        + 0.3 * f.att
        + 0.15 * f.aff
        - 0.3 * np.maximum(f.betrayed - 1, 0)
        - 0.4 * f.anger
    ),
    Action.REFUSE: lambda f: 0.45 + 0.1 * f.betrayed,
    Action.CONTRIBUTE: lambda f: 0.1 + 0.45 * f.gener + 0.15 * f.agree + 0.5 * f.pg - 0.6 * f.need,
    Action.FREE_RIDE: lambda f: 0.5,
    Action.IDLE: lambda f: 0.3,
    Action.CHAT: lambda f: 0.1 + 0.4 * f.social + 0.2 * f.aff,
    Action.GIFT: lambda f: (
        -0.15
        + 0.4 * f.gener
        + 0.5 * f.vuln * f.kindness
        + 0.35 * f.att
        + 0.2 * f.owe
        + 0.1 * f.rep
        - 0.8 * f.need
        - 0.45 * f.grudge
    ),
    Action.OFFER_TRADE: lambda f: 0.25 + 0.3 * f.gain + 0.15 * f.trust - 0.3 * f.grudge,
    Action.ASK: lambda f: -0.25 + 1.3 * f.need + 0.2 * f.trust + 0.2 * f.att - 0.3 * f.grudge,
    Action.GOSSIP: lambda f: 0.05 + 0.3 * f.social + 0.15 * (1 - f.honest) + 0.3 * f.news,
}


def ref_spread(keys: np.ndarray, k: np.ndarray) -> np.ndarray:
    """The noise's uniforms: one mixing round of key ^ (k * golden) (what rng.spread was)."""
    x = keys ^ (k.astype(np.uint64) * mixing.GOLDEN)
    x ^= x >> mixing.S30
    x *= mixing.M1
    x ^= x >> mixing.S27
    x *= mixing.M2
    x ^= x >> mixing.S31
    return (x >> mixing.S11).astype(np.float64) * mixing.TO_UNIT


def ref_decide(batch: DecisionBatch) -> np.ndarray:
    out = np.zeros(len(batch), np.int8)
    if not len(batch):
        return out
    keys = decision_keys(batch)
    for situation, actions in ACTIONS.items():
        rows = np.flatnonzero(batch.situation == situation)
        if not len(rows):
            continue
        f = Features(batch, rows)
        acts = np.array(actions)
        u = np.empty((len(rows), len(acts)))
        for j, a in enumerate(actions):
            u[:, j] = REF_UTILITY[a](f)
        u += NOISE * ref_spread(keys[rows][:, None], acts[None, :])
        u = np.where(batch.legal.take(rows, 0).take(acts, 1), u, -np.inf)
        out[rows] = acts[u.argmax(axis=1)]
    return out


def utility_values(batch: DecisionBatch, table: dict) -> dict[Action, np.ndarray]:
    """Every action's utility for every row (no noise), from the mind's table or the
    reference's formulas."""
    f = Features(batch, np.arange(len(batch)))
    if table is REF_UTILITY:
        return {a: np.broadcast_to(REF_UTILITY[a](f), len(batch)) for a in Action}
    out = {}
    for a, (const, terms) in UTILITY.items():
        u = np.full(len(batch), const)
        for coef, *names in terms:
            v = coef * _feature(f, str(names[0]))
            if len(names) > 1:
                v = v * _feature(f, str(names[1]))
            u = u + v
        out[a] = u
    return out


def _feature(f: Features, name: str) -> np.ndarray:
    derived = {
        "dishonest": lambda: 1 - f.honest,
        "disagree": lambda: 1 - f.agree,
        "forgiving": lambda: 1 - f.venge,
        "betrayed_again": lambda: np.maximum(f.betrayed - 1, 0),
    }
    return derived[name]() if name in derived else getattr(f, name)


READINGS: list[ReadingBatch] = []  # what the readers of those ticks read (batches fills it)


@pytest.fixture(scope="module")
def batches() -> list[DecisionBatch]:
    """The decisions of 8 ticks of a 300-character world (copied: the tick settles them)."""
    sc = parse_scenario(
        {"name": "m", "seed": 11, "ticks": 20, "population": {"size": 300}}, source="m"
    )
    rt = LocalRuntime(sc)
    rt.run(4)
    out = []
    for _ in range(8):
        shard = rt.villages[0]
        pending = shard.prepare(rt.inboxes[0])
        b = pending.batch
        out.append(dataclasses.replace(b, chars=_copy(b.chars)))
        READINGS.append(dataclasses.replace(pending.readings, chars=out[-1].chars))
        result = shard.finish(pending, shard.decide(pending))
        rt.inboxes = [list(result.batches.values())]
    return out


def ref_read(batch: ReadingBatch) -> np.ndarray:
    """The numpy reader `kernels.reading.guess` replaced (the reference)."""
    chars = batch.chars
    empathy = chars.traits[batch.local, Trait.EMPATHY].astype(np.float32)
    meetings = np.zeros(len(batch), np.float32)
    known = batch.slot >= 0
    meetings[known] = chars.rel_meetings[batch.local[known], batch.slot[known]]
    familiarity = meetings / (meetings + 4.0)
    weight = (empathy * (0.35 + 0.65 * familiarity))[:, None]
    expected = EXPECTED[batch.kind].copy()
    mine = np.full(len(batch), -1, np.int8)
    mine[known] = chars.rel_mine[batch.local[known], batch.slot[known]]
    hurt = mine == 0
    expected[hurt, Emotion.ANGER] = np.maximum(expected[hurt, Emotion.ANGER], 0.45)
    expected[hurt, Emotion.SADNESS] = np.maximum(expected[hurt, Emotion.SADNESS], 0.45)
    helped = mine == 1
    expected[helped, Emotion.GRATITUDE] = np.maximum(expected[helped, Emotion.GRATITUDE], 0.3)
    return (batch.shown + weight * (expected - batch.shown)).astype(np.float32)


def _copy(chars: Characters) -> Characters:
    twin = Characters.from_state(chars.get_state())
    assert isinstance(twin, Characters)
    return twin


def test_the_table_is_the_formulas(batches: list[DecisionBatch]) -> None:
    """UTILITY's constants and terms give each action's formula, bit for bit."""
    batch = batches[-1]
    want, got = utility_values(batch, REF_UTILITY), utility_values(batch, UTILITY)
    for a in Action:
        np.testing.assert_array_equal(got[a], want[a], err_msg=a.name)


def test_a_living_worlds_decisions_are_the_same(batches: list[DecisionBatch]) -> None:
    mind = HeuristicMind()
    total = 0
    for batch in batches:
        np.testing.assert_array_equal(mind.decide(batch), ref_decide(batch))
        total += len(batch)
    assert total > 500  # enough decisions, of every situation, to mean something
    assert {int(s) for b in batches for s in np.unique(b.situation)} >= {0, 1, 3, 6, 7}


@pytest.mark.parametrize("case", ["random", "strangers", "full memory", "one legal", "empty"])
def test_random_minds_decide_the_same(batches: list[DecisionBatch], case: str) -> None:
    """4,000 decisions of every situation, by characters and memories drawn at random."""
    rng = np.random.default_rng(len(case))
    batch = batches[-1].take(rng.integers(0, len(batches[-1]), 4000))
    batch.situation = rng.integers(0, len(Situation), len(batch)).astype(np.int8)
    chars = _copy(batch.chars)
    chars.traits[:] = rng.random(chars.traits.shape, np.float32)
    chars.emotion[:] = rng.random(chars.emotion.shape, np.float32)
    chars.wariness[:] = rng.random(chars.wariness.shape, np.float32)
    chars.pg_expect[:] = rng.random(chars.pg_expect.shape, np.float32)
    for column in ("rel_pos", "rel_neg", "rel_aff", "rel_att", "rel_rep"):
        col = getattr(chars, column)
        col[:] = rng.uniform(-1 if column == "rel_aff" else 0, 5, col.shape).astype(col.dtype)
    chars.rel_betrayals[:] = rng.integers(0, 4, chars.rel_betrayals.shape)
    chars.rel_balance[:] = rng.integers(-5, 5, chars.rel_balance.shape)
    m = len(batch)
    slot = rng.integers(-1, chars.rel_id.shape[1], m)
    if case == "strangers":
        slot[:] = -1
    elif case == "full memory":
        slot = rng.integers(0, chars.rel_id.shape[1], m)
    legal = rng.random(batch.legal.shape) < 0.5
    if case == "one legal":
        legal[:] = False
    for i, s in enumerate(batch.situation):  # at least one of its own actions stays legal
        acts = ACTIONS[Situation(int(s))]
        legal[i, acts[rng.integers(len(acts))]] = True
    b = dataclasses.replace(
        batch,
        chars=chars,
        slot=slot,
        legal=legal,
        need=rng.random(m),
        gain=rng.normal(0, 1, m),
        news=rng.random(m) < 0.5,
        produces=rng.random(m) < 0.5,
        loan=rng.random(m) < 0.5,
        vulnerable=rng.random(m) < 0.5,
    )
    if case == "empty":
        b = b.take(np.zeros(0, np.int64))
    got = HeuristicMind().decide(b)
    np.testing.assert_array_equal(got, ref_decide(b))
    if len(b):
        assert legal[np.arange(m), got].all()


def test_a_living_worlds_readings_are_the_same(batches: list[DecisionBatch]) -> None:
    total = 0
    for reading in READINGS:
        got = read_feelings(reading)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, ref_read(reading))
        total += len(reading)
    assert total > 500  # (a reader meets its speaker first: strangers are the random cases')


@pytest.mark.parametrize("case", ["random", "strangers", "full memory", "empty"])
def test_random_readers_guess_the_same(batches: list[DecisionBatch], case: str) -> None:
    """3,000 readings by readers with random empathy, meetings and last acts (cooperated,
    defected, none), of random kinds and shown feelings."""
    rng = np.random.default_rng(7 + len(case))
    base = READINGS[-1]
    rows = rng.integers(0, len(base), 3000)
    chars = _copy(base.chars)
    chars.traits[:] = rng.random(chars.traits.shape, np.float32)
    chars.rel_meetings[:] = rng.integers(0, 50, chars.rel_meetings.shape)
    chars.rel_mine[:] = rng.integers(-1, 2, chars.rel_mine.shape)
    slot = rng.integers(-1, chars.rel_id.shape[1], len(rows))
    if case == "strangers":
        slot[:] = -1
    elif case == "full memory":
        slot = rng.integers(0, chars.rel_id.shape[1], len(rows))
    reading = dataclasses.replace(
        base.take(rows),
        chars=chars,
        slot=slot,
        kind=rng.integers(0, len(EXPECTED), len(rows)),
        shown=rng.random((len(rows), EXPECTED.shape[1]), np.float32),
    )
    if case == "empty":
        reading = reading.take(np.zeros(0, np.int64))
    got = read_feelings(reading)
    assert got.shape == (len(reading), EXPECTED.shape[1])
    np.testing.assert_array_equal(got, ref_read(reading))


@pytest.mark.parametrize("case", ["random", "exact", "opposite", "float64 guesses", "empty"])
def test_reading_accuracy_is_numpys_float32_mean(case: str) -> None:
    """A reader's accuracy, 1 - the mean absolute error over the feelings, bit for bit the
    float32 numpy expression the kernel replaced (the tick's `reading_sum` adds it up)."""
    rng = np.random.default_rng(11 + len(case))
    m = 0 if case == "empty" else 4000
    truth = (rng.integers(0, 256, (m, EXPECTED.shape[1])) / 255).astype(np.float32)
    guess: np.ndarray = rng.random((m, EXPECTED.shape[1]), np.float32)
    if case == "exact":
        guess = truth.copy()
    elif case == "opposite":
        guess = (1 - truth).astype(np.float32)
    elif case == "float64 guesses":
        guess = rng.random((m, EXPECTED.shape[1]))
    want = 1.0 - np.abs(guess.astype(np.float32) - truth).mean(axis=1)
    got = accuracy(guess, truth)
    assert got.dtype == np.float32 and got.shape == (m,)
    np.testing.assert_array_equal(got, want)
    if case == "exact":
        assert (got == 1).all()
