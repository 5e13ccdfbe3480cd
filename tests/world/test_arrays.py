"""The column helpers the rules lean on: `each` (one value or one per row, as the kernels take
them), `rank_in_runs` (each sender's envelopes numbered in order), `Parts` (rows gathered a
part at a time), `Grouped` (the rows of each mind, action or kind of envelope) and a table's
flat views (`Table.flat`)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

from world.arrays import (
    Grouped,
    Parts,
    Table,
    each,
    rank_in_runs,
    rows_where,
    side_by_side,
    tally,
)


@pytest.mark.parametrize("n", [0, 1, 2, 7, 1000])
def test_rank_in_runs_numbers_each_run_from_zero(n: int) -> None:
    """The place of each element among the equal ones before it, as arange - searchsorted
    gives it, for runs of one, long runs and no elements at all."""
    rng = np.random.default_rng(n)
    keys = np.sort(rng.integers(0, max(1, n // 3), n))
    np.testing.assert_array_equal(rank_in_runs(keys), np.arange(n) - np.searchsorted(keys, keys))
    np.testing.assert_array_equal(rank_in_runs(np.array([4, 4, 4, 9, 11, 11])), [0, 1, 2, 0, 0, 1])


def test_each_repeats_one_value_or_checks_one_per_row() -> None:
    """One number becomes n of the dtype; an array of n is cast; any other length is refused."""
    np.testing.assert_array_equal(each(2.5, 3, np.float32), np.full(3, 2.5, np.float32))
    assert each(2.5, 3, np.float32).dtype == np.float32
    np.testing.assert_array_equal(each(np.array([1.9, -1.9]), 2, np.int32), [1, -1])
    with pytest.raises(ValueError, match="3 values for 2 rows"):
        each(np.arange(3), 2, np.int64)


def test_parts_gather_into_columns() -> None:
    """A part's number stands for every row of it, a missing column leaves the fill, arrays are
    cast as assigned, and the parts keep their order."""
    parts = Parts()
    assert parts.add(3, {"a": np.array([1, 2, 3]), "b": 7}) == 0
    assert parts.add(0, {"a": np.zeros(0, np.int64)}) == 1
    assert parts.add(2, {"a": 9, "c": np.array([1.9, -1.2])}) == 2
    assert parts.total() == 5 and len(parts) == 3
    np.testing.assert_array_equal(parts.column("a", 0, np.int64), [1, 2, 3, 9, 9])
    np.testing.assert_array_equal(parts.column("b", -1, np.int8), [7, 7, 7, -1, -1])
    c = parts.column("c", 0, np.int32)  # floats truncate, as an assignment casts them
    assert c.dtype == np.int32
    np.testing.assert_array_equal(c, [0, 0, 0, 1, -1])
    np.testing.assert_array_equal(Parts().column("a", 0, np.int64), np.zeros(0))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int64])
@pytest.mark.parametrize("n_rows", [0, 1, 50, 5000])
def test_grouped_gives_each_keys_rows_in_row_order(dtype: type, n_rows: int) -> None:
    """Each group is the rows of its key, in row order, as flatnonzero finds them; rows of
    keys outside 0 .. n - 1 are in no group; keys nobody has give empty groups."""
    rng = np.random.default_rng(n_rows)
    n = 7
    keys = rng.integers(-3 if np.dtype(dtype).kind == "i" else 0, n + 3, n_rows).astype(dtype)
    keys[keys == 4] = 5  # (a key nobody has)
    g = Grouped(keys, n)
    for k in range(n):
        np.testing.assert_array_equal(g.rows(k), np.flatnonzero(keys == k))
    assert g.rows(4).shape == (0,)
    assert sorted(g.order.tolist()) == list(range(n_rows))  # every row once


class _Slots(Table):
    COLUMNS: ClassVar[dict[str, tuple[str, tuple[int | str, ...], Any]]] = {
        "a": ("<i4", (3,), 0),
        "b": ("f4", (3,), 1.0),
    }


def test_flat_views_write_through_and_follow_replaced_columns() -> None:
    """A flat view writes the table's own column, and once rows are added, kept or restored
    (new columns), the views are of the new columns, not stale copies."""
    t = _Slots(2)
    a, b = t.flat(("a", "b"))
    a[4] = 7
    b[0] = 2.5
    assert t.a[1, 1] == 7 and t.b[0, 0] == 2.5
    assert t.flat(("a", "b"))[0] is a  # made once
    t.append(a=np.ones((1, 3), np.int32))
    a, _ = t.flat(("a", "b"))
    a[7] = 9
    assert t.a[2, 1] == 9 and t.a[1, 1] == 7
    t.keep(np.array([False, True, True]))
    a, _ = t.flat(("a", "b"))
    a[0] = -1
    assert t.a[0, 0] == -1 and t.a[1, 1] == 9
    state = t.get_state()
    t.set_state(state)
    a, _ = t.flat(("a", "b"))
    a[5] = 4
    assert t.a[1, 2] == 4


@pytest.mark.parametrize("n", [0, 1, 2, 50, 5000])
def test_tally_is_numpys_unique_with_counts(n: int) -> None:
    """The distinct values, ascending, and their counts: what `np.unique` gives, for values
    with many repeats, none, and negatives."""
    rng = np.random.default_rng(n)
    for values in (rng.integers(-5, 6, n), rng.permutation(n) * 3 - n):
        got_values, got_counts = tally(values)
        want_values, want_counts = np.unique(values, return_counts=True)
        np.testing.assert_array_equal(got_values, want_values)
        np.testing.assert_array_equal(got_counts, want_counts)
        assert got_counts.sum() == n


@pytest.mark.parametrize("n", [0, 1, 300])
def test_rows_where_is_flatnonzero(n: int) -> None:
    """The rows where a mask is true, in order, as `np.flatnonzero` gives them."""
    mask = np.random.default_rng(n).random(n) < 0.4
    np.testing.assert_array_equal(rows_where(mask), np.flatnonzero(mask))
    assert rows_where(mask).dtype == np.flatnonzero(mask).dtype


@pytest.mark.parametrize("n", [0, 1, 300])
def test_side_by_side_is_numpys_stack_as_int64(n: int) -> None:
    """Columns of several dtypes (signed, unsigned, narrow) side by side as int64 values, as
    `np.stack(axis=1).astype(np.int64)` gives them."""
    rng = np.random.default_rng(n)
    cols = (
        rng.integers(-100, 100, n).astype(np.int8),
        rng.integers(0, 2**32, n).astype(np.uint32),
        rng.integers(-(2**40), 2**40, n),
    )
    got = side_by_side(*cols)
    assert got.dtype == np.int64 and got.shape == (n, 3)
    np.testing.assert_array_equal(got, np.stack(cols, axis=1).astype(np.int64))
