"""A tiny random-weight Llama model with its own byte-level BPE tokenizer, made on the spot.

It says nothing sensible, but it is a real model that vLLM (in-process or behind its OpenAI
server) and `transformers` both load in seconds, so the LLM path can be tested end to end
without fetching weights from anywhere. The same version and seed always give the same files.

    python -m inference.tiny_model OUT_DIR [--seed N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Bump when anything below changes what is written: an OUT_DIR stamped with another version
# (or seed) is made again.
VERSION = "1"
STAMP = "socius-tiny-model.json"

BOS = "<|begin_of_text|>"
EOS = "<|end|>"
PAD = "<|pad|>"
ROLES = ("system", "user", "assistant")
SPECIAL_TOKENS = [PAD, BOS, "<|end_of_text|>", EOS] + [f"<|{role}|>" for role in ROLES]

# Each turn is `<|role|>\n{content}<|end|>\n`; the prompt for an answer ends in `<|assistant|>\n`.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] not in ['system', 'user', 'assistant'] %}"
    "{{ raise_exception('Roles are system, user and assistant, not ' + message['role']) }}"
    "{% endif %}"
    "{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)

# Small enough to be a single file, and shaped for CPU attention kernels (head dimension 64:
# vLLM's CPU kernels reject 16): 2 layers of 2 query heads and 1 KV head.
HIDDEN_SIZE = 128
LAYERS = 2
HEAD_DIM = 64
CONTEXT = 2048
VOCAB_SIZE = 2048  # the BPE trainer's target; the model's vocabulary is what it reaches

_WORDS = [
    "promise",
    "trade",
    "gift",
    "trust",
    "betray",
    "apologize",
    "forgive",
    "grain",
    "fish",
    "tools",
    "cloth",
    "medicine",
    "joy",
    "anger",
    "fear",
    "sadness",
    "surprise",
    "disgust",
    "gossip",
    "debt",
    "owe",
    "repay",
    "help",
    "refuse",
    "keep",
    "break",
    "friend",
    "neighbour",
    "stranger",
    "rival",
    "family",
    "village",
    "market",
    "harvest",
    "winter",
    "hunger",
    "theft",
    "reputation",
    "honest",
    "liar",
    "kind",
    "cruel",
    "generous",
    "selfish",
    "fair",
    "unfair",
    "share",
    "steal",
    "lend",
    "borrow",
    "agree",
    "decline",
    "accept",
    "reject",
    "offer",
    "ask",
    "answer",
    "because",
    "therefore",
    "however",
    "yes",
    "no",
    "maybe",
]

_SENTENCES = [
    "You are a villager in a small world of characters who promise, trade, gossip and forgive.",
    "Answer with one JSON object that follows the schema, and nothing else.",
    "Ada promised Bo three grain before winter, and she kept her promise.",
    "Bo broke his promise to Cy and apologized; Cy chose to forgive him.",
    "Cy offers two fish for one tool. Do you accept the trade?",
    "Dee gave Eli a gift of cloth; Eli's trust in Dee grew.",
    "Eli betrayed Fay at the market, and Fay felt anger and sadness.",
    "Fay heard gossip that Gus stole medicine. Do you believe it?",
    "Your mood: joy 0.4, anger 0.1, fear 0.2, sadness 0.3, trust 0.6.",
    "Your goods: grain 5, fish 2, tools 1, cloth 0, medicine 3.",
    "What do you do? Keep the promise or break it?",
    "The harvest was poor, hunger spread, and neighbours asked to borrow grain.",
    "I will repay the debt after the harvest, I promise.",
    "She decided to keep her word because her reputation matters.",
    "He refused the offer; the price in fish was unfair.",
    "They shared the tools with the whole village and trust rose.",
]

_JSON_SNIPPETS = [
    {"action": "keep"},
    {"action": "break"},
    {"action": "trade", "give": {"fish": 2}, "take": {"tools": 1}},
    {"action": "gift", "to": "Eli", "goods": {"cloth": 1}},
    {"accept": True, "reason": "the trade is fair"},
    {"accept": False, "reason": "I do not trust them"},
    {"apologize": True, "forgive": False},
    {"emotion": {"joy": 0.5, "anger": 0.0, "fear": 0.1, "sadness": 0.2, "trust": 0.7}},
    {"say": "I promise to repay you.", "intent": "promise", "amount": 3},
    {"choice": "forgive", "confidence": 0.85, "notes": []},
    {"goods": ["grain", "fish", "tools", "cloth", "medicine"], "null": None},
]

_SCHEMA_SNIPPETS = [
    {
        "type": "object",
        "properties": {"action": {"enum": ["keep", "break"]}},
        "required": ["action"],
        "additionalProperties": False,
    },
    {"type": "array", "items": {"type": "string"}, "minItems": 1},
    {"type": "number", "minimum": 0, "maximum": 1},
    {"type": "integer"},
    {"type": "boolean"},
]


def corpus() -> list[str]:
    """The built-in text the tokenizer is trained on: plain English, words of the world, JSON."""
    lines = list(_SENTENCES)
    lines.append(" ".join(_WORDS))
    lines.append(" ".join(w.capitalize() for w in _WORDS))
    lines += [f'"{w}": "{w}",' for w in _WORDS]
    for item in _JSON_SNIPPETS + _SCHEMA_SNIPPETS:
        lines.append(json.dumps(item))
        lines.append(json.dumps(item, separators=(",", ":")))
        lines.append(json.dumps(item, indent=2))
    lines.append('0 1 2 3 4 5 6 7 8 9 10 0.5 -1 1e3 3.14 {} [] "" : , { } [ ] true false null')
    return lines * 4


def _stamp(seed: int, hidden: int = HIDDEN_SIZE, layers: int = LAYERS) -> dict[str, object]:
    shape = (
        {} if (hidden, layers) == (HIDDEN_SIZE, LAYERS) else {"hidden": hidden, "layers": layers}
    )
    return {"version": VERSION, "seed": seed, **shape}


def is_current(
    out_dir: Path, seed: int = 0, hidden: int = HIDDEN_SIZE, layers: int = LAYERS
) -> bool:
    """Whether OUT_DIR already holds the model this version makes with this seed and shape."""
    try:
        return json.loads((out_dir / STAMP).read_text()) == _stamp(seed, hidden, layers)
    except (OSError, ValueError):
        return False


def _train_tokenizer():  # -> PreTrainedTokenizerFast
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        additional_special_tokens=SPECIAL_TOKENS[4:],
        model_max_length=CONTEXT,
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def make_tiny_model(
    out_dir: Path, seed: int = 0, hidden: int = HIDDEN_SIZE, layers: int = LAYERS
) -> Path:
    """Write the tiny model (config, float32 safetensors, tokenizer, chat template) to OUT_DIR
    and return it; a directory already stamped with this version, seed and shape is left as it
    is. `hidden` (a multiple of 64) and `layers` make it heavier, where a test needs the engine,
    not the HTTP front end, to be what requests wait for."""
    out_dir = Path(out_dir)
    if hidden % HEAD_DIM:
        raise ValueError(f"hidden must be a multiple of {HEAD_DIM}, not {hidden}")
    if is_current(out_dir, seed, hidden, layers):
        return out_dir

    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    tokenizer = _train_tokenizer()
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=hidden // HEAD_DIM,
        num_key_value_heads=1,
        head_dim=HEAD_DIM,
        max_position_embeddings=CONTEXT,
        hidden_act="silu",
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        dtype="float32",
    )
    torch.manual_seed(seed)
    with torch.no_grad():
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / STAMP).unlink(missing_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    # save_jinja_files=False keeps the chat template inside tokenizer_config.json.
    tokenizer.save_pretrained(out_dir, save_jinja_files=False)
    (out_dir / STAMP).write_text(json.dumps(_stamp(seed, hidden, layers)) + "\n")
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inference.tiny_model",
        description="Make a tiny random-weight Llama model and tokenizer (about 2 MB) for tests "
        "and demos: vLLM and transformers load it, though what it says means nothing.",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="where to write the model")
    parser.add_argument("--seed", type=int, default=0, help="seed for the weights (default 0)")
    args = parser.parse_args(argv)
    fresh = not is_current(args.out_dir, args.seed)
    path = make_tiny_model(args.out_dir, seed=args.seed)
    print(f"{'made' if fresh else 'already there'}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
