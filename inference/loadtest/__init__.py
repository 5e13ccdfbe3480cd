"""`socius loadtest`: the traffic of a living world against OpenAI-compatible LLM servers."""
