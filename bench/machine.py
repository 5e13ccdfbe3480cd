"""What machine a benchmark ran on, for the figures it prints (the CPU model varies between
machines, so every figure names it). Standard library only: world_throughput.py imports it
before it pins a core and loads numpy.

The bench scripts run as `python bench/NAME.py`, so this module is imported as `machine`."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo's first `model name`, else the platform's)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cpu() -> str:
    """The CPU's model name and the cores this process may use."""
    return f"{cpu_model()}, {len(os.sched_getaffinity(0))} cores"
