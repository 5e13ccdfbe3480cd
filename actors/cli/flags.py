"""The flags several commands share, defined once: each as a parent parser (argparse `parents=`)
with the same bounds and help wherever it appears, and the argument types that check numbers and
comma-separated lists with a message naming the flag and the value."""

from __future__ import annotations

import argparse
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from world.errors import UserError
from world.journal_mode import JournalMode
from world.store import fetched, is_url

T = TypeVar("T")

SEED_LIMIT = 2**63 - 1


def number(
    name: str, kind: type = int, low: float = 1, high: float | None = None, strict: bool = False
) -> Callable[[str], Any]:
    """An argparse type: a `kind` number in [low, high] (above `low` if `strict`), with a
    message that names the flag and the value."""
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {what}, not {text!r}") from None
        if value != value:  # NaN
            raise argparse.ArgumentTypeError(f"{name} must be {what}, not {text!r}")
        if (value <= low) if strict else (value < low):
            bound = f"above {low}" if strict else f"at least {low}"
            raise argparse.ArgumentTypeError(f"{name} must be {bound}, not {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"{name} must be at most {high}, not {text}")
        return value

    return parse


def positive(name: str) -> Callable[[str], Any]:
    """A whole number of at least 1."""
    return number(name)


def natural(name: str) -> Callable[[str], Any]:
    """A whole number of at least 0."""
    return number(name, low=0)


def seed(name: str = "--seed") -> Callable[[str], Any]:
    """A seed: a whole number in [0, 2**63 - 1]."""
    return number(name, low=0, high=SEED_LIMIT)


def place(text: str) -> str | Path:
    """A run folder, or an object-store URL kept as given (a Path would fold its `//`)."""
    return text if is_url(text) else Path(text)


def local(name: str) -> Callable[[str], Path]:
    """A folder or file this command writes on this machine (an object-store URL is refused:
    only run records go to a store, with `socius run --out s3://...`)."""

    def parse(text: str) -> Path:
        if is_url(text):
            raise argparse.ArgumentTypeError(
                f"{text}: {name} writes on this machine; only `socius run --out` (and resume) "
                f"write to an object store. Give a local path (and copy it to the store after)"
            )
        return Path(text)

    return parse


def fetched_run(text: str) -> Path:
    """A run to read: a folder, or one on an object store downloaded into a staging folder."""
    return fetched(place(text))


def port(name: str) -> Callable[[str], Any]:
    """A TCP port, or 0 for any free one."""
    return number(name, low=0, high=65535)


def comma_list(
    name: str, item: Callable[[str], T], example: str, unique: bool = True
) -> Callable[[str], list[T]]:
    """An argparse type: items separated by commas, each read by `item` (which raises
    ValueError or ArgumentTypeError for a bad one); empty items are refused."""

    def parse(text: str) -> list[T]:
        parts = [p.strip() for p in text.split(",")]
        if not text.strip() or any(not p for p in parts):
            raise argparse.ArgumentTypeError(
                f"{name} takes items separated by commas, like {example}; {text!r} has an empty one"
            )
        out = []
        for part in parts:
            try:
                out.append(item(part))
            except (ValueError, argparse.ArgumentTypeError) as err:
                why = str(err) if isinstance(err, argparse.ArgumentTypeError) else ""
                raise argparse.ArgumentTypeError(
                    why
                    or f"{name} takes a comma-separated list, like {example}; {part!r} is not one"
                ) from None
        if unique and len(set(map(repr, out))) != len(out):
            raise argparse.ArgumentTypeError(f"{name}: an item is given twice in {text!r}")
        return out

    return parse


def seeds(name: str) -> Callable[[str], list[int]]:
    """Seeds as A-B (both included) and single seeds, separated by commas: 101-105,120."""

    def one(part: str) -> list[int]:
        low, dash, high = part.partition("-")
        first = seed(name)(low.strip())
        last = seed(name)(high.strip()) if dash else first
        if last < first:
            raise argparse.ArgumentTypeError(
                f"{name}: {part!r} runs backwards; write {last}-{first}"
            )
        if last - first >= 100_000:
            raise argparse.ArgumentTypeError(f"{name}: {part!r} is more than 100,000 seeds")
        return list(range(first, last + 1))

    def parse(text: str) -> list[int]:
        groups = comma_list(name, one, "101-105,120", unique=False)(text)
        out = [s for group in groups for s in group]
        if len(set(out)) != len(out):
            raise argparse.ArgumentTypeError(f"{name}: a seed is given twice in {text!r}")
        return out

    return parse


def parent() -> argparse.ArgumentParser:
    """An empty parent parser (no -h of its own)."""
    return argparse.ArgumentParser(add_help=False)


def world_flags(characters: bool = True) -> argparse.ArgumentParser:
    """What a command may change of the scenario it runs: its length, seed and layout."""
    p = parent()
    p.add_argument(
        "--ticks", type=positive("--ticks"), help="ticks to run (default: the scenario's)"
    )
    p.add_argument("--seed", type=seed(), help="random seed (default: the scenario's)")
    if characters:
        p.add_argument(
            "--characters",
            type=positive("--characters"),
            help="population size (default: the scenario's)",
        )
    p.add_argument(
        "--shards",
        type=positive("--shards"),
        help="shards to split the characters into (default: the scenario's)",
    )
    return p


def address_flag() -> argparse.ArgumentParser:
    p = parent()
    p.add_argument(
        "--address",
        help="Ray cluster to join: auto (the one started on this machine with `ray start`), "
        "ray://HOST:10001 or HOST:6379; default: start a local Ray instance",
    )
    return p


def resources(text: str) -> dict[str, float]:
    """NAME=AMOUNT[,...]: custom Ray resources, each amount above 0."""
    out = {}
    for part in comma_list("--actor-resources", str, "socius_worker=1")(text):
        name, _, amount = part.partition("=")
        try:
            value = float(amount)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--actor-resources: {part!r} is not NAME=AMOUNT (e.g. socius_worker=1)"
            ) from None
        if not name.strip() or not value > 0:
            raise argparse.ArgumentTypeError(
                f"--actor-resources: {part!r} needs a name and an amount above 0"
            )
        out[name.strip()] = value
    return out


