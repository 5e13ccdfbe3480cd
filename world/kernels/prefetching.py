"""The compiled form of `hints.prefetch`: an `llvm.prefetch` of the address where row `row` of
an array starts (data + row * stride), for writing, with high locality. Imported only where numba
is (`world/kernels/__init__.py` loads it with the kernels), so importing the world does not
import numba."""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from world.kernels import hints

_I32 = ir.IntType(32)
_I8P = ir.IntType(8).as_pointer()


@intrinsic
def _prefetch(typingctx: Any, column: Any, row: Any) -> Any:
    if not isinstance(column, types.Array) or not isinstance(row, types.Integer):
        return None
    sig = types.void(column, row)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        array_type, row_type = signature.args
        array = context.make_array(array_type)(context, builder, args[0])
        stride = cgutils.unpack_tuple(builder, array.strides)[0]
        at = builder.mul(context.cast(builder, args[1], row_type, types.intp), stride)
        address = builder.gep(builder.bitcast(array.data, _I8P), [at])
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [_I8P, _I32, _I32, _I32]),
            "llvm.prefetch.p0i8",
        )  # fmt: skip
        # (address, 1: for writing, 3: keep in every cache level, 1: data)
        builder.call(
            fn, [address, ir.Constant(_I32, 1), ir.Constant(_I32, 3), ir.Constant(_I32, 1)]
        )
        return context.get_dummy_value()

    return sig, codegen


@overload(hints.prefetch, inline="always")
def _prefetch_overload(column, row):  # type: ignore[no-untyped-def]  # (numba compares the
    # signature with the implementation's, which has no annotations)
    if isinstance(column, types.Array) and isinstance(row, types.Integer):
        return lambda column, row: _prefetch(column, row)
    return None
