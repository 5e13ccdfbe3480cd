"""Sums into a matrix, one pass in row order (what `np.add.at` does, without its overhead); and
a feeling raised, capped at 1."""

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


@kernel()
def raise_capped(target: np.ndarray, rows: np.ndarray, col: int, values: np.ndarray) -> None:
    """target[rows[i], col] += values[i] in order (rows may repeat), then each row touched
    capped at 1: what `np.add.at` then `np.minimum(target[:, col], 1)` did, given that no other
    row held more than 1 (feelings never do: every rise goes through here, or stays below 1)."""
    for i in range(len(rows)):
        target[rows[i], col] += values[i]
    for i in range(len(rows)):
        if target[rows[i], col] > 1:
            target[rows[i], col] = 1
