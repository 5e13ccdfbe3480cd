"""`socius train`: LoRA on the tiny model learns (the training loss falls), its adapter loads in
peft and in vLLM's CPU engine and changes the answers, a stopped training (max steps, Ctrl-C)
resumes to exactly where an unbroken one ends, and bad input is refused with one line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from actors.cli import train as train_cli
from actors.cli.main import main
from inference.tiny_model import make_tiny_model
from inference.train import check_adapter, evaluate_loss, train
from inference.train_data import load_dataset, tokenize
from world.errors import UserError

pytestmark = [pytest.mark.llm]

STEPS = 30  # an unbroken training; the resumed ones stop half-way
FAST = {"lr": 1e-2, "checkpoint_every": 5, "warmup": 5}  # a random model learns in few steps
PROMPT = [
    {"role": "system", "content": "You are a villager."},
    {"role": "user", "content": "Ada promised Bo three grain. What do you do?"},
]


def rows(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Chat examples whose answer is a small JSON decision, with metadata columns."""
    import random

    rng = random.Random(seed)
    names = ["Ada", "Bo", "Cy", "Dee", "Eli", "Fay"]
    out = []
    for i in range(n):
        a, b = rng.sample(names, 2)
        answer = json.dumps({"action": rng.choice(["keep", "break"]), "say": f"{b}, I promise."})
        out.append(
            {
                "messages": [
                    {"role": "system", "content": "You are a villager."},
                    {"role": "user", "content": f"{a} promised {b} grain. What do you do?"},
                    {"role": "assistant", "content": answer},
                ],
                "tick": i,
                "character": a,
            }
        )
    return out


def write_dataset(folder: Path, train_rows: list[dict[str, Any]], test: int = 0) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(train_rows), folder / "train.parquet")
    if test:
        pq.write_table(pa.Table.from_pylist(rows(test, seed=1)), folder / "test.parquet")
    counts = {"train": len(train_rows), "test": test}
    (folder / "dataset.json").write_text(json.dumps({"kind": "decisions", "counts": counts}))
    return folder


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_dataset(tmp_path_factory.mktemp("data") / "decisions", rows(32), test=8)


