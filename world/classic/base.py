"""What every classic game's shard shares with the world's: the tick from inbox to outbox.

A `ClassicShard` is a shard (world/shard_base.py) whose characters play one game instead of
living a village life. It keeps the shard contract (the same placement of characters, canonical
inbox, one batch per destination shard, state that round-trips, its share of the state digest),
so every runtime steps it unchanged; it has no minds to ask, and decides inside its step. A game
implements `play` (one tick: settle what arrived, decide, return the envelopes to send) and names
its per-character arrays in `STATE`.

How far a game went: shard 0 counts every tick it plays (`TICKS`, in the run's `results`
counts, which checkpoints keep and a resumed run carries on), so a results function knows the
ticks played however the run ended, and `rounds_played` turns them into the rounds whose counts
are all in, by the game's own timing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

import numpy as np

from world.arrays import rank_in_runs
from world.characters import Characters
from world.scenario import Scenario
from world.shard_base import (
    BaseShard,
    StepResult,
    mail_digest_parts,
    outbox_from_state,
    outbox_state,
    row_hashes,
)
from world.stats import TickStats
from world.vocab import Good, Kind
from world.wire import Mail

STATE_VERSION = 2  # 2: characters placed in blocks of ids (world/placement.py)
#: The count of ticks played, in a run's `results` counts (shard 0 adds one a tick).
TICKS = "ticks"


class ClassicShard(BaseShard):
    """The characters the placement gives shard `index` of `n_shards`, in a classic scenario."""

    def __init__(self, scenario: Scenario, index: int = 0, n_shards: int = 1) -> None:
        if scenario.classic is None:
            raise ValueError(f"scenario {scenario.name} has no classic game to play")
        super().__init__(scenario, index, n_shards)
        self.game: Any = scenario.classic
        self.chars = Characters(len(self.ids), 2, 2)  # ids only: a game keeps its own arrays
        self.chars.cid[:] = self.ids
        self.sent = np.zeros(len(self.ids), np.uint32)  # each character's last seq
        self.setup()

    # --- what a game implements -------------------------------------------------------------

    def setup(self) -> None:
        """The game's own state for the local characters `self.ids`."""

    def play(self, tick: int, inbox: Mail, stats: TickStats) -> Mail:
        """One tick of the game: settle the inbox, decide, and return the mail to send, in
        sender order (seq, kind and the rest of the columns but `seq` filled)."""
        raise NotImplementedError

    #: The arrays a game keeps, one row per local character: saved, restored and hashed.
    STATE: ClassVar[tuple[str, ...]] = ()

    def rows(self) -> np.ndarray:
        """Each local character's game state as bytes, (characters, width) uint8."""
        m = len(self.ids)
        cols = [np.ascontiguousarray(getattr(self, c)).reshape(m, -1) for c in self.STATE]
        return np.concatenate([c.view(np.uint8) for c in cols], axis=1)

    def game_state(self) -> dict[str, Any]:
        return {c: getattr(self, c).tobytes() for c in self.STATE}

    def set_game_state(self, state: dict[str, Any]) -> None:
        for c in self.STATE:
            now = getattr(self, c)
            setattr(self, c, np.frombuffer(state[c], now.dtype).reshape(now.shape).copy())

    # --- the tick ---------------------------------------------------------------------------

    def step(self, inbox: Iterable[bytes | Mail] | Mail = ()) -> StepResult:
        tick = self.tick + 1
        mail = self.take_inbox(inbox)
        stats = TickStats()
        out = self.play(tick, mail, stats)
        if self.index == 0:
            stats.results[TICKS] += 1
        self._number(out)
        n = len(out)
        stats.add("characters", len(self.ids))
        stats.add("envelopes", n)
        stats.kinds += np.bincount(out.kind[:n], minlength=len(stats.kinds))
        self.outbox = out
        self.tick = tick
        return StepResult(tick, self.index, self.split(out), stats)

    def _number(self, out: Mail) -> None:
        """Each sender's envelopes take its next sequence numbers, in the order given."""
        n = len(out)
        if not n:
            return
        local = self.placement.row(out.sender[:n])
        if np.any(np.diff(local) < 0):
            raise ValueError("a classic game's mail must be in sender order")
        out.seq[:n] = self.sent[local] + rank_in_runs(local) + 1
        np.add.at(self.sent, local, 1)

    # --- state ------------------------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "classic": self.scenario.classic.kind if self.scenario.classic else "",
            "index": self.index,
            "n_shards": self.n_shards,
            "tick": self.tick,
            "sent": self.sent.tobytes(),
            "game": self.game_state(),
            "outbox": outbox_state(self.outbox),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        kind = self.scenario.classic.kind if self.scenario.classic else ""
        if state.get("version") != STATE_VERSION or state.get("classic") != kind:
            raise ValueError(
                f"shard state (version {state.get('version')}, game {state.get('classic')!r}) "
                f"is not a version {STATE_VERSION} state of a classic {kind} game"
            )
        self.check_placement(state)
        self.tick = int(state["tick"])
        self.sent = np.frombuffer(state["sent"], np.uint32).copy()
        self.set_game_state(state["game"])
        self.outbox = outbox_from_state(state["outbox"])

    def digest_parts(self) -> dict[str, Any]:
        rows = np.concatenate([self.rows(), self.sent[:, None].view(np.uint8)], axis=1)
        return {
            "tick": self.tick,
            "ids": self.ids.astype("<i4").tobytes(),
            "hashes": row_hashes(np.ascontiguousarray(rows)),
            "promises": [],
            **mail_digest_parts(self.outbox),
        }


