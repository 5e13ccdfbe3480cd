from protos import society_pb2 as _society_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JoinRequest(_message.Message):
    __slots__ = ("character",)
    CHARACTER_FIELD_NUMBER: _ClassVar[int]
    character: int
    def __init__(self, character: _Optional[int] = ...) -> None: ...

class JoinReply(_message.Message):
    __slots__ = ("session", "character", "tick", "ticks", "role", "group", "player_wait_seconds", "tick_interval_seconds", "words_limit")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    CHARACTER_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    TICKS_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    PLAYER_WAIT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TICK_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WORDS_LIMIT_FIELD_NUMBER: _ClassVar[int]
    session: str
    character: int
    tick: int
    ticks: int
    role: str
    group: int
    player_wait_seconds: float
    tick_interval_seconds: float
    words_limit: int
    def __init__(self, session: _Optional[str] = ..., character: _Optional[int] = ..., tick: _Optional[int] = ..., ticks: _Optional[int] = ..., role: _Optional[str] = ..., group: _Optional[int] = ..., player_wait_seconds: _Optional[float] = ..., tick_interval_seconds: _Optional[float] = ..., words_limit: _Optional[int] = ...) -> None: ...

class PerceiveRequest(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: str
    def __init__(self, session: _Optional[str] = ...) -> None: ...

class Perception(_message.Message):
    __slots__ = ("tick", "envelope", "decision", "outcome", "tick_ended", "world_ended", "words", "who")
    TICK_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    TICK_ENDED_FIELD_NUMBER: _ClassVar[int]
    WORLD_ENDED_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    WHO_FIELD_NUMBER: _ClassVar[int]
    tick: int
    envelope: _society_pb2.Envelope
    decision: Decision
    outcome: Outcome
    tick_ended: TickEnded
    world_ended: WorldEnded
    words: str
    who: str
    def __init__(self, tick: _Optional[int] = ..., envelope: _Optional[_Union[_society_pb2.Envelope, _Mapping]] = ..., decision: _Optional[_Union[Decision, _Mapping]] = ..., outcome: _Optional[_Union[Outcome, _Mapping]] = ..., tick_ended: _Optional[_Union[TickEnded, _Mapping]] = ..., world_ended: _Optional[_Union[WorldEnded, _Mapping]] = ..., words: _Optional[str] = ..., who: _Optional[str] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("id", "situation", "counterpart", "options", "seconds_left", "goods", "goods2", "about")
    ID_FIELD_NUMBER: _ClassVar[int]
    SITUATION_FIELD_NUMBER: _ClassVar[int]
    COUNTERPART_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_LEFT_FIELD_NUMBER: _ClassVar[int]
    GOODS_FIELD_NUMBER: _ClassVar[int]
    GOODS2_FIELD_NUMBER: _ClassVar[int]
    ABOUT_FIELD_NUMBER: _ClassVar[int]
    id: str
    situation: str
    counterpart: int
    options: _containers.RepeatedCompositeFieldContainer[Option]
    seconds_left: float
    goods: _society_pb2.Goods
    goods2: _society_pb2.Goods
    about: str
    def __init__(self, id: _Optional[str] = ..., situation: _Optional[str] = ..., counterpart: _Optional[int] = ..., options: _Optional[_Iterable[_Union[Option, _Mapping]]] = ..., seconds_left: _Optional[float] = ..., goods: _Optional[_Union[_society_pb2.Goods, _Mapping]] = ..., goods2: _Optional[_Union[_society_pb2.Goods, _Mapping]] = ..., about: _Optional[str] = ...) -> None: ...

class Option(_message.Message):
    __slots__ = ("action", "does", "cooperative", "defecting", "terms")
    ACTION_FIELD_NUMBER: _ClassVar[int]
    DOES_FIELD_NUMBER: _ClassVar[int]
    COOPERATIVE_FIELD_NUMBER: _ClassVar[int]
    DEFECTING_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    action: str
    does: str
    cooperative: bool
    defecting: bool
    terms: bool
    def __init__(self, action: _Optional[str] = ..., does: _Optional[str] = ..., cooperative: _Optional[bool] = ..., defecting: _Optional[bool] = ..., terms: _Optional[bool] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("decision", "action", "by_player")
    DECISION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    BY_PLAYER_FIELD_NUMBER: _ClassVar[int]
    decision: str
    action: str
    by_player: bool
    def __init__(self, decision: _Optional[str] = ..., action: _Optional[str] = ..., by_player: _Optional[bool] = ...) -> None: ...

class TickEnded(_message.Message):
    __slots__ = ("tick",)
    TICK_FIELD_NUMBER: _ClassVar[int]
    tick: int
    def __init__(self, tick: _Optional[int] = ...) -> None: ...

class WorldEnded(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ActRequest(_message.Message):
    __slots__ = ("session", "decision", "action", "words", "give", "want", "gossip_subject", "gossip_claim", "done", "tick", "seek")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    GIVE_FIELD_NUMBER: _ClassVar[int]
    WANT_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_CLAIM_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    SEEK_FIELD_NUMBER: _ClassVar[int]
    session: str
    decision: str
    action: str
    words: str
    give: _society_pb2.Goods
    want: _society_pb2.Goods
    gossip_subject: int
    gossip_claim: _society_pb2.Claim
    done: bool
    tick: int
    seek: int
    def __init__(self, session: _Optional[str] = ..., decision: _Optional[str] = ..., action: _Optional[str] = ..., words: _Optional[str] = ..., give: _Optional[_Union[_society_pb2.Goods, _Mapping]] = ..., want: _Optional[_Union[_society_pb2.Goods, _Mapping]] = ..., gossip_subject: _Optional[int] = ..., gossip_claim: _Optional[_Union[_society_pb2.Claim, str]] = ..., done: _Optional[bool] = ..., tick: _Optional[int] = ..., seek: _Optional[int] = ...) -> None: ...

class ActReply(_message.Message):
    __slots__ = ("tick", "note")
    TICK_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    tick: int
    note: str
    def __init__(self, tick: _Optional[int] = ..., note: _Optional[str] = ...) -> None: ...

class InspectRequest(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: str
    def __init__(self, session: _Optional[str] = ...) -> None: ...

class CharacterState(_message.Message):
    __slots__ = ("character", "tick", "role", "group", "goods", "hunger", "health", "sick", "need", "feeling", "owes", "owed", "relationships")
    CHARACTER_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    GOODS_FIELD_NUMBER: _ClassVar[int]
    HUNGER_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    SICK_FIELD_NUMBER: _ClassVar[int]
    NEED_FIELD_NUMBER: _ClassVar[int]
    FEELING_FIELD_NUMBER: _ClassVar[int]
    OWES_FIELD_NUMBER: _ClassVar[int]
    OWED_FIELD_NUMBER: _ClassVar[int]
    RELATIONSHIPS_FIELD_NUMBER: _ClassVar[int]
    character: int
    tick: int
    role: str
    group: int
    goods: _containers.RepeatedCompositeFieldContainer[_society_pb2.Goods]
    hunger: int
    health: float
    sick: bool
    need: float
    feeling: _society_pb2.Signal
    owes: _containers.RepeatedCompositeFieldContainer[OpenPromise]
    owed: _containers.RepeatedCompositeFieldContainer[OpenPromise]
    relationships: _containers.RepeatedCompositeFieldContainer[Relationship]
    def __init__(self, character: _Optional[int] = ..., tick: _Optional[int] = ..., role: _Optional[str] = ..., group: _Optional[int] = ..., goods: _Optional[_Iterable[_Union[_society_pb2.Goods, _Mapping]]] = ..., hunger: _Optional[int] = ..., health: _Optional[float] = ..., sick: _Optional[bool] = ..., need: _Optional[float] = ..., feeling: _Optional[_Union[_society_pb2.Signal, _Mapping]] = ..., owes: _Optional[_Iterable[_Union[OpenPromise, _Mapping]]] = ..., owed: _Optional[_Iterable[_Union[OpenPromise, _Mapping]]] = ..., relationships: _Optional[_Iterable[_Union[Relationship, _Mapping]]] = ...) -> None: ...

class OpenPromise(_message.Message):
    __slots__ = ("promisor", "promisee", "seq", "what", "due_tick", "state")
    PROMISOR_FIELD_NUMBER: _ClassVar[int]
    PROMISEE_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    WHAT_FIELD_NUMBER: _ClassVar[int]
    DUE_TICK_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    promisor: int
    promisee: int
    seq: int
    what: _society_pb2.Goods
    due_tick: int
    state: str
    def __init__(self, promisor: _Optional[int] = ..., promisee: _Optional[int] = ..., seq: _Optional[int] = ..., what: _Optional[_Union[_society_pb2.Goods, _Mapping]] = ..., due_tick: _Optional[int] = ..., state: _Optional[str] = ...) -> None: ...

class Relationship(_message.Message):
    __slots__ = ("character", "trust", "affinity", "reputation", "betrayals", "kept", "trades", "meetings", "balance", "last_seen")
    CHARACTER_FIELD_NUMBER: _ClassVar[int]
    TRUST_FIELD_NUMBER: _ClassVar[int]
    AFFINITY_FIELD_NUMBER: _ClassVar[int]
    REPUTATION_FIELD_NUMBER: _ClassVar[int]
    BETRAYALS_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    TRADES_FIELD_NUMBER: _ClassVar[int]
    MEETINGS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    character: int
    trust: float
    affinity: float
    reputation: float
    betrayals: int
    kept: int
    trades: int
    meetings: int
    balance: int
    last_seen: int
    def __init__(self, character: _Optional[int] = ..., trust: _Optional[float] = ..., affinity: _Optional[float] = ..., reputation: _Optional[float] = ..., betrayals: _Optional[int] = ..., kept: _Optional[int] = ..., trades: _Optional[int] = ..., meetings: _Optional[int] = ..., balance: _Optional[int] = ..., last_seen: _Optional[int] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ControlRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StepRequest(_message.Message):
    __slots__ = ("ticks",)
    TICKS_FIELD_NUMBER: _ClassVar[int]
    ticks: int
    def __init__(self, ticks: _Optional[int] = ...) -> None: ...

class InterveneRequest(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: str
    def __init__(self, event: _Optional[str] = ...) -> None: ...

class InterveneReply(_message.Message):
    __slots__ = ("index", "first", "last", "event")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FIRST_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    index: int
    first: int
    last: int
    event: str
    def __init__(self, index: _Optional[int] = ..., first: _Optional[int] = ..., last: _Optional[int] = ..., event: _Optional[str] = ...) -> None: ...

class WorldStatus(_message.Message):
    __slots__ = ("scenario", "tick", "ticks", "paused", "ended", "characters", "seats", "figures", "requests")
    class FiguresEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class RequestsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SCENARIO_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    TICKS_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    ENDED_FIELD_NUMBER: _ClassVar[int]
    CHARACTERS_FIELD_NUMBER: _ClassVar[int]
    SEATS_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    scenario: str
    tick: int
    ticks: int
    paused: bool
    ended: bool
    characters: int
    seats: _containers.RepeatedCompositeFieldContainer[Seat]
    figures: _containers.ScalarMap[str, float]
    requests: _containers.ScalarMap[str, int]
    def __init__(self, scenario: _Optional[str] = ..., tick: _Optional[int] = ..., ticks: _Optional[int] = ..., paused: _Optional[bool] = ..., ended: _Optional[bool] = ..., characters: _Optional[int] = ..., seats: _Optional[_Iterable[_Union[Seat, _Mapping]]] = ..., figures: _Optional[_Mapping[str, float]] = ..., requests: _Optional[_Mapping[str, int]] = ...) -> None: ...

class Seat(_message.Message):
    __slots__ = ("character", "claimed", "connected")
    CHARACTER_FIELD_NUMBER: _ClassVar[int]
    CLAIMED_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    character: int
    claimed: bool
    connected: bool
    def __init__(self, character: _Optional[int] = ..., claimed: _Optional[bool] = ..., connected: _Optional[bool] = ...) -> None: ...
