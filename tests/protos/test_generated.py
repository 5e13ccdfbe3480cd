"""The committed protobuf modules are what `make protos` generates from the .proto files."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_modules_are_fresh(tmp_path: Path) -> None:
    """Regenerating from protos/*.proto reproduces the committed modules byte for byte."""
    (tmp_path / "protos").mkdir()
    protos = sorted((ROOT / "protos").glob("*.proto"))
    for p in protos:
        shutil.copy(p, tmp_path / "protos" / p.name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            "-I.",
            "--python_out=.",
            "--pyi_out=.",
            "--grpc_python_out=.",
            *[f"protos/{p.name}" for p in protos],
        ],
        cwd=tmp_path,
        check=True,
    )
    generated = sorted(q.name for q in (tmp_path / "protos").glob("*_pb2*.py*"))
    committed = sorted(q.name for q in (ROOT / "protos").glob("*_pb2*.py*"))
    assert generated == committed, "run `make protos` and commit the result"
    for name in generated:
        assert (tmp_path / "protos" / name).read_bytes() == (ROOT / "protos" / name).read_bytes(), (
            f"protos/{name} is stale: run `make protos` and commit the result"
        )
