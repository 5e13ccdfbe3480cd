"""One run of a sweep, as a Ray task: a whole world in process, through the one driver, into an
ordinary run folder (written straight into the sweep folder on the driver's node, or sent back
packed from another node)."""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any

import ray

from actors.drive.driver import Driver
from world.journal_mode import OFF, JournalMode
from world.record import RunRecord
from world.runtime import LocalRuntime
from world.scenario import Scenario

CHECKPOINT_EVERY = 10  # as `socius run`'s default: the report reads the last checkpoint


def run_world(scenario: Scenario, folder: Path, journal: JournalMode = OFF) -> dict[str, Any]:
    """Run one world in this process into a new run folder, as `socius run --runtime local`
    does (its journal keeping what `journal` says: by default nothing); returns its summary."""
    n = scenario.shards or 1
    record = RunRecord(folder, scenario, n, journal=journal)
    driver = Driver(LocalRuntime(scenario, n, record, CHECKPOINT_EVERY), record)
    try:
        result = driver.run()
    except BaseException:
        driver.abort()
        raise
    return driver.finish(result)


def sweep_task(
    scenario: Scenario, folder: str, driver_node: str, journal: str = "off"
) -> dict[str, Any]:
    """A Ray task: one world, written straight into `folder` when the task runs on the
    driver's node, else into a temporary folder sent back packed (`unpack_folder`);
    `journal`: what its journal keeps (full, sample:K or off)."""
    mode = JournalMode.parse(journal)
    if ray.get_runtime_context().get_node_id() == driver_node:
        shutil.rmtree(folder, ignore_errors=True)  # what a failed first attempt left
        return {"summary": run_world(scenario, Path(folder), mode)}
    with tempfile.TemporaryDirectory(prefix="socius-sweep-") as tmp:
        summary = run_world(scenario, Path(tmp) / "run", mode)
        return {"summary": summary, "packed": pack_folder(Path(tmp) / "run")}


def pack_folder(folder: Path) -> bytes:
    """A run folder as one gzipped tar (a run on another node sends its folder back)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        tar.add(folder, arcname=".")
    return out.getvalue()


def unpack_folder(data: bytes, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(folder, filter="data")
