# mypy: ignore-errors
# (numba-compiled code: typed by numba's own inference, not by mypy)
"""Scalar math for the compiled kernels (numba, float32, vectorisable).

``fexp`` is a Cody-Waite range reduction with a degree-6 minimax polynomial and an
exponent built by bit manipulation, so that LLVM can vectorise loops that call it
(libm's ``expf`` is a scalar call). Relative error about 1.2e-7 on [-87, 88]; inputs
outside are clamped, which only moves results that are already below 2e-38 or above 1e38.

numba's on-disk cache of a kernel is keyed on the kernel's own source file only: after
changing this module (or ``blas.py``), delete the ``*.nbi``/``*.nbc`` files in the
``__pycache__`` folders under ``ncp_control/fast`` so that the kernels that use it are
compiled again.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

#: fastmath flags: everything but re-association (the rounding trick in fexp relies on it).
FASTMATH = {"nnan", "ninf", "nsz", "arcp", "contract", "afn"}
JIT = {"fastmath": FASTMATH, "error_model": "numpy", "cache": True, "nogil": True}
INLINE = {"fastmath": FASTMATH, "error_model": "numpy"}

ACT_LECUN, ACT_TANH, ACT_RELU, ACT_SILU, ACT_GELU = 0, 1, 2, 3, 4
ACTIVATION_CODES = {
    "lecun_tanh": ACT_LECUN,
    "tanh": ACT_TANH,
    "relu": ACT_RELU,
    "silu": ACT_SILU,
    "gelu": ACT_GELU,
}


@intrinsic
def _int_bits_as_float(typingctx, x):  # type: ignore[no-untyped-def]
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


@numba.njit(**INLINE)
def fexp(x: float) -> float:
    x = min(max(x, np.float32(-87.0)), np.float32(88.0))
    t = x * np.float32(1.44269504088896341)
    fx = (t + np.float32(12582912.0)) - np.float32(12582912.0)  # round to nearest
    r = x - fx * np.float32(0.693359375) + fx * np.float32(2.12194440e-4)
    y = np.float32(1.9875691500e-4)
    y = y * r + np.float32(1.3981999507e-3)
    y = y * r + np.float32(8.3334519073e-3)
    y = y * r + np.float32(4.1665795894e-2)
    y = y * r + np.float32(1.6666665459e-1)
    y = y * r + np.float32(5.0000001201e-1)
    y = y * (r * r) + r + np.float32(1.0)
    n = np.int32(fx) + np.int32(127)
    return y * _int_bits_as_float(n << np.int32(23))


@numba.njit(**INLINE)
def fsigmoid(x: float) -> float:
    return np.float32(1.0) / (np.float32(1.0) + fexp(-x))


@numba.njit(**JIT)
def fsigmoid_strict(x: float) -> float:
    """:func:`fsigmoid` as its own function, for callers compiled with ``reassoc``: LLVM
    inlines it with its own flags, whereas inlining ``fexp`` at numba level would let
    re-association fold away its rounding step."""
    return fsigmoid(x)


@numba.njit(**INLINE)
def ftanh(x: float) -> float:
    a = abs(x)
    r = np.float32(1.0) - np.float32(2.0) / (np.float32(1.0) + fexp(np.float32(2.0) * a))
    return r if x >= 0 else -r


@numba.njit(**INLINE)
def _gelu_cdf(x: float) -> float:
    return np.float32(0.5) * (np.float32(1.0) + np.float32(math.erf(x * np.float32(0.7071067811865476))))


@numba.njit(**JIT)
def activation(a, out, code):  # type: ignore[no-untyped-def]
    """``out = act(a)`` elementwise for 2-D arrays; one loop per activation so each vectorises."""
    rows, cols = a.shape
    if code == ACT_LECUN:
        for i in range(rows):
            for j in range(cols):
                out[i, j] = np.float32(1.7159) * ftanh(np.float32(0.666) * a[i, j])
    elif code == ACT_TANH:
        for i in range(rows):
            for j in range(cols):
                out[i, j] = ftanh(a[i, j])
    elif code == ACT_RELU:
        for i in range(rows):
            for j in range(cols):
                out[i, j] = max(a[i, j], np.float32(0.0))
    elif code == ACT_SILU:
        for i in range(rows):
            for j in range(cols):
                out[i, j] = a[i, j] * fsigmoid(a[i, j])
    else:
        for i in range(rows):
            for j in range(cols):
                out[i, j] = a[i, j] * _gelu_cdf(a[i, j])


@numba.njit(**JIT)
def activation_grad(a, grad, code):  # type: ignore[no-untyped-def]
    """``grad *= act'(a)`` elementwise for 2-D arrays."""
    rows, cols = a.shape
    if code == ACT_LECUN:
        for i in range(rows):
            for j in range(cols):
                th = ftanh(np.float32(0.666) * a[i, j])
                grad[i, j] *= np.float32(1.7159 * 0.666) * (np.float32(1.0) - th * th)
    elif code == ACT_TANH:
        for i in range(rows):
            for j in range(cols):
                th = ftanh(a[i, j])
                grad[i, j] *= np.float32(1.0) - th * th
    elif code == ACT_RELU:
        for i in range(rows):
            for j in range(cols):
                grad[i, j] = grad[i, j] if a[i, j] > 0 else np.float32(0.0)
    elif code == ACT_SILU:
        for i in range(rows):
            for j in range(cols):
                sg = fsigmoid(a[i, j])
                grad[i, j] *= sg * (np.float32(1.0) + a[i, j] * (np.float32(1.0) - sg))
    else:
        for i in range(rows):
            for j in range(cols):
                x = a[i, j]
                dens = np.float32(0.3989422804014327) * np.float32(math.exp(-np.float32(0.5) * x * x))
                grad[i, j] *= _gelu_cdf(x) + x * dens


@numba.njit(**INLINE)
def copy_into(dst, src):  # type: ignore[no-untyped-def]
    """``dst[...] = src`` for 2-D arrays of one shape (no broadcasting machinery)."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            dst[i, j] = src[i, j]


@numba.njit(**INLINE)
def fill(dst, value):  # type: ignore[no-untyped-def]
    """``dst[...] = value`` for a 2-D array."""
    for i in range(dst.shape[0]):
        for j in range(dst.shape[1]):
            dst[i, j] = value
