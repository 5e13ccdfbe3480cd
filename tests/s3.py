"""A real S3-compatible server for tests: moto's server mode (`moto_server`, beside this
Python), with a bucket `runs`, and the environment that reaches it set for this process and
the processes it starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fsspec

from inference.vllm_server import free_port


@contextmanager
def s3_server(log: Path, secret: str, **extra: str) -> Iterator[dict[str, str]]:
    """moto's S3 server on a free port, logging to `log`, with the bucket `runs`; yields the
    environment that reaches it (`secret` the secret key, `extra` more variables), which is
    set in os.environ meanwhile and put back after."""
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-p", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "moto-key",
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        for _ in range(300):
            try:
                fsspec.filesystem("s3", skip_instance_cache=True).mkdir("runs")
                break
            except Exception:
                time.sleep(0.1)
        yield env
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
