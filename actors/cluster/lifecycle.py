"""Starting, closing and losing Ray actors: what counts as a fault, and its root cause."""

from __future__ import annotations

import contextlib
from typing import Any

import ray
from ray import exceptions as rex

from inference.backends.base import BackendUnavailable

#: Errors that mean an actor, its worker or its node died (or stopped answering).
FAULTS = (
    rex.ActorDiedError,
    rex.ActorUnavailableError,
    rex.GetTimeoutError,
    rex.NodeDiedError,
    rex.ObjectLostError,
    rex.RayActorError,
    rex.WorkerCrashedError,
)


def is_fault(err: BaseException) -> bool:
    """An actor, worker or node died (directly, or under a task that was waiting on it)."""
    if isinstance(err, FAULTS):
        return True
    cause = getattr(err, "cause", None)
    return isinstance(err, rex.RayTaskError) and cause is not None and is_fault(cause)


def root_cause(err: BaseException) -> BaseException:
    while isinstance(err, rex.RayTaskError) and getattr(err, "cause", None) is not None:
        err = err.cause
    return err


def start_replicas(handles: list[Any], timeout: float = 900) -> int:
    """Wait until each replica (gateway, load generator) has its backend; returns the smallest
    served context length. A backend that cannot start is a user error, named, and every
    replica is closed."""
    try:
        return min(ray.get([g.start.remote() for g in handles], timeout=timeout))
    except rex.RayTaskError as err:
        close_actors(handles, timeout=60)
        cause = root_cause(err)
        if isinstance(cause, BackendUnavailable):
            raise BackendUnavailable(str(cause)) from None
        raise


def close_actors(handles: list[Any], timeout: float) -> None:
    """Ask each actor to close (flush, release), then end it, whether or not it answered."""
    for a in handles:
        with contextlib.suppress(rex.RayError):
            ray.get(a.close.remote(), timeout=timeout)
        ray.kill(a, no_restart=True)
