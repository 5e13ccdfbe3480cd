from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    KIND_UNSPECIFIED: _ClassVar[Kind]
    PROMISE: _ClassVar[Kind]
    PROMISE_KEPT: _ClassVar[Kind]
    PROMISE_BROKEN: _ClassVar[Kind]
    TRADE_OFFER: _ClassVar[Kind]
    TRADE_REPLY: _ClassVar[Kind]
    GIFT: _ClassVar[Kind]
    GOSSIP: _ClassVar[Kind]
    APOLOGY: _ClassVar[Kind]
    FORGIVENESS: _ClassVar[Kind]
    UTTERANCE: _ClassVar[Kind]
    REQUEST: _ClassVar[Kind]
    CONTRIBUTION: _ClassVar[Kind]
    SHARE: _ClassVar[Kind]
    OBSERVATION: _ClassVar[Kind]
    EVENT: _ClassVar[Kind]

class Good(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FOOD: _ClassVar[Good]
    TOOLS: _ClassVar[Good]
    CLOTH: _ClassVar[Good]
    MEDICINE: _ClassVar[Good]
    COIN: _ClassVar[Good]

class ReplyStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPLY_UNSPECIFIED: _ClassVar[ReplyStatus]
    ACCEPT: _ClassVar[ReplyStatus]
    REJECT: _ClassVar[ReplyStatus]
    COUNTER: _ClassVar[ReplyStatus]

class Claim(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLAIM_UNSPECIFIED: _ClassVar[Claim]
    GOOD: _ClassVar[Claim]
    BAD: _ClassVar[Claim]
    BETRAYED: _ClassVar[Claim]
KIND_UNSPECIFIED: Kind
PROMISE: Kind
PROMISE_KEPT: Kind
PROMISE_BROKEN: Kind
TRADE_OFFER: Kind
TRADE_REPLY: Kind
GIFT: Kind
GOSSIP: Kind
APOLOGY: Kind
FORGIVENESS: Kind
UTTERANCE: Kind
REQUEST: Kind
CONTRIBUTION: Kind
SHARE: Kind
OBSERVATION: Kind
EVENT: Kind
FOOD: Good
TOOLS: Good
CLOTH: Good
MEDICINE: Good
COIN: Good
REPLY_UNSPECIFIED: ReplyStatus
ACCEPT: ReplyStatus
REJECT: ReplyStatus
COUNTER: ReplyStatus
CLAIM_UNSPECIFIED: Claim
GOOD: Claim
BAD: Claim
BETRAYED: Claim

class Goods(_message.Message):
    __slots__ = ("good", "amount")
    GOOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    good: Good
    amount: int
    def __init__(self, good: _Optional[_Union[Good, str]] = ..., amount: _Optional[int] = ...) -> None: ...

class Signal(_message.Message):
    __slots__ = ("joy", "gratitude", "anger", "sadness", "fear")
    JOY_FIELD_NUMBER: _ClassVar[int]
    GRATITUDE_FIELD_NUMBER: _ClassVar[int]
    ANGER_FIELD_NUMBER: _ClassVar[int]
    SADNESS_FIELD_NUMBER: _ClassVar[int]
    FEAR_FIELD_NUMBER: _ClassVar[int]
    joy: int
    gratitude: int
    anger: int
    sadness: int
    fear: int
    def __init__(self, joy: _Optional[int] = ..., gratitude: _Optional[int] = ..., anger: _Optional[int] = ..., sadness: _Optional[int] = ..., fear: _Optional[int] = ...) -> None: ...

class Utterance(_message.Message):
    __slots__ = ("phrase", "text", "shown")
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SHOWN_FIELD_NUMBER: _ClassVar[int]
    phrase: int
    text: str
    shown: Signal
    def __init__(self, phrase: _Optional[int] = ..., text: _Optional[str] = ..., shown: _Optional[_Union[Signal, _Mapping]] = ...) -> None: ...

class Promise(_message.Message):
    __slots__ = ("what", "due_tick", "in_reply_to", "repayment")
    WHAT_FIELD_NUMBER: _ClassVar[int]
    DUE_TICK_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    REPAYMENT_FIELD_NUMBER: _ClassVar[int]
    what: Goods
    due_tick: int
    in_reply_to: int
    repayment: bool
    def __init__(self, what: _Optional[_Union[Goods, _Mapping]] = ..., due_tick: _Optional[int] = ..., in_reply_to: _Optional[int] = ..., repayment: _Optional[bool] = ...) -> None: ...

class PromiseKept(_message.Message):
    __slots__ = ("promise_seq", "delivered")
    PROMISE_SEQ_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    promise_seq: int
    delivered: Goods
    def __init__(self, promise_seq: _Optional[int] = ..., delivered: _Optional[_Union[Goods, _Mapping]] = ...) -> None: ...

class PromiseBroken(_message.Message):
    __slots__ = ("promise_seq", "owed", "due_tick")
    PROMISE_SEQ_FIELD_NUMBER: _ClassVar[int]
    OWED_FIELD_NUMBER: _ClassVar[int]
    DUE_TICK_FIELD_NUMBER: _ClassVar[int]
    promise_seq: int
    owed: Goods
    due_tick: int
    def __init__(self, promise_seq: _Optional[int] = ..., owed: _Optional[_Union[Goods, _Mapping]] = ..., due_tick: _Optional[int] = ...) -> None: ...

class TradeOffer(_message.Message):
    __slots__ = ("give", "want")
    GIVE_FIELD_NUMBER: _ClassVar[int]
    WANT_FIELD_NUMBER: _ClassVar[int]
    give: Goods
    want: Goods
    def __init__(self, give: _Optional[_Union[Goods, _Mapping]] = ..., want: _Optional[_Union[Goods, _Mapping]] = ...) -> None: ...

class TradeReply(_message.Message):
    __slots__ = ("offer_seq", "status", "goods", "counter_give", "answers_counter", "taken")
    OFFER_SEQ_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    GOODS_FIELD_NUMBER: _ClassVar[int]
    COUNTER_GIVE_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_COUNTER_FIELD_NUMBER: _ClassVar[int]
    TAKEN_FIELD_NUMBER: _ClassVar[int]
    offer_seq: int
    status: ReplyStatus
    goods: Goods
    counter_give: Goods
    answers_counter: bool
    taken: Goods
    def __init__(self, offer_seq: _Optional[int] = ..., status: _Optional[_Union[ReplyStatus, str]] = ..., goods: _Optional[_Union[Goods, _Mapping]] = ..., counter_give: _Optional[_Union[Goods, _Mapping]] = ..., answers_counter: _Optional[bool] = ..., taken: _Optional[_Union[Goods, _Mapping]] = ...) -> None: ...

class Gift(_message.Message):
    __slots__ = ("goods", "care", "loan", "in_reply_to", "repay_by")
    GOODS_FIELD_NUMBER: _ClassVar[int]
    CARE_FIELD_NUMBER: _ClassVar[int]
    LOAN_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_FIELD_NUMBER: _ClassVar[int]
    REPAY_BY_FIELD_NUMBER: _ClassVar[int]
    goods: Goods
    care: bool
    loan: bool
    in_reply_to: int
    repay_by: int
    def __init__(self, goods: _Optional[_Union[Goods, _Mapping]] = ..., care: _Optional[bool] = ..., loan: _Optional[bool] = ..., in_reply_to: _Optional[int] = ..., repay_by: _Optional[int] = ...) -> None: ...

class Gossip(_message.Message):
    __slots__ = ("subject", "claim", "source")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    subject: int
    claim: Claim
    source: int
    def __init__(self, subject: _Optional[int] = ..., claim: _Optional[_Union[Claim, str]] = ..., source: _Optional[int] = ...) -> None: ...

class Apology(_message.Message):
    __slots__ = ("promise_seq",)
    PROMISE_SEQ_FIELD_NUMBER: _ClassVar[int]
    promise_seq: int
    def __init__(self, promise_seq: _Optional[int] = ...) -> None: ...

class Forgiveness(_message.Message):
    __slots__ = ("promise_seq",)
    PROMISE_SEQ_FIELD_NUMBER: _ClassVar[int]
    promise_seq: int
    def __init__(self, promise_seq: _Optional[int] = ...) -> None: ...

class Request(_message.Message):
    __slots__ = ("need", "repay_by")
    NEED_FIELD_NUMBER: _ClassVar[int]
    REPAY_BY_FIELD_NUMBER: _ClassVar[int]
    need: Goods
    repay_by: int
    def __init__(self, need: _Optional[_Union[Goods, _Mapping]] = ..., repay_by: _Optional[int] = ...) -> None: ...

class Contribution(_message.Message):
    __slots__ = ("goods", "round")
    GOODS_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    goods: Goods
    round: int
    def __init__(self, goods: _Optional[_Union[Goods, _Mapping]] = ..., round: _Optional[int] = ...) -> None: ...

class Share(_message.Message):
    __slots__ = ("goods", "round", "contributors", "members")
    GOODS_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTORS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    goods: Goods
    round: int
    contributors: int
    members: int
    def __init__(self, goods: _Optional[_Union[Goods, _Mapping]] = ..., round: _Optional[int] = ..., contributors: _Optional[int] = ..., members: _Optional[int] = ...) -> None: ...

class Observation(_message.Message):
    __slots__ = ("recipient", "act", "cooperated")
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    ACT_FIELD_NUMBER: _ClassVar[int]
    COOPERATED_FIELD_NUMBER: _ClassVar[int]
    recipient: int
    act: Kind
    cooperated: bool
    def __init__(self, recipient: _Optional[int] = ..., act: _Optional[_Union[Kind, str]] = ..., cooperated: _Optional[bool] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("index", "kind", "goods", "subject")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GOODS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    index: int
    kind: int
    goods: Goods
    subject: int
    def __init__(self, index: _Optional[int] = ..., kind: _Optional[int] = ..., goods: _Optional[_Union[Goods, _Mapping]] = ..., subject: _Optional[int] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("sender", "recipient", "tick", "seq", "promise", "promise_kept", "promise_broken", "trade_offer", "trade_reply", "gift", "gossip", "apology", "forgiveness", "utterance", "request", "contribution", "share", "observation", "event", "said")
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    TICK_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    PROMISE_FIELD_NUMBER: _ClassVar[int]
    PROMISE_KEPT_FIELD_NUMBER: _ClassVar[int]
    PROMISE_BROKEN_FIELD_NUMBER: _ClassVar[int]
    TRADE_OFFER_FIELD_NUMBER: _ClassVar[int]
    TRADE_REPLY_FIELD_NUMBER: _ClassVar[int]
    GIFT_FIELD_NUMBER: _ClassVar[int]
    GOSSIP_FIELD_NUMBER: _ClassVar[int]
    APOLOGY_FIELD_NUMBER: _ClassVar[int]
    FORGIVENESS_FIELD_NUMBER: _ClassVar[int]
    UTTERANCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    OBSERVATION_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SAID_FIELD_NUMBER: _ClassVar[int]
    sender: int
    recipient: int
    tick: int
    seq: int
    promise: Promise
    promise_kept: PromiseKept
    promise_broken: PromiseBroken
    trade_offer: TradeOffer
    trade_reply: TradeReply
    gift: Gift
    gossip: Gossip
    apology: Apology
    forgiveness: Forgiveness
    utterance: Utterance
    request: Request
    contribution: Contribution
    share: Share
    observation: Observation
    event: Event
    said: Utterance
    def __init__(self, sender: _Optional[int] = ..., recipient: _Optional[int] = ..., tick: _Optional[int] = ..., seq: _Optional[int] = ..., promise: _Optional[_Union[Promise, _Mapping]] = ..., promise_kept: _Optional[_Union[PromiseKept, _Mapping]] = ..., promise_broken: _Optional[_Union[PromiseBroken, _Mapping]] = ..., trade_offer: _Optional[_Union[TradeOffer, _Mapping]] = ..., trade_reply: _Optional[_Union[TradeReply, _Mapping]] = ..., gift: _Optional[_Union[Gift, _Mapping]] = ..., gossip: _Optional[_Union[Gossip, _Mapping]] = ..., apology: _Optional[_Union[Apology, _Mapping]] = ..., forgiveness: _Optional[_Union[Forgiveness, _Mapping]] = ..., utterance: _Optional[_Union[Utterance, _Mapping]] = ..., request: _Optional[_Union[Request, _Mapping]] = ..., contribution: _Optional[_Union[Contribution, _Mapping]] = ..., share: _Optional[_Union[Share, _Mapping]] = ..., observation: _Optional[_Union[Observation, _Mapping]] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., said: _Optional[_Union[Utterance, _Mapping]] = ...) -> None: ...

class Batch(_message.Message):
    __slots__ = ("tick", "source_shard", "dest_shard", "count", "sender", "recipient", "seq", "kind", "good", "amount", "good2", "amount2", "ref", "due", "subject", "source", "flag", "phrase", "shown", "text", "text_row", "true_feeling", "true_standing")
    TICK_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SHARD_FIELD_NUMBER: _ClassVar[int]
    DEST_SHARD_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    GOOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    GOOD2_FIELD_NUMBER: _ClassVar[int]
    AMOUNT2_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    PHRASE_FIELD_NUMBER: _ClassVar[int]
    SHOWN_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TEXT_ROW_FIELD_NUMBER: _ClassVar[int]
    TRUE_FEELING_FIELD_NUMBER: _ClassVar[int]
    TRUE_STANDING_FIELD_NUMBER: _ClassVar[int]
    tick: int
    source_shard: int
    dest_shard: int
    count: int
    sender: bytes
    recipient: bytes
    seq: bytes
    kind: bytes
    good: bytes
    amount: bytes
    good2: bytes
    amount2: bytes
    ref: bytes
    due: bytes
    subject: bytes
    source: bytes
    flag: bytes
    phrase: bytes
    shown: bytes
    text: _containers.RepeatedScalarFieldContainer[str]
    text_row: _containers.RepeatedScalarFieldContainer[int]
    true_feeling: bytes
    true_standing: bytes
    def __init__(self, tick: _Optional[int] = ..., source_shard: _Optional[int] = ..., dest_shard: _Optional[int] = ..., count: _Optional[int] = ..., sender: _Optional[bytes] = ..., recipient: _Optional[bytes] = ..., seq: _Optional[bytes] = ..., kind: _Optional[bytes] = ..., good: _Optional[bytes] = ..., amount: _Optional[bytes] = ..., good2: _Optional[bytes] = ..., amount2: _Optional[bytes] = ..., ref: _Optional[bytes] = ..., due: _Optional[bytes] = ..., subject: _Optional[bytes] = ..., source: _Optional[bytes] = ..., flag: _Optional[bytes] = ..., phrase: _Optional[bytes] = ..., shown: _Optional[bytes] = ..., text: _Optional[_Iterable[str]] = ..., text_row: _Optional[_Iterable[int]] = ..., true_feeling: _Optional[bytes] = ..., true_standing: _Optional[bytes] = ...) -> None: ...
