"""Where the minds' answers come from: the backend interface (the backends import vLLM or aiohttp
only when used)."""

from inference.backends.base import Answer, Backend, BackendUnavailable, Request

__all__ = ["Answer", "Backend", "BackendUnavailable", "Request"]
