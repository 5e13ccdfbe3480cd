"""Where a run folder lives: a local path, or an object store (`s3://bucket/prefix`, `gs://`,
anything fsspec reaches) mirrored by a local staging folder.

A run always writes files (journals append, checkpoints are folders, metrics grow by rows); on
an object store it writes them into a staging folder on each machine and uploads what changed:
every process its own files (a shard actor its journal, snapshot and traces; the driver the
rest) at each checkpoint and at the end. So the store holds the run as of its last checkpoint
(and all of it once the run has ended), which is exactly what `socius resume` starts from.
Readers (`resume`, `report`, `journal`, `traces export`) download the run into a staging folder
first. A journal is uploaded whole each time it has grown: on a long run, checkpoint less often.

Credentials and the endpoint come the usual way (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
`AWS_ENDPOINT_URL` for an S3-compatible server such as MinIO), read by the store's own client;
none of them is written into the run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import fsspec

from world.errors import RunFolderError

#: A file the driver leaves in a local run folder for shard actors on other nodes to find:
#: the proof that they see the same folder (actors/cluster/coordinator.py). Never uploaded.
NODE_MARK = ".socius-node"


def is_url(where: str | Path) -> bool:
    """An object-store URL (`scheme://...`) rather than a local path."""
    return "://" in str(where)


def staging_root() -> Path:
    """Where staging folders go (SOCIUS_STAGING, else the system's temporary folder)."""
    return Path(os.environ.get("SOCIUS_STAGING") or tempfile.gettempdir()) / "socius-stores"


class Store:
    """A run folder: `local` is where files are written and read; for a URL, uploads and
    downloads keep it and the store in step."""

    def __init__(self, where: str | Path) -> None:
        self.url = str(where).rstrip("/") if is_url(where) else str(where)
        self.remote = is_url(where)
        self.fs: Any = None
        self.root = ""
        self._sent: dict[str, tuple[int, int]] = {}  # file -> (size, mtime) last uploaded
        if not self.remote:
            self.local = Path(where)
            return
        scheme, _, rest = self.url.partition("://")
        self.root = rest.strip("/")
        if not self.root:
            raise RunFolderError(f"{self.url}: give a bucket and a prefix, e.g. s3://runs/v1")
        try:
            self.fs = fsspec.filesystem(scheme)
        except (ImportError, ValueError) as err:
            raise RunFolderError(
                f"{self.url}: no filesystem for {scheme}:// here ({_why(err)}); socius ships "
                f"s3fs for s3://, or give a local folder"
            ) from None
        digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        self.local = staging_root() / digest

    def __str__(self) -> str:
        return self.url

    # --- checks -----------------------------------------------------------------------------

    def check(self, new: bool) -> None:
        """The store can be reached with the credentials at hand and its bucket exists; a new
        run's prefix holds nothing yet, an existing run's holds a run. One line on failure."""
        if not self.remote:
            return
        bucket = self.root.split("/")[0]
        try:
            self.fs.ls(bucket, refresh=True)
            held = self.fs.exists(f"{self.root}/scenario.yaml")
            anything = held or bool(self._listing())
        except FileNotFoundError:
            raise RunFolderError(
                f"{self.url}: the bucket {bucket!r} does not exist; create it first "
                f"(e.g. `aws s3 mb s3://{bucket}`) or give another"
            ) from None
        except Exception as err:  # the client's own errors: credentials, network, refusal
            raise RunFolderError(f"{self.url}: {_store_problem(err)}") from None
        if new and anything:
            raise RunFolderError(
                f"{self.url} already holds files; choose another --out or remove them"
            )
        if not new and not held:
            raise RunFolderError(f"{self.url} holds no run (no scenario.yaml there)")

    def _listing(self) -> list[str]:
        try:
            return list(self.fs.find(self.root))
        except FileNotFoundError:
            return []

    # --- moving files -----------------------------------------------------------------------

    def fresh(self) -> Path:
        """An empty staging folder for a new run (or a download)."""
        if self.remote:
            shutil.rmtree(self.local, ignore_errors=True)
            self.local.mkdir(parents=True, exist_ok=True)
        return self.local

    def fetch(self) -> Path:
        """The run as a local folder: the path itself, or the store's run (checked to be one)
        downloaded into a fresh staging folder."""
        if self.remote:
            self.check(new=False)
            self.fresh()
            self.pull()
        return self.local

    def pull(self, *parts: str) -> Path:
        """Download the run (or only `parts`, files or folders relative to the run) into the
        staging folder; returns the local folder. A local path is returned as it is."""
        if not self.remote:
            return self.local
        self.local.mkdir(parents=True, exist_ok=True)
        for part in parts or ("",):
            source = f"{self.root}/{part}".rstrip("/")
            target = self.local / part
            try:
                if part and not self.fs.isdir(source):
                    if self.fs.exists(source):
                        target.parent.mkdir(parents=True, exist_ok=True)
                        self.fs.get(source, str(target))
                    continue
                for name in self.fs.find(source):
                    rel = name[len(self.root) + 1 :]
                    out = self.local / rel
                    out.parent.mkdir(parents=True, exist_ok=True)
                    self.fs.get(name, str(out))
            except Exception as err:
                raise RunFolderError(f"{self.url}: {_store_problem(err)}") from None
        return self.local

    def push(self, files: Iterable[Path] | None = None, prune: bool = False) -> int:
        """Upload the files given (all the staging folder's, by default) that changed since
        this store last sent them; with `prune`, also delete from the store the checkpoints
        no longer in the staging folder. Returns how many files were sent."""
        if not self.remote:
            return 0
        paths = list(files) if files is not None else [p for p in self.local.rglob("*")]
        sent = 0
        for path in paths:
            if not path.is_file() or path.name == NODE_MARK:
                continue
            stat = path.stat()
            rel = path.relative_to(self.local).as_posix()
            mark = (stat.st_size, stat.st_mtime_ns)
            if self._sent.get(rel) == mark:
                continue
            try:
                self.fs.put_file(str(path), f"{self.root}/{rel}")
            except Exception as err:
                raise RunFolderError(f"{self.url}: {_store_problem(err)}") from None
            self._sent[rel] = mark
            sent += 1
        if prune:
            self._prune()
        return sent

    def _prune(self) -> None:
        kept = {p.name for p in (self.local / "checkpoints").glob("tick-*")}
        try:
            stored = self.fs.ls(f"{self.root}/checkpoints", detail=False)
        except FileNotFoundError:
            return
        for folder in stored:
            if folder.rstrip("/").rsplit("/", 1)[-1] not in kept:
                self.fs.rm(folder, recursive=True)


def _why(err: BaseException) -> str:
    return (str(err) or type(err).__name__).splitlines()[0][:200]


def _store_problem(err: BaseException) -> str:
    """What went wrong with the store, in words a user can act on."""
    name = type(err).__name__
    text = _why(err)
    if name in ("NoCredentialsError", "PartialCredentialsError") or "credentials" in text.lower():
        return (
            "no credentials for the store: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and "
            "AWS_ENDPOINT_URL for an S3-compatible server)"
        )
    if isinstance(err, PermissionError) or "AccessDenied" in text or "Forbidden" in text:
        return f"the store refused access ({text}); check the credentials and the bucket's policy"
    if name in ("EndpointConnectionError", "ConnectTimeoutError") or isinstance(
        err, ConnectionError | TimeoutError
    ):
        return f"cannot reach the store ({text}); check AWS_ENDPOINT_URL and the network"
    return f"the store failed: {name}: {text}"


def fetched(where: str | Path) -> Path:
    """The run at `where` as a local folder (`Store.fetch`)."""
    return Store(where).fetch()
