"""Answers from vLLM's asynchronous engine, run in this process (its workers are child processes).

vLLM is imported only when the backend starts, so this module imports without it. On the CPU,
vLLM starts its engine core and worker with `spawn`: a script that starts this backend needs an
`if __name__ == "__main__":` guard (pytest and `python -m` entry points have one).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
from pathlib import Path
from typing import Any, Literal

from inference.backends.base import Answer, Backend, BackendUnavailable, Request

DType = Literal["auto", "bfloat16", "float16", "float32"]
STREAM_INTERVAL = 16
INSTALL_HINT = "install the LLM stack with `scripts/setup.sh llm` (or `pip install -e .[llm]`)"


class EngineBackend(Backend):
    """vLLM's AsyncLLM over a local model folder, with prefix caching on.

    `kv_cache_gib` bounds the KV cache (on the CPU vLLM otherwise takes most of the memory);
    `compact_json` makes structured answers carry no whitespace between JSON tokens, so a small
    `max_tokens` is not spent on blanks; `dtype` "auto" would mean bfloat16 on the CPU.
    """

    name = "engine"

    def __init__(
        self,
        model_dir: str,
        *,
        max_model_len: int = 2048,
        max_num_seqs: int = 64,
        kv_cache_gib: float = 1.0,
        compact_json: bool = True,
        dtype: DType = "float32",
        adapters: dict[str, str] | None = None,
    ) -> None:
        """`adapters`: LoRA adapters (name -> folder) requests may name."""
        self.model_dir = model_dir
        self.adapters = dict(adapters or {})
        self._lora: dict[str, Any] = {}
        self.max_model_len = max_model_len
        self.max_num_seqs = max_num_seqs
        self.kv_cache_gib = kv_cache_gib
        self.compact_json = compact_json
        self.dtype = dtype
        self._engine: Any = None
        self._tokenizer: Any = None
        self._ids = itertools.count()
        self._prefix_queries = 0
        self._prefix_hits = 0

    async def start(self) -> None:
        if self._engine is not None:
            return
        path = Path(self.model_dir)
        if not (path / "config.json").is_file():
            raise BackendUnavailable(
                f"no model in {path} (config.json missing): point at a Hugging Face model folder, "
                "or make a tiny one with `python -m inference.tiny_model DIR`"
            )
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        try:
            from transformers import AutoTokenizer
            from vllm import AsyncEngineArgs
            from vllm.config import StructuredOutputsConfig
            from vllm.v1.engine.async_llm import AsyncLLM
        except ImportError as e:
            raise BackendUnavailable(f"vLLM is not installed ({e}): {INSTALL_HINT}") from e

        try:
            tokenizer = await asyncio.to_thread(AutoTokenizer.from_pretrained, str(path))
        except Exception as e:
            raise BackendUnavailable(f"cannot load the tokenizer in {path}: {e}") from e
        if not getattr(tokenizer, "chat_template", None):
            raise BackendUnavailable(f"the tokenizer in {path} has no chat template")

        structured = (
            StructuredOutputsConfig(backend="xgrammar", disable_any_whitespace=True)
            if self.compact_json
            else StructuredOutputsConfig()
        )
        # On a GPU, vLLM's own defaults (bfloat16 or the model's dtype, a share of the GPU's
        # memory for the KV cache) are right; the CPU settings apply only without one.
        import torch

        gpu = torch.cuda.is_available()
        args = AsyncEngineArgs(
            model=str(path),
            dtype="auto" if gpu else self.dtype,
            max_model_len=self.max_model_len,
            max_num_seqs=self.max_num_seqs,
            enforce_eager=True,
            enable_prefix_caching=True,
            # vLLM 0.32's CPU build crashes on a seeded request whose prefill is split
            # ("CPU Generator does not use offset"): keep prefills whole
            enable_chunked_prefill=False,
            kv_cache_memory_bytes=None if gpu else int(self.kv_cache_gib * (1 << 30)),
            structured_outputs_config=structured,
            **self._lora_args(),
        )
        try:
            # Building the engine blocks for tens of seconds (it starts and waits for its
            # processes); it is built in the event loop's thread, as vLLM's own server does.
            self._engine = AsyncLLM.from_engine_args(args)
        except Exception as e:
            raise BackendUnavailable(f"vLLM could not start on {path}: {e}") from e
        self._tokenizer = tokenizer

    def _lora_args(self) -> dict[str, Any]:
        """The engine's LoRA settings, and a LoRARequest per adapter (checked to exist)."""
        if not self.adapters:
            return {}
        from vllm.lora.request import LoRARequest

        ranks = []
        for i, (name, folder) in enumerate(sorted(self.adapters.items()), start=1):
            config = Path(folder) / "adapter_config.json"
            if not config.is_file():
                raise BackendUnavailable(
                    f"adapter {name}: {folder} holds no LoRA adapter (adapter_config.json "
                    f"missing); give the folder socius train wrote"
                )
            ranks.append(int(json.loads(config.read_text()).get("r", 8)))
            self._lora[name] = LoRARequest(name, i, str(Path(folder).resolve()))
        rank = next(r for r in (8, 16, 32, 64, 128, 256) if r >= max(ranks))
        return {"enable_lora": True, "max_lora_rank": rank, "max_loras": len(self.adapters)}

    def prompt_ids(self, messages: list[dict[str, str]]) -> list[int]:
        """The prompt's token ids: the messages in the model's chat template, ready to answer."""
        text = self._tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )
        return list(self._tokenizer.encode(text, add_special_tokens=False))

    async def generate(self, request: Request) -> Answer:
        if self._engine is None:
            return Answer(text=None, error="the vLLM engine is not started")
        from vllm import SamplingParams, TokensPrompt
        from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

        sent = time.perf_counter()
        prompt_tokens = completion_tokens = 0
        ttft = 0.0
        try:
            ids = self.prompt_ids(request.messages)
            prompt_tokens = len(ids)
            params = SamplingParams(
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                seed=request.seed,
                structured_outputs=(
                    StructuredOutputsParams(json=request.schema) if request.schema else None
                ),
                output_kind=RequestOutputKind.DELTA,
                # the first token at once (time to first token), then every STREAM_INTERVAL:
                # far fewer wake-ups of this process per answer than one per token
                stream_interval=STREAM_INTERVAL,
            )
            (prompt,) = await self._engine.renderer.render_cmpl_async(
                [TokensPrompt(prompt_token_ids=ids)]
            )
            parts: list[str] = []
            cached = 0
            lora = self._lora.get(request.adapter) if request.adapter else None
            if request.adapter and lora is None:
                return Answer(text=None, error=f"no adapter {request.adapter!r}", refused=True)
            async for out in self._engine.generate(
                prompt, params, f"{request.key}#{next(self._ids)}", lora_request=lora
            ):
                if out.outputs:
                    step = out.outputs[0]
                    if step.token_ids and not completion_tokens:
                        ttft = time.perf_counter() - sent
                    completion_tokens += len(step.token_ids)
                    parts.append(step.text)
                if out.prompt_token_ids:
                    prompt_tokens = len(out.prompt_token_ids)
                cached = out.num_cached_tokens or cached
        except Exception as e:  # an engine error is an answer that failed, never a crash
            return Answer(
                text=None,
                error=f"{type(e).__name__}: {e}" if str(e) else type(e).__name__,
                refused=_refused(e),
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                latency=time.perf_counter() - sent,
                ttft=ttft,
            )
        self._prefix_queries += prompt_tokens
        self._prefix_hits += cached
        return Answer(
            text="".join(parts),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency=time.perf_counter() - sent,
            ttft=ttft,
            cached_tokens=cached,
        )

    async def close(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.shutdown()

    def context_length(self) -> int:
        return self.max_model_len

    def stats(self) -> dict[str, float]:
        """Prompt tokens sent (prefix-cache queries) and of those found cached (hits), summed
        over the answered requests; vLLM caches whole KV blocks (128 tokens on the CPU)."""
        return {
            "prefix_queries": float(self._prefix_queries),
            "prefix_hits": float(self._prefix_hits),
        }


def _refused(error: Exception) -> bool:
    """Whether the request itself was at fault (too long, a role the template rejects, a bad
    schema), so sending it again would fail again; the engine being down is not that."""
    from jinja2 import TemplateError
    from vllm.exceptions import VLLMClientError

    return isinstance(error, VLLMClientError | TemplateError | ValueError)
