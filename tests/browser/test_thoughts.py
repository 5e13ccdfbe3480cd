"""A character that thinks with a model shows its last prompts and answers in its panel, read
from the end of its shard's traces: only its own requests, newest first."""

from __future__ import annotations

from pathlib import Path

from actors.served.view import panel
from inference.traces import TraceWriter


def _request(tick: int, actor: int, answer: str) -> dict[str, object]:
    return {
        "type": "request",
        "key": f"{tick}:{actor}:0:1:0:0",
        "tick": tick,
        "shard": 0,
        "actor": actor,
        "counterpart": 1,
        "situation": "encounter",
        "messages": [{"role": "system", "content": "rules"}, {"role": "user", "content": "q"}],
        "answer": answer,
        "valid": True,
    }


def test_thoughts_are_the_characters_own_newest_first(tmp_path: Path, monkeypatch) -> None:
    """Of 40 requests by two characters (the file larger than the tail read), character 3's
    last three come back, newest first; a character that asked nothing has none."""
    w = TraceWriter(tmp_path, 0)
    for tick in range(1, 21):
        for actor in (3, 13):
            w.write(_request(tick, actor, f"answer {actor} at {tick}"))
        w.write({"type": "decision", "key": f"{tick}:3:0:1:0", "tick": tick, "actor": 3})
    w.close()
    monkeypatch.setattr(panel, "TRACE_TAIL", 2000)  # the tail starts inside a line
    got = panel.thoughts(tmp_path, 0, 3)
    assert [t["answer"] for t in got] == [f"answer 3 at {t}" for t in (20, 19, 18)]
    assert got[0]["prompt"] == "q" and got[0]["situation"] == "encounter"
    assert panel.thoughts(tmp_path, 0, 5) == []
    assert panel.thoughts(tmp_path, 1, 3) == []
