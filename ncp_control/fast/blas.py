# mypy: ignore-errors
# (numba-compiled code: typed by numba's own inference, not by mypy)
"""Single-precision GEMM callable from compiled kernels.

The routine is the Fortran ``sgemm_`` that torch's own CPU library exports (MKL in the x86
wheels: about 1.5x faster than OpenBLAS on the kernels' small products), else SciPy's
BLAS. It is bound to a process-wide symbol by name, so kernels that call it can be cached
on disk (a raw function pointer could not). Row-major arrays throughout.

MKL's small products run up to about 1.8x faster when the output starts on a 64-byte boundary
(a ``[64, 32] @ [32, 128]`` step product: 3.7 against 6.6 us; numpy and numba align to 16
and 32 bytes), so the kernels allocate their work arrays with :func:`empty_aligned` and
the pooled arrays of :mod:`ncp_control.fast.buffers` are aligned the same way.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import get_cython_function_address, intrinsic

from ncp_control.fast.buffers import ALIGN

_SYMBOL = "ncp_control_fast_sgemm"


def _torch_sgemm_address() -> int | None:
    """Address of the Fortran ``sgemm_`` that torch's own CPU library exports (MKL in the
    x86 wheels), or None where it exports none."""
    import ctypes
    from pathlib import Path

    import torch

    for path in sorted((Path(torch.__file__).parent / "lib").glob("*torch_cpu.*")):
        try:
            return ctypes.cast(ctypes.CDLL(str(path)).sgemm_, ctypes.c_void_p).value
        except (OSError, AttributeError):
            continue
    return None


binding.add_symbol(
    _SYMBOL, _torch_sgemm_address() or get_cython_function_address("scipy.linalg.cython_blas", "sgemm")
)


@intrinsic
def _call_sgemm(typingctx, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc):  # type: ignore[no-untyped-def]
    """Fortran ``sgemm_`` with its scalar arguments passed by value: they are stored on the
    stack here (``sgemm_`` takes every argument by reference), the arrays come as addresses."""
    char, i32, f32, address = types.uint8, types.int32, types.float32, types.intp
    sig = types.void(char, char, i32, i32, i32, f32, address, i32, address, i32, f32, address, i32)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [ptr] * 13)
        fn = builder.module.globals.get(_SYMBOL)
        if fn is None:
            fn = ir.Function(builder.module, fnty, name=_SYMBOL)
        by_address = (6, 8, 11)  # a, b and c
        call_args = [
            builder.inttoptr(x, ptr) if i in by_address else builder.bitcast(cgutils.alloca_once_value(builder, x), ptr)
            for i, x in enumerate(args)
        ]
        builder.call(fn, call_args)
        return context.get_dummy_value()

    return sig, codegen


#: the one signature gemm compiles for (callers pass literal flags, which would otherwise
#: compile a copy per combination)
_GEMM_SIGNATURE = types.void(*([types.float32[:, ::1]] * 3), types.float64, types.boolean, types.boolean)


@numba.njit(_GEMM_SIGNATURE, error_model="numpy", cache=True)
def gemm(a, b, c, beta, trans_a, trans_b):  # type: ignore[no-untyped-def]
    """``c[m, n] = op(a) @ op(b) + beta * c`` for C-contiguous float32 matrices.

    ``op(x)`` is ``x.T`` when the matching ``trans_*`` flag is set.
    """
    m, n = c.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if m == 0 or n == 0:
        return
    if k == 0:
        for i in range(m):
            for j in range(n):
                c[i, j] *= beta
        return
    _call_sgemm(
        np.uint8(84 if trans_b else 78),  # "T" or "N"
        np.uint8(84 if trans_a else 78),
        np.int32(n),
        np.int32(m),
        np.int32(k),
        np.float32(1.0),
        b.ctypes.data,
        np.int32(b.shape[1]),
        a.ctypes.data,
        np.int32(a.shape[1]),
        np.float32(beta),
        c.ctypes.data,
        np.int32(n),
    )


@numba.njit(error_model="numpy", cache=True)
def empty_aligned(rows, cols):  # type: ignore[no-untyped-def]
    """An uninitialised C-contiguous float32 ``[rows, cols]`` array that starts on a 64-byte
    boundary."""
    n = rows * cols
    raw = np.empty(n + ALIGN - 1, np.float32)
    start = (-(raw.ctypes.data // 4)) % ALIGN
    return raw[start : start + n].reshape((rows, cols))
