"""Compiled kernels of the village tick (numba, `njit(cache=True, nogil=True)`).

Each kernel is the one implementation of its rule; the modules that hold the rules
(`world/memory.py`, `world/situations.py`, `world/perceive.py` ...) call them on their columns.
A kernel reproduces, bit for bit, the numpy expression it replaced (same float32/float64
operations in the same order), so the state digest did not change; `tests/world/test_kernels.py`
checks each against a plain numpy reference on random inputs.

Modules by topic: `slots` (the relationship slot layer: find, salience, making room, gathers),
`partners` (encounters: the known partner, the gossip subject and what is told of them),
`options` (what each decision row may do, and a trade's worth), `payments` (what each act pays,
funded in canonical order), `updates` (judgements, episodes, standing, a counterpart's act
recorded: row after row), `scatter` (sums into slots and rows, in row order), `fade` (the end
of a tick: feelings decay, memories fade, trust summed, in one pass), `plans` (the gift, trade
and ask an encounter could be),
`living` (a tick of work, eating, wear and health; need), `speech` (what speakers show and say),
`ordering` (the inbox's and the decisions' canonical orders, envelopes numbered, senders'
shares merged into one inbox, and rows grouped by key), `mixing` (the random streams'
splitmix64, a key at a time over every row),
`utilities` (the heuristic mind's choice), `reading` (the heuristic reader's guess of a hidden
feeling, and a reader's accuracy), `homes` (each character's shard and row), `hints`
(`prefetch`: a row asked for a few iterations before a kernel visits it, where rows come in
an order the hardware cannot guess; `hints.teach_numba` gives numba its compiled form).

Compiled code is cached beside the modules (`__pycache__`): only the first process on a machine
compiles (about 10 CPU-seconds); later ones, Ray workers included, load the cache. Still, the
first kernel call of a process costs about a CPU-second (numba starts, and imports
scipy.linalg), so kernels are compiled on first call, not on import, and the random streams
(`world/rng.py`, drawn by every process that derives a population) and the placement
(`world/placement.py`) compute with numpy until the process has loaded the kernels (`live()`),
and with `mixing` and `homes` after: the same numbers either way.
"""

from __future__ import annotations

import functools
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from world.kernels import hints

F = TypeVar("F", bound=Callable[..., Any])

_pending: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = []
_lock = threading.Lock()
_live = False


def live() -> bool:
    """Whether this process has loaded the kernels (a kernel has run): code with a numpy path
    for processes that never step a village (`world/rng.py`) takes the kernel's once it is."""
    return _live


def kernel(**options: Any) -> Callable[[F], F]:
    """Make `fn` a kernel: `numba.njit(cache=True, nogil=True, **options)`, put in place of
    `fn` in its module the first time any kernel is called, so importing the world does not
    import numba (a process that never steps a village never pays for it)."""

    def wrap(fn: F) -> F:
        module, name = fn.__module__, fn.__name__
        _pending.append((module, name, fn, options))

        @functools.wraps(fn)
        def first_call(*args: Any) -> Any:
            if _pending:
                _compile_pending()
            return getattr(sys.modules[module], name)(*args)

        return first_call  # type: ignore[return-value]

    return wrap


def _compile_pending() -> None:
    """Swap every registered kernel's module attribute for its numba dispatcher (compiled, or
    loaded from the cache, on its first call); helpers called from kernels are swapped too."""
    import numba  # heavy: only when a kernel first runs

    hints.teach_numba()  # (`prefetch` inside kernels)

    global _live
    with _lock:
        for module, name, fn, options in _pending:
            dispatcher = numba.njit(cache=True, nogil=True, **options)(fn)
            setattr(sys.modules[module], name, dispatcher)
        _pending.clear()
        _live = True
