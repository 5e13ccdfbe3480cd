"""The names of the minds a scenario may use (kept free of imports so scenarios load fast)."""

MIND_NAMES: tuple[str, ...] = (
    "heuristic",
    "always_cooperate",
    "always_defect",
    "tit_for_tat",
    "grudger",
    "win_stay_lose_shift",
    "random",
    "discriminator",
    "llm",
)

#: The mind whose decisions may go to a language model (inference/); the world alone decides
#: for it as the heuristic mind does, which is also its fallback.
MODEL_MIND = MIND_NAMES.index("llm")
