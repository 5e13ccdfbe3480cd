"""`kernels/hints.prefetch`: a hint that compiles into a kernel for every column the world has
(1-D and 2-D, each dtype, strided views), never changes what the kernel computes, and is
refused at compile time for anything that is not an array and a row."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from world.kernels import hints

hints.teach_numba()  # (what the first kernel call of a process does)


@numba.njit
def _summed_with_hints(column, rows):  # type: ignore[no-untyped-def]
    """Sum of `column[rows[i]]` (whole rows of a 2-D column), asking for rows ahead."""
    total = 0.0
    n = len(rows)
    for i in range(n):
        if i + hints.AHEAD < n:
            hints.prefetch(column, rows[i + hints.AHEAD])
        hints.prefetch(column, rows[i])  # (and the row about to be read)
        if column.ndim == 1:
            total += np.float64(column.ravel()[rows[i]])
        else:
            for v in column[rows[i]]:
                total += np.float64(v)
    return total


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1000,), (1000, 24)])
def test_a_prefetch_changes_nothing(dtype: type, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    column = rng.integers(-50, 50, shape).astype(dtype)
    rows = rng.integers(0, shape[0], 3000)
    want = float(np.sum(column[rows].astype(np.float64)))
    assert _summed_with_hints(column, rows) == want
    assert _summed_with_hints(column, rows[:3]) == float(np.sum(column[rows[:3]]))
    assert _summed_with_hints(column, rows[:0]) == 0.0
    # a strided view (every other row, a column of a 2-D table) asks for the right rows too
    view = column[::2] if column.ndim == 1 else column[::2, 3]
    rows = rng.integers(0, view.shape[0], 500)
    assert _summed_with_hints(view, rows) == float(np.sum(view[rows].astype(np.float64)))
    # and with rows of another integer type
    assert _summed_with_hints(column, rows.astype(np.int32)) == float(
        np.sum(column[rows].astype(np.float64))
    )


def test_prefetch_is_refused_for_what_is_not_a_column() -> None:
    @numba.njit
    def ask_for_a_number(x):  # type: ignore[no-untyped-def]
        hints.prefetch(x, 0)

    with pytest.raises(numba.core.errors.TypingError, match="prefetch"):
        ask_for_a_number(3.0)


def test_numba_is_taught_once() -> None:
    hints.teach_numba()  # (again: nothing more is registered, the kernels above still compile)
    assert _summed_with_hints(np.arange(20.0), np.arange(20)) == 190.0


def test_prefetch_does_nothing_in_python() -> None:
    column = np.arange(10)
    assert hints.prefetch(column, 3) is None
    np.testing.assert_array_equal(column, np.arange(10))
