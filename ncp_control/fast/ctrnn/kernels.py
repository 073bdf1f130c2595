# mypy: ignore-errors
# (numba-compiled code: typed by numba's own inference, not by mypy)
"""Compiled semi-implicit CT-RNN solver over a sequence, forward and backward.

Arithmetic of ``ncp_control.cells.CTRNNCell`` (semi-implicit): with ``s = dt / U`` and
``shrink = 1 + s / tau``, each of the ``U`` unfolds is ``v' = (v + s tanh(drive + v W)) / shrink``.
Layout ``[T, B, N]``; the states entering each unfold and the tanh values are saved.
"""

from __future__ import annotations

import numba
import numpy as np

from ncp_control.fast.blas import empty_aligned, gemm
from ncp_control.fast.kernel_math import JIT, copy_into, ftanh


@numba.njit(**JIT)
def ctrnn_forward(drive, h0, ts, keep, W, inv_tau, unfolds, save):  # type: ignore[no-untyped-def]
    """:return: ``hseq [T, B, N]``, and when ``save`` ``vs`` and ``ths`` ``[T, U, B, N]``."""
    T, B, N = drive.shape
    U = unfolds
    hseq = np.empty((T, B, N), np.float32)
    ns = T if save else 0
    vs = np.empty((ns, U, B, N), np.float32)
    ths = np.empty((ns, U, B, N), np.float32)
    v = h0.copy()
    z = empty_aligned(B, N)
    for t in range(T):
        for b in range(B):
            kb = keep[t, b]
            for j in range(N):
                v[b, j] *= kb
        for k in range(U):
            copy_into(z, drive[t])
            gemm(v, W, z, 1.0, False, False)
            for b in range(B):
                step = ts[t, b] / np.float32(U)
                for j in range(N):
                    th = ftanh(z[b, j])
                    if save:
                        vs[t, k, b, j] = v[b, j]
                        ths[t, k, b, j] = th
                    v[b, j] = (v[b, j] + step * th) / (np.float32(1.0) + step * inv_tau[j])
        copy_into(hseq[t], v)
    return hseq, vs, ths


@numba.njit(**JIT)
def ctrnn_backward(dhseq, hseq, vs, ths, ts, keep, Wb, trans, inv_tau):  # type: ignore[no-untyped-def]
    """``Wb``, ``trans``: the forward pass's ``W`` as :func:`~ncp_control.fast.arrays.backward_operand` gives it.

    :return: ``ddrive [T, B, N]``, ``dz [T, U, B, N]`` (for ``dW = sum vs^T dz``), ``dh0``, ``dinv_tau``."""
    T, B, N = dhseq.shape
    U = vs.shape[1]
    ddrive = np.zeros((T, B, N), np.float32)
    dz = np.empty((T, U, B, N), np.float32)
    dinv = np.zeros(N, np.float32)
    g = np.zeros((B, N), np.float32)
    dv = empty_aligned(B, N)
    one = np.float32(1.0)
    for t in range(T - 1, -1, -1):
        for b in range(B):
            for j in range(N):
                g[b, j] += dhseq[t, b, j]
        for k in range(U - 1, -1, -1):
            vn = hseq[t] if k == U - 1 else vs[t, k + 1]
            for b in range(B):
                step = ts[t, b] / np.float32(U)
                for j in range(N):
                    r = g[b, j] / (one + step * inv_tau[j])
                    th = ths[t, k, b, j]
                    d = r * step * (one - th * th)
                    dz[t, k, b, j] = d
                    ddrive[t, b, j] += d
                    dinv[j] -= r * vn[b, j] * step
                    dv[b, j] = r
            gemm(dz[t, k], Wb, dv, 1.0, False, trans)
            copy_into(g, dv)
        for b in range(B):
            kb = keep[t, b]
            for j in range(N):
                g[b, j] *= kb
    return ddrive, dz, g, dinv
