"""Struct-of-arrays state that saves and restores itself.

`Table` subclasses declare their columns once (`COLUMNS`: name -> (dtype, trailing shape,
fill)); the table allocates them, grows them, takes rows out, and round-trips through
`get_state`/`set_state` as plain dicts of bytes that msgpack can carry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from world.kernels import ordering


def each(value: Any, n: int, dtype: Any) -> np.ndarray:
    """`value` as `n` values of `dtype`: one number, repeated, or an array of `n`, cast as
    `astype` casts (what `np.broadcast_to` gave the kernels, without its cost, which on the few
    rows of a small shard is most of the call's)."""
    a = np.asarray(value).astype(dtype, copy=False)
    if a.ndim == 0:
        out = np.empty(n, dtype)
        out.fill(a)
        return out
    if a.shape != (n,):
        raise ValueError(f"{a.shape[0] if a.ndim == 1 else a.shape} values for {n} rows")
    return a


def side_by_side(*columns: np.ndarray) -> np.ndarray:
    """1-D columns of one length side by side, as an (rows, columns) int64 matrix (the keys an
    ordering takes): `np.stack(columns, axis=1).astype(np.int64)` without `np.stack`'s Python
    layer (3 against 6 us on a small shard's few rows)."""
    out = np.empty((len(columns[0]), len(columns)), np.int64)
    for j, column in enumerate(columns):
        out[:, j] = column
    return out


def rows_where(mask: np.ndarray) -> np.ndarray:
    """The rows where a 1-D mask is true, in order: `np.flatnonzero` without its Python layer
    (2.2 against 0.5 us a call on a small shard's few rows, a dozen calls a tick)."""
    assert mask.ndim == 1
    return mask.nonzero()[0]


def rows_of(column: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The rows `rows` (integer indices) of a column, along its first axis: its `take`, which
    for rows of several values is 2 to 8 times as fast as numpy's fancy index (a (16,000, 5)
    uint8 gather: 69 against 179 us) and as fast for rows of one (the method, not `np.take`,
    whose Python layer costs a microsecond a call: most of it on a small shard's few rows)."""
    return column.take(rows, axis=0)


def filled(shape: int | tuple[int, ...], fill: Any, dtype: Any) -> np.ndarray:
    """`np.full(shape, fill, dtype)` without its Python layer (most of its cost on a small
    shard's few rows, where tables are made by the dozen each tick)."""
    out = np.empty(shape, dtype)
    out.fill(fill)
    return out


def tally(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a 1-D array, ascending, and how many times each occurs:
    `np.unique(values, return_counts=True)` without its Python layer (4 against 16 us on a
    small shard's few rows, every tick)."""
    v = np.sort(values)
    n = len(v)
    if n == 0:
        return v, np.zeros(0, np.int64)
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(v[1:], v[:-1], out=new[1:])
    starts = new.nonzero()[0]
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = n
    return v[starts], ends - starts


def rank_in_runs(keys: np.ndarray) -> np.ndarray:
    """For sorted `keys`, each element's place among the equal ones before it (0, 1, 2 ... in
    each run): `arange - searchsorted(keys, keys)` in one linear pass instead of a search."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, np.int64)
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    at = np.arange(n)
    return at - np.maximum.accumulate(np.where(new, at, 0))


class Grouped:
    """The rows of `keys` grouped by key (0 <= key < `n`; rows of other keys are in no group),
    each group in row order: one counting sort (`kernels/ordering.grouped`), then a slice a
    group."""

    __slots__ = ("order", "starts")

    def __init__(self, keys: np.ndarray, n: int) -> None:
        self.order, starts = ordering.grouped(np.ascontiguousarray(keys), int(n))
        self.starts: list[int] = starts.tolist()  # (a slice by Python ints is the quicker)

    def rows(self, key: int) -> np.ndarray:
        """The rows of `key`, in row order (a view: not to be written)."""
        return self.order[self.starts[key] : self.starts[key + 1]]


#: What a part's column may stay as: an array, or one number (anything else becomes an array).
_CELLS = (np.ndarray, int, float, np.generic)


class Parts:
    """Rows gathered a part at a time, into whole columns at the end. A part gives each of its
    columns as an array of its rows or as one number for all of them (kept a number until
    gathered: on a small shard's few rows, making the array is most of the cost). Each column
    keeps the parts that gave it, so gathering it visits only those."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self._total = 0
        self._given: dict[str, list[tuple[int, int, np.ndarray | int | float | np.generic]]] = {}

    def add(self, n: int, columns: dict[str, Any]) -> int:
        """A part of `n` rows; returns its index."""
        at, given = self._total, self._given
        for name, v in columns.items():
            cell = (at, n, v if isinstance(v, _CELLS) else np.asarray(v))
            parts = given.get(name)
            if parts is None:
                given[name] = [cell]
            else:
                parts.append(cell)
        self.sizes.append(n)
        self._total = at + n
        return len(self.sizes) - 1

    def __len__(self) -> int:
        return len(self.sizes)

    def total(self) -> int:
        return self._total

    def column(self, name: str, fill: Any, dtype: Any) -> np.ndarray:
        """Column `name` of every part in order, as `dtype` (values cast as an assignment
        casts them); a part without it leaves `fill`."""
        values = filled(self._total, fill, dtype)
        for at, n, v in self._given.get(name, ()):
            values[at : at + n] = v
        return values


class Table:
    """Rows of typed columns; `len(table)` rows are live."""

    COLUMNS: ClassVar[dict[str, tuple[str, tuple[int | str, ...], Any]]] = {}

    def __init__(self, rows: int = 0, **shape_args: int) -> None:
        self._shape_args = shape_args
        self._n = rows
        for name, (dtype, trail, fill) in self.COLUMNS.items():
            shape = (rows, *(shape_args[t] if isinstance(t, str) else t for t in trail))
            setattr(self, name, filled(shape, fill, dtype))

    def __len__(self) -> int:
        return self._n

    def flat(self, names: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        """Flat views of the columns `names` (which the table keeps C-contiguous), made once
        until the columns are replaced (a rule that writes a score of columns at flat
        positions, several times a tick, does not remake the views each time)."""
        flats: dict[tuple[str, ...], tuple[np.ndarray, ...]] = self.__dict__.setdefault(
            "_flats", {}
        )
        views = flats.get(names)
        if views is None:
            columns = tuple(getattr(self, name) for name in names)
            assert all(c.flags.c_contiguous for c in columns)
            views = flats[names] = tuple(c.reshape(-1) for c in columns)
        return views

    if TYPE_CHECKING:  # columns are set from COLUMNS; tell the type checker they are arrays

        def __getattr__(self, name: str) -> np.ndarray: ...

    def _trail(self, name: str) -> tuple[int, ...]:
        return tuple(
            self._shape_args[t] if isinstance(t, str) else t for t in self.COLUMNS[name][1]
        )

    def append(self, **cols: Any) -> None:
        """Add rows; columns not given take their fill value."""
        self.__dict__.pop("_flats", None)
        m = len(next(iter(cols.values())))
        n = self._n
        for name, (dtype, _, fill) in self.COLUMNS.items():
            old = getattr(self, name)
            new = np.empty((n + m, *self._trail(name)), dtype)
            new[:n] = old[:n]
            new[n:] = cols.get(name, fill)
            setattr(self, name, new)
        self._n = n + m

    def keep(self, mask: np.ndarray) -> None:
        """Drop the rows where mask is False."""
        self.__dict__.pop("_flats", None)
        for name in self.COLUMNS:
            setattr(self, name, getattr(self, name)[: self._n][mask])
        self._n = int(mask.sum())

    def nbytes(self) -> int:
        return sum(getattr(self, name).nbytes for name in self.COLUMNS)

    def get_state(self) -> dict[str, Any]:
        return {
            "rows": self._n,
            "shape_args": dict(self._shape_args),
            "columns": {name: getattr(self, name)[: self._n].tobytes() for name in self.COLUMNS},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.__dict__.pop("_flats", None)
        self._n = int(state["rows"])
        self._shape_args = dict(state["shape_args"])
        for name, (dtype, _, _) in self.COLUMNS.items():
            arr = np.frombuffer(state["columns"][name], dtype=dtype).copy()
            setattr(self, name, arr.reshape((self._n, *self._trail(name))))

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Table:
        table = cls.__new__(cls)
        table.set_state(state)
        return table

    def row_bytes(self) -> np.ndarray:
        """Each live row's bytes across all columns, as a (rows, width) uint8 matrix."""
        parts = []
        for name in self.COLUMNS:
            col = np.ascontiguousarray(getattr(self, name)[: self._n])
            width = col.itemsize * int(np.prod(col.shape[1:], dtype=np.int64))
            parts.append(col.view(np.uint8).reshape(self._n, width))
        return np.concatenate(parts, axis=1) if parts else np.zeros((self._n, 0), np.uint8)
