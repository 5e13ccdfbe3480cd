"""The `players:` section of a scenario: which characters people (or outside programs) may play.

`playable` is a number N (characters spread evenly over the population: ids 0, size/N, ...) or a
list of character ids. A seat is only an offer: a character nobody claims lives by its own mind.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Players(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    playable: int | list[int] = Field(
        1,
        description="how many characters can be played (spread evenly over the ids), or "
        "which ones, as a list of character ids",
    )

    @field_validator("playable")
    @classmethod
    def _playable(cls, v: int | list[int]) -> int | list[int]:
        if isinstance(v, int):
            if v < 1:
                raise ValueError(f"give at least 1 playable character, not {v}")
            return v
        if not v:
            raise ValueError("the list of playable characters is empty; give ids or a number")
        if any(i < 0 for i in v):
            raise ValueError(f"character ids are 0 or more, not {min(v)}")
        if len(set(v)) != len(v):
            dup = next(i for i in v if v.count(i) > 1)
            raise ValueError(f"character {dup} is listed twice")
        return sorted(v)

    def ids(self, size: int) -> list[int]:
        """The playable characters of a population of `size`, in id order."""
        if isinstance(self.playable, int):
            n = min(self.playable, size)
            return sorted({(k * size) // n for k in range(n)})
        return list(self.playable)

    def problem(self, size: int) -> str | None:
        """Why these seats do not fit a population of `size`, or None when they do."""
        if isinstance(self.playable, int):
            if self.playable > size:
                return (
                    f"players.playable: {self.playable} playable characters in a population "
                    f"of {size}; give at most {size}"
                )
            return None
        outside = [i for i in self.playable if i >= size]
        if outside:
            return (
                f"players.playable: character {outside[0]} does not exist (the population has "
                f"ids 0..{size - 1}); give ids below {size}"
            )
        return None
