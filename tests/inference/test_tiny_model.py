"""The tiny model is made the same every time and its tokenizer and chat template work; vLLM's
in-process engine (EngineBackend) answers from it under a JSON schema, with prefix caching."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from inference.backends import BackendUnavailable, Request
from inference.backends.engine import EngineBackend
from inference.tiny_model import BOS, EOS, STAMP, is_current, make_tiny_model

pytestmark = [pytest.mark.llm]

KEEP_OR_BREAK = {
    "type": "object",
    "properties": {"action": {"enum": ["keep", "break"]}},
    "required": ["action"],
    "additionalProperties": False,
}


@pytest.fixture(scope="session")
def tokenizer(tiny_model: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_model))


def test_made_the_same_every_time_and_not_twice(tiny_model: Path, tmp_path: Path) -> None:
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert config["max_position_embeddings"] == 2048
    assert config["hidden_size"] // config["num_attention_heads"] == 64
    assert (tiny_model / "model.safetensors").is_file()
    assert is_current(tiny_model, seed=0) and not is_current(tiny_model, seed=1)

    again = make_tiny_model(tmp_path / "again", seed=0)
    for name in ("model.safetensors", "tokenizer.json", "tokenizer_config.json", "config.json"):
        assert (again / name).read_bytes() == (tiny_model / name).read_bytes(), name
    before = (again / "model.safetensors").stat().st_mtime_ns
    make_tiny_model(again, seed=0)  # stamped: left alone
    assert (again / "model.safetensors").stat().st_mtime_ns == before
    (again / STAMP).write_text('{"version": "0", "seed": 0}')
    assert not is_current(again, seed=0)


def test_tokenizer_round_trips(tokenizer) -> None:
    texts = [
        '{"action": "keep", "say": "I promise to repay you.", "trust": 0.7}',
        "Ada betrayed Bo, apologized, and Bo chose to forgive her; grain, fish and cloth.",
        "naïve café — 🙂 \t tabs\nand newlines",
    ]
    for text in texts:
        ids = tokenizer.encode(text, add_special_tokens=False)
        assert tokenizer.decode(ids) == text
    assert len(tokenizer.encode("promise", add_special_tokens=False)) == 1
    assert tokenizer.bos_token == BOS and tokenizer.eos_token == EOS
    for special in (BOS, EOS, "<|system|>", "<|user|>", "<|assistant|>"):
        assert len(tokenizer.encode(special, add_special_tokens=False)) == 1, special


def test_chat_template_renders(tokenizer) -> None:
    messages = [
        {"role": "system", "content": "You are Ada."},
        {"role": "user", "content": "Keep or break?"},
    ]
    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert prompt == (
        "<|begin_of_text|><|system|>\nYou are Ada.<|end|>\n"
        "<|user|>\nKeep or break?<|end|>\n<|assistant|>\n"
    )
    closed = tokenizer.apply_chat_template(messages, tokenize=False)
    assert closed == prompt.removesuffix("<|assistant|>\n")
    with pytest.raises(Exception, match="Roles are"):
        tokenizer.apply_chat_template([{"role": "tool", "content": "x"}], tokenize=False)


def test_engine_module_imports_without_loading_vllm() -> None:
    code = "import sys, inference.backends.engine; sys.exit('vllm' in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_engine_backend_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match=r"config\.json missing"):
        asyncio.run(EngineBackend(str(tmp_path)).start())


def test_engine_backend_answers_under_the_schema(tiny_model: Path) -> None:
    pytest.importorskip("vllm")
    system = "You are Ada, a villager who promises, trades and forgives. " * 12
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": "Bo asks for the grain you promised. Keep or break?"},
    ]

    def ask(key: str, seed: int, messages: list[dict[str, str]] = messages) -> Request:
        return Request(key=key, messages=messages, schema=KEEP_OR_BREAK, max_tokens=24, seed=seed)

    async def scenario():
        backend = EngineBackend(str(tiny_model))
        await backend.start()
        try:
            answers = await asyncio.gather(*(backend.generate(ask(f"a{i}", i)) for i in range(8)))
            again = await backend.generate(ask("again", 3))
            too_long = await backend.generate(
                ask("long", 0, [{"role": "user", "content": "grain fish " * 2000}])
            )
            return answers, again, too_long, backend.stats(), backend.context_length()
        finally:
            await backend.close()

    answers, again, too_long, stats, context = asyncio.run(scenario())

    # Compact JSON under the schema leaves only keep or break to choose: `{"action":"break"}` is
    # 18 characters, so 24 tokens always suffice and every answer parses.
    for answer in answers:
        assert answer.error is None, answer
        assert json.loads(answer.text)["action"] in ("keep", "break"), answer
        assert answer.prompt_tokens > 128  # more than one KV block (128 tokens on the CPU)
        assert 0 < answer.completion_tokens <= 24
        assert 0 < answer.ttft <= answer.latency
    assert len({a.prompt_tokens for a in answers}) == 1
    # The same seed gives the same answer; the repeated prompt is served from the prefix cache.
    assert again.text == answers[3].text
    assert again.cached_tokens is not None and again.cached_tokens >= 128
    assert stats["prefix_queries"] >= 9 * answers[0].prompt_tokens
    assert 0 < stats["prefix_hits"] < stats["prefix_queries"]
    assert context == 2048
    # An over-long prompt is refused, not crashed on.
    assert too_long.text is None and too_long.refused
    assert "maximum context length is 2048" in (too_long.error or "")
