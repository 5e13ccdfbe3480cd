"""Answers from a recorded run: an LLM run re-run exactly, without a model.

The record's answers go through the same validation as the first time, so the same decisions
follow, and the run reaches the same state digest. Which decisions go to the "model" is what the
record says, not the scenario's selection, so a token budget or calibration that differed does
not matter.
"""

from __future__ import annotations

from pathlib import Path

from inference.backends.base import Answer, Backend, Request
from inference.traces import check_traces, latest


class ReplayBackend(Backend):
    name = "replay"

    def __init__(self, folder: str | Path, actors: set[int] | None = None) -> None:
        self.folder = Path(folder)
        check_traces(self.folder)
        recs = latest(self.folder, "request")
        if actors is not None:
            recs = {k: r for k, r in recs.items() if r["actor"] in actors}
        self.records = recs
        self.asked = {k.rsplit(":", 1)[0] for k in recs if k.endswith(":0")}

    def recorded(self, key0: str) -> bool:
        """The record asked the model about this decision (key without its attempt)."""
        return key0 in self.asked

    async def generate(self, request: Request) -> Answer:
        r = self.records.get(request.key)
        if r is None:
            return Answer(text=None, error=f"{request.key} is not in the record", refused=True)
        return Answer(
            text=r["answer"],
            error=r.get("error"),
            refused=bool(r.get("refused")),
            prompt_tokens=int(r.get("prompt_tokens", 0)),
            completion_tokens=int(r.get("completion_tokens", 0)),
            cached_tokens=r.get("cached_tokens"),
        )
