"""Hints to the CPU from inside a kernel: `prefetch(column, row)` asks for the cache line where
row `row` of `column` starts, a few rows before the kernel reads or writes it.

A kernel that visits rows of a large table in an order the hardware cannot guess (the senders of
a tick's mail, the characters meeting newcomers) waits on memory at each row; asking for the row
that comes a few iterations later lets those waits overlap. A hint never changes a result: it
moves no data the kernel sees, and in plain Python it does nothing. Inside a compiled kernel it
is one `llvm.prefetch` instruction, which `teach_numba` gives numba when the kernels are first
compiled (`world/kernels/__init__.py`), so importing the world does not import numba.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: How many rows ahead a kernel asks for: enough that a row from memory (~100 ns) arrives before
#: it is used, few enough that the lines asked for stay in the first-level cache.
AHEAD = 8

_taught = False


def prefetch(column: np.ndarray, row: int) -> None:
    """Ask for the line holding the start of `column[row]` (1-D: the element; 2-D: the row),
    for writing. Nothing in Python; a prefetch instruction in a kernel."""


def teach_numba() -> None:
    """Give numba the compiled form of `prefetch` (once a process): an `llvm.prefetch` of the
    address where row `row` of an array starts (data + row * stride), for writing, kept in
    every cache level. numba and llvmlite are imported here, not above, for the reason
    `world/kernels/__init__.py` imports numba only when a kernel first runs."""
    global _taught
    if _taught:
        return
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic, overload

    i32, i8p = ir.IntType(32), ir.IntType(8).as_pointer()

    @intrinsic  # type: ignore[misc]
    def _prefetch(typingctx: Any, column: Any, row: Any) -> Any:
        if not isinstance(column, types.Array) or not isinstance(row, types.Integer):
            return None
        sig = types.void(column, row)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            array_type, row_type = signature.args
            array = context.make_array(array_type)(context, builder, args[0])
            stride = cgutils.unpack_tuple(builder, array.strides)[0]
            at = builder.mul(context.cast(builder, args[1], row_type, types.intp), stride)
            address = builder.gep(builder.bitcast(array.data, i8p), [at])
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                "llvm.prefetch.p0i8",
            )  # fmt: skip
            # (address, 1: for writing, 3: keep in every cache level, 1: data)
            builder.call(
                fn, [address, ir.Constant(i32, 1), ir.Constant(i32, 3), ir.Constant(i32, 1)]
            )
            return context.get_dummy_value()

        return sig, codegen

    @overload(prefetch, inline="always")  # type: ignore[misc]
    def _prefetch_overload(column, row):  # type: ignore[no-untyped-def]  # (numba compares
        # this signature with the implementation's, which has no annotations)
        if isinstance(column, types.Array) and isinstance(row, types.Integer):
            return lambda column, row: _prefetch(column, row)
        return None

    _taught = True
