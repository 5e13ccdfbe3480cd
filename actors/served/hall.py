"""The hall where players meet the world: sessions, what each played character perceives, the
decisions waiting for players, and their answers.

`Hall` is a decide hook of `LocalRuntime` (like the LLM mind): in a tick, the decisions of
characters someone has joined as go out to their players first; every character's own mind
answers meanwhile (a model is not asked about the played decisions yet); the players have up
to `player_wait` seconds, and the answers that pass `world.players.check` replace the mind's.
A player who stays quiet never stalls the world: when the wait is over, the character's own
mind answers (counted as `player_defaults`; a model is asked now, for those decisions only).
What the players did is written to the run's `players.jsonl` (`world.player_record`), so the
run can be replayed.

On Ray the shards are actors, so the hall is the coordinator's `world.players.Seats` instead:
`seating` before a tick, `play` with what the actors opened (publish, wait, the answers),
`played` when they have settled it, `rewound` when a recovery takes the world back to a
checkpoint (the record is cut back to it).

Two locks. `Hall.world` guards the shards' state: the serving loop holds it while a tick runs
(`Hall.run_tick`), and the hook lends it out while the minds think and the players answer, when
nothing changes the state, so a player can read its character (Inspect) at any time but never
half-way through a settlement. `Hall.cond` guards the hall's own books (sessions, waiting
decisions, answers) for short moments, and wakes whoever waits on them.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from protos import society_pb2 as pb
from protos import world_service_pb2 as wpb
from world.acts import ACTION_NAMES
from world.player_record import Overlay, PlayerLog, add_seeks
from world.players import Choice, ChoiceError, Opened, Waiting, check, lay_answers, open_for
from world.population import known_as
from world.runtime import Decide
from world.scenario import Scenario
from world.shard import Decisions, Pending, Shard
from world.situations import Calls

#: Perceptions kept for a session that reads too slowly; older ones are dropped (and counted).
QUEUE = 2000


@dataclasses.dataclass(eq=False)
class Session:
    character: int
    id: str = dataclasses.field(default_factory=lambda: secrets.token_hex(16))
    queue: collections.deque[wpb.Perception] = dataclasses.field(
        default_factory=lambda: collections.deque(maxlen=QUEUE)
    )
    streams: int = 0  # Perceive streams open
    ended: bool = False
    dropped: int = 0

    wake: threading.Event = dataclasses.field(default_factory=threading.Event)

    def push(self, p: wpb.Perception) -> None:
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1
        self.queue.append(p)
        self.wake.set()

    def end(self) -> None:
        self.ended = True
        self.wake.set()

    def drain(self, timeout: float) -> list[wpb.Perception]:
        """What has come since the last drain, waiting up to `timeout` for something (only
        this session's stream waits here: pushing wakes one reader, not every player's)."""
        self.wake.wait(timeout)
        self.wake.clear()
        items = []
        while self.queue:
            items.append(self.queue.popleft())
        return items


class Hall(Overlay):
    def __init__(
        self,
        scenario: Scenario,
        playable: list[int],
        player_wait: float,
        inner: Decide | None = None,
        clock: Callable[[], float] = time.monotonic,
        log: PlayerLog | None = None,
    ) -> None:
        super().__init__(inner)
        self.scenario = scenario
        self.log = log  # what the players did, for replay (world.player_record)
        self.cond = threading.Condition()  # the hall's books
        self.world = threading.Lock()  # the shards' state, held by the loop while a tick runs
        self._ticking: int | None = None  # the thread running a tick under `world`
        self.playable = frozenset(playable)
        self.player_wait = player_wait
        self.clock = clock
        self.sessions: dict[int, Session] = {}  # character -> its current session
        self.waiting: dict[str, Waiting] = {}
        self.answers: dict[str, Choice] = {}
        self.done: dict[int, int] = {}  # character -> the tick it said it is done with
        self.seeks: dict[int, int] = {}  # character -> whom it seeks out in the next tick
        self.open = False  # a tick's decisions are published and not yet settled
        self.opening = False  # a tick on shards elsewhere took its seeks and is starting
        #: the players that tick is opened for, and the seeks it took
        self._seating: tuple[set[int], list[tuple[int, int]]] = (set(), [])
        self.players: set[int] = set()  # the characters played in the tick being decided
        self._names: dict[int, str] = {}  # character -> how others name it
        self.deadline = 0.0
        self.deciding = False  # players' decisions of a tick are open for answers
        self.ended = False
        self.hurry = False  # stop waiting for players (the world is stopping)
        self.tick = 0

    # --- sessions ---------------------------------------------------------------------------

    def join(self, character: int) -> Session:
        """A new session for `character`; an earlier one ends."""
        with self.cond:
            old = self.sessions.get(character)
            if old is not None:
                old.end()
            s = self.sessions[character] = Session(character)
            self.cond.notify_all()
            return s

    def session(self, character: int, session_id: str) -> Session:
        s = self.sessions.get(character)
        if s is None or s.ended or not secrets.compare_digest(s.id, session_id):
            raise LookupError(
                f"no open session {session_id!r} for character {character}; Join first (a "
                f"later Join with the same token ends the earlier session)"
            )
        return s

    def claimed(self) -> set[int]:
        return {c for c, s in self.sessions.items() if not s.ended}

    # --- the players' side ------------------------------------------------------------------

    def answer(self, session: Session, choice: Choice) -> int:
        """Take a player's answer (checked) for the tick being decided; returns the tick."""
        with self.cond:
            waiting = self.waiting.get(choice.decision) if self.deciding else None
            if waiting is None:
                raise ChoiceError(
                    f"decision {choice.decision!r} is not waiting: unknown, or its tick is over "
                    f"(now deciding tick {self.tick + 1 if self.open else self.tick})"
                )
            if waiting.character != session.character:
                raise ChoiceError(
                    f"decision {choice.decision!r} is not character {session.character}'s",
                    denied=True,
                )
            if choice.decision in self.answers:
                raise ChoiceError(f"decision {choice.decision!r} is answered already")
            check(choice, waiting)
            self.answers[choice.decision] = choice
            self.cond.notify_all()
            return waiting.tick

    def finished(self, session: Session, tick: int = 0) -> int:
        """The player has nothing more to say up to `tick` (0: the tick being decided, or the
        last completed): the world need not wait for it. Returns the tick."""
        with self.cond:
            if tick == 0:
                tick = self.tick + 1 if self.open else self.tick
            c = session.character
            self.done[c] = max(self.done.get(c, 0), tick)
            self.cond.notify_all()
            return tick

    def seek(self, session: Session, other: int) -> int:
        """The character meets `other` in the next tick prepared; returns that tick."""
        with self.cond:
            self.seeks[session.character] = other
            return self.tick + (2 if self.open or self.opening else 1)

    def visits(self, shard: Shard, tick: int, calls: Calls) -> None:
        """Shard.visits: the encounters this shard's played characters sought out."""
        with self.cond:
            added = add_seeks(shard, calls, list(self.seeks.items()))
            for c, _ in added:
                del self.seeks[c]
            if added and self.log is not None:
                self.log.seeks(tick, added)

    # --- the world's side ---------------------------------------------------------------------

    def run_tick(self, step: Callable[[], object]) -> None:
        """Run `step` (a runtime's tick) holding `world`, which the hall lends out while the
        minds and players decide."""
        with self.world:
            self._ticking = threading.get_ident()
            try:
                step()
            finally:
                self._ticking = None

    @contextlib.contextmanager
    def _lent(self) -> Iterator[None]:
        """The world lock lent out (nothing changes the shards' state while they decide), when
        this thread holds it for a tick."""
        lend = self._ticking == threading.get_ident()
        if lend:
            self.world.release()
        try:
            yield
        finally:
            if lend:
                self.world.acquire()

    def __call__(self, work: list[tuple[Shard, Pending]]) -> list[Decisions]:
        """The in-process runtime's decide hook: the players' decisions published, then the
        minds' answers while the players think, then the wait for the players. A model (an
        inner mind that can be asked `again`) is not asked for the played decisions until
        their players have left them to it."""
        tick = work[0][1].tick if work else self.tick + 1
        with self._lent():
            with self.cond:
                players = self.claimed()
            opened = [open_for(shard, pending, players) for shard, pending in work]
            self._publish(tick, players, opened)
            model: Any = self.inner  # inference.connect.InProcessModel, with a model
            again = getattr(model, "again", None)
            played = [np.array([w.row for w in o.waiting], np.int64) for o in opened]
            decided = model(work, played) if again is not None else self.decide_inner(work)
            answers = self._collect()
            left = [
                np.array([w.row for w in o.waiting if w.id not in answers], np.int64)
                for o in opened
            ]
            if again is not None and any(len(rows) for rows in left):
                again(work, decided, left)  # the character's own mind answers for a quiet player
        actions: dict[str, int] = {}
        for (_, pending), decisions, o in zip(work, decided, opened, strict=True):
            lay_answers(pending, decisions, o.waiting, answers)
            actions.update({w.id: int(decisions.actions[w.row]) for w in o.waiting})
        self.played(tick, opened, actions)
        return decided

    # --- Seats: the same, for shards that live elsewhere (world.players.Seats) -------------------

    def seating(self) -> tuple[list[int], list[tuple[int, int]]]:
        with self.cond:
            self.opening = True  # what is sought from now on is for the tick after
            self._seating = (self.claimed(), list(self.seeks.items()))
            self.seeks.clear()
            return sorted(self._seating[0]), self._seating[1]

    def play(self, tick: int, opened: list[Opened]) -> dict[str, Choice]:
        with self._lent():
            # the players the shards opened the tick for (one who joins now plays the next)
            self._publish(tick, self._seating[0], opened)
            return self._collect()

    def played(self, tick: int, opened: list[Opened], actions: dict[str, int] | None) -> None:
        """Tell each player what its decisions became, and record what the players did (None:
        the tick failed; its decisions are withdrawn, and what was sought is sought again)."""
        with self.cond:
            if actions is None:
                for c, other in self._seating[1]:
                    self.seeks.setdefault(c, other)
            else:
                sought = [pair for o in opened for pair in o.seeks]
                if sought and self.log is not None:
                    self.log.seeks(tick, sought)
                self._outcomes(tick, [w for o in opened for w in o.waiting], actions)
            self._close()

    def rewound(self, tick: int) -> None:
        with self.cond:
            self._close()
            self.deciding = False
            self.tick = tick
            if self.log is not None:
                self.log.rewind(tick)
            self.cond.notify_all()

    def _close(self) -> None:
        """No tick's decisions are open any more (`cond` held)."""
        self.waiting.clear()
        self.answers.clear()
        self._seating = (set(), [])
        self.open = self.opening = False

    def _outcomes(self, tick: int, waiting: list[Waiting], actions: dict[str, int]) -> None:
        """What the players did, recorded; each told what its decisions became (`cond` held)."""
        if self.log is not None and self.players:
            answered = [self.answers[w.id] for w in waiting if w.id in self.answers]
            self.log.answers(tick, self.players, answered)
        for w in waiting:
            action = ACTION_NAMES[actions[w.id]]
            by_player = w.id in self.answers
            outcome = wpb.Outcome(decision=w.id, action=action, by_player=by_player)
            self.sessions[w.character].push(wpb.Perception(tick=tick, outcome=outcome))
        self.tick = tick

    def _publish(self, tick: int, players: set[int], opened: list[Opened]) -> None:
        """What each played character perceives, then the decisions waiting for it."""
        with self.cond:
            self.players = players
            for o in opened:
                for character, env, words in o.perceptions:
                    envelope = pb.Envelope.FromString(env)
                    who = self._who(envelope.sender)
                    self.sessions[character].push(
                        wpb.Perception(tick=tick, envelope=envelope, words=words, who=who)
                    )
                for w in o.waiting:
                    self.waiting[w.id] = w
            self.open = self.deciding = True
            for w in self.waiting.values():
                self.sessions[w.character].push(
                    wpb.Perception(
                        tick=tick,
                        decision=_decision(w, self.player_wait),
                        who=self._who(w.counterpart),
                    )
                )
            self.cond.notify_all()
            self.deadline = self.clock() + self.player_wait

    def _collect(self) -> dict[str, Choice]:
        """Wait for the players (until every waiting decision is answered or left, or the
        wait is over); their answers. Later answers are refused: the tick settles these."""
        with self.cond:
            while not self._settled() and self.clock() < self.deadline and not self.hurry:
                self.cond.wait(min(0.2, max(self.deadline - self.clock(), 0.001)))
            self.deciding = False
            return dict(self.answers)

    def _who(self, cid: int) -> str:
        if cid not in self._names:
            self._names[cid] = known_as(self.scenario, cid)
        return self._names[cid]

    def _settled(self) -> bool:
        """Every waiting decision is answered, or its player is done or gone."""
        live = self.claimed()
        return all(
            w.id in self.answers
            or self.done.get(w.character, 0) >= w.tick
            or w.character not in live
            for w in self.waiting.values()
        )

    def tick_ended(self, tick: int) -> None:
        with self.cond:
            self.tick = tick
            for s in self.sessions.values():
                s.push(wpb.Perception(tick=tick, tick_ended=wpb.TickEnded(tick=tick)))
            self.cond.notify_all()

    def all_ready(self) -> bool:
        """Someone plays, and every player has said it is done with the last tick."""
        live = self.claimed()
        return bool(live) and all(self.done.get(c, 0) >= self.tick for c in live)

    def end(self, reason: str) -> None:
        with self.cond:
            for s in self.sessions.values():
                s.push(wpb.Perception(tick=self.tick, world_ended=wpb.WorldEnded(reason=reason)))
            self.ended = self.hurry = True
            self.cond.notify_all()

    def close(self) -> None:
        super().close()
        if self.log is not None:
            self.log.close()


def _decision(w: Waiting, seconds: float) -> wpb.Decision:
    return wpb.Decision(
        id=w.id,
        situation=w.situation.name.lower(),
        counterpart=w.counterpart,
        options=[
            wpb.Option(
                action=o.action.name.lower(),
                does=o.does,
                cooperative=o.cooperative,
                defecting=o.defecting,
                terms=o.terms,
            )
            for o in w.options
        ],
        seconds_left=seconds,
        goods=pb.Goods(good=w.good, amount=w.amount),  # type: ignore[arg-type]
        goods2=pb.Goods(good=w.good2, amount=w.amount2),  # type: ignore[arg-type]
        about=w.about,
    )