def runtime_flags() -> argparse.ArgumentParser:
    """Where shards run: in this process or as Ray actors, and how those are placed."""
    p = parent()
    p.add_argument(
        "--runtime",
        choices=["ray", "local"],
        help="where shards run: ray = shard actors on a local Ray instance or a cluster "
        "(default; resume: as the run was); local = every shard in this process (tests, "
        "notebooks, debugging)",
    )
    p.add_argument(
        "--placement",
        choices=["pack", "spread"],
        help="pack shard actors onto few nodes, or spread them over all (default: pack; "
        "resume: as the run was)",
    )
    p.add_argument(
        "--actor-cpus",
        type=number("--actor-cpus", float, low=0, strict=True),
        help="CPU each shard actor reserves (default: 1, less when there are more actors "
        "than that fits)",
    )
    p.add_argument(
        "--actor-resources",
        type=resources,
        metavar="NAME=AMOUNT[,...]",
        help="custom Ray resources each shard actor needs, e.g. socius_worker=1",
    )
    p.add_argument(
        "--tick-timeout",
        type=number("--tick-timeout", float, low=0),
        metavar="SECONDS",
        help="on Ray, stop the run when a tick takes longer (a stuck shard or model); it can "
        "be resumed with a longer limit (default: no limit, 0 too; resume: as the run was). "
        "Dead actors and nodes are found without it, and recovered from",
    )
    return p


def llm_flags(replicas: bool) -> argparse.ArgumentParser:
    """Where the model is (--llm-endpoint, --llm-engine, --llm-replay) and how it is asked;
    `replicas`: the runtime has gateway replicas (Ray)."""
    p = parent()
    llm = p.add_mutually_exclusive_group()
    llm.add_argument(
        "--llm-endpoint",
        type=comma_list("--llm-endpoint", str, "http://gpu-1:8000,http://gpu-2:8000"),
        metavar="URL[,URL...]",
        help="OpenAI-compatible servers (vLLM, Ray Serve LLM ...) that answer for characters "
        "with the llm mind, e.g. http://gpu-1:8000; each character keeps to one of them",
    )
    llm.add_argument(
        "--llm-engine",
        metavar="MODEL_DIR",
        type=Path,
        help="run vLLM's engine inside the gateway, on the model in this folder",
    )
    llm.add_argument(
        "--llm-replay",
        metavar="RUN",
        type=Path,
        help="answer from the LLM traces of an earlier run: the same run again, no model",
    )
    p.add_argument(
        "--llm-model",
        help="model name to ask the endpoints for (default: the first they list at /v1/models)",
    )
    key_env_flag(p, "--llm-api-key-env", "--llm-endpoint")
    if replicas:
        p.add_argument(
            "--llm-replicas",
            type=positive("--llm-replicas"),
            help="gateway replicas on Ray (default 1; with --llm-engine on a cluster with GPUs, "
            "one per GPU, each holding one)",
        )
    p.add_argument(
        "--llm-concurrency",
        type=positive("--llm-concurrency"),
        help="requests each gateway replica keeps in flight (default 64)",
    )
    return p


