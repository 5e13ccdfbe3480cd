"""LLM minds: prompts, output schemas, the batching gateway, vLLM backends, records and replay."""
