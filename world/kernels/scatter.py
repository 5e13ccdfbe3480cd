"""Sums into a matrix, one pass in row order (what `np.add.at` does, without its overhead)."""

from __future__ import annotations

import numpy as np

from world.arrays import each
from world.kernels import kernel


@kernel()
def _add_at(target: np.ndarray, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
    for i in range(len(rows)):
        target[rows[i], cols[i]] += values[i]


def add_at(
    target: np.ndarray, rows: np.ndarray, cols: np.ndarray, values: np.ndarray | np.generic | float
) -> None:
    """target[rows[i], cols[i]] += values[i] for each i in order (indices may repeat), in the
    target's dtype (values are cast to it first, as the world's callers always did)."""
    if len(rows) == 0:
        return
    v = each(values, len(rows), target.dtype)
    _add_at(target, np.asarray(rows, np.int64), np.asarray(cols, np.int64), v)