def key_env_flag(p: argparse._ActionsContainer, name: str, endpoints: str) -> None:
    """The flag naming the environment variables that hold the endpoints' API keys."""
    p.add_argument(
        name,
        type=comma_list(name, str, "GPU1_KEY,GPU2_KEY"),
        metavar="NAME[,NAME...]",
        help=f"environment variables holding the API keys of {endpoints} (sent as bearer "
        "tokens): one for every endpoint, or one per endpoint (default: OPENAI_API_KEY, if "
        "set). Only the names are recorded, never a key",
    )


def metrics_flags(host: str | None = "127.0.0.1", linger: bool = True) -> argparse.ArgumentParser:
    """The run's Prometheus exporter; `host`: the default of --metrics-host (None: no such
    flag), `linger`: the flag that waits for a last scrape."""
    p = parent()
    p.add_argument(
        "--metrics-port",
        type=port("--metrics-port"),
        metavar="PORT",
        help="serve the run's Prometheus metrics on this port (one scrape target for the "
        "whole run, wherever its shards run; 0 picks a free port)",
    )
    if host is not None:
        p.add_argument(
            "--metrics-host",
            default=host,
            help=f"address the metrics server listens on (default {host}, this machine only; "
            "0.0.0.0 for a Prometheus elsewhere, as in a container or on a cluster)",
        )
    if linger:
        p.add_argument(
            "--metrics-linger",
            type=number("--metrics-linger", float, low=0),
            default=15.0,
            metavar="SECONDS",
            help="after the run, wait up to this long for one more scrape so the final figures "
            "are collected (default 15; 0: do not wait)",
        )
    return p


def loopback(host: str) -> bool:
    """Whether `host` is this machine only (a loopback address, or `localhost`)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere


def view_flags(tls: str = "") -> argparse.ArgumentParser:
    """The browser's view of a live world (actors/served/view): --view-port, --view-host.
    `tls`: how the view is kept private beyond this machine, for --view-host's help."""
    p = parent()
    p.add_argument(
        "--view-port",
        type=port("--view-port"),
        metavar="PORT",
        help="serve the world's page in a browser on this port (0 picks a free one); the "
        "address printed at start opens it with the operator's token",
    )
    p.add_argument(
        "--view-host",
        default="127.0.0.1",
        help=f"address the page listens on (default 127.0.0.1, this machine only){tls}",
    )
    return p


def tls_flags(what: str = "serve TLS") -> argparse.ArgumentParser:
    """--tls-cert and --tls-key (read with `tls_of`)."""
    p = parent()
    p.add_argument("--tls-cert", type=Path, metavar="PEM", help=f"{what} with this certificate")
    p.add_argument("--tls-key", type=Path, metavar="PEM", help="the certificate's private key")
    return p


def tls_of(args: argparse.Namespace) -> tuple[bytes, bytes] | None:
    """The (certificate, key) that --tls-cert and --tls-key name, read; None without them."""
    if (args.tls_cert is None) != (args.tls_key is None):
        raise UserError("give --tls-cert and --tls-key together")
    if args.tls_cert is None:
        return None
    for flag, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key)):
        if not path.is_file():
            raise UserError(f"{flag} {path}: file not found")
    return args.tls_cert.read_bytes(), args.tls_key.read_bytes()


def quiet_flag(what: str = "no progress bar or table") -> argparse.ArgumentParser:
    p = parent()
    p.add_argument("--quiet", action="store_true", help=what)
    return p


def journal_mode(args: argparse.Namespace, default: JournalMode) -> JournalMode:
    """What --journal asks for (`default` without the flag); a bad value is a UserError of
    one line."""
    text = getattr(args, "journal", None)
    if text is None:
        return default
    try:
        return JournalMode.parse(text)
    except ValueError as err:
        raise UserError(str(err)) from None


def journal_flag(default: str) -> argparse.ArgumentParser:
    """What the run's journal keeps (world/journal_mode.py, read with `journal_mode`);
    `default` as the command has it."""
    p = parent()
    p.add_argument(
        "--journal",
        metavar="full|sample:K|off",
        help=f"what the journal keeps: full = every envelope; sample:K = every envelope sent "
        f"or received by K characters picked from the seed; off = none (then socius journal "
        f"and socius traces export cannot read the run); default {default}",
    )
    return p