@pytest.fixture(scope="module")
def unbroken(tiny_model: Path, data: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A training of STEPS steps that nothing stopped."""
    return train(
        tiny_model, data, tmp_path_factory.mktemp("unbroken") / "a", max_steps=STEPS, **FAST
    )


def base_model(folder: Path) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return tokenizer, AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32)


def weights(adapter: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(adapter / "adapter_model.safetensors")


def assert_same_training(a: Path, b: Path) -> None:
    """Two adapters with the same weights, bit for bit, and the same loss at every step."""
    import torch

    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key
    losses = [json.loads((x / "training.json").read_text())["losses"] for x in (a, b)]
    assert losses[0] == losses[1]


def one_line(err: pytest.ExceptionInfo[UserError], *words: str) -> None:
    text = str(err.value)
    assert "\n" not in text, text
    for word in words:
        assert word in text, text


def test_the_training_loss_falls_and_the_record_says_what_was_done(
    unbroken: Any, tiny_model: Path, data: Path
) -> None:
    losses = [loss for _, loss in unbroken.losses]
    assert [s for s, _ in unbroken.losses] == list(range(1, STEPS + 1))
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3
    # the whole training set, scored by the base (where LoRA starts) and with the adapter
    from peft import PeftModel

    tokenizer, base = base_model(tiny_model)
    examples = tokenize(tokenizer, load_dataset(data).train, 512).examples
    before = evaluate_loss(base, examples, 8, tokenizer.pad_token_id)
    trained = PeftModel.from_pretrained(base, unbroken.out)
    after = evaluate_loss(trained, examples, 8, tokenizer.pad_token_id)
    assert after < before - 0.3, (before, after)

    info = json.loads((unbroken.out / "training.json").read_text())
    assert info["base"]["identity"] == {
        "model_type": "llama", "hidden_size": 128, "num_hidden_layers": 2,
        "vocab_size": json.loads((tiny_model / "config.json").read_text())["vocab_size"],
    }  # fmt: skip
    assert info["dataset"]["counts"] == {"train": 32, "test": 8}
    assert info["dataset"]["kind"] == "decisions"
    assert info["hyper"]["rank"] == 8 and info["hyper"]["targets"] == ["q_proj", "v_proj"]
    assert info["steps"] == STEPS and len(info["losses"]) == STEPS
    assert info["final_loss"] == pytest.approx(sum(losses[-10:]) / 10)
    assert info["test_loss"] is not None and info["peak_rss_bytes"] > 0 and info["seconds"] > 0
    config = json.loads((unbroken.out / "adapter_config.json").read_text())
    assert config["r"] == 8 and sorted(config["target_modules"]) == ["q_proj", "v_proj"]
    kept = sorted(p.name for p in (unbroken.out / "checkpoints").iterdir())
    assert kept == ["step-25", "step-30"]


def test_only_the_answer_is_learnt(tiny_model: Path) -> None:
    """Labels cover the answer and its end of turn, nothing of the prompt."""
    tokenizer, _ = base_model(tiny_model)
    row = rows(1)[0]["messages"]
    [example] = tokenize(tokenizer, [row], 512).examples
    prompt = tokenizer.apply_chat_template(row[:-1], tokenize=False, add_generation_prompt=True)
    asked = len(tokenizer.encode(prompt, add_special_tokens=False))
    assert example.labels[:asked] == [-100] * asked
    assert example.labels[asked:] == example.ids[asked:]
    learnt = tokenizer.decode(example.labels[asked:])
    assert learnt.startswith(row[-1]["content"] + tokenizer.eos_token)


def test_a_max_length_that_cuts_answers_says_so(tiny_model: Path) -> None:
    """A max length inside the answers cuts every conversation and one shorter than the
    prompts leaves them out: the notice counts both; one that fits them all says nothing."""
    tokenizer, _ = base_model(tiny_model)
    conversations = [r["messages"] for r in rows(6)]
    lengths = [
        len(
            tokenizer.encode(
                tokenizer.apply_chat_template(c, tokenize=False), add_special_tokens=False
            )
        )
        for c in conversations
    ]
    fits = tokenize(tokenizer, conversations, max(lengths) + 8)
    assert fits.notice(max(lengths) + 8) is None and len(fits.examples) == 6
    cut = tokenize(tokenizer, conversations, min(lengths) - 1)
    assert cut.truncated + cut.skipped == 6 and cut.truncated >= 1
    line = cut.notice(min(lengths) - 1)
    assert line is not None and "\n" not in line
    assert f"of 6 conversations, {cut.truncated} are cut" in line and "--max-length" in line
    assert f"{cut.skipped} left out" in line
    none = tokenize(tokenizer, conversations, 8)
    assert none.skipped == 6 and "6 left out" in str(none.notice(8))


def test_the_adapter_loads_in_peft_and_changes_the_output(unbroken: Any, tiny_model: Path) -> None:
    import torch
    from peft import PeftModel

    tokenizer, base = base_model(tiny_model)
    text = tokenizer.apply_chat_template(PROMPT, tokenize=False, add_generation_prompt=True)
    ids = torch.tensor([tokenizer.encode(text, add_special_tokens=False)])
    with torch.no_grad():
        plain = base(input_ids=ids).logits
        adapted = PeftModel.from_pretrained(base, unbroken.out)(input_ids=ids).logits
    assert (plain - adapted).abs().max() > 1e-2
    check_adapter(tiny_model, unbroken.out)  # its own base: accepted


def test_a_training_stopped_at_max_steps_resumes_to_the_same_adapter(
    unbroken: Any, tiny_model: Path, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "a"
    half = train(tiny_model, data, out, max_steps=STEPS // 2, **FAST)
    assert half.steps == STEPS // 2 and (out / "checkpoints" / f"step-{STEPS // 2}").is_dir()
    seen: list[int] = []
    rest = train(
        tiny_model, data, out, max_steps=STEPS, progress=lambda s, t, _: seen.append(s), **FAST
    )
    assert rest.resumed_from == STEPS // 2 and rest.steps == STEPS
    assert seen == list(range(STEPS // 2 + 1, STEPS + 1))
    assert_same_training(out, unbroken.out)


def test_ctrl_c_stops_after_the_step_and_the_same_command_resumes(
    unbroken: Any,
    tiny_model: Path,
    data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`socius train` (in this process): Ctrl-C at step 7 exits 130 with a checkpoint of step
    7 and says to run the command again; run again, it ends where the unbroken one did."""
    report = train_cli._Bar.report

    def interrupt_at_7(self: Any, step: int, total: int, loss: float) -> None:
        report(self, step, total, loss)
        if step == 7:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, in the middle of the training

    monkeypatch.setattr(train_cli._Bar, "report", interrupt_at_7)
    out = tmp_path / "a"
    command = [
        "train", "--base", str(tiny_model), "--data", str(data), "--out", str(out),
        "--max-steps", str(STEPS), "--lr", "1e-2", "--checkpoint-every", "5", "--warmup", "5",
        "--quiet",
    ]  # fmt: skip
    assert main(command) == 130
    said = capsys.readouterr()
    assert "stopped at step 7/30" in said.err and "run the same command to resume" in said.err
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["step-5", "step-7"]
    assert not (out / "adapter_model.safetensors").exists()

    monkeypatch.setattr(train_cli._Bar, "report", report)
    assert main(command) == 0
    said = capsys.readouterr()
    assert said.out.startswith(f"adapter: {out} (final loss ") and said.out.count("\n") == 1
    assert_same_training(out, unbroken.out)


def test_a_resumed_training_refuses_another_base_dataset_or_rank(
    tiny_model: Path, data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "a"
    train(tiny_model, data, out, max_steps=2, **FAST)
    wide = make_tiny_model(tmp_path / "wide", hidden=192)
    with pytest.raises(UserError) as err:
        train(wide, data, out, max_steps=4, **FAST)
    one_line(err, "--base", "another model", "new --out")
    other = write_dataset(tmp_path / "other", rows(16, seed=5))
    with pytest.raises(UserError) as err:
        train(tiny_model, other, out, max_steps=4, **FAST)
    one_line(err, "--data", "other rows")
    with pytest.raises(UserError) as err:
        train(tiny_model, data, out, max_steps=4, rank=4, **FAST)
    one_line(err, "--rank 8, not 4")
    with pytest.raises(UserError) as err:
        train(tiny_model, data, out, max_steps=4, resume=False, **FAST)
    one_line(err, "already holds a training")


def test_bad_input_is_refused_with_one_line(tiny_model: Path, data: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    cases: list[tuple[Path, Path, Path, tuple[str, ...]]] = [
        (tiny_model, empty, tmp_path / "o1", ("--data", "no train.parquet")),
        (tiny_model, tmp_path / "missing", tmp_path / "o2", ("--data", "not a folder")),
        (empty, data, tmp_path / "o3", ("--base", "no config.json")),
        (data, data, tmp_path / "o4", ("--base", "not a model folder")),
        (tiny_model, data, data, ("--out", "not a training")),
    ]
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = tmp_path / "columns"
    columns.mkdir()
    pq.write_table(pa.table({"prompt": ["hi"], "answer": ["hello"]}), columns / "train.parquet")
    cases.append((tiny_model, columns, tmp_path / "o5", ("no messages column", "prompt")))
    no_answer = [{**r, "messages": r["messages"][:-1]} for r in rows(3)]
    cases.append((tiny_model, write_dataset(tmp_path / "q", no_answer), tmp_path / "o6",
                  ("row 0", "not the assistant's answer")))  # fmt: skip
    weightless = tmp_path / "weightless"
    weightless.mkdir()
    (weightless / "config.json").write_text((tiny_model / "config.json").read_text())
    cases.append((weightless, data, tmp_path / "o8", ("--base", "no weights")))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "train.parquet").write_text("not parquet")
    cases.append((tiny_model, broken, tmp_path / "o7", ("not a parquet file",)))
    for base, folder, out, words in cases:
        with pytest.raises(UserError) as err:
            train(base, folder, out, max_steps=1)
        one_line(err, *words)
        assert not out.exists() or out == data


def test_an_adapter_is_refused_for_another_base(unbroken: Any, tmp_path: Path) -> None:
    wide = make_tiny_model(tmp_path / "wide", hidden=192)
    with pytest.raises(UserError) as err:
        check_adapter(wide, unbroken.out)
    one_line(err, "trained on another model", "hidden 128", "hidden 192")
    # without its training.json, the shapes of its weights still tell
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        (bare / name).write_bytes((unbroken.out / name).read_bytes())
    with pytest.raises(UserError) as err:
        check_adapter(wide, bare)
    one_line(err, "does not fit", "192")
    deep = make_tiny_model(tmp_path / "deep", layers=1)
    with pytest.raises(UserError) as err:
        check_adapter(deep, bare)
    one_line(err, "layer 1", "the base has 1")
    with pytest.raises(UserError) as err:
        check_adapter(wide, tmp_path)
    one_line(err, "not a LoRA adapter")


VLLM_SCRIPT = textwrap.dedent(
    """
    import json, sys

    def main():
        from transformers import AutoTokenizer
        from vllm import LLM, SamplingParams
        from vllm.lora.request import LoRARequest

        base, adapter, messages = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
        llm = LLM(model=base, dtype="float32", enable_lora=True, max_lora_rank=8, max_loras=1,
                  enforce_eager=True, max_model_len=512, kv_cache_memory_bytes=1 << 28,
                  enable_chunked_prefill=False, max_num_seqs=2)
        tokenizer = AutoTokenizer.from_pretrained(base)
        prompt = tokenizer.apply_chat_template(messages, tokenize=False,
                                               add_generation_prompt=True)
        params = SamplingParams(max_tokens=12, temperature=0)
        plain = llm.generate([prompt], params)[0].outputs[0].token_ids
        lora = LoRARequest("decisions", 1, adapter)
        adapted = llm.generate([prompt], params, lora_request=lora)[0].outputs[0].token_ids
        print("ANSWERS", json.dumps({"plain": list(plain), "adapted": list(adapted)}), flush=True)

    if __name__ == "__main__":
        main()
    """
)


def greedy(model: Any, tokenizer: Any, tokens: int) -> list[int]:
    import torch

    text = tokenizer.apply_chat_template(PROMPT, tokenize=False, add_generation_prompt=True)
    ids = torch.tensor([tokenizer.encode(text, add_special_tokens=False)])
    with torch.no_grad():
        out = model.generate(input_ids=ids, max_new_tokens=tokens, do_sample=False)
    return [int(t) for t in out[0, ids.shape[1] :]]


@pytest.mark.timeout(1200)
def test_vllm_serves_the_adapter_as_peft_runs_it(
    tiny_model: Path, data: Path, tmp_path: Path
) -> None:
    """vLLM's CPU engine (enable_lora, LoRARequest) answers with the adapter exactly as
    transformers+peft do (greedy, float32), and not as the base does."""
    from peft import PeftModel

    adapter = train(tiny_model, data, tmp_path / "a", max_steps=60, **FAST).out
    script = tmp_path / "serve.py"
    script.write_text(VLLM_SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(tiny_model), str(adapter), json.dumps(PROMPT)],
        capture_output=True,
        text=True,
        timeout=1100,
        env={**os.environ, "VLLM_LOGGING_LEVEL": "WARNING"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    [line] = [x for x in proc.stdout.splitlines() if x.startswith("ANSWERS ")]
    served = json.loads(line.removeprefix("ANSWERS "))

    tokenizer, base = base_model(tiny_model)
    plain = greedy(base, tokenizer, 12)
    adapted = greedy(PeftModel.from_pretrained(base, adapter), tokenizer, 12)
    assert served == {"plain": plain, "adapted": adapted}
    # the answers all open with {"action": ...: the adapter has learnt that much, the base not
    assert tokenizer.decode(adapted).startswith('{"')
    assert not tokenizer.decode(plain).startswith('{"')


def test_the_command_says_what_is_wrong_in_one_line(
    tiny_model: Path, tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "a"
    command = ["train", "--base", str(tiny_model), "--data", str(tmp_path), "--out", str(out)]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("socius: --data: ") and "no train.parquet" in err
    assert err.count("\n") == 1
