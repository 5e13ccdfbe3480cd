"""The world's fixed vocabulary: goods, roles, traits, emotions and the kinds of acts.

The integer values are the wire values of protos/society.proto (`Kind`, `Good`); everything
else is indexed by these enums in the shard's arrays.
"""

from __future__ import annotations

import functools
from enum import IntEnum

import numpy as np

from protos import society_pb2 as pb


class Kind(IntEnum):
    PROMISE = pb.PROMISE
    PROMISE_KEPT = pb.PROMISE_KEPT
    PROMISE_BROKEN = pb.PROMISE_BROKEN
    TRADE_OFFER = pb.TRADE_OFFER
    TRADE_REPLY = pb.TRADE_REPLY
    GIFT = pb.GIFT
    GOSSIP = pb.GOSSIP
    APOLOGY = pb.APOLOGY
    FORGIVENESS = pb.FORGIVENESS
    UTTERANCE = pb.UTTERANCE
    REQUEST = pb.REQUEST
    CONTRIBUTION = pb.CONTRIBUTION
    SHARE = pb.SHARE
    OBSERVATION = pb.OBSERVATION
    EVENT = pb.EVENT


N_KINDS = max(Kind) + 1


@functools.cache
def among(size: int, *members: int) -> np.ndarray:
    """A lookup table: `among(N, a, b)[x]` is True where x is a or b (faster than np.isin).
    Made once for each set of members, and read-only: every caller shares it."""
    table = np.zeros(size, bool)
    table[list(members)] = True
    table.flags.writeable = False
    return table


class Good(IntEnum):
    FOOD = pb.FOOD
    TOOLS = pb.TOOLS
    CLOTH = pb.CLOTH
    MEDICINE = pb.MEDICINE
    COIN = pb.COIN


N_GOODS = len(Good)
#: Value of one unit of each good, in the world's common measure (used for fairness and wealth).
PRICE = np.array([2, 6, 4, 8, 1], np.int64)


class Role(IntEnum):
    FARMER = 0
    SMITH = 1
    WEAVER = 2
    TRADER = 3
    HEALER = 4
    ELDER = 5
    CHILD = 6


N_ROLES = len(Role)
ROLE_NAMES = tuple(r.name.lower() for r in Role)

#: Expected units produced per tick, by role and good (before abundance, tools and health).
PRODUCTION = np.array(
    [
        # food tools cloth medicine coin
        [4.0, 0.0, 0.0, 0.0, 0.0],  # farmer
        [0.5, 0.6, 0.0, 0.0, 0.5],  # smith
        [0.5, 0.0, 0.8, 0.0, 0.5],  # weaver
        [0.5, 0.0, 0.0, 0.0, 3.0],  # trader
        [0.5, 0.0, 0.0, 0.6, 0.5],  # healer
        [1.0, 0.0, 0.1, 0.1, 0.3],  # elder
        [0.0, 0.0, 0.0, 0.0, 0.0],  # child
    ],
    np.float64,
)


class Trait(IntEnum):
    HONESTY = 0  # keeps promises, offers fair trades, tells the truth in gossip
    AGREEABLENESS = 1  # forgives, apologizes, masks anger
    GENEROSITY = 2  # gives, lends, contributes to the common project
    VENGEFULNESS = 3  # anger at betrayal, slow to forgive
    EXPRESSIVENESS = 4  # shows what it feels (low: masks)
    EMPATHY = 5  # reads others' hidden feelings
    SOCIABILITY = 6  # meets, chats and gossips


N_TRAITS = len(Trait)
TRAIT_NAMES = tuple(t.name.lower() for t in Trait)


class Emotion(IntEnum):
    JOY = 0
    GRATITUDE = 1
    ANGER = 2
    SADNESS = 3  # disappointment, grief
    FEAR = 4


N_EMOTIONS = len(Emotion)
EMOTION_NAMES = tuple(e.name.lower() for e in Emotion)


class Boundary(IntEnum):
    """Lines a character will not cross; bits of its `boundaries` mask."""

    NEVER_BREAKS_PROMISES = 0  # will not choose to break a promise (may still fail to pay)
    NEVER_GOSSIPS = 1
    NEVER_DEALS_WITH_BETRAYERS = 2  # no gifts, loans or trades with someone who betrayed it
    NEVER_REFUSES_A_CHILD = 3  # gives to a child who asks, if it can


N_BOUNDARIES = len(Boundary)
BOUNDARY_NAMES = tuple(b.name.lower() for b in Boundary)


class Norm(IntEnum):
    """Second-order assessment norms (docs/cooperation.md, "Norms")."""

    IMAGE_SCORING = 0
    SIMPLE_STANDING = 1
    STERN_JUDGING = 2
    SHUNNING = 3


NORM_NAMES = tuple(n.name.lower() for n in Norm)

#: NORM_TABLE[norm, cooperated, recipient_good] -> the donor is judged good (1) or bad (0).
NORM_TABLE = np.zeros((len(Norm), 2, 2), np.int8)
#                      D->B D->G   C->B C->G
NORM_TABLE[Norm.IMAGE_SCORING] = [[0, 0], [1, 1]]
NORM_TABLE[Norm.SIMPLE_STANDING] = [[1, 0], [1, 1]]
NORM_TABLE[Norm.STERN_JUDGING] = [[1, 0], [0, 1]]
NORM_TABLE[Norm.SHUNNING] = [[0, 0], [0, 1]]
