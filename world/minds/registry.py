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
)