def ticks_played(counts: Counter[str]) -> int:
    """The ticks a run played, from its results counts."""
    return int(counts.get(TICKS, 0))


def rounds_played(counts: Counter[str], rounds: int, per_round: int = 1, lag: int = 0) -> int:
    """How many of a game's `rounds` rounds the counts hold whole, when round k's counts are
    all in by the end of tick `per_round * k + lag` (and none of a later round's before)."""
    return max(0, min(rounds, (ticks_played(counts) - lag) // per_round))


def share(part: float, whole: float) -> float:
    """part / whole, rounded for the summary (0 when there is no whole)."""
    return round(part / whole, 6) if whole else 0.0


def roster(players: dict[str, int], names: tuple[str, ...]) -> np.ndarray:
    """Each player's strategy, an index of `names`, in id order (counts as given, in turn)."""
    parts = [np.full(count, names.index(name), np.int8) for name, count in players.items()]
    return np.concatenate(parts) if parts else np.zeros(0, np.int8)


def transfers(
    kind: Kind, sender: np.ndarray, recipient: np.ndarray, amount: np.ndarray | int
) -> Mail:
    """Envelopes of one kind carrying `amount` units (good COIN) from sender to recipient."""
    mail = Mail(len(sender))
    mail.sender[:] = sender
    mail.recipient[:] = recipient
    mail.kind[:] = kind
    mail.good[:] = Good.COIN
    mail.amount[:] = amount
    return mail


def moves_mail(
    sender: np.ndarray,
    recipient: np.ndarray,
    cooperated: np.ndarray,
    subject: np.ndarray | None = None,
    ref: np.ndarray | int = 0,
) -> Mail:
    """OBSERVATION envelopes: `sender` acted towards `subject` (the recipient itself, for a
    move sent to the opponent) and cooperated or not."""
    n = len(sender)
    mail = Mail(n)
    mail.sender[:] = sender
    mail.recipient[:] = recipient
    mail.kind[:] = Kind.OBSERVATION
    mail.subject[:] = recipient if subject is None else subject
    mail.ref[:] = ref
    mail.flag[:] = np.asarray(cooperated, np.uint8)
    return mail
