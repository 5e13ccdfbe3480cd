"""What characters say: a phrase for each act and the feeling it shows.

Heuristic characters speak in phrases (an id on the wire, rendered here); LLM characters and
players use free words instead. The phrase follows the *shown* feeling, so a masked
disappointment comes out as "No worries, I'll handle it myself."
"""

from __future__ import annotations

from world.vocab import N_EMOTIONS, N_KINDS, Emotion, Kind

NEUTRAL = N_EMOTIONS  # shown feelings all mild
#: A shown feeling (0..255) below this is mild. An act's phrase id is
#: kind * (N_EMOTIONS + 1) + face + 1, the face its strongest shown feeling (the first of equals)
#: or NEUTRAL when all are mild; 0 is nothing said (world/kernels/speech.py gives the ids).
MILD = 90

_TEXT: dict[tuple[int, int], str] = {
    (Kind.PROMISE, NEUTRAL): "You'll have it by then, I promise.",
    (Kind.PROMISE, Emotion.JOY): "Gladly. I'll bring it, you have my word.",
    (Kind.PROMISE_KEPT, NEUTRAL): "As promised.",
    (Kind.PROMISE_KEPT, Emotion.JOY): "Here it is, just as I said!",
    (Kind.PROMISE_BROKEN, NEUTRAL): "No worries, I'll handle it myself.",
    (Kind.PROMISE_BROKEN, Emotion.JOY): "It's fine, really. These things happen.",
    (Kind.PROMISE_BROKEN, Emotion.ANGER): "You gave me your word, and you broke it.",
    (Kind.PROMISE_BROKEN, Emotion.SADNESS): "I counted on you. I won't forget this.",
    (Kind.TRADE_OFFER, NEUTRAL): "Care to trade?",
    (Kind.TRADE_REPLY, NEUTRAL): "Here's my answer.",
    (Kind.GIFT, NEUTRAL): "Take this.",
    (Kind.GIFT, Emotion.JOY): "This is for you, friend.",
    (Kind.GIFT, Emotion.GRATITUDE): "You were good to me; take this.",
    (Kind.GOSSIP, NEUTRAL): "Have you heard about them?",
    (Kind.GOSSIP, Emotion.ANGER): "Watch out for that one.",
    (Kind.APOLOGY, NEUTRAL): "I'm sorry. I let you down.",
    (Kind.APOLOGY, Emotion.SADNESS): "I'm truly sorry. It weighs on me.",
    (Kind.FORGIVENESS, NEUTRAL): "Let's put it behind us.",
    (Kind.FORGIVENESS, Emotion.JOY): "All is forgiven.",
    (Kind.UTTERANCE, NEUTRAL): "Good day.",
    (Kind.UTTERANCE, Emotion.JOY): "What a fine day it is!",
    (Kind.UTTERANCE, Emotion.GRATITUDE): "I haven't forgotten your kindness.",
    (Kind.UTTERANCE, Emotion.ANGER): "I've nothing to say to you.",
    (Kind.UTTERANCE, Emotion.SADNESS): "It's been a hard season.",
    (Kind.UTTERANCE, Emotion.FEAR): "I don't know how we'll get through the winter.",
    (Kind.REQUEST, NEUTRAL): "Could you spare some?",
    (Kind.REQUEST, Emotion.FEAR): "Please, I have nothing left.",
    (Kind.REQUEST, Emotion.SADNESS): "I hate to ask, but I'm in need.",
}
DECLINE_TEXT = "Sorry, I can't help you this time."


def render(phrase: int, declining: bool = False) -> str:
    """The words of a phrase id (0: nothing said)."""
    if phrase == 0:
        return ""
    if declining:
        return DECLINE_TEXT
    kind, face = divmod(phrase - 1, N_EMOTIONS + 1)
    return _TEXT.get((kind, face)) or _TEXT.get((kind, NEUTRAL), "")


assert all(k < N_KINDS for k, _ in _TEXT)
